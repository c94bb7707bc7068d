"""Scenario files: the demo parses, good files seed what they say, bad files give one clear line."""

# ruff: noqa: E501  (expected error lines are easier to read unbroken)

from __future__ import annotations

from pathlib import Path
from typing import Any

import discord
import pytest
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from securebot.errors import ConfigError
from securebot.testing.scenario_file import (
    DEMO_SCENARIO,
    ScenarioFileError,
    demo_scenario,
    load_scenario,
    parse_scenario,
)

GOOD = """
[[user]]
name = "ada"
id = 1001

[[user]]
name = "bob"

[[bot]]
name = "Helper"
token = "helper-token-1"

[[guild]]
name = "Lab"
owner = "ada"
members = ["bob", "Helper"]
everyone = 1024

[[guild.role]]
name = "Mod"
permissions = ["kick_members", "ban_members"]
color = 0x112233
members = ["bob"]

[[guild.channel]]
name = "Talk"
type = "category"

[[guild.channel]]
name = "general"
category = "Talk"
topic = "hi"
slowmode = 5
"""


def test_good_file_parses_to_what_it_says() -> None:
    scenario = parse_scenario(GOOD, source="lab.toml")
    assert [u.name for u in scenario.humans] == ["ada", "bob"]
    assert scenario.user("ada").id == 1001
    (bot,) = scenario.bots
    assert bot.token == "helper-token-1"
    assert "helper-token-1" not in repr(bot)
    (guild,) = scenario.guilds
    assert guild.members == ("ada", "bob", "Helper")  # owner first, always a member
    assert guild.everyone == 1024
    (role,) = guild.roles
    perms = discord.Permissions(role.permissions)
    assert perms.kick_members
    assert perms.ban_members
    assert not perms.administrator
    assert role.color == 0x112233
    assert [(c.name, c.type_number, c.category) for c in guild.channels] == [
        ("Talk", 4, None),
        ("general", 0, "Talk"),
    ]


def test_demo_scenario_has_the_roles_the_demo_needs() -> None:
    scenario = demo_scenario()
    assert DEMO_SCENARIO.startswith("[[user]]")
    (guild,) = scenario.guilds
    assert guild.owner == "ada"
    assert {r.name for r in guild.roles} >= {"Admin", "Moderator", "Member"}
    assert any(c.name == "general" for c in guild.channels)
    assert scenario.bots[0].name == "Giselle"
    assert load_scenario(None) == scenario


def test_load_from_file_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(GOOD)
    assert load_scenario(path).guilds[0].name == "Lab"
    with pytest.raises(ScenarioFileError, match=r"nope.toml: scenario file not found"):
        load_scenario(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ('name = "ada"', "name = 5"),
            "s.toml: user[0].name: expected a string, got an integer (5)",
        ),
        (
            ("id = 1001", "id = -3"),
            "s.toml: user[0].id: must be a positive 64-bit integer (got -3)",
        ),
        (
            ('owner = "ada"', 'owner = "adda"'),
            "s.toml: guild[0].owner: unknown user 'adda' (did you mean 'ada'?)",
        ),
        (
            ('"kick_members", "ban_members"', '"kick"'),
            "s.toml: guild[0].role[0].permissions: unknown permission 'kick' (did you mean 'kick_members'?)",
        ),
        (
            ('category = "Talk"', 'category = "Nope"'),
            "s.toml: guild[0].channel[1].category: no category channel named 'Nope' in this guild",
        ),
        (
            ('type = "category"', 'type = "txt"'),
            "s.toml: guild[0].channel[0].type: unknown channel type 'txt' (one of: text, voice, category, announcement, stage, forum)",
        ),
        (
            ("slowmode = 5", "slowmode = 99999"),
            "s.toml: guild[0].channel[1].slowmode: must be 0-21600 seconds (got 99999)",
        ),
        (
            ('topic = "hi"', 'topc = "hi"'),
            "s.toml: guild[0].channel[1]: unknown key 'topc' (known keys: category, name, nsfw, slowmode, topic, type)",
        ),
        (
            ('members = ["bob"]', 'members = ["carol"]'),
            "s.toml: guild[0].role[0].members: 'carol' is not a member of this guild (add it to the guild's members)",
        ),
        (
            ("color = 0x112233", "color = 0x1000000"),
            "s.toml: guild[0].role[0].color: must be an RGB integer from 0 to 0xFFFFFF (got 16777216)",
        ),
        (
            ('token = "helper-token-1"', 'token = "short"'),
            "s.toml: bot[0].token: must be 8-200 printable characters without spaces",
        ),
        (
            ('[[bot]]\nname = "Helper"', '[[user]]\nname = "Helper"'),
            "s.toml: user[2]: unknown key 'token' (known keys: id, name)",
        ),
        (('name = "bob"', 'name = "ada"'), "s.toml: two accounts are named 'ada'"),
        (
            ("everyone = 1024", "everyone = true"),
            "s.toml: guild[0].everyone: expected a list of permission names or an integer, got a boolean (true)",
        ),
        (
            ("[[guild]]", "[[guilds]]"),
            "s.toml: unknown key 'guilds' (known keys: bot, guild, user)",
        ),
        (
            ('name = "Lab"', 'name = "Lab"\n[guild.x]'),
            "s.toml: guild[0]: unknown key 'x' (known keys: channel, everyone, id, members, name, owner, role)",
        ),
        (('[[user]]\nname = "ada"', '[[user]]\nname = "ada\n"'), "s.toml: invalid TOML:"),
    ],
)
def test_bad_files_give_one_clear_line(change: tuple[str, str], expected: str) -> None:
    old, new = change
    assert old in GOOD
    with pytest.raises(ScenarioFileError) as info:
        parse_scenario(GOOD.replace(old, new, 1), source="s.toml")
    message = str(info.value)
    assert message.startswith(expected)
    assert isinstance(info.value, ConfigError)


def test_a_scenario_needs_a_bot() -> None:
    with pytest.raises(ScenarioFileError, match=r"^x.toml: declare at least one \[\[bot\]\]"):
        parse_scenario('[[user]]\nname = "ada"\n', source="x.toml")


def _scenario_like() -> st.SearchStrategy[dict[str, Any]]:
    scalar = (
        st.text(max_size=12)
        | st.integers(min_value=-(2**63), max_value=2**64)
        | st.booleans()
        | st.sampled_from(["ada", "bob", "Helper", "Talk", "category", "text", "administrator"])
    )
    keys = st.sampled_from(
        [
            "name",
            "id",
            "token",
            "owner",
            "members",
            "everyone",
            "role",
            "channel",
            "permissions",
            "color",
            "hoist",
            "type",
            "category",
            "topic",
            "slowmode",
            "nsfw",
            "user",
            "bot",
            "guild",
        ]
    )
    values = st.recursive(
        scalar,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=6),
        max_leaves=25,
    )
    return st.dictionaries(st.sampled_from(["user", "bot", "guild"]) | keys, values, max_size=4)


@settings(max_examples=300)
@given(_scenario_like())
def test_any_document_parses_or_gives_one_error_line(document: dict[str, Any]) -> None:
    try:
        text = tomli_w.dumps(document)
    except (TypeError, ValueError):  # not representable as TOML (e.g. int over 64 bits)
        return
    try:
        scenario = parse_scenario(text, source="fuzz.toml")
    except ScenarioFileError as exc:
        message = str(exc)
    else:
        assert scenario.bots  # a valid scenario always has a bot that can log in
        return
    assert message.startswith("fuzz.toml: ")
    assert "\n" not in message
    assert "Traceback" not in message


@settings(max_examples=200)
@given(st.text(max_size=200))
def test_any_text_parses_or_gives_one_error(text: str) -> None:
    try:
        parse_scenario(text, source="t.toml")
    except ScenarioFileError as exc:
        message = str(exc)
    else:
        return
    assert message.startswith("t.toml: ")
