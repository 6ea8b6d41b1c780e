"""What a coordinator reads instead of keys and ids: courses by title and version as people say it
("Hedersrelaterat våld och förtryck – socialtjänsten, version 2"), target groups by their Swedish names,
an account's fields by their headings, and moments as a date in words ("6 december 14:03", Swedish time).

The specs hold the names; a key the specs do not know (a course since removed) is shown as it is.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from functools import cached_property

from babel.dates import format_datetime

from moodle_sync import clock
from moodle_sync.clock import STOCKHOLM
from moodle_sync.i18n import _, lazy_gettext
from moodle_sync.identity import parse_cohort_idnumber, parse_course_idnumber
from moodle_sync.portal.site import Site
from moodle_sync.specs.spec_set import SpecSet

#: an account's fields (Moodle's names, as a roster import changes them) by the headings of the roster
FIELDS = {"firstname": lazy_gettext("First name"), "lastname": lazy_gettext("Last name"),
          "email": lazy_gettext("E-mail"), "institution": lazy_gettext("Organisation"),
          "department": lazy_gettext("Unit"), "idnumber": lazy_gettext("Employee id"),
          "username": lazy_gettext("Username"), "auth": lazy_gettext("Login method"),
          "suspended": lazy_gettext("Suspended")}


class Names:
    """The names of one spec set's courses and target groups (the specs read when first needed)."""

    def __init__(self, site: Site | None = None, specs: SpecSet | None = None) -> None:
        self._site = site
        self._given = specs

    @cached_property
    def specs(self) -> SpecSet | None:
        if self._given is not None:
            return self._given
        try:
            return self._site.specs() if self._site is not None else None
        except Exception:  # noqa: BLE001 - a page shows keys rather than fail when the specs cannot be read
            return None

    def course(self, key: str, major: int | None = None) -> str:
        """``hrv-socialtjanst@2`` (or a key and its major) as its title and version."""
        parsed = parse_course_idnumber(key)
        if parsed is not None:
            key, major = parsed
        spec = self.specs.courses.get(key) if self.specs else None
        title = spec.title if spec else key
        return _("{title}, version {major}").format(title=title, major=major) if major else title

    def courses(self, keys: Iterable[str]) -> str:
        return ", ".join(self.course(k) for k in keys)

    def target_group(self, key: str) -> str:
        """A target group's key, or a cohort's idnumber (``tg:socialsekreterare:W``), as its name."""
        parsed = parse_cohort_idnumber(key)
        if parsed is not None:
            key = parsed[0]
        group = self.specs.target_groups.get(key) if self.specs else None
        return group.name if group else key

    def target_groups(self, keys: Iterable[str]) -> str:
        return ", ".join(self.target_group(k) for k in keys)

    @staticmethod
    def field(name: str) -> str:
        return str(FIELDS.get(name, name))


def when(moment: str | datetime.datetime | None) -> str:
    """A stored moment in words, in Swedish time: ``6 december 14:03`` (the year too when not this year's)."""
    if not moment:
        return ""
    value = datetime.datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    local = value.astimezone(STOCKHOLM)
    pattern = "d MMMM HH:mm" if local.year == clock.now().astimezone(STOCKHOLM).year else "d MMMM y HH:mm"
    return format_datetime(local, pattern, tzinfo=STOCKHOLM, locale="sv")
