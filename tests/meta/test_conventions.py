"""Checks of the project's own conventions (python-gitlab's tests/unit/meta, canvasapi's validator)."""

from __future__ import annotations

import ast
import inspect
import json
import re
from importlib import resources
from pathlib import Path

import moodle_sync
from moodle_sync import errors
from moodle_sync.moodle.functions import MoodleApi

PACKAGE = Path(moodle_sync.__file__).parent


def signatures() -> dict[str, dict]:
    text = resources.files("moodle_sync.moodle").joinpath("data/ws-signatures-4.3.json").read_text()
    return json.loads(text)


def test_every_wrapper_names_a_real_moodle_function() -> None:
    known = signatures()
    named = []
    for name, member in inspect.getmembers(MoodleApi, inspect.isfunction):
        doc = inspect.getdoc(member) or ""
        for fn in re.findall(r"Calls: (\w+)", doc):
            named.append(fn)
            assert fn in known, f"MoodleApi.{name} names {fn}, which Moodle 4.3 does not declare"
    assert set(MoodleApi.FUNCTIONS) <= set(named), "every function doctor checks has a wrapper"
    assert set(MoodleApi.FUNCTIONS) <= set(known)


def test_only_the_transport_imports_requests() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n == "requests" or n.startswith("requests.") for n in names):
                offenders.append(path.relative_to(PACKAGE).as_posix())
    assert sorted(set(offenders)) == ["moodle/transport.py"]


def _client_calls(tree: ast.Module) -> set[str]:
    """The classes (``"<module level>"`` outside any) in which ``<…client>.call(…)`` is written."""
    found: set[str] = set()

    def walk(node: ast.AST, owner: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute) and child.func.attr == "call":
                receiver = child.func.value
                name = receiver.id if isinstance(receiver, ast.Name) else getattr(receiver, "attr", "")
                if "client" in name.lower():
                    found.add(owner)
            walk(child, child.name if isinstance(child, ast.ClassDef) else owner)

    walk(tree, "<module level>")
    return found


def test_only_moodle_api_calls_the_client() -> None:
    """MoodleApi is the one class that calls ``MoodleClient.call``; its methods are written in one module per
    Moodle area (its bases), which nothing but MoodleApi puts together."""
    parts = {(cls.__module__, cls.__name__) for cls in MoodleApi.__mro__ if cls.__module__.startswith("moodle_sync.")}
    calling = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "emulator":
            continue
        module = "moodle_sync." + ".".join(rel.with_suffix("").parts)
        calling |= {(module, owner) for owner in _client_calls(ast.parse(path.read_text(encoding="utf-8")))}
    assert calling, "the check finds MoodleApi's own calls"
    outside = sorted(f"{module} ({owner})" for module, owner in calling - parts)
    assert not outside, "MoodleClient.call outside MoodleApi and its parts: " + ", ".join(outside)
    for cls in MoodleApi.__mro__[1:]:
        if cls.__module__.startswith("moodle_sync."):
            assert cls.__subclasses__() == [MoodleApi], f"{cls.__name__} is a part of MoodleApi only"


def test_errors_all_is_sorted_and_complete() -> None:
    public = {name for name, obj in vars(errors).items()
              if inspect.isclass(obj) and issubclass(obj, Exception) and obj.__module__ == errors.__name__}
    assert errors.__all__ == sorted(errors.__all__)
    assert public <= set(errors.__all__)


def test_every_error_in_the_tree_is_drawn_in_the_docstring() -> None:
    doc = errors.__doc__ or ""
    for name in errors.__all__:
        obj = getattr(errors, name)
        if inspect.isclass(obj) and issubclass(obj, errors.MoodleSyncError):
            assert name in doc, f"{name} is missing from the drawn error tree"
