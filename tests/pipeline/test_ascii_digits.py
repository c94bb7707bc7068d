"""Numbers in arguments are ASCII digits only.

Python's ``\\d`` and ``int()`` accept every Unicode decimal digit (Arabic-Indic, fullwidth...),
so without care a fullwidth ``12h`` would be a time code, ``<t:...>`` in Arabic-Indic digits a
timestamp Discord never renders, and a string of such digits would resolve to a member or
role id. The grammar refuses them with its usual clear error.
"""

from __future__ import annotations

import datetime as dt
import sys
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.pipeline.plugins_sample import Moderation, Util
from tests.pipeline.test_timecode import time_codes

import securebot
from securebot.core.grammar import TimeCode, parse_time_code, parse_time_zone, parse_timestamp
from securebot.errors import CommandInputError
from securebot.plugins.core_commands import CoreCommands
from securebot.testing.emulator import Emulator, StandardGuild

#: Decimal digits other than ASCII 0-9, by value.
OTHER_DIGITS: dict[int, list[str]] = {value: [] for value in range(10)}
for _code in range(0x80, sys.maxunicode + 1):
    if unicodedata.category(chr(_code)) == "Nd":
        OTHER_DIGITS[unicodedata.decimal(chr(_code))].append(chr(_code))


def _swap_one_digit(text: str, data: st.DataObject) -> str:
    positions = [i for i, c in enumerate(text) if c in "0123456789"]
    at = data.draw(st.sampled_from(positions))
    digit = data.draw(st.sampled_from(OTHER_DIGITS[int(text[at])]))
    return text[:at] + digit + text[at + 1 :]


@given(time_codes(), st.data())
def test_time_codes_refuse_non_ascii_digits(code: TimeCode, data: st.DataObject) -> None:
    text = _swap_one_digit(str(code), data)
    with pytest.raises(CommandInputError):
        parse_time_code(text, allow_seconds=True)


@given(st.integers(60, 10 * 365 * 86_400), st.data())
def test_timestamps_refuse_non_ascii_digits(ahead: int, data: st.DataObject) -> None:
    now = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
    text = f"<t:{int(now.timestamp()) + ahead}>"
    assert parse_timestamp(text, now=now)  # the ASCII spelling is valid
    with pytest.raises(CommandInputError):
        parse_timestamp(_swap_one_digit(text, data), now=now)


@given(st.integers(-14, 14), st.data())
def test_offsets_refuse_non_ascii_digits(hours: int, data: st.DataObject) -> None:
    text = f"UTC{'+' if hours >= 0 else '-'}{abs(hours)}"
    assert parse_time_zone(text)
    with pytest.raises(CommandInputError):
        parse_time_zone(_swap_one_digit(text, data))


@pytest.fixture
def securebot_plugins() -> list[securebot.Plugin]:
    return [Moderation(), Util(), CoreCommands()]


async def test_ids_in_other_digits_resolve_to_nothing(
    securebot_bot: securebot.Bot, emulator: Emulator, discord_guild: StandardGuild
) -> None:
    g = discord_guild
    arabic = str(g.moderator_role.id).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    reply = await emulator.ask(g.member, g.general, f"!whois {g.moderator_role.id}")
    assert reply.content == "Role:Moderator"
    reply = await emulator.ask(g.member, g.general, f"!whois {arabic}")
    assert reply.content.startswith(f"no member, user or role called `{arabic}` was found")
