"""Discord timestamp mentions: ``<t:UNIX>`` and ``<t:UNIX:style>``, accepted as future times.

Giselle accepts a timestamp mention wherever a time code is expected; it is converted to "time
from now" and must lie in the future.
"""

from __future__ import annotations

import datetime as dt
import re

from securebot.errors import CommandInputError

#: The styles Discord renders (``t T d D f F R``).
STYLES = frozenset("tTdDfFR")
_MENTION = re.compile(r"<t:(-?\d{1,12})(?::([A-Za-z]))?>", re.ASCII)
#: The latest accepted instant (Python's datetime limit, minus a margin).
_MAX_UNIX = 253_402_300_799 - 86_400


def looks_like_timestamp(text: str) -> bool:
    """Whether ``text`` is shaped like a timestamp mention (starts with ``<t:``)."""
    return text.strip().startswith("<t:")


def format_timestamp(when: dt.datetime, style: str | None = None) -> str:
    """The Discord mention for ``when`` (an aware datetime), with an optional style letter."""
    unix = int(when.timestamp())
    return f"<t:{unix}:{style}>" if style else f"<t:{unix}>"


def parse_timestamp(text: str, *, now: dt.datetime) -> dt.datetime:
    """Parse ``<t:UNIX>`` / ``<t:UNIX:style>`` into an aware UTC datetime after ``now``.

    :raises CommandInputError: the mention is malformed, has an unknown style, or is not in
        the future.
    """
    raw = text.strip()
    shown = raw[:40]
    match = _MENTION.fullmatch(raw)
    if match is None:
        raise CommandInputError(
            f"`{shown}` is not a timestamp; use Discord's `<t:1700000000>` or `<t:1700000000:R>`"
        )
    unix_text, style = match.groups()
    if style is not None and style not in STYLES:
        raise CommandInputError(
            f"`{shown}` has an unknown style `{style}`; use one of {' '.join(sorted(STYLES))}"
        )
    unix = int(unix_text)
    if unix > _MAX_UNIX:
        raise CommandInputError(f"`{shown}` is too far in the future")
    when = dt.datetime.fromtimestamp(unix, tz=dt.UTC) if unix >= 0 else None
    if when is None or when <= now:
        raise CommandInputError(f"`{shown}` is in the past; the time must be in the future")
    return when
