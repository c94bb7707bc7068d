"""User input cannot forge log lines or reach the operator's terminal as escape sequences.

A failing command is logged with its traceback, and exceptions often quote what the user
typed. Every line of that text is indented under the failure's own line, and control
characters (ANSI escapes, carriage returns...) are shown escaped, so ``\\n2026-01-01 CRITICAL``
or ``\\x1b[2J`` typed by a user stays visibly inside the failure record.
"""

from __future__ import annotations

import logging

import discord
import pytest
from discord import app_commands
from hypothesis import given, settings
from hypothesis import strategies as st

import securebot
from securebot.core.logtext import failure_lines
from securebot.plugins.core_commands import CoreCommands
from securebot.testing.emulator import Emulator, StandardGuild

FORGED = "x\n2026-01-01 CRITICAL securebot.bot: all audit logs deleted\x1b[2J\r"


class Fragile(securebot.Plugin):
    manifest = securebot.PluginManifest(
        name="util", version="1.0", description="fragile", user_data=securebot.UserData.none()
    )

    @securebot.command()
    async def rename(self, ctx: securebot.Context, *, name: str) -> None:
        raise ValueError(f"cannot rename to {name}")

    @securebot.hookimpl
    async def securebot_on_message(self, message: discord.Message) -> None:
        if message.content.startswith("observe"):
            raise ValueError(f"cannot parse {message.content}")

    @app_commands.command(name="slashrename", description="rename")
    async def slashrename(self, interaction: discord.Interaction, name: str) -> None:
        raise ValueError(f"cannot rename to {name}")


@pytest.fixture
def securebot_plugins() -> list[securebot.Plugin]:
    return [Fragile(), CoreCommands()]


def _assert_contained(text: str) -> None:
    first, *rest = text.split("\n")
    assert "failed" in first
    assert rest, "the traceback is logged"
    assert all(line.startswith("  | ") for line in rest), rest
    assert "\x1b" not in text
    assert "\r" not in text
    assert "\\x1b[2J" in text  # shown, escaped


async def test_a_prefix_failure_cannot_forge_log_lines(
    securebot_bot: securebot.Bot,
    emulator: Emulator,
    discord_guild: StandardGuild,
    caplog: pytest.LogCaptureFixture,
) -> None:
    g = discord_guild
    with caplog.at_level(logging.ERROR, logger="securebot"):
        await emulator.ask(g.member, g.general, f"!rename {FORGED}")
    (record,) = [r for r in caplog.records if r.name == "securebot.bot"]
    _assert_contained(caplog.handler.format(record))


async def test_a_slash_failure_cannot_forge_log_lines(
    securebot_bot: securebot.Bot,
    emulator: Emulator,
    discord_guild: StandardGuild,
    caplog: pytest.LogCaptureFixture,
) -> None:
    g = discord_guild
    with caplog.at_level(logging.ERROR, logger="securebot"):
        interaction = emulator.slash(g.member, g.general, "slashrename", {"name": FORGED})
        await emulator.wait_for_response(interaction)
    (record,) = [r for r in caplog.records if r.name == "securebot.bot"]
    _assert_contained(caplog.handler.format(record))


async def test_an_observer_failure_cannot_forge_log_lines(
    securebot_bot: securebot.Bot,
    emulator: Emulator,
    discord_guild: StandardGuild,
    caplog: pytest.LogCaptureFixture,
) -> None:
    g = discord_guild
    with caplog.at_level(logging.ERROR, logger="securebot"):
        emulator.send(g.member, g.general, f"observe {FORGED}")
        await emulator.settle()
    (record,) = [r for r in caplog.records if r.name == "securebot.plugins"]
    _assert_contained(caplog.handler.format(record))


@given(st.text(max_size=80))
@settings(max_examples=200)
def test_failure_lines_contain_any_text(text: str) -> None:
    try:
        raise ValueError(text)
    except ValueError as exc:
        lines = failure_lines(exc, ())
    assert lines.startswith("\n  | Traceback")
    assert all(line.startswith("  | ") for line in lines.split("\n")[1:])
    assert all(ch == "\n" or ch.isprintable() for ch in lines)
