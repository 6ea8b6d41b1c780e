"""Where a spec was written: the base of the spec models, and the file and lines each loaded one remembers.

The loader attaches a :class:`SourceRef` and the line of every key to each model it builds
(:func:`locate`); later stages ask for them (:func:`spec_source`, :func:`field_line`) so that their errors
name ``course_specs/courses/hrv-socialtjanst.yaml:14``. The source is kept out of the model's value: it is
not in ``model_dump()``, the digest or ``==``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, PrivateAttr

__all__ = ["SourceRef", "SpecModel", "field_line", "locate", "spec_source"]


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
