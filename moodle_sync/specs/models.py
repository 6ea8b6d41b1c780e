"""The course specs as typed values: categories, target groups, courses with their sessions, enrolment rules.

Each model says what a valid spec is (unknown keys are errors, values are checked as Moodle will take
them) and what it means for Moodle (idnumbers, short names, Unix times). The key types are in
:mod:`.fields`; where a loaded model was written is kept by its base, :class:`.source.SpecModel`; the
whole tree is :class:`.spec_set.SpecSet`.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Annotated

from pydantic import AfterValidator, Field, Strict, StringConstraints, ValidationInfo, field_validator

from moodle_sync.identity import category_idnumber, course_idnumber, session_idnumber
from moodle_sync.specs.fields import (
    COUNTIES,
    COUNTY_LIST,
    COURSE_FORMATS,
    LANGUAGE_RE,
    PREVIOUS_VERSIONS,
    REQUIREMENTS,
    ROLE_RE,
    SECTORS,
    STOCKHOLM_NAME,
    TIME_RANGE_RE,
    VERSIONED_SHORTNAME_RE,
    CourseFormat,
    Delivery,
    IsoDate,
    PreviousVersions,
    Requirement,
    Sector,
    Slug,
    StrictBool,
    SummaryFormat,
    Text,
    add_months,
    known_timezone,
    midnight_in,
    midnight_stockholm,
    parse_semver,
    plain_text,
    unique_keys,
)
from moodle_sync.specs.source import SpecModel

__all__ = ["CategorySpec", "CourseSpec", "EnrolmentRule", "Session", "TargetGroup"]


class CategorySpec(SpecModel):
    """A Moodle course category owned by moodle-sync (idnumber ``cat:<key>``)."""

    key: Slug = Field(description="a stable key: lowercase a-z, digits and hyphens, e.g. socialstyrelsen",
                      examples=["socialstyrelsen"])
    name: Text = Field(description="the category's name in Swedish, as Moodle shows it",
                       examples=["Socialstyrelsen"])
    parent: Slug | None = Field(default=None, description="the key of the parent category; leave out for a "
                                                          "top-level category")
    description: str = Field(default="", description="a short description (HTML allowed)")

    @property
    def idnumber(self) -> str:
        return category_idnumber(self.key)


class TargetGroup(SpecModel):
    """A target group (målgrupp): professionals who are expected to take certain courses."""

    key: Slug = Field(description="a stable key: lowercase a-z, digits and hyphens, e.g. socialsekreterare",
                      examples=["socialsekreterare"])
    # the cohort is named "<name> – <county>" in a 254-character column (cohort.name)
    name: Annotated[Text, StringConstraints(max_length=225)] = Field(
        description="the target group's name in Swedish, at most 225 characters",
        examples=["Socialsekreterare och biståndsbedömare"])
    sector: Sector = Field(description=f"one of {', '.join(SECTORS)}", examples=["socialtjanst"])
    description: str = Field(default="", description="who belongs to the group, in Swedish")


class Session(SpecModel):
    """A teacher-led session (lärarlett utbildningstillfälle) of a blended course: one group in its course."""

    key: Slug = Field(description="a key unique within the course, e.g. falun-2026-03; the Moodle group's idnumber "
                                  "is <course idnumber>:<key>", examples=["falun-2026-03"])
    date: IsoDate = Field(description="the day of the session, YYYY-MM-DD", examples=["2026-03-10"])
    place: Text = Field(description="the town first, then the venue, e.g. 'Falun, Länsstyrelsen Dalarna'",
                        examples=["Falun, Länsstyrelsen Dalarna"])
    county: str = Field(description=f"the county's letter code (länsbokstav), one of {COUNTY_LIST}",
                        examples=["W"])
    capacity: Annotated[int, Strict(), Field(ge=1, le=500)] = Field(
        description="the number of places, a whole number from 1 to 500", examples=[30])
    time: str | None = Field(default=None, description="the hours as HH:MM-HH:MM, e.g. 09:00-16:00",
                             examples=["09:00-16:00"])

    @field_validator("county")
    @classmethod
    def _known_county(cls, value: str) -> str:
        code = value.strip().upper()
        if code not in COUNTIES:
            raise ValueError(f"{value!r} is not the letter code of a Swedish county")
        return code

    @field_validator("time")
    @classmethod
    def _time_range(cls, value: str | None) -> str | None:
        if value is None:
            return None
        match = TIME_RANGE_RE.match(value.strip())
        if not match:
            raise ValueError(f"{value!r} is not a time range HH:MM-HH:MM")
        start, end = value.strip().split("-")
        if end <= start:
            raise ValueError(f"{value.strip()!r} does not end after it starts")
        return value.strip()

    @property
    def town(self) -> str:
        """The first part of ``place``: ``"Falun, Länsstyrelsen Dalarna"`` → ``"Falun"``."""
        return self.place.split(",")[0].strip()

    @property
    def county_name(self) -> str:
        return COUNTIES[self.county]

    @property
    def group_name(self) -> str:
        """The Moodle group's name, as participants read it: ``Lärarlett tillfälle Falun 2026-03-10``
        (with the hours when ``time`` is given: ``… 2026-03-10 09:00-12:00``)."""
        hours = f" {self.time}" if self.time else ""
        return f"Lärarlett tillfälle {self.town} {self.date.isoformat()}{hours}"


class CourseSpec(SpecModel):
    """One course, versioned: each major version is its own Moodle course (idnumber ``<key>@<major>``)."""

    key: Slug = Field(description="a stable key: lowercase a-z, digits and hyphens, e.g. hrv-socialtjanst; "
                                  "it never changes between versions", examples=["hrv-socialtjanst"])
    version: str = Field(description="use MAJOR.MINOR.PATCH, e.g. 1.2.0; a major bump creates a new Moodle "
                                     "course, a minor or patch bump updates the current one", examples=["1.0.0"])
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254),
                     AfterValidator(plain_text)] = Field(
        description="the course's full name in Moodle (at most 254 characters)",
        examples=["Hedersrelaterat våld och förtryck – socialtjänsten"])
    shortname: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=90),
                         AfterValidator(plain_text)] = Field(
        description="at most 90 characters, without version: Moodle's short name is <shortname>-v<major>",
        examples=["HRV-SOC"])
    category: Slug = Field(description="the key of a category in categories.yaml", examples=["socialstyrelsen"])
    summary: str = Field(description="a short description, HTML allowed", examples=["<p>Om kursen …</p>"])
    format: CourseFormat = Field(default="topics", description=f"one of {', '.join(COURSE_FORMATS)}")
    sections: Annotated[int, Strict(), Field(ge=0, le=52)] = Field(
        description="the number of sections, a whole number from 0 to 52", examples=[8])
    visible: StrictBool = Field(default=True, description="true or false")
    start_date: IsoDate = Field(description="an ISO date, YYYY-MM-DD, e.g. 2024-09-01", examples=["2024-09-01"])
    end_date: IsoDate | None = Field(default=None, description="an ISO date after start_date, or leave it out "
                                                               "for a course without an end date")
    language: Annotated[str, StringConstraints(pattern=LANGUAGE_RE.pattern)] = Field(
        description="a Moodle language code such as sv or en (the language the content is written in)",
        examples=["sv"])
    force_language: StrictBool = Field(default=False, description="true forces the course language in Moodle; "
                                                                  "the site must have that language pack")
    provider: Text = Field(description="who provides the course, e.g. Socialstyrelsen, NCK, Skolverket",
                           examples=["Socialstyrelsen"])
    delivery: Delivery = Field(description="web (webbutbildning) or blended (webb + lärarledda tillfällen)",
                                examples=["web"])
    fee_sek: Annotated[int, Strict(), Field(ge=0)] = Field(
        default=0, description="the fee in whole kronor; 0 means free of charge")
    target_groups: Annotated[tuple[Slug, ...], Field(min_length=1)] = Field(
        description="a list of target-group keys from target_groups.yaml, at least one",
        examples=["[socialsekreterare]"])
    template: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None = (
        Field(default=None, description="the idnumber of a template course in Moodle whose content is copied "
                                        "into each new major version"))
    completion: StrictBool = Field(default=True, description="true or false (Moodle's completion tracking)")
    hide_previous_versions: StrictBool = Field(
        default=False, description="true hides the previous major version's course when a new one is created")
    # left out of model_dump() at their defaults (as previous_versions is): every hash of a spec without them stays
    summary_format: SummaryFormat = Field(
        default="html", exclude_if=lambda value: value == "html",
        description="how Moodle reads the summary: html (the default), moodle (Moodle's auto-format, what a CSV "
                    "upload leaves), plain or markdown")
    automatic_end_date: StrictBool = Field(
        default=False, exclude_if=lambda value: not value,
        description="weeks courses only: true lets Moodle set the end date from the number of weeks (end_date must "
                    "then be that day); false (the default) keeps end_date as written")
    timezone: Annotated[str, AfterValidator(known_timezone)] = Field(
        default=STOCKHOLM_NAME, exclude_if=lambda value: value == STOCKHOLM_NAME,
        description="the timezone whose midnight start_date and end_date are in Moodle, e.g. Europe/London; leave "
                    "out for Europe/Stockholm (`adopt` writes it for a course whose site keeps another timezone)")
    adopted_shortname: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255),
                                 AfterValidator(plain_text)] | None = Field(
        default=None, exclude_if=lambda value: value is None,
        description="the short name major version 1 kept when `moodle-sync adopt` took the course over (it had no "
                    "-v1); later major versions get <shortname>-v<major>")
    # left out of model_dump() at its default, as sessions are: every hash of a spec that does not set it stays
    previous_versions: PreviousVersions = Field(
        default="move", exclude_if=lambda value: value == "move",
        description=f"one of {', '.join(PREVIOUS_VERSIONS)}: what becomes of the enrolments moodle-sync made in "
                    f"older major versions of the course when the rules enrol people in this one. move (the "
                    f"default): whoever has not completed the old version is suspended there (progress kept) and "
                    f"takes this one; whoever completed it keeps it as history. keep: old enrolments stay as they "
                    f"are")
    # left out of model_dump() when empty: a course without sessions keeps the value (and every hash of
    # it: spec_digest, reconcile's spec_hash) it had before sessions existed
    sessions: tuple[Session, ...] = Field(
        default=(), exclude_if=lambda sessions: not sessions,
        description="teacher-led sessions, only in a course with delivery: blended; each has key, date, place, "
                    "county and capacity and becomes a group in the Moodle course")

    @field_validator("version")
    @classmethod
    def _semver(cls, value: str) -> str:
        parse_semver(value)
        return value

    @field_validator("shortname")
    @classmethod
    def _no_version_in_shortname(cls, value: str) -> str:
        if VERSIONED_SHORTNAME_RE.search(value):
            raise ValueError(f"shortname {value!r} ends in a version; '-v<major>' is appended for Moodle")
        return value

    @field_validator("summary")
    @classmethod
    def _strip_summary(cls, value: str) -> str:
        # a YAML block scalar (|) ends in a newline that Moodle would not keep
        return value.strip()

    @field_validator("end_date")
    @classmethod
    def _end_after_start(cls, value: datetime.date | None, info: ValidationInfo) -> datetime.date | None:
        start = info.data.get("start_date")
        if value is not None and isinstance(start, datetime.date) and value <= start:
            raise ValueError(f"end_date {value.isoformat()} is not after start_date {start.isoformat()}")
        return value

    @field_validator("target_groups")
    @classmethod
    def _unique_groups(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return unique_keys(value, "target group")

    @field_validator("automatic_end_date")
    @classmethod
    def _weeks_only(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("format", "topics") != "weeks":
            raise ValueError("automatic_end_date is only for a course with format: weeks")
        return value

    @field_validator("sessions")
    @classmethod
    def _sessions_fit(cls, value: tuple[Session, ...], info: ValidationInfo) -> tuple[Session, ...]:
        delivery = info.data.get("delivery")
        if value and delivery is not None and delivery != "blended":
            raise ValueError(f"sessions are only for blended courses, and this one has delivery: {delivery}")
        unique_keys(tuple(s.key for s in value), "session key")
        names: dict[str, str] = {}
        for session in value:
            # create_groups refuses a name already used in the course ("Group with the same name already
            # exists in the course"); groups.name is 254 characters, groups.idnumber 100
            if session.group_name in names:
                raise ValueError(f"sessions {names[session.group_name]} and {session.key} would both be the group "
                                 f"{session.group_name!r}, and Moodle wants group names unique in a course; give "
                                 f"them their hours (time: 09:00-12:00) or another town")
            names[session.group_name] = session.key
            if len(session.group_name) > 254:
                raise ValueError(f"session {session.key}: the group name {session.group_name!r} is longer than "
                                 f"Moodle's 254 characters; shorten the town in `place`")
            key = info.data.get("key")
            major = str(info.data.get("version", "1")).split(".")[0]
            if isinstance(key, str) and len(session_idnumber(course_idnumber(key, major), session.key)) > 100:
                raise ValueError(f"session {session.key}: the group idnumber <course key>@<major>:<session key> would "
                                 f"be longer than Moodle's 100 characters; use a shorter session key")
        return value

    @property
    def version_tuple(self) -> tuple[int, int, int]:
        return parse_semver(self.version)

    @property
    def major(self) -> int:
        return self.version_tuple[0]

    @property
    def idnumber(self) -> str:
        """The Moodle course idnumber: one course per key and major version."""
        return course_idnumber(self.key, self.major)

    @property
    def moodle_shortname(self) -> str:
        """Moodle's short name, unique per major version so versions can coexist (an adopted version 1 keeps the
        short name it had)."""
        if self.adopted_shortname is not None and self.major == 1:
            return self.adopted_shortname
        return f"{self.shortname}-v{self.major}"

    @property
    def start_timestamp(self) -> int:
        """Moodle ``startdate``: midnight on ``start_date`` in ``timezone`` (Europe/Stockholm unless set)."""
        return midnight_in(self.start_date, self.timezone)

    @property
    def end_timestamp(self) -> int:
        """Moodle ``enddate``: midnight on ``end_date`` in ``timezone``, 0 when there is none."""
        return midnight_in(self.end_date, self.timezone) if self.end_date else 0

    def session_idnumber(self, session: Session | str) -> str:
        """The Moodle group idnumber of a session (or session key): ``hrv-socialtjanst@1:falun-2026-03``."""
        key = session if isinstance(session, str) else session.key
        return session_idnumber(self.idnumber, key)


class EnrolmentRule(SpecModel):
    """Which target groups take a course (always its current major version), in which role, by when.

    Refreshers: a person who completed any version of the course less than ``refresher_months`` ago is
    not enrolled again; once that time has passed, they are enrolled into the current version. With
    ``require_new_major``, only a completion of the current major version counts (new regulations).
    Without ``refresher_months``, a counting completion is never followed by another enrolment.
    """

    key: Slug = Field(description="a stable key for the rule, unique in the file, e.g. hrv-soc-socialtjansten",
                      examples=["hrv-soc-socialtjansten"])
    course: Slug = Field(description="the key of a course in courses/", examples=["hrv-socialtjanst"])
    target_groups: Annotated[tuple[Slug, ...], Field(min_length=1)] = Field(
        description="a list of target-group keys from target_groups.yaml, at least one",
        examples=["[socialsekreterare]"])
    role: Annotated[str, StringConstraints(strip_whitespace=True, pattern=ROLE_RE.pattern, max_length=100)] = (
        Field(default="student", description="the shortname of a Moodle role, e.g. student; the site's ids for "
                                             "role shortnames come from the configuration"))
    requirement: Requirement = Field(default="required", description=f"one of {', '.join(REQUIREMENTS)}")
    window_start: IsoDate | None = Field(default=None, description="the first day of the enrolment, YYYY-MM-DD; "
                                                                   "leave out to start at once")
    window_end: IsoDate | None = Field(default=None, description="the day the enrolment ends (at 00:00), after "
                                                                 "window_start, YYYY-MM-DD; leave out for no end")
    new_staff_deadline_days: Annotated[int, Strict(), Field(ge=1, le=730)] | None = Field(
        default=None, description="dagar efter anställningsdagen då en nyanställd ska ha gått kursen, ett heltal "
                                  "från 1 till 730, t.ex. 90: den som anställs 2026-02-01 ska ha gått kursen senast "
                                  "2026-05-02 (och aldrig före inskrivningsdagen + 90 dagar, om inskrivningen kom "
                                  "senare)", examples=["90"])
    effective_from: IsoDate | None = Field(
        default=None, description="den första anställningsdag som gör någon till nyanställd enligt regeln, "
                                  "YYYY-MM-DD, t.ex. 2026-01-01: den som anställs 2026-02-01 ska med "
                                  "new_staff_deadline_days: 90 ha gått kursen senast 2026-05-02; den som anställdes "
                                  "före (och mer än new_staff_deadline_days dagar före inskrivningen) räknas som "
                                  "befintlig personal", examples=["2026-01-01"])
    existing_staff_deadline_days: Annotated[int, Strict(), Field(ge=1, le=1095)] | None = Field(
        default=None, description="dagar efter inskrivningsdagen då befintlig personal ska ha gått kursen, ett "
                                  "heltal från 1 till 1095, t.ex. 365: den som skrivs in 2026-03-01 ska ha gått "
                                  "kursen senast 2027-03-01; utelämna för ingen sista dag", examples=["365"])
    refresher_months: Annotated[int, Strict(), Field(ge=1, le=120)] | None = Field(
        default=None, description="months after a completion before the person is enrolled again, a whole "
                                  "number from 1 to 120; leave out to never enrol again")
    require_new_major: StrictBool = Field(
        default=False, description="true: a completion of an earlier major version does not count, everyone "
                                   "takes the current one (e.g. after new regulations)")

    @field_validator("target_groups")
    @classmethod
    def _unique_groups(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return unique_keys(value, "target group")

    @field_validator("effective_from")
    @classmethod
    def _effective_from_needs_days(cls, value: datetime.date | None, info: ValidationInfo) -> datetime.date | None:
        if value is not None and info.data.get("new_staff_deadline_days") is None:
            raise ValueError(
                "effective_from säger vem som räknas som nyanställd, men regeln har ingen new_staff_deadline_days: "
                "ange båda, t.ex. `new_staff_deadline_days: 90` och `effective_from: 2026-01-01` (den som anställs "
                "2026-02-01 ska då ha gått kursen senast 2026-05-02), eller ta bort effective_from")
        return value

    @field_validator("window_end")
    @classmethod
    def _end_after_start(cls, value: datetime.date | None, info: ValidationInfo) -> datetime.date | None:
        start = info.data.get("window_start")
        if value is not None and isinstance(start, datetime.date) and value <= start:
            raise ValueError(f"window_end {value.isoformat()} is not after window_start {start.isoformat()}")
        return value

    @property
    def required(self) -> bool:
        return self.requirement == "required"

    @property
    def timestart(self) -> int:
        """Moodle enrolment ``timestart``: midnight Europe/Stockholm on ``window_start``, 0 when there is none."""
        return midnight_stockholm(self.window_start) if self.window_start else 0

    @property
    def timeend(self) -> int:
        """Moodle enrolment ``timeend``: midnight Europe/Stockholm on ``window_end``, 0 when there is none."""
        return midnight_stockholm(self.window_end) if self.window_end else 0

    def new_staff_deadline(self, employment_start: datetime.date) -> datetime.date | None:
        """The day by which someone employed on ``employment_start`` should have completed the course."""
        if self.new_staff_deadline_days is None:
            return None
        return employment_start + datetime.timedelta(days=self.new_staff_deadline_days)

    def needs_enrolment(self, completions: Iterable[tuple[int, datetime.date]], current_major: int,
                        today: datetime.date) -> bool:
        """Whether a person of the rule's groups is to be enrolled into the course's current version today.

        Args:
            completions: the person's completions of this course, as (major version, day completed).
            current_major: the course's current major version.
            today: the day of the run.
        """
        counted = [day for major, day in completions if not self.require_new_major or major >= current_major]
        if not counted:
            return True
        if self.refresher_months is None:
            return False
        return today >= add_months(max(counted), self.refresher_months)
