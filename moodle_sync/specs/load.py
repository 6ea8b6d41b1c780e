"""Read a spec tree (``categories.yaml``, ``target_groups.yaml``, ``courses/*.yaml`` and the optional
``enrolment_rules.yaml``) into a SpecSet.

Everything is checked before anything is returned, and every problem is collected — YAML syntax,
each model's fields, references across files — so one ``SpecError`` lists them all, each with the
file and line to fix. This module reads the files and builds the models; the checks across files are
in :mod:`.checks`, pydantic's errors are worded in :mod:`.field_errors`, and the lines come from
:mod:`.locate` (ruamel.yaml's round-trip loader keeps the line of every key).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean

from moodle_sync.errors import SpecError, SpecProblem
from moodle_sync.invisible_text import nfc
from moodle_sync.specs.checks import Problems, check_categories, check_courses, check_rules, check_target_groups
from moodle_sync.specs.field_errors import problem_from_error, show_value
from moodle_sync.specs.guard import SpecFileRefused, hidden_characters, is_inside, read_spec_text, spec_yaml
from moodle_sync.specs.locate import (
    CATEGORIES_FILE,
    COURSES_DIR,
    RULES_FILE,
    TARGET_GROUPS_FILE,
    ListFile,
    SpecDoc,
    field_lines,
    item_line,
    line_of,
    locate_items,
    node_line,
)
from moodle_sync.specs.models import CategorySpec, CourseSpec, EnrolmentRule, TargetGroup
from moodle_sync.specs.source import SourceRef, SpecModel, locate
from moodle_sync.specs.spec_set import SpecSet, spec_digest

__all__ = ["load_specs"]

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
    problems = loader.problems
    check_categories(problems, categories)
    check_target_groups(problems, target_groups)
    check_courses(problems, courses, categories, target_groups)
    check_rules(problems, rules, courses, target_groups, courses_readable=loader.courses_readable)
    if problems.found:
        raise SpecError(sorted(problems.found, key=lambda p: (p.file, p.line or 0)))

    cats = [d.model for d in categories.docs if d.model is not None]
    tgs = [d.model for d in target_groups.docs if d.model is not None]
    crs = [d.model for d in courses if d.model is not None]
    rls = [d.model for d in rules.docs if d.model is not None]
    commit, dirty = _git_state(root_path)
    return SpecSet(root=root_path, categories={c.key: c for c in cats}, courses={c.key: c for c in crs},
                   target_groups={t.key: t for t in tgs}, digest=spec_digest(cats, crs, tgs, rls),
                   git_commit=commit, git_dirty=dirty, rules={r.key: r for r in rls})


# --- reading files -------------------------------------------------------------------------------

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
        self.problems = Problems()
        # False once a course file could not be read: its key is unknown, so "no such course" is unsure
        self.courses_readable = True
        self.yaml = spec_yaml(_SpecConstructor)

    def problem(self, file: str, line: int | None, message: str, hint: str = "", loc: str = "") -> None:
        self.problems.problem(file, line, message, hint=hint, loc=loc)

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

    def load_list(self, name: str, what: str, model_cls: type[M], *, optional: bool = False) -> ListFile[M]:
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
            return ListFile(shown, readable=False)
        data, ok = self.read(path)
        out = ListFile[M](shown, readable=ok)
        if not ok or data is None:
            return out
        if not isinstance(data, CommentedSeq):
            self.problem(shown, node_line(data), f"{name} should be a list of {what} (lines starting with "
                         f"'- key: …'), not {kind_of(data)}", hint=f"see course_specs/{name}")
            out.readable = False
            return out
        second = list(model_cls.model_fields)[1]  # name for categories and target groups, course for rules
        for i, item in enumerate(data):
            loc = f"{what}[{i}]"
            if not isinstance(item, CommentedMap):
                self.problem(shown, item_line(data, i), f"each entry should be a mapping of keys "
                             f"(key: …, {second}: …), not {kind_of(item)}", loc=loc)
                continue
            doc = SpecDoc[M](shown, item, loc)
            doc.model = self.validate(model_cls, doc)
            out.docs.append(doc)
        return out

    def load_courses(self) -> list[SpecDoc[CourseSpec]]:
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
        # a FIFO or a device named *.yaml is listed, so that the guard names it instead of it being left out
        paths = sorted(p for p in directory.rglob("*") if p.suffix in COURSE_SUFFIXES and not p.is_dir()
                       and not any(part.startswith(".") for part in p.relative_to(directory).parts))
        if not paths:
            self.problem(_display(directory), None, f"no course specs in {COURSES_DIR}/",
                         hint=f"add one file per course, e.g. {COURSES_DIR}/hrv-socialtjanst.yaml")
        docs: list[SpecDoc[CourseSpec]] = []
        for path in paths:
            shown = _display(path)
            data, ok = self.read(path)
            if not ok:
                self.courses_readable = False
                continue
            if not isinstance(data, CommentedMap):
                self.courses_readable = False
                self.problem(shown, node_line(data), f"a course file should hold one course as a mapping of "
                             f"keys (key: …, version: …), not {kind_of(data)}",
                             hint="see course_specs/README.md for an example")
                continue
            if data and not set(data) & set(CourseSpec.model_fields):
                # one problem instead of one per missing key: this is not a course spec at all
                self.problem(shown, node_line(data), f"no course keys here ({', '.join(map(str, data))}); "
                             f"{COURSES_DIR}/ holds only course specs",
                             hint="a course spec has key, version, title, …; see course_specs/README.md")
                continue
            doc = SpecDoc[CourseSpec](shown, data, "")
            doc.model = self.validate(CourseSpec, doc)
            docs.append(doc)
        return docs

    def validate(self, model_cls: type[M], doc: SpecDoc[M]) -> M | None:
        for loc, message in hidden_characters(doc.node):
            self.problem(doc.file, line_of(doc.node, loc), message, loc=doc.loc(*loc),
                         hint="retype it; invisible characters often come along when text is pasted")
        try:
            model = model_cls.model_validate(_plain(doc.node))
        except ValidationError as e:
            for error in e.errors(include_url=False):
                self.problems.add(problem_from_error(model_cls, doc, error))
            return None
        locate_items(model, doc.file, doc.node)
        return locate(model, SourceRef(doc.file, doc.line), dict(field_lines(doc.node)))


# --- helpers -------------------------------------------------------------------------------------

def _display(path: Path) -> str:
    """A path as people should read it: relative to the working directory when it is inside it.

    A symbolic link is shown as itself, not as where it leads.
    """
    try:
        return (path.parent.resolve() / path.name).relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError, RuntimeError):
        return path.as_posix()


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


def kind_of(value: Any) -> str:
    if value is None:
        return "an empty document"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"the value {show_value(value)}"


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
