"""doctor and the site's switches: completion tracking and messaging off are named with what they stop.

core_webservice_get_site_info's ``advancedfeatures`` carries $CFG->enablecompletion and $CFG->messaging
(Moodle 4.3 webservice/externallib.php get_site_info; recorded in contract-4.3.json, step "site info").
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from moodle_sync.commands.exits import EXIT_OK
from moodle_sync.jobs.doctor import doctor as run_doctor
from moodle_sync.jobs.doctor import version_warnings
from moodle_sync.jobs.site import connect

from .conftest import Site, run

CONTRACT = Path(__file__).parents[1] / "contract" / "contract-4.3.json"


def test_the_emulated_site_info_carries_the_recorded_features_and_follows_the_config(site: Site) -> None:
    recorded = json.loads(CONTRACT.read_text(encoding="utf-8"))["steps"][0]
    assert recorded["name"] == "site info"
    api = site.api()
    assert api.client.call("core_webservice_get_site_info")["advancedfeatures"] == \
        recorded["response"]["advancedfeatures"]
    site.emulator.state.config.enablecompletion = 0
    site.emulator.state.config.messaging = 0
    features = {f["name"]: f["value"] for f in api.client.call("core_webservice_get_site_info")["advancedfeatures"]}
    assert (features["enablecompletion"], features["messaging"], features["usetags"]) == (0, 0, 1)


def test_a_site_with_completion_and_messaging_on_gets_no_warning(site: Site) -> None:
    report = run_doctor(site.api())
    assert report.warnings == [] and report.ok


def test_completion_tracking_off_is_a_warning_that_names_what_it_stops(site: Site) -> None:
    site.emulator.state.config.enablecompletion = 0
    report = run_doctor(site.api())
    [warning] = report.warnings
    assert "completion tracking is off" in warning and "`pull` finds no course completion" in warning
    assert "courses `apply` creates get completion off" in warning and "Enable completion tracking" in warning
    assert report.ok  # a warning, not a failure: the rest of the tool works


def test_messaging_off_is_a_warning_that_remind_cannot_send(site: Site) -> None:
    site.emulator.state.config.messaging = 0
    [warning] = run_doctor(site.api()).warnings
    assert "messaging is off" in warning and "`remind` cannot send" in warning


def test_cli_doctor_prints_the_warnings_and_lists_them_in_json(
        served: Site, capsys: pytest.CaptureFixture[str]) -> None:
    served.emulator.state.config.enablecompletion = 0
    served.emulator.state.config.messaging = 0
    assert run("doctor") == EXIT_OK
    out = capsys.readouterr().out
    # the third: no completion report on the site (tests/e2e/test_bulk_pull.py)
    assert out.count("Warning: ") == 3 and "Warning: completion tracking is off" in out
    assert "Warning: messaging is off" in out and out.rstrip().endswith("OK")
    assert "Warning: completion report: there is no custom report named 'moodle-sync'" in out
    assert run("doctor", "--json") == EXIT_OK
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["warnings"]) == 3 and doc["ok"] is True


def test_a_token_that_is_not_a_site_admin_is_warned_about_what_it_cannot_see(site: Site) -> None:
    # user_get_user_details() hides e-mail and ID number without the identity capabilities: lookups fail
    site.emulator.add_token("hub0123456789abcdef0123456789abcd",
                            capabilities={"moodle/course:update", "moodle/user:create"})
    api = connect("https://moodle.test", "hub0123456789abcdef0123456789abcd", mount=site.emulator.handle)
    report = run_doctor(api)
    assert not report.site_admin
    [warning] = report.warnings
    assert "not a site administrator" in warning and "moodle/user:viewalldetails" in warning
    assert run_doctor(site.api()).warnings == []  # the admin token: nothing to say


def test_with_completion_off_for_the_site_moodle_creates_courses_without_it(site: Site) -> None:
    # core_course_create_courses forces enablecompletion=0 when completion is off for the site
    site.emulator.state.config.enablecompletion = 0
    site.apply()
    assert {c["enablecompletion"] for c in site.courses() if "@" in c["idnumber"]} == {0}


def test_with_messaging_off_every_reminder_is_refused_in_one_answer(site: Site) -> None:
    site.emulator.state.config.messaging = 0
    api = site.api()
    from moodle_sync.errors import MoodleApiError
    from moodle_sync.moodle.models import InstantMessage
    with pytest.raises(MoodleApiError) as refused:
        api.send_messages([InstantMessage(touserid=2, text="Hej", textformat=0, clientmsgid="x")])
    assert refused.value.errorcode == "disabled" and "Messaging is disabled on this site" in str(refused.value)


@pytest.mark.parametrize(("release", "version", "said"), [
    ("4.5.6 (Build: 20250811)", "2024100706", []),
    ("4.3 (Build: 20231009)", "2023100900", []),
    ("4.4.2 (Build: 20240812)", "2024042202.02", ["not a release this tool is tested on (4.5 and 4.3)"]),
    ("5.0 (Build: 20250414)", "2025041400", ["not a release this tool is tested on (4.5 and 4.3)"]),
    ("4.0.12 (Build: 20231211)", "2022041912.12", ["not a release this tool is tested on (4.5 and 4.3)",
                                                    "before Moodle 4.1 there is no report builder web service"]),
])
def test_doctor_names_the_tested_releases_and_warns_on_others(release: str, version: str, said: list[str]) -> None:
    warnings = version_warnings(release, version)
    assert len(warnings) == len(said) and all(s in w for s, w in zip(said, warnings, strict=True))


def test_cli_doctor_says_which_releases_the_tool_is_tested_on(served: Site, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("doctor") == EXIT_OK
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("Moodle 4.5") and first.endswith("; the tool is tested on Moodle 4.5 and 4.3")
