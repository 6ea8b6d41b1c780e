"""Which timezone the completion report's dates are shown in, from times Moodle also gives as numbers."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from moodle_sync.completions.report_dates import Anchor, calibrate, parse_shown, unix, wall
from moodle_sync.emulator.moodlelib.userdate import userdate
from moodle_sync.specs.fields import STOCKHOLM


def at(zone: str | datetime.tzinfo, *parts: int) -> int:
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    return int(datetime.datetime(*parts, tzinfo=tz).timestamp())  # type: ignore[misc]


def shown(ts: int, zone: str) -> int | None:
    """What report builder shows of ``ts`` on a site whose dates are in ``zone``, read back as a wall clock."""
    return parse_shown(userdate(ts, ZoneInfo(zone)))


#: course start dates (midnight in Stockholm), one in summer and one in winter, as the shipped specs have them
STARTS = [at(STOCKHOLM, 2021, 9, 1), at(STOCKHOLM, 2022, 1, 17)]


def test_dates_in_the_timezone_asked_for_are_read_as_they_are() -> None:
    clock = calibrate([Anchor(shown(t, "Europe/Stockholm"), t) for t in STARTS], [])
    assert clock.certain and not clock.forced and clock.zone_names() == "Europe/Stockholm"
    late = at("UTC", 2026, 3, 31, 22, 30)  # 00:30 on 1 April in Stockholm
    assert clock.unix(shown(late, "Europe/Stockholm")) == late


def test_a_forced_timezone_is_found_and_its_dates_read_where_every_zone_like_it_agrees() -> None:
    winter = STARTS[1:]  # only a winter date: Europe/London and UTC both fit it, and differ in summer
    clock = calibrate([Anchor(shown(t, "UTC"), t) for t in winter], [])
    assert clock.certain and clock.forced
    january, july = at("UTC", 2026, 1, 10, 9), at("UTC", 2026, 7, 1, 9)
    assert clock.unix(shown(january, "UTC")) == january
    assert clock.unix(shown(july, "UTC")) is None  # 09:00 in July is 08:00 UTC in London: not certain
    both = calibrate([Anchor(shown(t, "UTC"), t) for t in STARTS], [])  # a summer date tells them apart
    assert both.unix(shown(july, "UTC")) == july


def test_enrolment_times_may_disagree_a_little_course_dates_not_at_all() -> None:
    start = at(STOCKHOLM, 2026, 2, 2, 9, 30)
    drifted = [Anchor(shown(start, "Europe/Stockholm"), start)] * 19 + [Anchor(shown(start + 86400,
                                                                                      "Europe/Stockholm"), start)]
    assert calibrate([], drifted).zone_names() == "Europe/Stockholm"  # one changed in the UI of 20
    wrong = [Anchor(wall(STARTS[0], STOCKHOLM) + 3600, STARTS[0])]  # a course date an hour off (Helsinki's) …
    assert not calibrate(wrong, drifted).certain  # … and enrolment times in Stockholm's: no one timezone fits
    assert not calibrate([], []).certain  # nothing to check against
    assert not calibrate([Anchor(None, STARTS[0])], []).certain  # a date that is not English


def test_an_enrolment_made_without_a_start_agrees_within_the_time_an_enrol_call_takes() -> None:
    made = at(STOCKHOLM, 2026, 2, 2, 9, 30, 40)
    assert Anchor(wall(made + 120, STOCKHOLM), made, 600).agrees(STOCKHOLM)
    assert not Anchor(wall(made + 3600, STOCKHOLM), made, 600).agrees(STOCKHOLM)



def test_dates_are_read_alike_minute_by_minute_where_the_clocks_change() -> None:
    """Dates are turned into times by their hour's offset (looked up once per hour): minute by minute around every
    change of the clocks in 2026, in zones whose changes are an hour, half an hour (Lord Howe) or that have odd
    offsets, the time is what the zone's own rules give, and a minute the clocks skip reads as none."""
    second = datetime.timedelta(seconds=1)

    def offset(ts: int, zone: ZoneInfo) -> int:
        return datetime.datetime.fromtimestamp(ts, zone).utcoffset() // second  # type: ignore[operator]

    for name in ("Europe/Stockholm", "Australia/Lord_Howe", "America/St_Johns", "Asia/Kathmandu", "UTC"):
        zone = ZoneInfo(name)
        changes = [t for t in range(at("UTC", 2026, 1, 1), at("UTC", 2027, 1, 1), 1800)
                   if offset(t, zone) != offset(t - 1800, zone)]
        assert name in ("UTC", "Asia/Kathmandu") or len(changes) == 2
        for t in [at("UTC", 2026, 6, 1, 12), *changes]:
            for ts in range(t - 7200, t + 7200, 60):
                assert wall(ts, zone) == ts + offset(ts, zone)
                for shown_ in (ts + offset(ts, zone), ts + offset(ts, zone) + 1800):
                    moment = datetime.datetime.fromtimestamp(shown_, datetime.UTC).replace(tzinfo=zone)
                    own = int(moment.timestamp())  # the zone's rules, an ambiguous minute read as the earlier
                    assert unix(shown_, zone) == (own if wall(own, zone) == shown_ else None), (name, ts)
    spring = parse_shown("Sunday, 29 March 2026, 2:30 AM")  # Stockholm's clocks go from 02:00 to 03:00
    autumn = parse_shown("Sunday, 25 October 2026, 2:30 AM")  # and from 03:00 back to 02:00
    assert spring is not None and unix(spring, STOCKHOLM) is None
    assert autumn is not None and unix(autumn, STOCKHOLM) == at("UTC", 2026, 10, 25, 0, 30)
