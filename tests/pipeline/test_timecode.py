"""Time codes: round trip, exact rejections, and no input ever escapes as a non-user error."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from securebot.core.grammar import TimeCode, parse_time_code
from securebot.core.grammar.timecode import MAX_SECONDS, UNITS
from securebot.errors import CommandInputError

part = st.one_of(st.just(0), st.integers(min_value=1, max_value=99))


@st.composite
def time_codes(draw: st.DrawFn, *, seconds: bool = True) -> TimeCode:
    values = [draw(part) for _ in range(6)]
    if not seconds:
        values[5] = 0
    if not any(values):
        values[4] = draw(st.integers(min_value=1, max_value=59))
    return TimeCode(*values)


@given(time_codes())
def test_round_trip(code: TimeCode) -> None:
    assert parse_time_code(str(code), allow_seconds=True) == code


@given(time_codes(seconds=False))
def test_round_trip_without_seconds(code: TimeCode) -> None:
    parsed = parse_time_code(str(code))
    assert parsed == code
    assert parsed.total_seconds == code.to_timedelta().total_seconds()


@given(time_codes(), st.data())
def test_any_two_parts_swapped_is_rejected(code: TimeCode, data: st.DataObject) -> None:
    present = [(v, u) for v, (u, _) in zip(code.parts(), UNITS, strict=True) if v]
    if len(present) < 2:
        return
    i = data.draw(st.integers(0, len(present) - 2))
    present[i], present[i + 1] = present[i + 1], present[i]
    text = "".join(f"{v}{u}" for v, u in present)
    with pytest.raises(CommandInputError, match="must come before"):
        parse_time_code(text, allow_seconds=True)


@given(st.text(max_size=30))
def test_arbitrary_text_gives_a_code_or_a_user_error(text: str) -> None:
    try:
        code = parse_time_code(text, allow_seconds=True)
    except CommandInputError as exc:
        message = str(exc)
    else:
        message = ""
        assert 0 < code.total_seconds <= MAX_SECONDS
    assert message == "" or "is not a valid time code" in message


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        ("6h2mo", "`mo` must come before `h`"),
        ("0m", "zero"),
        ("5m5m", "appears twice"),
        ("30s", "seconds"),
        ("5x", "number without a known unit"),
        ("-5m", "positive"),
        ("h5", "not a number followed by a unit"),
        ("99999999999m", "too large"),
        ("9999999mo", "100 years"),
    ],
)
def test_rejections_say_what_is_wrong(text: str, why: str) -> None:
    with pytest.raises(CommandInputError, match=why.replace("(", r"\(")) as info:
        parse_time_code(text)
    assert "2mo6h40m" in str(info.value)


def test_spec_example() -> None:
    code = parse_time_code("2mo6h40m")
    assert code == TimeCode(months=2, hours=6, minutes=40)
    assert code.total_seconds == 2 * 30 * 86400 + 6 * 3600 + 40 * 60
    assert parse_time_code("1H30S", allow_seconds=True) == TimeCode(hours=1, seconds=30)
