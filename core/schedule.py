"""When things recur: a digest's time of day (weekdays, or weekly), a harvest's interval. Pure."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.records import PaperciteError

DEFAULT_AT_MINUTE = 9 * 60  # 09:00, the workspace's morning
WEEKLY_DAY = 0  # a weekly digest comes on Mondays
_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_DURATION = re.compile(r"(\d{1,6})\s*([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# A harvest more often than this asks arXiv for nearly nothing and only adds load (arXiv's OAI-PMH
# lists a day's new papers once a day).
MIN_HARVEST_SECONDS = 60


class BadSchedule(PaperciteError):
    pass


def parse_time_of_day(text: str) -> int:
    """`14:00` → minutes after midnight; BadSchedule naming the text otherwise."""
    match = _TIME.fullmatch(text.strip())
    if not match:
        raise BadSchedule(f"{text!r} is not a time of day; write it as HH:MM, e.g. 14:00")
    return int(match.group(1)) * 60 + int(match.group(2))


def format_time_of_day(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_duration(text: str) -> int:
    """`6h`, `90m`, `1d`, `30s` → seconds (at least MIN_HARVEST_SECONDS)."""
    match = _DURATION.fullmatch(text.strip().lower())
    if not match:
        raise BadSchedule(f"{text!r} is not a duration; write e.g. 6h, 90m or 1d")
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds < MIN_HARVEST_SECONDS:
        raise BadSchedule(f"{text!r} is too short; harvests run at most once a minute")
    return seconds


def time_zone(name: str) -> ZoneInfo:
    """The zone named, or UTC for a name this machine does not know."""
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def last_slot(now: dt.datetime, at_minute: int, *, weekly: bool, zone: str) -> dt.datetime:
    """The latest digest time at or before `now` (aware), in UTC: `at_minute` local time on a
    weekday (Monday to Friday), or on Mondays when `weekly`."""
    local_zone = time_zone(zone)
    local = now.astimezone(local_zone)
    for back in range(8):
        day = local.date() - dt.timedelta(days=back)
        if (day.weekday() == WEEKLY_DAY) if weekly else (day.weekday() < 5):
            slot = dt.datetime.combine(day, dt.time(at_minute // 60, at_minute % 60), tzinfo=local_zone)
            if slot <= local:
                return slot.astimezone(dt.timezone.utc)
    raise AssertionError("every week has a Monday")  # pragma: no cover


def as_text(moment: dt.datetime) -> str:
    """A moment as the store keeps it: ISO 8601 in UTC, so two of them compare as text."""
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="seconds")


def from_text(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)
