"""Which Moodle site a state store's rows belong to: the site as Moodle names itself, not as its URL was typed.

Rows are keyed by a site identity: the ``siteurl`` Moodle's site info answers (its ``$CFG->wwwroot``),
normalised, so ``http://localhost:8080`` and ``http://127.0.0.1:8080/`` reaching one Moodle are one site.
Stores from before v10 keyed rows by the URL as typed; those keys are kept as unverified sites, and the
first run that reaches that URL (or whose Moodle names itself so) renames them to the identity. A store
that knows only other sites refuses a new one. ``report``, ``runs`` and personal-data exports open a store
without Moodle: a store holding one site needs no choice, several need ``--site``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

from moodle_sync.errors import StoreError
from moodle_sync.store.db import StateStore, now_iso

__all__ = ["bind_site", "open_for_reading", "site_identity", "sites"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def site_identity(url: str) -> str:
    """``HTTPS://Moodle.Example.se:443/moodle/`` → ``https://moodle.example.se/moodle``."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"  # IPv6
    port = parts.port
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def sites(store: StateStore) -> list[str]:
    """The sites a store holds rows for (their identities, or old typed URLs not yet verified)."""
    return [r[0] for r in store._db.execute("SELECT site FROM sites ORDER BY site")]


def bind_site(path: Path | str, *, siteurl: str, typed_url: str) -> StateStore:
    """Open the store at ``path`` for the Moodle site that names itself ``siteurl`` (reached at ``typed_url``).

    Raises:
        StoreError: the store holds rows of other sites only.
    """
    store = StateStore(path)
    identity = site_identity(siteurl or typed_url)
    typed = site_identity(typed_url)
    db = store._db
    known = {r["site"]: bool(r["verified"]) for r in db.execute("SELECT site, verified FROM sites")}
    aliases = {r[0]: r[1] for r in db.execute("SELECT url, site FROM site_urls")}
    if identity not in known or not known[identity]:
        # an old store's key: the URL typed then, now reached again (or the identity itself)
        legacy = next((k for k, verified in sorted(known.items()) if not verified
                       and (site_identity(k) in (identity, typed) or aliases.get(typed) == k)), None)
        if legacy is not None:
            _rename(store, legacy, identity)
        elif known:
            others = ", ".join(sorted(known))
            store.close()
            raise StoreError(
                f"the state store {store.path} belongs to another Moodle site ({others}); {typed_url} is the site "
                f"{identity}", hint="give this site its own store (--state FILE or state_path in moodle-sync.toml); "
                "if it is the same Moodle under a new address, run once with the address the store was used with")
        else:
            with store._lock:
                db.execute("INSERT INTO sites (site, siteurl, verified, first_seen) VALUES (?,?,1,?)",
                           (identity, siteurl, now_iso()))
    with store._lock:
        db.execute("INSERT OR REPLACE INTO site_urls (url, site, last_used) VALUES (?,?,?)",
                   (typed, identity, now_iso()))
    store.moodle_url = identity
    return store


def open_for_reading(path: Path | str, site: str | None = None) -> StateStore:
    """Open an existing store for a report or the run list, without Moodle.

    Args:
        path: the store.
        site: a site's URL (as Moodle names it, or as it was typed); needed when the store holds several.

    Raises:
        StoreError: no store there, no site in it, or several sites and ``site`` does not name one.
    """
    if str(path) != ":memory:" and not Path(path).exists():
        raise StoreError(f"there is no state store at {path}",
                         hint="run `moodle-sync pull` first, or give the store with --state FILE")
    store = StateStore(path)
    known = sites(store)
    aliases = {r[0]: r[1] for r in store._db.execute("SELECT url, site FROM site_urls")}
    if site is not None:
        wanted = site_identity(site)
        chosen = wanted if wanted in known else aliases.get(wanted)
        if chosen is None:
            store.close()
            raise StoreError(f"the state store {path} has nothing of the site {site}",
                             hint="it holds: " + (", ".join(known) or "no site yet"))
    elif len(known) == 1:
        chosen = known[0]
    else:
        store.close()
        if not known:
            raise StoreError(f"the state store {path} holds no site yet", hint="run `moodle-sync pull` first")
        raise StoreError(f"the state store {path} holds {len(known)} sites: {', '.join(known)}",
                         hint="choose one with --site URL")
    store.moodle_url = chosen
    return store


def _rename(store: StateStore, old: str, new: str) -> None:
    """Move every row of the site keyed ``old`` to ``new``, in one transaction."""
    db = store._db
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    keyed = [t for t in tables if any(c[1] == "moodle_url" for c in db.execute(f"PRAGMA table_info({t})"))]
    with store._lock:
        try:
            db.execute("BEGIN")
            for table in keyed:
                db.execute(f"UPDATE {table} SET moodle_url=? WHERE moodle_url=?", (new, old))  # noqa: S608 - names from the schema
            db.execute("DELETE FROM sites WHERE site=?", (old,))
            db.execute("INSERT OR REPLACE INTO sites (site, siteurl, verified, first_seen) VALUES (?,?,1,?)",
                       (new, new, now_iso()))
            db.execute("UPDATE site_urls SET site=? WHERE site=?", (new, old))
            db.execute("INSERT OR IGNORE INTO site_urls (url, site, last_used) VALUES (?,?,?)", (old, new, now_iso()))
            db.execute("COMMIT")
        except sqlite3.Error as e:
            db.execute("ROLLBACK")
            raise StoreError(f"cannot move the rows of {old} to the site {new} in {store.path}: {e}") from e
