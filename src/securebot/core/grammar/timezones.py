"""Time zones: IANA names (``Europe/Rome``) and offsets ``UTC+5``, ``GMT-03:30``, ``UTC+0530``.

Offsets read the way people write them: ``UTC+2`` is two hours *ahead* of UTC. (The IANA names
``Etc/GMT+2`` use the reverse sign; they are accepted as IANA names, with their IANA meaning.)
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

from securebot.errors import CommandInputError

_OFFSET = re.compile(r"(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?", re.IGNORECASE | re.ASCII)
_IANA = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+){0,2}")
#: Largest offset accepted, in minutes (Discord-world offsets run from -12:00 to +14:00).
MAX_OFFSET_MINUTES = 14 * 60


def format_offset(offset_minutes: int) -> str:
    """The canonical offset name: ``UTC``, ``UTC+5``, ``UTC-3:30``."""
    if offset_minutes == 0:
        return "UTC"
    sign = "+" if offset_minutes > 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"UTC{sign}{hours}:{minutes:02d}" if minutes else f"UTC{sign}{hours}"


def offset_zone(offset_minutes: int) -> dt.timezone:
    """A fixed-offset zone named canonically (see :func:`format_offset`)."""
    if abs(offset_minutes) > MAX_OFFSET_MINUTES:
        raise CommandInputError("time zone offsets run from UTC-14 to UTC+14")
    return dt.timezone(dt.timedelta(minutes=offset_minutes), format_offset(offset_minutes))


def parse_time_zone(text: str) -> dt.tzinfo:
    """Parse an IANA zone name or a ``UTC±h[:mm]`` / ``GMT±hmm`` offset.

    :raises CommandInputError: neither a known zone nor a valid offset.
    """
    raw = text.strip()
    shown = raw[:40]
    if raw.upper() in {"UTC", "GMT", "Z"}:
        return dt.UTC
    match = _OFFSET.fullmatch(raw)
    if match is not None:
        sign, hours_text, minutes_text = match.groups()
        hours, minutes = int(hours_text), int(minutes_text or 0)
        if minutes >= 60:
            raise CommandInputError(f"`{shown}`: minutes of an offset must be below 60")
        total = hours * 60 + minutes
        if total > MAX_OFFSET_MINUTES:
            raise CommandInputError(f"`{shown}`: offsets run from UTC-14 to UTC+14")
        return offset_zone(total if sign == "+" else -total)
    if _IANA.fullmatch(raw) and ".." not in raw:
        try:
            return zoneinfo.ZoneInfo(raw)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            pass
    if raw.upper().startswith(("UTC", "GMT")) and len(raw) > 3 and raw[3] not in "/":
        raise CommandInputError(
            f"`{shown}` is not a valid offset; write it like `UTC+2` or `UTC-3:30`"
        )
    raise CommandInputError(
        f"`{shown}` is not a time zone; use an IANA name like `Europe/Rome` or an offset like "
        "`UTC+2`"
    )
