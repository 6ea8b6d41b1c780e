"""Each command's module is loaded when that command runs (cli.py's COMMANDS): what a pull loads, and the listing
that loads them all. Each test starts the tool in a fresh interpreter, as a user's shell does."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import moodle_sync

SHIPPED_SPECS = Path(moodle_sync.__file__).parent.parent / "course_specs"

#: the parts of other commands (and their libraries) that a pull has no use for (issue 25: a pull starts fast)
NOT_FOR_A_PULL = ("openpyxl", "starlette", "moodle_sync.portal", "moodle_sync.emulator", "moodle_sync.rosters",
                  "moodle_sync.reports", "moodle_sync.sessions", "moodle_sync.applier")

#: every command, as `moodle-sync --help` lists them
COMMANDS = ["adopt", "apply", "demo", "doctor", "emulator", "person", "plan", "portal", "pull", "purge", "remind",
            "report", "roster", "runs", "serve", "session", "validate"]

#: runs moodle_sync.cli.main(argv[2:]) and writes its exit code and every module it loaded to argv[1]
_RUN_AND_LIST_MODULES = """\
import json, sys
from moodle_sync.cli import main
try:
    main(sys.argv[2:])
except SystemExit as e:
    code = e.code
with open(sys.argv[1], "w") as f:
    json.dump({"exit": code, "modules": sorted(sys.modules)}, f)
"""


def moodle_sync_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[int, list[str]]:
    """Run ``moodle-sync ARGS`` in a new interpreter: its exit code and the modules it loaded."""
    out = cwd / "modules.json"
    subprocess.run([sys.executable, "-c", _RUN_AND_LIST_MODULES, str(out), *args], cwd=cwd,
                   env={**os.environ, **(env or {})}, capture_output=True, check=False)
    ran = json.loads(out.read_text(encoding="utf-8"))
    return ran["exit"], ran["modules"]


def test_a_pull_loads_no_roster_reader_portal_or_emulator(tmp_path: Path) -> None:
    with socket.socket() as closed:  # bound, never listening: the pull's first call is refused at once
        closed.bind(("127.0.0.1", 0))
        code, modules = moodle_sync_cli(
            "pull", "--specs", str(SHIPPED_SPECS), "--state", str(tmp_path / "state.db"), cwd=tmp_path,
            env={"MOODLE_URL": f"http://127.0.0.1:{closed.getsockname()[1]}", "MOODLE_TOKEN": "0" * 32})
    assert code == 1
    assert "moodle_sync.jobs.pull" in modules, "the pull ran as far as its job"
    loaded = [m for m in modules if m.startswith(tuple(f"{p}." for p in NOT_FOR_A_PULL)) or m in NOT_FOR_A_PULL]
    assert loaded == []


def test_help_lists_every_command_with_its_short_help(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "moodle_sync", "--help"], cwd=tmp_path, capture_output=True,
                         text=True, check=True, env={**os.environ, "COLUMNS": "100"}).stdout
    listed = [line.split(maxsplit=1) for line in out.split("Commands:\n")[1].splitlines() if line.strip()]
    assert [name for name, *_ in listed] == COMMANDS
    assert all(len(words) == 2 and words[1].strip() for words in listed), "every command has its short help"
    assert "Pull enrolments and course completions" in dict((n, h) for n, h in listed)["pull"]


def test_a_command_loaded_on_its_own_takes_verbose_and_debug(tmp_path: Path) -> None:
    """-v/--debug after any command, a group's subcommands too, though only that command's module is loaded."""
    for command in (["pull"], ["portal", "user", "list"]):
        out = subprocess.run([sys.executable, "-m", "moodle_sync", *command, "--help"], cwd=tmp_path,
                             capture_output=True, text=True, check=True).stdout
        assert "-v, --verbose" in out and "--debug" in out, command
