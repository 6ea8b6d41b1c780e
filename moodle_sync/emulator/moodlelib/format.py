"""Output formatting of names and texts (core_external\\util::format_string/format_text) and site URLs.

Without ``moodlewssettingraw=1`` Moodle escapes ``&`` in names and turns texts into HTML (format 1).
"""

from __future__ import annotations

import html
import re

from moodle_sync.emulator.paramtypes import strip_tags

FORMAT_MOODLE = 0
FORMAT_HTML = 1
FORMAT_PLAIN = 2
FORMAT_MARKDOWN = 4
FORMATS = (FORMAT_MOODLE, FORMAT_HTML, FORMAT_PLAIN, FORMAT_MARKDOWN)

_BARE_AMP = re.compile(r"&(?![a-zA-Z0-9#]{1,8};)")


def format_string(text: str, raw: bool) -> str:
    """format_string(): tags stripped ($CFG->formatstringstriptags) and bare ``&`` escaped, unless raw."""
    if raw:
        return text
    return _BARE_AMP.sub("&amp;", strip_tags(text))


def format_text(text: str | None, textformat: int, raw: bool) -> tuple[str, int]:
    """core_external\\util::format_text(): HTML out, format reported as 1 (unless raw).

    An empty or NULL text answers '' with the stored format unchanged: util::format_text() returns
    ``['', $textformat ?? FORMAT_MOODLE]`` before any formatting (lib/external/classes/util.php).
    """
    if text is None or text == "":
        return "", textformat
    if raw:
        return text, textformat
    if textformat == FORMAT_MOODLE:
        return f'<div class="text_to_html">{text.replace(chr(10), "<br />" + chr(10))}</div>', FORMAT_HTML
    if textformat == FORMAT_PLAIN:
        return html.escape(text, quote=True).replace("  ", "&nbsp; ").replace("\n", "<br />\n"), FORMAT_HTML
    return text, FORMAT_HTML


def course_image_url(site_url: str, contextid: int) -> str:
    # no overview image: $OUTPUT->get_generated_url_for_course() (contract step 'get course by idnumber')
    return f"{site_url}/pluginfile.php/{contextid}/course/generated/course.svg"


def user_picture_url(site_url: str, themerev: int, size: str) -> str:
    return f"{site_url}/theme/image.php/boost/core/{themerev}/u/{size}"


def module_url(site_url: str, modname: str, cmid: int) -> str:
    return f"{site_url}/mod/{modname}/view.php?id={cmid}"


def module_icon_url(site_url: str, themerev: int, modname: str) -> str:
    return f"{site_url}/theme/image.php/boost/{modname}/{themerev}/monologo?filtericon=1"
