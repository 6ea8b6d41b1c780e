"""The tool's words in the reader's language: gettext message catalogues (Babel's .po files), English as written.

- The messages are written in English in the code (``_("…")``, ``ngettext(…)``) and in the portal's templates
  (Jinja2's i18n extension); ``locale/<lang>/LC_MESSAGES/moodle_sync.po`` holds their translations.
- The command line speaks English unless ``LC_ALL``, ``LC_MESSAGES`` or ``LANG`` (the first one set, as gettext
  reads them) names Swedish (``sv_SE.UTF-8``); the portal always speaks Swedish (:func:`speaking` around each
  request, so a library message made while a page is served is Swedish too).
- The .po file is the one source: it is compiled in memory when first used (Babel), so neither an install nor a
  checkout needs a build step and no compiled file can lag behind its source.

Maintaining the catalogue (see babel.cfg)::

    pybabel extract -F babel.cfg -k lazy_gettext -o moodle_sync/locale/moodle_sync.pot moodle_sync
    pybabel update -i moodle_sync/locale/moodle_sync.pot -d moodle_sync/locale -D moodle_sync

tests/unit/test_i18n.py fails while a message the portal can show has no Swedish text.
"""

from __future__ import annotations

import contextlib
import functools
import gettext as _gettext
import io
import os
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

DOMAIN = "moodle_sync"
LOCALES = Path(__file__).parent / "locale"
#: the languages with a catalogue; English is the messages as written
LANGUAGES = ("en", "sv")

_speaking: ContextVar[str | None] = ContextVar("moodle_sync_language", default=None)


def po_path(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(language: str) -> _gettext.NullTranslations:
    """The catalogue of ``language`` (compiled from its .po file once per process); English: the messages as
    written."""
    path = po_path(language)
    if language == "en" or not path.is_file():
        return _gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with path.open("rb") as f:
        catalog = read_po(f, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return _gettext.GNUTranslations(compiled)


def environment_language(environ: dict[str, str] | None = None) -> str:
    """The command line's language: Swedish when the locale gettext would read names it, else English."""
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            return "sv" if value.lower().startswith("sv") else "en"
    return "en"


def language() -> str:
    """The language of the words made now: the one :func:`speaking` set, else the environment's."""
    return _speaking.get() or environment_language()


@contextlib.contextmanager
def speaking(lang: str) -> Iterator[None]:
    """Words made inside (in this thread or task, and in threads it starts with its context) are in ``lang``."""
    token = _speaking.set(lang)
    try:
        yield
    finally:
        _speaking.reset(token)


def gettext(message: str) -> str:
    return translations(language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(language()).ngettext(singular, plural, n)


_ = gettext


def swedish(message: str) -> str:
    """``message`` in Swedish whatever the reader's language (the portal's own words)."""
    return translations("sv").gettext(message)


class LazyString:
    """A message translated when it is shown, not when it is defined (module-level constants)."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message

    def __str__(self) -> str:
        return gettext(self.message)

    def __repr__(self) -> str:
        return f"lazy_gettext({self.message!r})"

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(self.message)

    def __add__(self, other: Any) -> str:
        return str(self) + str(other)

    def __radd__(self, other: Any) -> str:
        return str(other) + str(self)

    def format(self, *args: Any, **kwargs: Any) -> str:
        return str(self).format(*args, **kwargs)


def lazy_gettext(message: str) -> LazyString:
    return LazyString(message)
