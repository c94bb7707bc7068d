"""Giselle time codes: ``2mo6h40m``.

A time code is a sequence of parts ``<positive integer><unit>``, units in the fixed order
``mo > w > d > h > m > s``, each at most once. Seconds (``s``) are accepted only where a command
allows them. A month counts as 30 days. Parsing is pure: :func:`parse_time_code` returns a
:class:`TimeCode` or raises :class:`~securebot.errors.CommandInputError` whose message says
exactly what is wrong, written for the user who typed it.
"""

from __future__ import annotations

import datetime as dt
import re

import attrs

from securebot.errors import CommandInputError

#: Units in their required order, with their length in seconds (a month is 30 days).
UNITS: tuple[tuple[str, int], ...] = (
    ("mo", 30 * 86_400),
    ("w", 7 * 86_400),
    ("d", 86_400),
    ("h", 3_600),
    ("m", 60),
    ("s", 1),
)
_ORDER = {unit: index for index, (unit, _) in enumerate(UNITS)}
_PART = re.compile(r"(\d+)(mo|w|d|h|m|s)", re.ASCII)  # 0-9 only, not every Nd digit
#: The longest accepted time code, in seconds (about 100 years).
MAX_SECONDS = 100 * 365 * 86_400
_MAX_DIGITS = 10


def _non_negative(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must not be negative")


@attrs.frozen
class TimeCode:
    """A parsed time code; zero means "part absent"."""

    months: int = attrs.field(default=0, validator=_non_negative)
    weeks: int = attrs.field(default=0, validator=_non_negative)
    days: int = attrs.field(default=0, validator=_non_negative)
    hours: int = attrs.field(default=0, validator=_non_negative)
    minutes: int = attrs.field(default=0, validator=_non_negative)
    seconds: int = attrs.field(default=0, validator=_non_negative)

    def parts(self) -> tuple[int, ...]:
        """The six part values in unit order (``mo, w, d, h, m, s``)."""
        return (self.months, self.weeks, self.days, self.hours, self.minutes, self.seconds)

    @property
    def total_seconds(self) -> int:
        """The length in seconds (a month is 30 days)."""
        return sum(value * length for value, (_, length) in zip(self.parts(), UNITS, strict=True))

    def to_timedelta(self) -> dt.timedelta:
        """The length as a :class:`datetime.timedelta`."""
        return dt.timedelta(seconds=self.total_seconds)

    def __str__(self) -> str:
        """The canonical text form (``2mo6h40m``); ``0m`` for an empty code."""
        text = "".join(
            f"{value}{unit}" for value, (unit, _) in zip(self.parts(), UNITS, strict=True) if value
        )
        return text or "0m"


def _fail(text: str, why: str) -> CommandInputError:
    return CommandInputError(
        f"`{text}` is not a valid time code: {why}. "
        "Use parts like `2mo6h40m` in the order mo, w, d, h, m"
    )


def parse_time_code(text: str, *, allow_seconds: bool = False) -> TimeCode:
    """Parse a time code such as ``2mo6h40m`` (or ``1h30s`` when ``allow_seconds``).

    :raises CommandInputError: the text is not a valid time code; the message says why.
    """
    raw = text.strip()
    shown = raw[:40]
    if not raw:
        raise _fail(shown, "it is empty")
    lowered = raw.lower()
    values: dict[str, int] = {}
    position = 0
    last_index = -1
    while position < len(lowered):
        match = _PART.match(lowered, position)
        if match is None:
            rest = raw[position:]
            if rest[0] in "0123456789":
                raise _fail(shown, f"`{rest[:12]}` has a number without a known unit")
            if rest[0] in "+-":
                raise _fail(shown, "numbers must be positive, without a sign")
            raise _fail(shown, f"`{rest[:12]}` is not a number followed by a unit")
        digits, unit = match.groups()
        index = _ORDER[unit]
        if unit == "s" and not allow_seconds:
            raise _fail(shown, "seconds (`s`) are not allowed for this command")
        if unit in values:
            raise _fail(shown, f"the unit `{unit}` appears twice")
        if index < last_index:
            previous = UNITS[last_index][0]
            raise _fail(shown, f"`{unit}` must come before `{previous}`")
        if len(digits) > _MAX_DIGITS:
            raise _fail(shown, f"`{digits[:12]}` is too large")
        value = int(digits)
        if value == 0:
            raise _fail(shown, f"`{digits}{unit}` is zero; each part must be a positive number")
        values[unit] = value
        last_index = index
        position = match.end()
    code = TimeCode(*(values.get(unit, 0) for unit, _ in UNITS))
    if code.total_seconds > MAX_SECONDS:
        raise _fail(shown, "it is longer than 100 years")
    return code
