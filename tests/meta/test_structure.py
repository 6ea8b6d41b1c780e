"""The package's shape: what loads what, which parts depend on which, and how big a module may grow."""

from __future__ import annotations

import ast
import graphlib
import json
import subprocess
import sys
from pathlib import Path

import moodle_sync

PACKAGE = Path(moodle_sync.__file__).parent

#: the most lines a module of the tool may have (the emulator aside): past it, split it by what the parts do
MAX_LINES = 500


def test_the_cli_loads_no_emulator_module() -> None:
    """Moodle's signatures belong to moodle/: starting the tool must not load the emulator (36 modules)."""
    code = ("import json, sys, moodle_sync.cli; "
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('moodle_sync.emulator'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def _part(module: str) -> str | None:
    """``moodle_sync.reconcile.plan`` → ``reconcile``; ``moodle_sync.scope`` → ``scope``."""
    parts = module.split(".")
    return parts[1] if parts[0] == "moodle_sync" and len(parts) > 1 else None


def package_graph() -> dict[str, dict[str, list[str]]]:
    """Part of the package (a subpackage or a top-level module) → the parts it imports → where.

    Only imports at module level count: an import inside a function (the CLI's lazy imports of a command's
    library, the demo's emulator) runs when that function runs, so it cannot make an import cycle at load
    time, and it is how a command that needs a part pulls it in without the others paying for it.
    """
    graph: dict[str, dict[str, list[str]]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        here = rel.parts[0].removesuffix(".py")
        edges = graph.setdefault(here, {})
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] if node.module != "moodle_sync" else [
                    f"moodle_sync.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for target in targets:
                part = _part(target)
                if part and part != here and ((PACKAGE / part).is_dir() or (PACKAGE / f"{part}.py").exists()):
                    edges.setdefault(part, []).append(str(rel))
    return graph


def test_no_cycle_between_the_parts_of_the_package() -> None:
    graph = package_graph()
    try:
        order = list(graphlib.TopologicalSorter({k: set(v) for k, v in graph.items()}).static_order())
    except graphlib.CycleError as e:
        cycle = e.args[1]
        where = [f"{a} → {b} ({', '.join(sorted(set(graph[a][b])))})" for a, b in zip(cycle, cycle[1:], strict=False)]
        raise AssertionError("import cycle between parts of moodle_sync:\n  " + "\n  ".join(where)) from None
    # the vocabulary is at the bottom: it depends on nothing of the tool but the counties
    for shared in ("counties", "identity"):
        assert set(graph[shared]) <= {"counties"}, f"{shared} imports {sorted(graph[shared])}"
    assert order.index("identity") < order.index("reconcile") < order.index("rosters")


def test_every_action_has_a_way_to_be_applied_and_explained() -> None:
    """The applier and the explainer are two visitors of the same actions (SQLMesh's evaluator/explainer)."""
    from moodle_sync.applier import Applier
    from moodle_sync.explainer import Explainer
    from moodle_sync.reconcile.plan import ACTION_TYPES, Action, visitor_name

    def subclasses(cls: type[Action]) -> set[type[Action]]:
        return {c for sub in cls.__subclasses__() for c in (sub, *subclasses(sub))}

    actions = subclasses(Action)
    assert actions == set(ACTION_TYPES.values()), "every Action is known to the plan file's reader"
    missing = [f"{visitor.__name__}.{visitor_name(a)}" for a in sorted(actions, key=lambda t: t.__name__)
               for visitor in (Applier, Explainer) if not callable(getattr(visitor, visitor_name(a), None))]
    assert not missing, "actions without a visitor: " + ", ".join(missing)


def module_lengths() -> dict[str, int]:
    """Lines of each module of the tool (path under moodle_sync/), the emulator package left out."""
    return {path.relative_to(PACKAGE).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
            for path in sorted(PACKAGE.rglob("*.py")) if path.relative_to(PACKAGE).parts[0] != "emulator"}


def test_no_module_of_the_tool_is_over_500_lines() -> None:
    offenders = [f"{module} ({n} lines)" for module, n in module_lengths().items() if n > MAX_LINES]
    assert not offenders, (f"modules over {MAX_LINES} lines; split them by what the parts do:\n  "
                           + "\n  ".join(offenders))


def test_every_action_has_words_for_people() -> None:
    """Progress and outcome lines name an action in people's words, never its class name split into words."""
    import moodle_sync.applier  # noqa: F401  (loads every package's actions)
    from moodle_sync.reconcile.plan import ACTION_TYPES
    from moodle_sync.reconcile.words import action_words

    def split(name: str) -> str:
        return "".join(f" {c.lower()}" if c.isupper() else c for c in name).strip()

    unnamed = [name for name in ACTION_TYPES if action_words(f"{name}:T") == f"{split(name)}: T"]
    assert not unnamed, "actions without words in reconcile/words.py: " + ", ".join(sorted(unnamed))
