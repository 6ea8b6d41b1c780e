"""Course categories: core_course_get_categories / create / update / delete (course/externallib.php)."""

from __future__ import annotations

from typing import Any

from moodle_sync.emulator.errors import missing_record, moodle_exception
from moodle_sync.emulator.functions.registry import Call, Params, implements
from moodle_sync.emulator.model.records import Category
from moodle_sync.emulator.moodlelib import categorylib
from moodle_sync.emulator.moodlelib import format as fmt
from moodle_sync.emulator.paramtypes import clean_param, php_int

MANAGE = "moodle/category:manage"


def validate_format(value: int) -> int:
    # core_external\util::validate_format(): only the four known text formats; the string does not exist in
    # webservice's lang file, so the message is "webservice/formatnotsupported"
    if value not in fmt.FORMATS:
        raise moodle_exception("formatnotsupported", "webservice",
                               debuginfo=f"The format with value={value} is not supported by this Moodle site")
    return value


def category_info(call: Call, cat: Category) -> dict[str, Any]:
    state = call.state
    description, descriptionformat = fmt.format_text(cat.description, cat.descriptionformat, call.raw)
    info: dict[str, Any] = {
        "id": cat.id, "name": fmt.format_string(cat.name, call.raw), "description": description,
        "descriptionformat": descriptionformat, "parent": cat.parent, "sortorder": state.category_sortorder(cat.id),
        "coursecount": state.courses.count_by("category", cat.id), "depth": cat.depth, "path": cat.path,
    }
    if call.can(MANAGE):  # idnumber (NULL stays null), visibility, time and theme only for managers
        info.update(idnumber=cat.idnumber, visible=cat.visible, visibleold=cat.visibleold,
                    timemodified=cat.timemodified, theme=str(clean_param(cat.theme or "", "theme", call.env)))
    return info


@implements("core_course_get_categories")
def get_categories(call: Call, params: Params) -> list[dict[str, Any]]:
    state = call.state
    criteria: dict[str, str] = {}
    for crit in params["criteria"]:
        key = crit["key"].strip()
        if key in criteria:
            continue  # a repeated key: the first one wins
        if key in ("idnumber", "theme") and not call.can(MANAGE):
            raise moodle_exception("criteriaerror", "webservice",
                                   debuginfo=f'You don\'t have the permissions to search on the "{key}" field.')
        if key == "visible" and not call.can("moodle/category:viewhiddencategories"):
            raise moodle_exception("criteriaerror", "webservice",
                                   debuginfo='You don\'t have the permissions to search on the "visible" field.')
        if key not in ("id", "ids", "idnumber", "name", "parent", "visible", "theme"):
            raise moodle_exception("criteriaerror", "webservice",
                                   debuginfo=f"You can not search on this criteria: {key}")
        criteria[key] = crit["value"]
    if criteria:
        found = [c for c in state.categories if _matches(c, criteria, call)]
        if found and params["addsubcategories"]:
            extra: dict[int, Category] = {}
            for cat in found:
                for sub in categorylib.descendants(state, cat):
                    if "visible" in criteria and sub.visible != php_int(criteria["visible"]):
                        continue
                    if "theme" in criteria and sub.theme != clean_param(criteria["theme"], "theme", call.env):
                        continue
                    extra[sub.id] = sub
            found = found + [c for i, c in extra.items() if all(f.id != i for f in found)]
    else:
        found = list(state.categories)
    visible_ok = call.can("moodle/category:viewhiddencategories")
    out = [category_info(call, c) for c in found if c.visible or visible_ok]
    return sorted(out, key=lambda c: c["sortorder"])


def _matches(cat: Category, criteria: dict[str, str], call: Call) -> bool:
    for key, value in criteria.items():
        if key == "id" and cat.id != php_int(value):
            return False
        if key == "ids" and str(cat.id) not in str(clean_param(value, "sequence")).split(","):
            return False
        if key == "idnumber" and cat.idnumber != value:
            return False
        if key == "name" and cat.name != clean_param(value, "text"):
            return False
        if key == "parent" and cat.parent != php_int(value):
            return False
        if key == "visible" and cat.visible != php_int(value):
            return False
        if key == "theme" and cat.theme != clean_param(value, "theme", call.env):
            return False
    return True


@implements("core_course_create_categories")
def create_categories(call: Call, params: Params) -> list[dict[str, Any]]:
    out = []
    for item in params["categories"]:
        if item["parent"] and call.state.categories.get(item["parent"]) is None:
            raise moodle_exception("unknowcategory")
        call.require(MANAGE)
        validate_format(item["descriptionformat"])
        cat = categorylib.create_category(
            call.state, call.now, name=item["name"], parent=item["parent"], idnumber=item.get("idnumber"),
            description=item.get("description") or "", descriptionformat=item["descriptionformat"],
            theme=item.get("theme"))
        out.append({"id": cat.id, "name": fmt.format_string(cat.name, call.raw)})
    return out


@implements("core_course_update_categories")
def update_categories(call: Call, params: Params) -> None:
    for item in params["categories"]:
        cat = call.state.categories.get(item["id"])
        if cat is None:
            raise moodle_exception("unknowncategory")
        call.require(MANAGE)
        if "parent" in item and item["parent"] != cat.parent:
            if item["parent"] and call.state.categories.get(item["parent"]) is None:
                # context_coursecat::instance($parent) reads the category with MUST_EXIST
                raise missing_record("course_categories")
            call.require(MANAGE)
        validate_format(item["descriptionformat"])  # checked for every item, description sent or not
        # core_course_category::update() copies every description* field it is given, and descriptionformat always
        # is (VALUE_DEFAULT 1): an update without it sets the format to HTML, description sent or not (seen on
        # Moodle 4.5.6: a category made with format 0 had 1 after an update of its idnumber alone)
        categorylib.update_category(call.state, call.now, cat, dict(item))


@implements("core_course_delete_categories")
def delete_categories(call: Call, params: Params) -> None:
    state = call.state
    for item in params["categories"]:
        cat = state.categories.get(item["id"])
        if cat is None:
            raise moodle_exception("unknowncategory")
        call.require(MANAGE)
        if item["recursive"]:
            categorylib.delete_full(state, cat)
            continue
        target_id = item.get("newparent") or cat.parent
        if not target_id:
            raise moodle_exception("movecatcontentstoroot")
        target = state.categories.get(target_id)
        if target is None:
            raise moodle_exception("unknowncategory")
        if target.id == cat.id or target.path.startswith(cat.path + "/"):
            raise moodle_exception("youcannotdeletecategory", a=fmt.format_string(cat.name, call.raw))
        categorylib.delete_move(state, call.now, cat, target)

