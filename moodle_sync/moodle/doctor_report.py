"""What `doctor` found on a site: its release, the functions the token's service lacks, problems and warnings.

Here, below the jobs (jobs/doctor.py fills it in), so that what explains it (completions/explain.py) needs
nothing above itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class DoctorReport:
    url: str
    release: str = ""
    version: str = ""
    username: str = ""
    site_admin: bool = False
    missing_functions: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: site settings that disable part of the tool (not failures: ``ok`` stays true)
    warnings: list[str] = field(default_factory=list)
    roles_seen: dict[str, int] = field(default_factory=dict)
    #: what a new account costs here (see email_cost.py): (case-insensitive lookup ms, indexed lookup ms)
    email_lookup_ms: tuple[float, float] | None = None
    #: the line that says so when it is not a warning
    new_accounts: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems and not self.missing_functions

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "release": self.release, "version": self.version, "username": self.username,
                "site_admin": self.site_admin, "missing_functions": self.missing_functions,
                "problems": self.problems, "warnings": self.warnings, "roles_seen": self.roles_seen, "ok": self.ok,
                "email_lookup_ms": {"case_insensitive": round(self.email_lookup_ms[0], 1),
                                    "indexed": round(self.email_lookup_ms[1], 1)} if self.email_lookup_ms else None}
