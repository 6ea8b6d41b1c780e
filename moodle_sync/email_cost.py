"""What a new account costs on this site, and the index that makes it cheap.

Moodle 4.3's core_user_create_users (user/externallib.php create_users) checks, for every new person, that no
account has the e-mail in any case: ``$DB->sql_equal('email', ':email', false)``. On PostgreSQL that is
``LOWER(email) = LOWER(:email)`` (lib/dml/moodle_database.php sql_equal), on MySQL/MariaDB
``LOWER(email) COLLATE <charset>_bin = LOWER(:email)`` (lib/dml/mysqli_native_moodle_database.php sql_equal).
Moodle's user table has no index on LOWER(email) (only on email), so each new account costs a sequential
scan of the user table, growing with the site: measured on a Moodle 4.3 with 44 000 users (2 cores,
PostgreSQL) 19 ms per account; the same 100-account call took 2.2 s without and 0.7 s with the index.

``doctor`` times a case-insensitive e-mail lookup (core_user_get_users: ``LIKE`` ignoring case, the same kind
of scan) against an indexed one; the import times its first create call. Neither can see whether the index
exists (no web service shows indexes, and the LIKE lookup does not use it), so the import's figure is the one
that tells whether the remedy is in place.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

from moodle_sync.moodle.functions import MoodleApi

#: above this many milliseconds per new account in a create call, the import explains the cause once
#: (the measured cost with the index is about 7 ms on 2 cores; 44 000 users without it, 22 ms)
SLOW_CREATE_MS = 15.0
#: above this many milliseconds more than an indexed lookup, doctor explains the cause
SLOW_SCAN_MS = 5.0
PROBES = 3
#: the clock lookups are timed with
CLOCK = time.perf_counter

POSTGRES = "CREATE INDEX CONCURRENTLY mdl_user_lower_email_ix ON mdl_user (lower(email));"
MYSQL = "CREATE INDEX mdl_user_lower_email_ix ON mdl_user ((LOWER(email) COLLATE utf8mb4_bin));"


def remedy() -> str:
    """The cause, the measured gain and the exact statements (one paragraph)."""
    return (f"Moodle checks every new account's e-mail ignoring case (LOWER(email) = LOWER(…), user/externallib.php "
            f"create_users), and its user table has no index for that: each new account costs a scan of the whole "
            f"user table, growing with the site (measured at 44 000 users: 19 ms per account; a 100-account call "
            f"took 2.2 s without the index, 0.7 s with it). Remedy, by a database administrator (mdl_ is the default "
            f"prefix: use $CFG->prefix from config.php): PostgreSQL: {POSTGRES} (builds without locking the table); "
            f"MySQL 8.0.13 or later: {MYSQL} (use the charset of $CFG->dboptions['dbcollation'] if it is not "
            f"utf8mb4; not measured here). MariaDB has no index on an expression: there the cost stays. The index "
            f"changes no data")


def probe(api: MoodleApi) -> tuple[float, float] | None:
    """Milliseconds of a case-insensitive e-mail lookup of an address nobody has, and of an indexed lookup
    (best of :data:`PROBES` each), or None when the service lacks core_user_get_users."""
    if not api.has_function("core_user_get_users"):
        return None
    nobody = f"moodle-sync-doctor-{secrets.token_hex(6)}@invalid.example"

    def best(call: Callable[[], object]) -> float:
        times = []
        for _ in range(PROBES):
            start = CLOCK()
            call()
            times.append((CLOCK() - start) * 1000)
        return min(times)

    scan = best(lambda: api.users_with_email_like(nobody))
    indexed = best(lambda: api.users_by_field("email", [nobody]))
    return scan, indexed


def doctor_text(scan_ms: float, indexed_ms: float) -> tuple[str, bool]:
    """The doctor line about new accounts, and whether it is a warning."""
    extra = scan_ms - indexed_ms
    said = (f"New accounts: a case-insensitive e-mail lookup takes {scan_ms:.0f} ms here, an indexed one "
            f"{indexed_ms:.0f} ms")
    if extra < SLOW_SCAN_MS:
        return said + ": the user table is small enough that new accounts are cheap", False
    return (said + f": each new account a roster import creates costs about {extra:.0f} ms more, growing with "
                   f"the site, unless the index below exists (doctor cannot see indexes; the import times its "
                   f"creates and says so if they are slow). " + remedy()), True


def import_note(ms_per_account: float) -> str | None:
    """The import's note when its first create call was slow, else None."""
    if ms_per_account < SLOW_CREATE_MS:
        return None
    return (f"creating accounts took {ms_per_account:.0f} ms per person here (about 7 ms is usual with the index "
            f"below). " + remedy())
