"""Timestamp mentions and time zones: round trips and user-facing rejections."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from securebot.core.grammar import format_offset, format_timestamp, parse_time_zone, parse_timestamp
from securebot.core.grammar.timestamps import STYLES
from securebot.errors import CommandInputError

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


@given(
    st.integers(min_value=1, max_value=10 * 365 * 86400),
    st.one_of(st.none(), st.sampled_from(sorted(STYLES))),
)
def test_future_timestamp_round_trip(seconds_ahead: int, style: str | None) -> None:
    when = NOW + dt.timedelta(seconds=seconds_ahead)
    assert parse_timestamp(format_timestamp(when, style), now=NOW) == when


@given(st.integers(min_value=0, max_value=10 * 365 * 86400))
def test_past_or_present_timestamps_are_rejected(seconds_back: int) -> None:
    when = NOW - dt.timedelta(seconds=seconds_back)
    with pytest.raises(CommandInputError, match="in the past"):
        parse_timestamp(format_timestamp(when), now=NOW)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("<t:abc>", "not a timestamp"),
        ("<t:1900000000:X>", "unknown style `X`"),
        ("<t:-5>", "in the past"),
        ("<t:999999999999>", "too far"),
        ("1900000000", "not a timestamp"),
    ],
)
def test_timestamp_rejections(text: str, why: str) -> None:
    with pytest.raises(CommandInputError, match=why):
        parse_timestamp(text, now=NOW)


@given(st.text(max_size=40))
def test_arbitrary_timestamp_text_never_escapes(text: str) -> None:
    try:
        when = parse_timestamp(text, now=NOW)
    except CommandInputError as exc:
        message = str(exc)
    else:
        message = ""
        assert when > NOW
    assert message == "" or message.startswith("`")


@given(st.integers(min_value=-14 * 60, max_value=14 * 60))
def test_offset_round_trip(minutes: int) -> None:
    name = format_offset(minutes)
    zone = parse_time_zone(name)
    assert zone.utcoffset(None) == dt.timedelta(minutes=minutes)
    assert format_offset(int(zone.utcoffset(None).total_seconds() // 60)) == name  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("UTC+2", 120), ("gmt-3:30", -210), ("UTC+0530", 330), ("+1", 60), ("UTC", 0), ("GMT-0", 0)],
)
def test_offset_spellings(text: str, minutes: int) -> None:
    assert parse_time_zone(text).utcoffset(None) == dt.timedelta(minutes=minutes)


def test_every_iana_name_is_accepted() -> None:
    moment = dt.datetime(2026, 7, 1, 12, 0)
    for name in sorted(zoneinfo.available_timezones()):
        expected = zoneinfo.ZoneInfo(name).utcoffset(moment)
        assert parse_time_zone(name).utcoffset(moment) == expected, name


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("UTC+15", "UTC-14 to UTC\\+14"),
        ("UTC+2:75", "below 60"),
        ("UTCx", "not a valid offset"),
        ("Mars/Olympus", "not a time zone"),
        ("../etc/passwd", "not a time zone"),
        ("America", "not a time zone"),
        ("", "not a time zone"),
    ],
)
def test_time_zone_rejections(text: str, why: str) -> None:
    with pytest.raises(CommandInputError, match=why):
        parse_time_zone(text)


@given(st.text(max_size=40))
def test_arbitrary_zone_text_never_escapes(text: str) -> None:
    try:
        zone = parse_time_zone(text)
    except CommandInputError as exc:
        message = str(exc)
    else:
        message = ""
        assert zone.utcoffset(dt.datetime(2026, 1, 1)) is not None
    assert message == "" or "offset" in message or "time zone" in message
