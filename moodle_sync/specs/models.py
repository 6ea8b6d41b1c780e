"""The course specs as typed values: categories, target groups, courses and the whole set.

Every model loaded from a file remembers where it came from (:func:`spec_source`, :func:`field_line`),
so later stages can name ``course_specs/courses/hrv-socialtjanst.yaml:14`` in their errors.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_args
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

__all__ = [
    "COURSE_FORMATS",
    "DELIVERIES",
    "SECTORS",
    "SECTOR_NAMES",
    "STOCKHOLM",
    "CategorySpec",
    "CourseSpec",
    "SourceRef",
    "SpecModel",
    "SpecSet",
    "TargetGroup",
    "canonical_json",
    "field_line",
    "locate",
    "midnight_stockholm",
    "parse_semver",
    "spec_digest",
    "spec_source",
]

#: course dates are calendar days in Sweden; Moodle stores them as Unix time
STOCKHOLM = ZoneInfo("Europe/Stockholm")

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
SEMVER_RE = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: Moodle language pack names: sv, en, sv_fi, pt_br, en_us_k12 …
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(_[a-z0-9]+)*$")
#: a spec shortname must not carry a version: ``-v<major>`` is appended for Moodle
VERSIONED_SHORTNAME_RE = re.compile(r"-v\d+$", re.IGNORECASE)

Sector = Literal["halso-och-sjukvard", "socialtjanst", "bada", "skola", "ideell", "ovrigt"]
CourseFormat = Literal["topics", "weeks", "singleactivity", "social"]
Delivery = Literal["web", "blended"]

SECTORS: tuple[str, ...] = get_args(Sector)
COURSE_FORMATS: tuple[str, ...] = get_args(CourseFormat)
DELIVERIES: tuple[str, ...] = get_args(Delivery)

#: how each sector reads in Swedish (reports, README)
SECTOR_NAMES: dict[str, str] = {
    "halso-och-sjukvard": "Hälso- och sjukvården",
    "socialtjanst": "Socialtjänsten",
    "bada": "Både hälso- och sjukvården och socialtjänsten",
    "skola": "Skolan",
    "ideell": "Ideella organisationer",
    "ovrigt": "Övriga",
}


def _iso_date(value: object) -> object:
    """YAML gives ``date`` for ``2024-09-01`` and ``str`` when quoted; accept exactly those two forms."""
    if isinstance(value, datetime.datetime):
        raise ValueError(f"{value.isoformat(sep=' ')!r} has a time of day; write only the date, YYYY-MM-DD")
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and ISO_DATE_RE.match(value.strip()):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a real calendar date") from None
    raise ValueError(f"{value!r} is not a date in the form YYYY-MM-DD")


Slug = Annotated[str, StringConstraints(pattern=SLUG_RE.pattern, max_length=60)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
IsoDate = Annotated[datetime.date, BeforeValidator(_iso_date)]
StrictBool = Annotated[bool, Strict()]


def parse_semver(version: str) -> tuple[int, int, int]:
    """``"2.1.0"`` → ``(2, 1, 0)``.

    Raises:
        ValueError: ``version`` is not ``MAJOR.MINOR.PATCH`` (no leading zeros, no suffix).
    """
    match = SEMVER_RE.match(version)
    if not match:
        raise ValueError(f"{version!r} is not a semantic version")
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch)


def midnight_stockholm(day: datetime.date) -> int:
    """Unix time of 00:00 on ``day`` in Sweden (CET/CEST; midnight always exists there)."""
    return int(datetime.datetime.combine(day, datetime.time(0), tzinfo=STOCKHOLM).timestamp())


@dataclass(frozen=True)
class SourceRef:
    """Where a spec (or one of its keys) was written: a display path and a 1-based line."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class SpecModel(BaseModel):
    """Base of the spec models: unknown keys are errors, values are immutable.

    The source location is kept in private attributes: it is not part of the value, so it is not in
    ``model_dump()``, the digest or ``==``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    _source: SourceRef | None = PrivateAttr(default=None)
    _field_lines: dict[str, int] = PrivateAttr(default_factory=dict)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SpecModel):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((type(self), *self.__dict__.values()))


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
        return f"cat:{self.key}"


class TargetGroup(SpecModel):
    """A target group (målgrupp): professionals who are expected to take certain courses."""

    key: Slug = Field(description="a stable key: lowercase a-z, digits and hyphens, e.g. socialsekreterare",
                      examples=["socialsekreterare"])
    name: Text = Field(description="the target group's name in Swedish",
                       examples=["Socialsekreterare och biståndsbedömare"])
    sector: Sector = Field(description=f"one of {', '.join(SECTORS)}", examples=["socialtjanst"])
    description: str = Field(default="", description="who belongs to the group, in Swedish")


class CourseSpec(SpecModel):
    """One course, versioned: each major version is its own Moodle course (idnumber ``<key>@<major>``)."""

    key: Slug = Field(description="a stable key: lowercase a-z, digits and hyphens, e.g. hrv-socialtjanst; "
                                  "it never changes between versions", examples=["hrv-socialtjanst"])
    version: str = Field(description="use MAJOR.MINOR.PATCH, e.g. 1.2.0; a major bump creates a new Moodle "
                                     "course, a minor or patch bump updates the current one", examples=["1.0.0"])
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)] = Field(
        description="the course's full name in Moodle (at most 254 characters)",
        examples=["Hedersrelaterat våld och förtryck – socialtjänsten"])
    shortname: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=90)] = Field(
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
        seen: set[str] = set()
        for group in value:
            if group in seen:
                raise ValueError(f"target group {group!r} is listed twice")
            seen.add(group)
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
        return f"{self.key}@{self.major}"

    @property
    def moodle_shortname(self) -> str:
        """Moodle's short name, unique per major version so versions can coexist."""
        return f"{self.shortname}-v{self.major}"

    @property
    def start_timestamp(self) -> int:
        """Moodle ``startdate``: midnight Europe/Stockholm on ``start_date``."""
        return midnight_stockholm(self.start_date)

    @property
    def end_timestamp(self) -> int:
        """Moodle ``enddate``: midnight Europe/Stockholm on ``end_date``, 0 when there is none."""
        return midnight_stockholm(self.end_date) if self.end_date else 0


M = TypeVar("M", bound=SpecModel)


def locate(spec: M, source: SourceRef, field_lines: Mapping[str, int] | None = None) -> M:
    """Attach where ``spec`` was written (the loader does this); returns ``spec`` itself.

    Args:
        spec: a loaded model.
        source: the file and the line where the spec starts.
        field_lines: line of each key, by loc path: ``"version"``, ``"target_groups"``,
            ``"target_groups[1]"`` (an item of a list).
    """
    spec._source = source
    spec._field_lines = dict(field_lines or {})
    return spec


def spec_source(spec: SpecModel) -> SourceRef | None:
    """Where ``spec`` starts (file and line), or None for a spec built in code rather than loaded."""
    return spec._source


def field_line(spec: SpecModel, field: str) -> int | None:
    """The line of key ``field`` (or of a list item, ``"target_groups[1]"``) in the spec's file.

    Falls back to the line where the spec starts when the key is not written (a default applies);
    None for a spec built in code.
    """
    if spec._source is None:
        return None
    return spec._field_lines.get(field, spec._source.line)


def canonical_json(categories: Iterable[CategorySpec], courses: Iterable[CourseSpec],
                   target_groups: Iterable[TargetGroup]) -> str:
    """All specs as one JSON text that depends only on their values (not on files, order or comments)."""

    def dump(specs: Iterable[SpecModel]) -> list[dict[str, Any]]:
        return [s.model_dump(mode="json") for s in sorted(specs, key=lambda s: str(getattr(s, "key", "")))]

    document = {
        "format": 1,
        "categories": dump(categories),
        "courses": dump(courses),
        "target_groups": dump(target_groups),
    }
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def spec_digest(categories: Iterable[CategorySpec], courses: Iterable[CourseSpec],
                target_groups: Iterable[TargetGroup]) -> str:
    """sha256 (hex) of :func:`canonical_json`: the same specs give the same digest on any machine."""
    return hashlib.sha256(canonical_json(categories, courses, target_groups).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SpecSet:
    """Every spec under one root, validated together. Built by :func:`moodle_sync.specs.load.load_specs`.

    ``git_commit`` is the HEAD of the git repository holding ``root`` (None outside git);
    ``git_dirty`` says whether the spec tree has uncommitted or untracked changes (None when unknown).
    """

    root: Path
    categories: dict[str, CategorySpec]
    courses: dict[str, CourseSpec]
    target_groups: dict[str, TargetGroup]
    digest: str
    git_commit: str | None = None
    git_dirty: bool | None = None

    @classmethod
    def from_specs(cls, categories: Iterable[CategorySpec] = (), courses: Iterable[CourseSpec] = (),
                   target_groups: Iterable[TargetGroup] = (), *, root: Path | str = ".",
                   git_commit: str | None = None, git_dirty: bool | None = None) -> SpecSet:
        """A set from models built in code (tests, tools); computes the digest. Does not cross-check."""
        cats, crs, tgs = list(categories), list(courses), list(target_groups)
        return cls(root=Path(root), categories={c.key: c for c in cats}, courses={c.key: c for c in crs},
                   target_groups={t.key: t for t in tgs}, digest=spec_digest(cats, crs, tgs),
                   git_commit=git_commit, git_dirty=git_dirty)
