"""The message catalogues: every message the code or a portal template marks for translation has its Swedish
text, and the command line picks its language from the locale (English unless it says Swedish)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from moodle_sync import i18n

PACKAGE = Path(i18n.__file__).parent
#: as babel.cfg says (the Jinja2 templates with the i18n extension, every Python module)
METHODS = [("portal/templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
OPTIONS = {"portal/templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None}


def marked() -> dict[str, list[str]]:
    """Every message marked in the package: msgid (the singular of a plural) → where."""
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(PACKAGE), METHODS, OPTIONS, keywords=KEYWORDS):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


def swedish_catalogue() -> dict[str, object]:
    with i18n.po_path("sv").open("rb") as f:
        catalog = read_po(f)
    return {(m.id[0] if isinstance(m.id, tuple) else m.id): m.string for m in catalog if m.id}


def test_the_templates_and_the_portal_are_marked_for_translation() -> None:
    where = {w.split(":")[0] for ws in marked().values() for w in ws}
    assert any(w.startswith("portal/templates/") for w in where), where
    assert "portal/told.py" in where and "portal/names.py" in where


def test_every_marked_message_has_its_swedish_text() -> None:
    catalogue = swedish_catalogue()
    missing = {msgid: where for msgid, where in marked().items()
               if not catalogue.get(msgid) or (isinstance(catalogue[msgid], tuple)
                                               and not all(catalogue[msgid]))}  # type: ignore[arg-type]
    assert missing == {}, "add their Swedish text to moodle_sync/locale/sv/LC_MESSAGES/moodle_sync.po"


def test_placeholders_are_kept_in_translation() -> None:
    import re

    with i18n.po_path("sv").open("rb") as f:
        catalog = read_po(f)
    for m in catalog:
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        wanted = set(re.findall(r"\{\w+\}|%\(\w+\)s", ids[-1]))
        for text in strings:
            assert set(re.findall(r"\{\w+\}|%\(\w+\)s", text)) == wanted, m.id


@pytest.mark.parametrize(("environ", "language"), [
    ({}, "en"), ({"LANG": "C.UTF-8"}, "en"), ({"LANG": "sv_SE.UTF-8"}, "sv"), ({"LANG": "en_GB.UTF-8"}, "en"),
    ({"LC_ALL": "sv_SE.UTF-8", "LANG": "en_US.UTF-8"}, "sv"), ({"LC_ALL": "C", "LANG": "sv_SE.UTF-8"}, "en"),
    ({"LC_MESSAGES": "sv_FI.UTF-8", "LANG": "en_US"}, "sv"), ({"LC_ALL": "", "LANG": "sv"}, "sv")])
def test_the_command_line_speaks_swedish_only_when_the_locale_says_so(environ: dict[str, str], language: str) -> None:
    assert i18n.environment_language(environ) == language


def test_words_made_while_speaking_swedish_are_swedish_in_threads_started_from_there_too() -> None:
    seen: list[str] = []
    with i18n.speaking("sv"):
        assert i18n._("Confirm") == "Bekräfta"
        assert i18n.ngettext("{n} new", "{n} new", 2).format(n=2) == "2 nya"
        import contextvars

        context = contextvars.copy_context()
        thread = threading.Thread(target=lambda: seen.append(context.run(i18n._, "Cancel")))
        thread.start()
        thread.join()
    assert seen == ["Avbryt"]
    with i18n.speaking("en"):
        assert i18n._("Confirm") == "Confirm"
        lazy = i18n.lazy_gettext("Confirm")
        assert str(lazy) == "Confirm"
        with i18n.speaking("sv"):
            assert str(lazy) == "Bekräfta", "a lazy message is translated when shown"
