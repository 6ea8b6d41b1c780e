"""Whether a web-service function reads or writes, and whether a write is safe to send twice.

Moodle declares each function ``read`` or ``write`` (ws-signatures-4.3.json); which writes are idempotent
is ours, from what each one does in Moodle 4.3 (cited below). The client retries reads and idempotent
writes on transient faults; a write that is not idempotent is never re-sent after anything but Moodle's
own JSON answer (:mod:`.client`).
"""

from __future__ import annotations

import re

from moodle_sync.moodle.declared import declared_types

__all__ = ["IDEMPOTENT_WRITES", "WRITE_FUNCTIONS", "WriteKind", "is_write", "write_kind"]


def _declared_types() -> dict[str, str]:
    return declared_types()


#: every function Moodle 4.3 declares as ``"type": "write"`` (ws-signatures-4.3.json)
WRITE_FUNCTIONS: frozenset[str] = frozenset(n for n, t in _declared_types().items() if t == "write")

# substring match on purpose: a read taken for a write is only never re-sent, the reverse could be
_WRITE_WORDS = re.compile(r"create|update|delete|add|enrol|unenrol|import|send|set|assign|override")


def is_write(wsfunction: str) -> bool:
    """Whether ``wsfunction`` changes Moodle: Moodle's own declaration, else a guess from the name."""
    declared = _declared_types().get(wsfunction)
    if declared is not None:
        return declared == "write"
    return bool(_WRITE_WORDS.search(wsfunction))


#: writes that leave Moodle the same whether they run once or twice, so a lost answer may be re-sent.
#: Moodle declares read or write; idempotency is ours, from what each function does in Moodle 4.3:
IDEMPOTENT_WRITES: frozenset[str] = frozenset({
    # enrol/manual/externallib.php → enrol_plugin::enrol_user(): one user_enrolments row per (instance,
    # user), updated to the values sent; role_assign() keeps an existing assignment
    "enrol_manual_enrol_users",
    # every update_* sets the absolute values it is sent
    "core_course_update_courses", "core_course_update_categories", "core_cohort_update_cohorts",
    "core_user_update_users",
    # cohort/externallib.php: an existing member is warning 3 ("record already exists"), nothing added;
    # delete_cohort_members of a non-member is a no-op (cohort_remove_member deletes by user and cohort)
    "core_cohort_add_cohort_members", "core_cohort_delete_cohort_members",
    # group/externallib.php → groups_add_member(): returns early for an existing member
    "core_group_add_group_members",
    # reportbuilder/classes/external/columns/sort/toggle.php → report::toggle_report_column_sorting(): sets
    # the column's sortenabled and sortdirection to the values sent
    "core_reportbuilder_columns_sort_toggle",
})

WriteKind = str  # "read" | "idempotent" | "write"


def write_kind(wsfunction: str) -> WriteKind:
    """``read``, ``idempotent`` (a write safe to repeat) or ``write`` (a create, import, message …).

    Any write not in :data:`IDEMPOTENT_WRITES` counts as not idempotent: taking a safe write for an
    unsafe one only costs a re-read, the reverse could duplicate courses, content or messages.
    """
    if not is_write(wsfunction):
        return "read"
    return "idempotent" if wsfunction in IDEMPOTENT_WRITES else "write"
