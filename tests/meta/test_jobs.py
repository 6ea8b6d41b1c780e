"""The jobs' two promises, read from the source: only a job applies a plan, and only scope.py decides whose a
county is (nothing else compares county codes)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import moodle_sync

PACKAGE = Path(moodle_sync.__file__).parent

#: what applies a plan or records a run that writes, and the one module of the tool that defines each
APPLYING = {"Applier": "applier.py", "apply_recorded": "jobs/recorded.py", "recorded_run": "writing/runs.py"}

#: what commands and the portal reach only through a job (their write or pull functions)
BEHIND_JOBS = ("moodle_sync.completions", "moodle_sync.sessions", "moodle_sync.writing.runs", "moodle_sync.applier")

#: county comparisons that are data, not access: which of a person's tool cohorts are in their county (a
#: report's fact), which cohorts are one county's (the enrolments that follow a roster)
DATA_NOT_ACCESS = {("completions/facts.py", "_belonging"), ("reconcile/enrolments.py", "targeted_enrolment_state")}

#: the table of county codes: a code looked up in it is checked, not compared with a county
CODE_TABLES = {"COUNTIES", "COUNTY_CODES"}

COUNTY = re.compile(r"count(y|ies)", re.IGNORECASE)


def modules() -> Iterator[tuple[str, ast.Module]]:
    """Every module of the tool (the emulator aside, which imitates Moodle), by its path in the package."""
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if not rel.startswith("emulator/"):
            yield rel, ast.parse(path.read_text(encoding="utf-8"))


def _names(node: ast.AST) -> Iterator[str]:
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            yield n.id
        elif isinstance(n, ast.Attribute):
            yield n.attr


def test_only_the_jobs_apply_plans() -> None:
    """The Applier is built, and a writing run recorded, in jobs/ only: every plan goes through one
    function (jobs/recorded.apply_recorded), whatever command or page made it."""
    found = [f"{rel}:{n.lineno}: {name}" for rel, tree in modules() if not rel.startswith("jobs/")
             for n in ast.walk(tree) if isinstance(n, ast.Name | ast.Attribute)
             for name in [n.id if isinstance(n, ast.Name) else n.attr]
             if name in APPLYING and rel != APPLYING[name]]
    assert found == [], "only moodle_sync/jobs/ may apply a plan:\n  " + "\n  ".join(found)


def test_commands_and_the_portal_write_and_pull_through_the_jobs() -> None:
    """A command and a portal page call the job, not the library's write or pull functions (at module level or
    inside a function)."""
    found = [f"{rel}:{n.lineno}: {n.module}" for rel, tree in modules()
             if rel.startswith(("commands/", "portal/")) or rel in ("demo.py", "demo_serve.py")
             for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module
             and n.module.startswith(BEHIND_JOBS)]
    assert found == [], "call the job in moodle_sync/jobs/ instead:\n  " + "\n  ".join(found)


def county_comparisons() -> list[str]:
    """Every ``==``, ``!=``, ``in`` or ``not in`` with a county (a name or attribute called county or counties,
    or a row's ``["county"]``) on either side, outside scope.py and counties.py (the codes themselves)."""
    found = []
    for rel, tree in modules():
        if rel in ("scope.py", "counties.py"):
            continue
        functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        for node in ast.walk(tree):
            if not isinstance(node, ast.Compare) or all(isinstance(op, ast.Is | ast.IsNot) for op in node.ops):
                continue
            operands = [node.left, *node.comparators]
            if any(isinstance(op, ast.In | ast.NotIn) for op in node.ops) and \
                    any(name in CODE_TABLES for o in node.comparators for name in _names(o)):
                continue  # a code checked against the table of codes
            county = any(COUNTY.search(name) for o in operands if isinstance(o, ast.Name | ast.Attribute)
                         for name in [o.id if isinstance(o, ast.Name) else o.attr]) or any(
                isinstance(o, ast.Subscript) and isinstance(o.slice, ast.Constant)
                and COUNTY.search(str(o.slice.value)) for o in operands)
            if not county:
                continue
            inside = min((f for f in functions if f.lineno <= node.lineno <= (f.end_lineno or f.lineno)),
                         key=lambda f: (f.end_lineno or f.lineno) - f.lineno, default=None)
            if (rel, inside.name if inside else "") not in DATA_NOT_ACCESS:
                found.append(f"{rel}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_nothing_but_scope_compares_county_codes() -> None:
    """Whose a county is, is decided by the one Scope made at the edge (Scope.covers/require/may_use): nothing
    below it – nor the commands and the portal that make it – compares county codes itself."""
    found = county_comparisons()
    assert found == [], ("ask the Scope (moodle_sync/scope.py) instead of comparing counties:\n  "
                         + "\n  ".join(found))
