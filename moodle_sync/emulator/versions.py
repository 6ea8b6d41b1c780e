"""The Moodle versions the emulator imitates, and what differs between them (contract-4.3.json beside 4.5's).

Each difference is one field here, read where the behaviour lives; the signatures (what an answer holds, which
functions exist) come from the version's recorded dump (:mod:`moodle_sync.moodle.declared`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from moodle_sync.moodle.declared import DEFAULT_MOODLE, MOODLE_VERSIONS

YEAR = 365 * 24 * 3600

# Moodle 4.4 moved lib/setuplib.php's exceptions into lib/classes/exception/ (class_alias keeps the old names
# working, but get_class() and so the answer's "exception" names the new class); dml_* kept their names
_NAMESPACED = frozenset({"moodle_exception", "invalid_parameter_exception", "coding_exception",
                         "required_capability_exception", "invalid_response_exception"})


@dataclass(frozen=True)
class MoodleVersion:
    """One imitated Moodle release: its site-info strings and each behaviour that changed."""

    name: str  # "4.3", "4.5": selects ws-signatures-<name>.json
    release: str  # core_webservice_get_site_info's release and version, as the recorded site said
    version: str
    namespaced_exceptions: bool
    # course/lib.php create_course(): 4.5 defaults showactivitydates on and, without an enddate, sets one
    # (moodlecourse "courseduration", a year) after the start
    showactivitydates_default: int
    default_course_duration: int
    # report builder's completion:completed column for someone who has not completed: 4.3 "No", 4.5 ""
    not_completed_text: str
    # format_topics' name of an unnamed section ({} its number): 4.3 "Topic 3", 4.5 "New section"
    topic_section_name: str
    # create_courses without a startdate: 4.3 leaves it 0, 4.5 starts the course tomorrow (usergetmidnight + a day)
    startdate_tomorrow: bool
    # mod/forum/lib.php forum_get_coursemodule_info(): 4.5 keeps the forum's trackingtype in the cm's customdata
    forum_customdata: str
    # report builder's sorting editor (custom_report_columns_sorting_exporter) as 4.4+ renders it: icons
    # t/sort_asc|desc, "Change initial sorting for column 'X' to …", quoted titles, the newer help icon
    newer_sorting_editor: bool

    def default_startdate(self, now: int, timezone: str) -> int:
        """A new course's startdate when none is sent."""
        if not self.startdate_tomorrow:
            return 0
        local = dt.datetime.fromtimestamp(now, ZoneInfo(timezone))
        tomorrow = local.date() + dt.timedelta(days=1)
        return int(dt.datetime.combine(tomorrow, dt.time(), ZoneInfo(timezone)).timestamp())

    def exception_name(self, name: str) -> str:
        """The class name the answer shows for an exception raised as ``name``."""
        return f"core\\exception\\{name}" if self.namespaced_exceptions and name in _NAMESPACED else name


VERSIONS: dict[str, MoodleVersion] = {
    "4.3": MoodleVersion(
        "4.3", "4.3 (Build: 20231009)", "2023100900", namespaced_exceptions=False, showactivitydates_default=0,
        default_course_duration=0, not_completed_text="No", topic_section_name="Topic {}", startdate_tomorrow=False,
        forum_customdata='""', newer_sorting_editor=False),
    "4.5": MoodleVersion(
        "4.5", "4.5.6 (Build: 20250811)", "2024100706", namespaced_exceptions=True, showactivitydates_default=1,
        default_course_duration=YEAR, not_completed_text="", topic_section_name="New section",
        startdate_tomorrow=True, forum_customdata='{"trackingtype":"1"}', newer_sorting_editor=True),
}
assert tuple(VERSIONS) == MOODLE_VERSIONS and DEFAULT_MOODLE in VERSIONS

__all__ = ["DEFAULT_MOODLE", "VERSIONS", "MoodleVersion", "moodle_version"]


def moodle_version(name: str) -> MoodleVersion:
    """The imitated version called ``name``.

    Raises:
        ValueError: not a version the emulator imitates (the message lists those it does).
    """
    try:
        return VERSIONS[name]
    except KeyError:
        raise ValueError(f"the emulator imitates Moodle {' or '.join(VERSIONS)}, not {name!r}") from None
