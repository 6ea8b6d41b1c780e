"""The idnumber scheme: how the tool marks what it owns in Moodle, made and read in one place.

=================  ===============================  ======================================
object             idnumber                         example
=================  ===============================  ======================================
category           ``cat:<key>``                    ``cat:hrv``
course             ``<key>@<major>``                ``hrv-socialtjanst@2``
session group      ``<key>@<major>:<session>``      ``hrv-socialtjanst@2:falun-2026-03``
cohort             ``tg:<group>:<county>``          ``tg:socialsekreterare:W``
=================  ===============================  ======================================

Anything without such a mark is never changed by the tool (README: "Only what it owns").
"""

from __future__ import annotations

import re

from moodle_sync.counties import COUNTIES

CATEGORY_PREFIX = "cat:"
COHORT_PREFIX = "tg:"
COURSE_IDNUMBER = re.compile(r"^(?P<key>[a-z0-9][a-z0-9-]*)@(?P<major>[1-9][0-9]*)$")


def category_idnumber(key: str) -> str:
    """``hrv`` → ``cat:hrv``."""
    return f"{CATEGORY_PREFIX}{key}"


def is_category_idnumber(idnumber: str) -> bool:
    return idnumber.startswith(CATEGORY_PREFIX)


def category_key(idnumber: str) -> str | None:
    """``cat:hrv`` → ``hrv``; None when the category is not one of ours."""
    return idnumber[len(CATEGORY_PREFIX):] if is_category_idnumber(idnumber) else None


def course_idnumber(key: str, major: int | str) -> str:
    """One Moodle course per spec key and major version: ``hrv-socialtjanst@2``."""
    return f"{key}@{major}"


def parse_course_idnumber(idnumber: str) -> tuple[str, int] | None:
    """``hrv-soc@2`` → ``("hrv-soc", 2)``; None when the course is not one of ours."""
    m = COURSE_IDNUMBER.match(idnumber)
    return (m.group("key"), int(m.group("major"))) if m else None


def session_idnumber(course: str, session: str) -> str:
    """The group of a teacher-led session: ``hrv-socialtjanst@1:falun-2026-03`` (course idnumber, session key)."""
    return f"{course}:{session}"


def cohort_idnumber(group: str, county: str) -> str:
    """The cohort of one target group in one county: ``tg:socialsekreterare:W``."""
    return f"{COHORT_PREFIX}{group}:{county}"


def parse_cohort_idnumber(idnumber: str) -> tuple[str, str] | None:
    """``tg:socialsekreterare:W`` → ``("socialsekreterare", "W")``; None when it is not one of ours."""
    if not idnumber.startswith(COHORT_PREFIX):
        return None
    group, _, county = idnumber[len(COHORT_PREFIX):].rpartition(":")
    return (group, county) if group and county in COUNTIES else None
