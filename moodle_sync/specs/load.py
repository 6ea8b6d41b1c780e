"""Read a spec tree (``categories.yaml``, ``target_groups.yaml``, ``courses/*.yaml`` and the optional
``enrolment_rules.yaml``) into a SpecSet.

Everything is checked before anything is returned, and every problem is collected — YAML syntax,
each model's fields, references across files — so one ``SpecError`` lists them all, each with the
file and line to fix. ruamel.yaml's round-trip loader keeps the line of every key for that.
"""

from __future__ import annotations

import difflib
import os
import re
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar, get_args

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean

from moodle_sync.errors import SpecError, SpecProblem
from moodle_sync.invisible_text import nfc
from moodle_sync.specs.fields import SEMVER_RE
from moodle_sync.specs.guard import SpecFileRefused, hidden_characters, is_inside, read_spec_text, spec_yaml
from moodle_sync.specs.models import CategorySpec, CourseSpec, EnrolmentRule, Session, TargetGroup
from moodle_sync.specs.source import SourceRef, SpecModel, locate
from moodle_sync.specs.spec_set import SpecSet, spec_digest

__all__ = ["CATEGORIES_FILE", "COURSES_DIR", "RULES_FILE", "TARGET_GROUPS_FILE", "load_specs"]

CATEGORIES_FILE = "categories.yaml"
TARGET_GROUPS_FILE = "target_groups.yaml"
#: optional: without it there are no enrolment rules
RULES_FILE = "enrolment_rules.yaml"
COURSES_DIR = "courses"
COURSE_SUFFIXES = (".yaml", ".yml")

M = TypeVar("M", bound=SpecModel)


def load_specs(root: Path | str) -> SpecSet:
    """Load and validate every spec under ``root`` (a ``course_specs/`` directory).

    Args:
        root: the directory holding ``categories.yaml``, ``target_groups.yaml`` and ``courses/``, and
            optionally ``enrolment_rules.yaml``.

    Returns:
        The validated specs, their digest, and the git commit (and dirtiness) of the tree.

    Raises:
        SpecError: with every problem found (missing files, YAML syntax, invalid or unknown keys,
            broken references between files), each with file, line, loc path and a hint.
    """
    root_path = Path(root)
    layout = f"{CATEGORIES_FILE}, {TARGET_GROUPS_FILE} and {COURSES_DIR}/"
    if not root_path.is_dir():
        what = "is not a directory" if root_path.exists() else "does not exist"
        raise SpecError([SpecProblem(_display(root_path), None, f"the spec directory {what}",
                                     hint=f"point at the directory that holds {layout}")])
    nested = root_path / "course_specs"
    if nested.is_dir() and not any((root_path / n).exists() for n in (CATEGORIES_FILE, COURSES_DIR)):
        raise SpecError([SpecProblem(_display(root_path), None, f"this directory has no {layout}",
                                     hint=f"did you mean {_display(nested)}?")])

    loader = _Loader(root_path)
    categories = loader.load_list(CATEGORIES_FILE, "categories", CategorySpec)
    target_groups = loader.load_list(TARGET_GROUPS_FILE, "target_groups", TargetGroup)
    courses = loader.load_courses()
    rules = loader.load_list(RULES_FILE, "enrolment_rules", EnrolmentRule, optional=True)
    loader.check_categories(categories)
    loader.check_target_groups(target_groups)
    loader.check_courses(courses, categories, target_groups)
    loader.check_rules(rules, courses, target_groups)
    if loader.problems:
        raise SpecError(sorted(loader.problems, key=lambda p: (p.file, p.line or 0)))

    cats = [d.model for d in categories.docs if d.model is not None]
    tgs = [d.model for d in target_groups.docs if d.model is not None]
    crs = [d.model for d in courses if d.model is not None]
    rls = [d.model for d in rules.docs if d.model is not None]
    commit, dirty = _git_state(root_path)
    return SpecSet(root=root_path, categories={c.key: c for c in cats}, courses={c.key: c for c in crs},
                   target_groups={t.key: t for t in tgs}, digest=spec_digest(cats, crs, tgs, rls),
                   git_commit=commit, git_dirty=dirty, rules={r.key: r for r in rls})


# --- reading files -------------------------------------------------------------------------------

@dataclass
class _Doc(Generic[M]):
    """One spec as written: its mapping node (for lines), where it is, and the model if it is valid."""

    file: str
    node: CommentedMap
    prefix: str  # loc of the spec inside its file: "categories[2]" in a list file, "" for a course file
    model: M | None = None

    @property
    def line(self) -> int:
        return _node_line(self.node)

    def raw(self, key: str) -> Any:
        return self.node.get(key)

    def key_line(self, key: str) -> int:
        return _line_of(self.node, (key,))

    def loc(self, *parts: str | int) -> str:
        return _loc_text(self.prefix, parts)


@dataclass
class _ListFile(Generic[M]):
    file: str
    readable: bool  # False when the file is missing or does not parse: skip checks that depend on it
    docs: list[_Doc[M]] = field(default_factory=list)


class _SpecConstructor(RoundTripConstructor):
    """Round-trip constructor that keeps an impossible date (``2024-13-01``) as text.

    ruamel raises a bare ValueError without a line for those; as text, the model rejects it with
    file, line and hint like any other bad value.
    """

    def construct_yaml_timestamp(self, node: Any, values: Any = None) -> Any:
        try:
            return super().construct_yaml_timestamp(node, values)
        except ValueError:
            return str(node.value)


_SpecConstructor.add_constructor("tag:yaml.org,2002:timestamp", _SpecConstructor.construct_yaml_timestamp)


class _Loader:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[SpecProblem] = []
        self._reported: set[tuple[str, str]] = set()
        # False once a course file could not be read: its key is unknown, so "no such course" is unsure
        self.courses_readable = True
        self.yaml = spec_yaml(_SpecConstructor)

    def problem(self, file: str, line: int | None, message: str, hint: str = "", loc: str = "") -> None:
        self.add(SpecProblem(file, line, message, hint=hint, loc=loc))

    def add(self, problem: SpecProblem) -> None:
        # one problem per key: a value that is already wrong is not also checked against other files
        if problem.loc and (problem.file, problem.loc) in self._reported:
            return
        self._reported.add((problem.file, problem.loc))
        self.problems.append(problem)

    def read(self, path: Path) -> tuple[Any, bool]:
        """Parse one YAML file; on failure record the problem and return ``(None, False)``.

        A file outside the spec directory, too large, too deep or full of aliases is refused (:mod:`.guard`).
        """
        shown = _display(path)
        try:
            return self.yaml.load(read_spec_text(path, self.root)), True
        except SpecFileRefused as e:
            self.problem(shown, e.line, e.message, hint=e.hint)
        except MarkedYAMLError as e:
            mark = e.problem_mark or e.context_mark
            line = mark.line + 1 if mark is not None else None
            what = ": ".join(str(part) for part in (e.context, e.problem) if part)
            if e.context_mark is not None and line is not None and e.context_mark.line + 1 != line:
                what += f" (the construct started on line {e.context_mark.line + 1})"
            self.problem(shown, line, f"YAML syntax error: {what}",
                         hint="check indentation (spaces, not tabs), colons and quotes on this line or the "
                              "one above")
        except YAMLError as e:
            self.problem(shown, None, f"YAML error: {e}")
        return None, False

    def load_list(self, name: str, what: str, model_cls: type[M], *, optional: bool = False) -> _ListFile[M]:
        """``categories.yaml`` / ``target_groups.yaml`` / ``enrolment_rules.yaml``: a YAML list of mappings.

        An ``optional`` file may be missing (then it has no entries); an empty one has none either.
        """
        path = self.root / name
        shown = _display(path)
        if not path.is_file():
            if path.exists():
                self.problem(shown, None, f"{name} is not a file", hint=f"{name} is one YAML file; see "
                                                                         f"course_specs/README.md")
            elif not optional:
                self.problem(shown, None, f"{name} is missing",
                             hint=f"every spec directory has {name}; see course_specs/README.md")
            return _ListFile(shown, readable=False)
        data, ok = self.read(path)
        out = _ListFile[M](shown, readable=ok)
        if not ok or data is None:
            return out
        if not isinstance(data, CommentedSeq):
            self.problem(shown, _node_line(data), f"{name} should be a list of {what} (lines starting with "
                         f"'- key: …'), not {_kind(data)}", hint=f"see course_specs/{name}")
            out.readable = False
            return out
        second = list(model_cls.model_fields)[1]  # name for categories and target groups, course for rules
        for i, item in enumerate(data):
            loc = f"{what}[{i}]"
            if not isinstance(item, CommentedMap):
                self.problem(shown, _item_line(data, i), f"each entry should be a mapping of keys "
                             f"(key: …, {second}: …), not {_kind(item)}", loc=loc)
                continue
            doc = _Doc[M](shown, item, loc)
            doc.model = self.validate(model_cls, doc)
            out.docs.append(doc)
        return out

    def load_courses(self) -> list[_Doc[CourseSpec]]:
        """``courses/**/*.yaml``: one course per file, a mapping at the top."""
        directory = self.root / COURSES_DIR
        if not directory.is_dir():
            self.problem(_display(directory), None, f"the {COURSES_DIR}/ directory is missing",
                         hint=f"put one YAML file per course in {COURSES_DIR}/")
            return []
        if not is_inside(directory, self.root):
            self.courses_readable = False
            self.problem(_display(directory), None, f"{COURSES_DIR}/ is a symbolic link that leads outside the "
                         f"spec directory; nothing in it was read",
                         hint=f"keep {COURSES_DIR}/ inside the spec directory: copy the files in instead of "
                              f"linking to them")
            return []
        paths = sorted(p for p in directory.rglob("*") if p.suffix in COURSE_SUFFIXES and p.is_file()
                       and not any(part.startswith(".") for part in p.relative_to(directory).parts))
        if not paths:
            self.problem(_display(directory), None, f"no course specs in {COURSES_DIR}/",
                         hint=f"add one file per course, e.g. {COURSES_DIR}/hrv-socialtjanst.yaml")
        docs: list[_Doc[CourseSpec]] = []
        for path in paths:
            shown = _display(path)
            data, ok = self.read(path)
            if not ok:
                self.courses_readable = False
                continue
            if not isinstance(data, CommentedMap):
                self.courses_readable = False
                self.problem(shown, _node_line(data), f"a course file should hold one course as a mapping of "
                             f"keys (key: …, version: …), not {_kind(data)}",
                             hint="see course_specs/README.md for an example")
                continue
            if data and not set(data) & set(CourseSpec.model_fields):
                # one problem instead of one per missing key: this is not a course spec at all
                self.problem(shown, _node_line(data), f"no course keys here ({', '.join(map(str, data))}); "
                             f"{COURSES_DIR}/ holds only course specs",
                             hint="a course spec has key, version, title, …; see course_specs/README.md")
                continue
            doc = _Doc[CourseSpec](shown, data, "")
            doc.model = self.validate(CourseSpec, doc)
            docs.append(doc)
        return docs

    def validate(self, model_cls: type[M], doc: _Doc[M]) -> M | None:
        for loc, message in hidden_characters(doc.node):
            self.problem(doc.file, _line_of(doc.node, loc), message, loc=doc.loc(*loc),
                         hint="retype it; invisible characters often come along when text is pasted")
        try:
            model = model_cls.model_validate(_plain(doc.node))
        except ValidationError as e:
            for error in e.errors(include_url=False):
                self.add(_problem_from_error(model_cls, doc, error))
            return None
        _locate_items(model, doc.file, doc.node)
        return locate(model, SourceRef(doc.file, doc.line), dict(_field_lines(doc.node)))

    # --- checks across specs and files -----------------------------------------------------------

    def check_unique(self, docs: Sequence[_Doc[Any]], what: str, hint: str) -> None:
        first: dict[str, _Doc[Any]] = {}
        for doc in docs:
            key = doc.raw("key")
            if not isinstance(key, str):
                continue
            if key in first:
                other = first[key]
                self.problem(doc.file, doc.key_line("key"),
                             f"{what} key {key!r} is already used at {other.file}:{other.key_line('key')}",
                             hint=hint, loc=doc.loc("key"))
            else:
                first[key] = doc

    def check_categories(self, categories: _ListFile[CategorySpec]) -> None:
        docs = categories.docs
        self.check_unique(docs, "category", "category keys must be unique; rename one of them")
        keys = {k for d in docs if isinstance(k := d.raw("key"), str)}
        parents: dict[str, tuple[str, _Doc[CategorySpec]]] = {}
        for doc in docs:
            key, parent = doc.raw("key"), doc.raw("parent")
            if not isinstance(parent, str):
                continue
            if isinstance(key, str):
                parents.setdefault(key, (parent, doc))
            if parent not in keys:
                self.problem(doc.file, doc.key_line("parent"),
                             f"category {key!r}: parent {parent!r} is not a category key in this file",
                             hint=_did_you_mean(parent, keys, "categories"), loc=doc.loc("parent"))
        reported: set[str] = set()
        for start in parents:
            path = [start]
            while (step := parents.get(path[-1])) is not None and step[0] in parents and step[0] not in path:
                path.append(step[0])
            if step is None or step[0] not in path or reported & set(path):
                continue
            cycle = path[path.index(step[0]):]
            reported.update(cycle)
            doc = parents[cycle[0]][1]
            self.problem(doc.file, doc.key_line("parent"),
                         f"categories form a cycle: {' → '.join([*cycle, cycle[0]])}",
                         hint="a category cannot be its own ancestor; give one of them another parent or "
                              "none (top level)", loc=doc.loc("parent"))

    def check_target_groups(self, target_groups: _ListFile[TargetGroup]) -> None:
        self.check_unique(target_groups.docs, "target group",
                          "target-group keys must be unique; rename one of them")

    def check_courses(self, courses: list[_Doc[CourseSpec]], categories: _ListFile[CategorySpec],
                      target_groups: _ListFile[TargetGroup]) -> None:
        self.check_unique(courses, "course", "each course has one file and its own key; a new version "
                                             "keeps the key and bumps `version` in the same file")
        category_keys = {k for d in categories.docs if isinstance(k := d.raw("key"), str)}
        group_keys = {k for d in target_groups.docs if isinstance(k := d.raw("key"), str)}
        shortnames: dict[tuple[str, int], _Doc[CourseSpec]] = {}
        for doc in courses:
            key = doc.raw("key")
            label = f"course {key!r}" if isinstance(key, str) else "this course"
            category = doc.raw("category")
            if categories.readable and isinstance(category, str) and category not in category_keys:
                self.problem(doc.file, doc.key_line("category"),
                             f"{label}: category {category!r} is not defined in {CATEGORIES_FILE}",
                             hint=_did_you_mean(category, category_keys, "categories"), loc=doc.loc("category"))
            groups = doc.raw("target_groups")
            if target_groups.readable and isinstance(groups, list):
                for i, group in enumerate(groups):
                    if isinstance(group, str) and group not in group_keys:
                        self.problem(doc.file, _line_of(doc.node, ("target_groups", i)),
                                     f"{label}: target group {group!r} is not defined in {TARGET_GROUPS_FILE}",
                                     hint=_did_you_mean(group, group_keys, "target groups"),
                                     loc=doc.loc("target_groups", i))
            self.check_sessions(doc)
            shortname, version = doc.raw("shortname"), doc.raw("version")
            if isinstance(shortname, str) and isinstance(version, str) and SEMVER_RE.match(version):
                major = int(version.split(".", 1)[0])
                wanted = (nfc(shortname.strip()).casefold(), major)
                other = shortnames.get(wanted)
                if other is None:
                    shortnames[wanted] = doc
                elif other.raw("key") != key:
                    self.problem(doc.file, doc.key_line("shortname"),
                                 f"{label}: Moodle short name {shortname.strip() + f'-v{major}'!r} is also used by "
                                 f"course {other.raw('key')!r} at {other.file}:{other.key_line('shortname')}",
                                 hint="Moodle short names must be unique; change `shortname` in one of them",
                                 loc=doc.loc("shortname"))

    def check_sessions(self, doc: _Doc[CourseSpec]) -> None:
        """Sessions only in blended courses, each key once. The model checks this too, but only when every
        session is valid; here it is checked on what is written, so it is reported with the other problems."""
        sessions, delivery = doc.raw("sessions"), doc.raw("delivery")
        if not isinstance(sessions, CommentedSeq) or not sessions:
            return
        if isinstance(delivery, str) and delivery != "blended":
            self.problem(doc.file, doc.key_line("sessions"),
                         f"sessions are only for blended courses, and this one has delivery: {delivery}",
                         hint=CourseSpec.model_fields["sessions"].description or "", loc=doc.loc("sessions"))
        first: dict[str, int] = {}
        for i, session in enumerate(sessions):
            key = session.get("key") if isinstance(session, CommentedMap) else None
            if not isinstance(key, str):
                continue
            if key in first:
                self.problem(doc.file, _line_of(doc.node, ("sessions", i, "key")),
                             _repeated_session(key, doc.node, first[key]),
                             hint=Session.model_fields["key"].description or "",
                             loc=doc.loc("sessions", i, "key"))
            else:
                first[key] = i

    def check_rules(self, rules: _ListFile[EnrolmentRule], courses: list[_Doc[CourseSpec]],
                    target_groups: _ListFile[TargetGroup]) -> None:
        """Rule keys are unique, name courses and target groups that exist, and never overlap."""
        docs = rules.docs
        self.check_unique(docs, "enrolment rule", "each enrolment rule has its own key; rename one of them")
        course_docs: dict[str, _Doc[CourseSpec]] = {}
        for spec in courses:
            if isinstance(spec_key := spec.raw("key"), str):
                course_docs.setdefault(spec_key, spec)
        group_keys = {k for d in target_groups.docs if isinstance(k := d.raw("key"), str)}
        # (course, target group) → the rule and the index of the group in its list, first one wins
        pairs: dict[tuple[str, str], tuple[_Doc[EnrolmentRule], int]] = {}
        for doc in docs:
            key = doc.raw("key")
            label = f"enrolment rule {key!r}" if isinstance(key, str) else "this enrolment rule"
            course = doc.raw("course")
            course_doc = course_docs.get(course) if isinstance(course, str) else None
            if isinstance(course, str) and course_doc is None and self.courses_readable:
                self.problem(doc.file, doc.key_line("course"),
                             f"{label}: course {course!r} is not defined in {COURSES_DIR}/",
                             hint=_did_you_mean(course, set(course_docs), "courses"), loc=doc.loc("course"))
            groups = doc.raw("target_groups")
            if not isinstance(groups, list):
                continue
            for i, group in enumerate(groups):
                if not isinstance(group, str):
                    continue
                where, loc = _line_of(doc.node, ("target_groups", i)), doc.loc("target_groups", i)
                if target_groups.readable and group not in group_keys:
                    self.problem(doc.file, where,
                                 f"{label}: target group {group!r} is not defined in {TARGET_GROUPS_FILE}",
                                 hint=_did_you_mean(group, group_keys, "target groups"), loc=loc)
                    continue
                if course_doc is None or not isinstance(course, str):
                    continue
                course_groups = course_doc.raw("target_groups")
                if isinstance(course_groups, list) and group not in course_groups:
                    self.problem(doc.file, where,
                                 f"{label}: target group {group!r} is not one of the target groups of course "
                                 f"{course!r} ({course_doc.file}:{course_doc.key_line('target_groups')})",
                                 hint="add the group to the course's target_groups, or take it out of this rule",
                                 loc=loc)
                first = pairs.setdefault((course, group), (doc, i))
                if first[0] is not doc:
                    other, j = first
                    there = f"{other.file}:{_line_of(other.node, ('target_groups', j))}"
                    self.problem(doc.file, where,
                                 f"{label}: course {course!r} for target group {group!r} is already in enrolment "
                                 f"rule {other.raw('key')!r} at {there}",
                                 hint="one rule per course and target group, or the role, window and deadline "
                                      "would be ambiguous; take the group out of one of the two rules", loc=loc)

# --- pydantic errors → problems with file:line ---------------------------------------------------

_SLUG_TEXT = "a valid key (lowercase a-z, digits and hyphens, starting with a letter or digit)"
_PATTERN_TEXT = {
    "language": "a Moodle language code (e.g. sv, en, sv_fi)",
    "role": "a Moodle role shortname (lowercase a-z, digits and _, starting with a letter, e.g. student)",
}
#: what one model is called in "unknown key 'x' in a …"
_WHAT = {TargetGroup: "target group", EnrolmentRule: "enrolment rule", Session: "session"}


def _problem_from_error(model_cls: type[SpecModel], doc: _Doc[Any], error: ErrorDetails) -> SpecProblem:
    """One pydantic error as a problem at the line of the offending key (or of the spec when missing)."""
    loc = tuple(error["loc"])
    kind = error["type"]
    ctx = error.get("ctx") or {}
    # the key the error is about, and the model it belongs to (a session inside a course, say)
    model_cls, name, info = _field_at(model_cls, loc)
    fields = model_cls.model_fields
    hint = (info.description or "") if info else ""
    value = error.get("input")
    where = (doc.file, _line_of(doc.node, loc))
    loc_text = doc.loc(*loc)

    if kind == "missing":
        example = info.examples[0] if info and info.examples else "…"
        return SpecProblem(*where, f"missing required key {name!r}", loc=loc_text,
                           hint=f"add `{name}: {example}` ({hint})" if hint else f"add `{name}: {example}`")
    if kind == "extra_forbidden":
        allowed = list(fields)
        close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
        what = _WHAT.get(model_cls) or model_cls.__name__.removesuffix("Spec").lower()
        article = "an" if what[:1] in ("a", "e", "i", "o", "u") else "a"
        return SpecProblem(*where, f"unknown key {name!r} in {article} {what}", loc=loc_text,
                           hint=(f"did you mean {close[0]!r}? " if close else "")
                           + f"allowed keys: {', '.join(allowed)}")

    if kind == "value_error":
        message = error["msg"].removeprefix("Value error, ")
        if name == "target_groups" and isinstance(value, list):
            # the validator can only blame the whole list; point at the repeated item instead
            repeated = next((i for i, v in enumerate(value) if v in value[:i]), None)
            if repeated is not None:
                where = (doc.file, _line_of(doc.node, (name, repeated)))
                loc_text = doc.loc(name, repeated)
        elif name == "sessions" and isinstance(value, list) and message.startswith("session key"):
            keys = [v.get("key") if isinstance(v, dict) else None for v in value]
            repeated = next((i for i, k in enumerate(keys) if k is not None and k in keys[:i]), None)
            if repeated is not None:
                where = (doc.file, _line_of(doc.node, (name, repeated, "key")))
                loc_text = doc.loc(name, repeated, "key")
                key = str(keys[repeated])
                message = _repeated_session(key, doc.node, keys.index(key))
    elif kind == "string_pattern_mismatch":
        message = f"{_show(value)} is not {_PATTERN_TEXT.get(name, _SLUG_TEXT)}"
    elif kind == "string_type" and name == "version" and isinstance(value, int | float):
        message = f"{_show(value)} is not a semantic version"
        hint = f'{hint}; quote it if YAML reads it as a number: version: "{value}.0"'
    elif kind == "string_type":
        message = f"{_show(value)} is not text"
    elif kind == "bool_type":
        message = f"{_show(value)} is not true or false"
    elif kind == "int_type":
        message = f"{_show(value)} is not a whole number"
    elif kind == "literal_error":
        message = f"{_show(value)} is not one of {ctx.get('expected', '')}"
    elif kind == "greater_than_equal":
        message = f"{_show(value)} is less than {ctx.get('ge')}"
    elif kind == "less_than_equal":
        message = f"{_show(value)} is more than {ctx.get('le')}"
    elif kind == "string_too_long":
        message = f"{name} is {len(str(value))} characters long, more than {ctx.get('max_length')}"
    elif kind in ("string_too_short", "too_short"):
        message = f"{name} is empty"
    elif kind in ("list_type", "tuple_type"):
        message = f"{_show(value)} is not a list"
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        item_cls = _nested_model(info.annotation) if info else None
        keys = list((item_cls or model_cls).model_fields)
        message = f"{_show(value)} is not a mapping of keys ({keys[0]}: …, {keys[1]}: …)"
    else:
        message = f"{error['msg']} (got {_show(value)})"
    return SpecProblem(*where, message, hint=hint, loc=loc_text)


def _repeated_session(key: str, course: CommentedMap, first: int) -> str:
    return f"session key {key!r} is listed twice (first at line {_line_of(course, ('sessions', first, 'key'))})"


def _field_at(model_cls: type[SpecModel], loc: Sequence[str | int]) -> tuple[type[SpecModel], str, FieldInfo | None]:
    """The innermost model along ``loc``, the last key name in it, and that key's field (None if unknown).

    ``("sessions", 0, "county")`` in a course → ``(Session, "county", <county field>)``.
    """
    name, info = "", None
    for part in loc:
        if isinstance(part, int):
            continue
        if info is not None and (nested := _nested_model(info.annotation)) is not None:
            model_cls = nested
        name, info = str(part), model_cls.model_fields.get(str(part))
        if info is None:
            break
    return model_cls, name, info


def _nested_model(annotation: Any) -> type[SpecModel] | None:
    """The spec model inside an annotation such as ``tuple[Session, ...]``, if there is one."""
    if isinstance(annotation, type) and issubclass(annotation, SpecModel):
        return annotation
    for arg in get_args(annotation):
        if (found := _nested_model(arg)) is not None:
            return found
    return None


def _locate_items(model: BaseModel, file: str, node: CommentedMap) -> None:
    """Give models nested in lists (a course's sessions) their own source, like the specs holding them."""
    for name in type(model).model_fields:
        value, items = getattr(model, name), node.get(name)
        if not isinstance(value, tuple) or not isinstance(items, CommentedSeq):
            continue
        for i, item in enumerate(value):
            if isinstance(item, SpecModel) and i < len(items) and isinstance(items[i], CommentedMap):
                locate(item, SourceRef(file, _item_line(items, i)), dict(_field_lines(items[i])))


# --- helpers -------------------------------------------------------------------------------------

def _display(path: Path) -> str:
    """A path as people should read it: relative to the working directory when it is inside it.

    A symbolic link is shown as itself, not as where it leads.
    """
    try:
        return (path.parent.resolve() / path.name).relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError, RuntimeError):
        return path.as_posix()


def _node_line(node: Any) -> int:
    lc = getattr(node, "lc", None)
    return int(lc.line) + 1 if lc is not None and lc.line is not None else 1


def _item_line(seq: CommentedSeq, index: int) -> int:
    try:
        return int(seq.lc.item(index)[0]) + 1
    except (KeyError, IndexError, TypeError):
        return _node_line(seq)


def _line_of(node: Any, loc: Sequence[str | int]) -> int:
    """The line of the deepest key or item of ``loc`` that exists; the container's line otherwise."""
    line = _node_line(node)
    for part in loc:
        try:
            if isinstance(node, CommentedMap) and part in node:
                line = int(node.lc.key(part)[0]) + 1
                node = node[part]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
                line = _item_line(node, part)
                node = node[part]
            else:
                break
        except (KeyError, IndexError, TypeError):
            break
    return line


def _field_lines(node: CommentedMap) -> Iterator[tuple[str, int]]:
    for key in node:
        if not isinstance(key, str):
            continue
        yield key, _line_of(node, (key,))
        value = node[key]
        if isinstance(value, CommentedSeq):
            for i in range(len(value)):
                yield f"{key}[{i}]", _item_line(value, i)


def _loc_text(prefix: str, parts: Sequence[str | int]) -> str:
    text = prefix
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _plain(value: Any) -> Any:
    """ruamel's round-trip types (CommentedMap, ScalarFloat, …) → plain Python for pydantic."""
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, TaggedScalar) and str(value.tag) == "tag:yaml.org,2002:str":
        return nfc(str(value.value))
    if isinstance(value, bool | ScalarBoolean):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return nfc(str(value))  # "å" as one character, however the editor wrote it
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "an empty document"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"the value {_show(value)}"


def _show(value: Any) -> str:
    if isinstance(value, TaggedScalar):  # a YAML tag such as !custom that nothing here understands
        return f"{value.tag} {value.value!r}"
    text = repr(value.isoformat() if hasattr(value, "isoformat") else value)
    return text if len(text) <= 60 else text[:57] + "…"


def _did_you_mean(value: str, known: set[str], what: str) -> str:
    close = difflib.get_close_matches(value, sorted(known), n=1, cutoff=0.6)
    listed = ", ".join(sorted(known)) or "none"
    return (f"did you mean {close[0]!r}? " if close else "") + f"known {what}: {listed}"


_HEX_RE = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


def _git_state(root: Path) -> tuple[str | None, bool | None]:
    """HEAD of the repository holding ``root`` and whether the tree under ``root`` has changes."""
    head = _git(root, "rev-parse", "HEAD")
    commit = head.strip() if head is not None and _HEX_RE.match(head.strip()) else None
    status = _git(root, "status", "--porcelain", "--untracked-files=normal", "--", ".")
    return commit, (bool(status.strip()) if status is not None else None)


def _git(root: Path, *args: str) -> str | None:
    # GIT_OPTIONAL_LOCKS=0: `git status` must not take index.lock while someone else commits
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10,
                              env=env, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None
