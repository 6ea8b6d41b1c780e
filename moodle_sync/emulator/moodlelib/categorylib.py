"""Course categories (course/classes/category.php): create, update/move, delete with or without content."""

from __future__ import annotations

from typing import Any

from moodle_sync.emulator.errors import moodle_exception
from moodle_sync.emulator.model.records import CONTEXT_COURSECAT, Category
from moodle_sync.emulator.model.state import SYSCONTEXTID, State
from moodle_sync.emulator.moodlelib.cohortlib import delete_cohort
from moodle_sync.emulator.moodlelib.courselib import delete_course


def _check_name_and_idnumber(state: State, name: str | None, idnumber: str | None, own_id: int | None) -> None:
    if name is not None:
        if not name.strip():
            raise moodle_exception("categorynamerequired")
        if len(name) > 255:
            raise moodle_exception("categorytoolong")
    if idnumber:
        if len(idnumber) > 100:
            raise moodle_exception("idnumbertoolong")
        if any(c != own_id for c in state.categories.ids_by("idnumber", idnumber)):
            raise moodle_exception("categoryidnumbertaken")


def create_category(state: State, now: int, *, name: str, parent: int = 0, idnumber: str | None = None,
                    description: str = "", descriptionformat: int = 1, theme: str | None = None,
                    visible: int | None = None) -> Category:
    """core_course_category::create(): a new category goes last among its siblings.

    An idnumber that is not given stays NULL, and so does the theme unless $CFG->allowcategorythemes
    (off on a stock site) lets it be stored.
    """
    _check_name_and_idnumber(state, name, idnumber, None)
    parent_cat = state.categories.get(parent) if parent else None
    if parent and parent_cat is None:
        raise moodle_exception("unknowcategory")
    if visible is None:
        visible = parent_cat.visible if parent_cat else 1
    id_ = state.categories.new_id()
    contextid = state.new_context(CONTEXT_COURSECAT, id_)
    path = f"{parent_cat.path if parent_cat else ''}/{id_}"
    return state.categories.insert(Category(
        id=id_, name=name, idnumber=idnumber, description=description, descriptionformat=descriptionformat,
        parent=parent, sortkey=state.last_sortkey(), visible=visible, visibleold=visible, timemodified=now,
        depth=path.count("/"), path=path, theme=theme if state.config.allowcategorythemes else None,
        contextid=contextid))


def descendants(state: State, category: Category) -> list[Category]:
    prefix = category.path + "/"
    return [c for c in state.categories if c.path.startswith(prefix)]


def update_category(state: State, now: int, category: Category, data: dict[str, Any]) -> Category:
    """core_course_category::update(): name/idnumber checks, and a move re-paths the whole subtree."""
    _check_name_and_idnumber(state, data.get("name"), data.get("idnumber"), category.id)
    changes: dict[str, Any] = {k: data[k] for k in ("name", "idnumber", "description", "descriptionformat", "theme")
                               if data.get(k) is not None}
    if not state.config.allowcategorythemes:
        changes.pop("theme", None)
    newparent = data.get("parent")
    if newparent is not None and newparent != category.parent:
        parent_cat = state.categories.get(newparent) if newparent else None
        if newparent and parent_cat is None:
            raise moodle_exception("unknowcategory")
        if parent_cat is not None and (parent_cat.id == category.id
                                       or parent_cat.path.startswith(category.path + "/")):
            raise moodle_exception("cannotmovecategory")
        old_path = category.path
        new_path = f"{parent_cat.path if parent_cat else ''}/{category.id}"
        changes.update(parent=newparent, path=new_path, depth=new_path.count("/"), sortkey=state.last_sortkey())
        for child in descendants(state, category):
            path = new_path + child.path[len(old_path):]
            state.categories.update(child, path=path, depth=path.count("/"))
    if changes:
        changes["timemodified"] = now
        category = state.categories.update(category, **changes)
    return category


def delete_full(state: State, category: Category) -> None:
    """delete_full(): subcategories, courses and cohorts of the category all go."""
    for child in sorted(state.categories.by("parent", category.id), key=lambda c: c.id):
        delete_full(state, child)
    for course in state.courses.by("category", category.id):
        delete_course(state, course)
    for cohort in state.cohorts.by("contextid", category.contextid):
        delete_cohort(state, cohort)
    _drop(state, category)


def delete_move(state: State, now: int, category: Category, newparent: Category) -> None:
    """delete_move(): children, courses and cohorts move to ``newparent``, then the category goes."""
    for child in sorted(state.categories.by("parent", category.id), key=lambda c: c.id):
        update_category(state, now, child, {"parent": newparent.id})
    for course in state.courses.by("category", category.id):
        state.courses.update(course, category=newparent.id, sortkey=state.last_sortkey())
    for cohort in state.cohorts.by("contextid", category.contextid):
        state.cohorts.update(cohort, contextid=newparent.contextid)
    _drop(state, category)


def _drop(state: State, category: Category) -> None:
    ctx = state.contexts.get(category.contextid)
    if ctx is not None and ctx.id != SYSCONTEXTID:
        state.contexts.delete(ctx)
    state.categories.delete(category)
