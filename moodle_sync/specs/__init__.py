"""The course specs: typed models (``models``, with their key types in ``fields`` and where each was written in
``source``), the whole tree and its digest (``spec_set``), and the loader that reads them (``load``), checks them
across files (``checks``) and says what is wrong at which line (``field_errors``, ``locate``)."""

from __future__ import annotations

from moodle_sync.specs.load import load_specs
from moodle_sync.specs.models import CategorySpec, CourseSpec, EnrolmentRule, Session, TargetGroup
from moodle_sync.specs.source import SourceRef, field_line, spec_source
from moodle_sync.specs.spec_set import SpecSet

__all__ = [
    "CategorySpec",
    "CourseSpec",
    "EnrolmentRule",
    "Session",
    "SourceRef",
    "SpecSet",
    "TargetGroup",
    "field_line",
    "load_specs",
    "spec_source",
]
