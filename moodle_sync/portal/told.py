"""A county's staff lists as its coordinator reads about them: who uploaded which file when (Swedish time, in
words) and what came of it – "anna@dalarna.se laddade upp Personallista Dalarna 2026-12.xlsx den 6 december
14:03: 25 nya, 2 lämnar" – never the audit log's rows (those are the administrator's, on /logg).
"""

from __future__ import annotations

from typing import Any

from moodle_sync.i18n import _, ngettext
from moodle_sync.portal.db import PortalDB
from moodle_sync.portal.names import when

#: uploads told about on the upload page
SHOWN = 20


def history(db: PortalDB, county: str) -> list[str]:
    """The county's latest uploads, newest first, one sentence each."""
    accounts = {a.id: a.shown for a in db.accounts()}
    return [sentence(p, accounts.get(p["account_id"], _("someone"))) for p in db.previews_of(county, SHOWN)]


def sentence(preview: dict[str, Any], who: str) -> str:
    said = _("{who} uploaded {file} on {when}").format(who=who, file=preview["filename"],
                                                        when=when(preview["created_at"]))
    return f"{said}: {what_came_of(preview)}"


def what_came_of(preview: dict[str, Any]) -> str:
    status = preview["status"]
    plan = preview.get("plan") or {}
    counts = plan.get("counts") or {}
    figures = ", ".join(x for x in (
        ngettext("{n} new", "{n} new", counts.get("create", 0)).format(n=counts.get("create", 0))
        if counts.get("create") else "",
        ngettext("{n} updated", "{n} updated", counts.get("update", 0)).format(n=counts.get("update", 0))
        if counts.get("update") else "",
        ngettext("{n} leaves", "{n} leave", len(plan.get("leavers") or [])).format(n=len(plan.get("leavers") or []))
        if plan.get("leavers") else "",
        ngettext("{n} row skipped", "{n} rows skipped", counts.get("skipped_invalid", 0)).format(
            n=counts.get("skipped_invalid", 0)) if counts.get("skipped_invalid") else "") if x)
    if status == "applied":
        return figures or _("nothing needed changing")
    if status == "partial":
        return _("stopped part-way; upload the file again to finish")
    if status == "failed":
        return _("not imported")
    if status == "applying":
        return _("being imported now")
    if status == "replaced":
        return _("replaced by a newer file; nothing was written")
    if status == "previewed":
        return _("checked, not confirmed") + (f" ({figures})" if figures else "")
    if status == "refused":
        return _("could not be used as it was; nothing was written")
    return _("not confirmed; nothing was written")
