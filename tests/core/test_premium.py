"""``securebot.premium_tiers``: a plugin's ``premium_tiers`` table, checked entry by entry."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import securebot
from securebot.errors import ConfigError


@given(st.dictionaries(st.integers(0, 2**63), st.integers(0, 3), max_size=5))
def test_a_table_of_guild_ids_and_tiers_is_read_as_ints(table: dict[int, int]) -> None:
    settings = {"premium_tiers": {str(guild): tier for guild, tier in table.items()}}
    assert securebot.premium_tiers(settings, plugin="alarm") == table


def test_no_table_means_no_premium_guilds() -> None:
    assert securebot.premium_tiers({}, plugin="scheduler") == {}


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ([1, 2], "plugin.demo.premium_tiers: expected a table of guild id = tier"),
        ({"abc": 1}, "plugin.demo.premium_tiers: 'abc' is not a guild id"),
        ({"-5": 1}, "plugin.demo.premium_tiers: '-5' is not a guild id"),
        ({"12": 4}, "plugin.demo.premium_tiers.12: expected a tier 0 to 3"),
        ({"12": -1}, "plugin.demo.premium_tiers.12: expected a tier 0 to 3"),
        ({"12": True}, "plugin.demo.premium_tiers.12: expected a tier 0 to 3"),
        ({"12": "2"}, "plugin.demo.premium_tiers.12: expected a tier 0 to 3"),
        ({"12": 2.0}, "plugin.demo.premium_tiers.12: expected a tier 0 to 3"),
    ],
)
def test_bad_entries_name_the_plugin_and_the_key(table: object, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        securebot.premium_tiers({"premium_tiers": table}, plugin="demo")
    assert str(info.value) == message
