"""userdate() and s() as report builder formats values for the user who asks (lib/moodlelib.php).

Dates use the English langconfig's ``strftimedaydatetime`` ('%A, %d %B %Y, %I:%M %p', lang/en/langconfig.php)
with userdate()'s fixday/fixhour (no leading zero on the day and the hour), in the user's timezone; a user
whose timezone is "99" sees the site's ($CFG->timezone). Only English is emulated: a site without the user's
language pack shows English too. An admin may customise English's format (admin/tool/customlang), for everyone
who reads English: ``SiteConfig.strftimedaydatetime``.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from moodle_sync.emulator.model.records import User

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def user_timezone(user: User | None, site_timezone: str, *, requested: str = "", forced: str = "99") -> ZoneInfo:
    """core_date::get_user_timezone(): a forced site timezone ($CFG->forcetimezone), else the zone the request
    asked for (moodlewssettingtimezone, webservice/lib.php), else the user's own unless "99" (server default)."""
    own = user.timezone if user is not None else "99"
    if forced and forced != "99":
        own = forced
    elif requested:
        own = requested
    for name in (own, site_timezone, "UTC"):
        if name and name != "99":
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


#: lang/en/langconfig.php strftimedaydatetime, userdate()'s default format
STRFTIMEDAYDATETIME = "%A, %d %B %Y, %I:%M %p"


def userdate(timestamp: int, tz: ZoneInfo, fmt: str = STRFTIMEDAYDATETIME) -> str:
    """userdate($timestamp) with the default format strftimedaydatetime, e.g. 'Friday, 2 January 2026, 9:05 AM';
    fixday and fixhour take the leading zero off %d and %I (calendar/type/gregorian/classes/structure.php)."""
    d = datetime.fromtimestamp(timestamp, tz)
    values = {"A": _DAYS[d.weekday()], "a": _DAYS[d.weekday()][:3], "d": str(d.day), "e": str(d.day),
              "B": _MONTHS[d.month - 1], "b": _MONTHS[d.month - 1][:3], "m": f"{d.month:02d}", "Y": str(d.year),
              "y": f"{d.year % 100:02d}", "I": str(d.hour % 12 or 12), "l": str(d.hour % 12 or 12),
              "H": f"{d.hour:02d}", "M": f"{d.minute:02d}", "p": "AM" if d.hour < 12 else "PM", "%": "%"}
    return re.sub(r"%(.)", lambda m: values.get(m.group(1), m.group(0)), fmt)


def s(value: object) -> str:
    """s(): HTML special characters escaped (quotes too), '' for null; entities like &#123; stay as they are."""
    if value is None:
        return ""
    text = html.escape(str(value), quote=True).replace("&#x27;", "&#039;")
    # s() un-escapes numeric entities it just broke: '&amp;#123;' back to '&#123;'
    return re.sub(r"&amp;#(\d+|x[0-9a-fA-F]+);", r"&#\1;", text)
