"""`moodle-sync adopt`: take over courses a running site already has (moodle_sync/adopt/)."""

from __future__ import annotations

import sys
from typing import Any

import click

from moodle_sync.commands.exits import EXIT_ERROR, handle_errors
from moodle_sync.commands.options import connection_options, hold_sync_lock, settings_from, specs_option
from moodle_sync.console import Console
from moodle_sync.jobs.site import connect_from_settings, load


@click.command()
@click.option("--course", "shortnames", multiple=True, metavar="SHORTNAME",
              help="A course to take over, by its short name in Moodle (repeatable).")
@click.option("--category", "categories", multiple=True, metavar="NAME",
              help="Take over every course in this category, by its name in Moodle (repeatable).")
@click.option("--target-group", "target_groups", multiple=True, metavar="KEY",
              help="A target group the courses are for, a key in target_groups.yaml (repeatable; Moodle does not "
                   "know them).")
@click.option("--provider", metavar="TEXT", help="Who provides the courses (default: the name of each course's "
                                                 "category).")
@click.option("--language", default="sv", show_default=True, metavar="CODE",
              help="The language of courses that do not force one in Moodle.")
@click.option("--timezone", metavar="ZONE", help="The site's timezone, where course dates are at midnight "
                                                 "(default: Europe/Stockholm, else a few common ones are tried).")
@click.option("--cohorts", "cohort_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="A YAML file mapping existing cohorts to target group and county (- cohort: NAME, "
                   "target_group: KEY, county: W).")
@click.option("--cohort-pattern", "cohort_patterns", multiple=True, metavar="NAME=GROUP",
              help="Map every cohort whose name matches, {county} standing for the county, e.g. "
                   "'Socialsekreterare {county}=socialsekreterare' (repeatable).")
@click.option("--yes", "-y", is_flag=True, help="Write the specs and set the ID numbers (without it: a dry run).")
@click.option("--json", "json_mode", is_flag=True, help="The plan (and what was done) as one JSON document.")
@specs_option
@connection_options
@handle_errors
def adopt(shortnames: tuple[str, ...], categories: tuple[str, ...], target_groups: tuple[str, ...],
          provider: str | None, language: str, timezone: str | None, cohort_file: str | None,
          cohort_patterns: tuple[str, ...], yes: bool, json_mode: bool, specs: str | None, **kwargs: Any) -> None:
    """Take over courses a running site already has: write their specs and mark them as the tool's.

    Reads the named courses and writes a spec for each in the specs directory (version 1.0.0, every field Moodle
    has that a spec says), with their categories, then sets only ID numbers in Moodle (course <key>@1, category
    cat:<key>, mapped cohorts tg:<group>:<county>). Content, enrolments and completions stay as they are; what a
    spec cannot say stays in Moodle, and the plan says so per course. A dry run unless --yes. Then `apply`;
    `plan` shows no changes. Exits 1 on any problem (then nothing is written or changed).

    Example: moodle-sync adopt --category "NCK" --target-group socialsekreterare --timezone Europe/London --yes
    """
    from moodle_sync.adopt.explain import render_adopt_plan
    from moodle_sync.adopt.plan import AdoptRequest, plan_adoption
    from moodle_sync.adopt.write import carry_out

    if not shortnames and not categories and not cohort_file and not cohort_patterns:
        raise click.UsageError("name what to take over: --course SHORTNAME, --category NAME, --cohorts FILE or "
                               "--cohort-pattern NAME=GROUP")
    console = Console(json_mode=json_mode)
    settings = settings_from(kwargs, **({"specs": specs} if specs else {}))
    if yes:
        hold_sync_lock(settings, "adopt")
    spec_set = load(settings.specs)
    api = connect_from_settings(settings)
    request = AdoptRequest(shortnames=shortnames, categories=categories, target_groups=target_groups,
                           provider=provider, language=language, timezone=timezone, cohort_file=cohort_file,
                           cohort_patterns=cohort_patterns)
    plan = plan_adoption(api, spec_set, request)
    document = plan.to_dict()
    if plan.problems:
        console.result(document | {"done": []}, render_adopt_plan(plan))
        sys.exit(EXIT_ERROR)
    if not plan.has_changes or not yes:
        console.result(document | {"done": []}, render_adopt_plan(plan)
                       + ("" if not plan.has_changes else "\n\nDry run: nothing was written. Run again with --yes."))
        return
    console.say(render_adopt_plan(plan))
    done = carry_out(api, plan)
    console.result(document | {"done": done}, "Adopted:\n" + "\n".join(f"  {line}" for line in done)
                   + "\nNext: review the files (git diff), then `moodle-sync apply`.")
