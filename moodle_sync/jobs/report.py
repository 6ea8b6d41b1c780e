"""`report` and the portal's county pages: reports (completions/report.py) and the facts they count, always
within a scope (a hub: its own county; an administrator on a county's page: that county)."""

from __future__ import annotations

from moodle_sync.completions.facts import build_facts
from moodle_sync.completions.report import make_report
from moodle_sync.reports.model import CompletionFact
from moodle_sync.scope import Scope
from moodle_sync.specs.spec_set import SpecSet
from moodle_sync.store.db import StateStore

__all__ = ["CompletionFact", "facts", "make_report"]


def facts(specs: SpecSet, store: StateStore, scope: Scope) -> list[CompletionFact]:
    """One fact per person and course version the pull has seen, within ``scope``."""
    return build_facts(specs, store, scope)
