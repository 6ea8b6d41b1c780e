"""The built-in Moodle emulator, served (`moodle-sync emulator`), and the demo round against it.

Both import the emulator inside the command: starting the tool for any other command loads none of it.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from moodle_sync.commands.exits import EXIT_OK, handle_errors
from moodle_sync.console import Console
from moodle_sync.moodle.declared import DEFAULT_MOODLE, MOODLE_VERSIONS


@click.command()
@click.option("--port", type=int, default=8765, show_default=True, help="Port on 127.0.0.1.")
@click.option("--token", required=True, help="The admin token the emulator accepts.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option("--site", type=click.Choice(["demo", "empty"]), default="demo", show_default=True,
              help="demo: a stock site with the template courses the specs name, so plan/apply of the specs "
                   "work; empty: a fresh Moodle with nothing in it.")
# not specs_option: the emulator reads no settings; these specs only name the template courses to build
@click.option("--specs", type=click.Path(exists=True, file_okay=False), default=None, metavar="DIR",
              help="With --site demo: the specs whose template courses to create (default: the shipped ones).")
@click.option("--moodle", type=click.Choice(list(MOODLE_VERSIONS)), default=DEFAULT_MOODLE, show_default=True,
              help="The Moodle version to imitate: its functions, answers, error names and defaults.")
@handle_errors
def emulator(port: int, token: str, host: str, site: str, specs: str | None, moodle: str) -> None:
    """Serve the built-in Moodle emulator (REST protocol, in-memory) until interrupted.

    Example: moodle-sync emulator --site demo --moodle 4.5 --port 8765 --token 0123456789abcdef0123456789abcdef
    """
    from moodle_sync.demo import SHIPPED_SPECS, seed_templates
    from moodle_sync.emulator import Emulator, run_server
    from moodle_sync.jobs.site import load

    site_emulator = Emulator(token=token, moodle=moodle)
    if site == "demo":  # demo.stock_site() on the chosen version
        seed_templates(site_emulator, load(Path(specs) if specs else SHIPPED_SPECS))
    click.echo(f"Moodle {moodle} emulator ({site} site) on http://{host}:{port}/webservice/rest/server.php "
               "(Ctrl-C stops)", err=True)
    with contextlib.suppress(KeyboardInterrupt):
        run_server(port, token, host=host, emulator=site_emulator)


@click.command()
# not specs_option: the demo reads no settings (its own site and store); default: the shipped specs
@click.option("--specs", type=click.Path(exists=True, file_okay=False), default=None,
              help="Specs directory (default: the course_specs/ shipped with the project).")
@click.option("--state", "state_path", metavar="FILE", help="State store (default: a temporary file).")
@click.option("--report-dir", metavar="DIR", help="Where the HTML report goes (default ./moodle-sync-demo).")
@click.option("--serve", "keep_serving", is_flag=True,
              help="Leave the demo's site running afterwards (prints the export lines that point other commands "
                   "at it; Enter lets more learners complete their courses; Ctrl-C stops it).")
@click.option("--port", type=int, default=0, help="With --serve: the port on 127.0.0.1 (default: any free one).")
@click.option("--moodle", type=click.Choice(list(MOODLE_VERSIONS)), default=DEFAULT_MOODLE, show_default=True,
              help="The Moodle release the emulator answers as (4.5, the long-term-support release, or 4.3).")
@handle_errors
def demo(specs: str | None, state_path: str | None, report_dir: str | None, keep_serving: bool, port: int,
         moodle: str) -> None:
    """Run the whole round against the built-in Moodle emulator.

    validate, plan, apply (categories, courses, cohorts), roster imports for two counties with the
    enrolments that follow, plan again (no changes), then completions pulled back and a report.
    With --serve the site stays up for trying `plan`, `pull` and `report` by hand.

    Example: moodle-sync demo --serve   (or: moodle-sync demo --moodle 4.3)
    """
    from moodle_sync.demo import run_demo

    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(run_demo(specs, state_path, Console(progress=False), report_dir, keep_serving=keep_serving,
                          port=port, moodle=moodle))
    sys.exit(EXIT_OK)
