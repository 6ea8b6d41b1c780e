"""The whole spec tree as one value (:class:`SpecSet`) and its digest, which depends only on the specs' values.

The digest is the sha256 of one canonical JSON text of every spec (:func:`canonical_json`), so the
same specs give the same digest on any machine, whatever their files, order or comments; a saved plan
names it to prove which specs it was made from.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moodle_sync.specs.models import CategorySpec, CourseSpec, EnrolmentRule, TargetGroup
from moodle_sync.specs.source import SpecModel

__all__ = ["SpecSet", "canonical_json", "spec_digest"]


def canonical_json(categories: Iterable[CategorySpec], courses: Iterable[CourseSpec],
                   target_groups: Iterable[TargetGroup], rules: Iterable[EnrolmentRule] = ()) -> str:
    """All specs as one JSON text that depends only on their values (not on files, order or comments).

    Enrolment rules appear only when there are some, so a tree without rules has the digest it had
    before rules existed (plans saved then still match).
    """

    def dump(specs: Iterable[SpecModel]) -> list[dict[str, Any]]:
        return [s.model_dump(mode="json") for s in sorted(specs, key=lambda s: str(getattr(s, "key", "")))]

    document = {
        "format": 1,
        "categories": dump(categories),
        "courses": dump(courses),
        "target_groups": dump(target_groups),
    }
    if enrolment_rules := dump(rules):
        document["enrolment_rules"] = enrolment_rules
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def spec_digest(categories: Iterable[CategorySpec], courses: Iterable[CourseSpec],
                target_groups: Iterable[TargetGroup], rules: Iterable[EnrolmentRule] = ()) -> str:
    """sha256 (hex) of :func:`canonical_json`: the same specs give the same digest on any machine."""
    text = canonical_json(categories, courses, target_groups, rules)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SpecSet:
    """Every spec under one root, validated together. Built by :func:`moodle_sync.specs.load.load_specs`.

    ``git_commit`` is the HEAD of the git repository holding ``root`` (None outside git);
    ``git_dirty`` says whether the spec tree has uncommitted or untracked changes (None when unknown).
    ``rules`` are the enrolment rules by key (empty when the tree has no ``enrolment_rules.yaml``).
    """

    root: Path
    categories: dict[str, CategorySpec]
    courses: dict[str, CourseSpec]
    target_groups: dict[str, TargetGroup]
    digest: str
    git_commit: str | None = None
    git_dirty: bool | None = None
    rules: dict[str, EnrolmentRule] = field(default_factory=dict)

    @classmethod
    def from_specs(cls, categories: Iterable[CategorySpec] = (), courses: Iterable[CourseSpec] = (),
                   target_groups: Iterable[TargetGroup] = (), *, rules: Iterable[EnrolmentRule] = (),
                   root: Path | str = ".", git_commit: str | None = None,
                   git_dirty: bool | None = None) -> SpecSet:
        """A set from models built in code (tests, tools); computes the digest. Does not cross-check."""
        cats, crs, tgs, rls = list(categories), list(courses), list(target_groups), list(rules)
        return cls(root=Path(root), categories={c.key: c for c in cats}, courses={c.key: c for c in crs},
                   target_groups={t.key: t for t in tgs}, digest=spec_digest(cats, crs, tgs, rls),
                   git_commit=git_commit, git_dirty=git_dirty, rules={r.key: r for r in rls})

    def rules_for_course(self, course_key: str) -> list[EnrolmentRule]:
        """The enrolment rules for one course, by rule key."""
        return [rule for _, rule in sorted(self.rules.items()) if rule.course == course_key]

    def courses_for_group(self, group_key: str) -> list[str]:
        """The keys of the courses some rule enrols ``group_key`` into, sorted."""
        return sorted({rule.course for rule in self.rules.values() if group_key in rule.target_groups})

    def rule_for(self, course_key: str, group_key: str) -> EnrolmentRule | None:
        """The rule that enrols ``group_key`` into ``course_key`` (at most one: the loader checks that)."""
        return next((r for r in self.rules.values() if r.course == course_key and group_key in r.target_groups),
                    None)
