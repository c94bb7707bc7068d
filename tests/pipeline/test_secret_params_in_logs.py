"""Secret parameters never reach the log, even inside the exception of a failing command.

A handler that trips over its secret argument (``int(pin)``) raises an exception whose text
quotes the value; the bot logs the failure with its traceback. The values of the command's
``secret_params`` (prefix) or secret options (slash) are replaced by ``<redacted>`` there, and
the user sees only the one-line apology.
"""

from __future__ import annotations

import logging

import discord
import pytest
from discord import app_commands

import securebot
from securebot.core.plugin import CommandInfo
from securebot.plugins.core_commands import CoreCommands
from securebot.testing.emulator import Emulator, StandardGuild

PIN = "hunter2-PIN"


class Vault(securebot.Plugin):
    manifest = securebot.PluginManifest(
        name="util", version="1.0", description="vault", user_data=securebot.UserData.none()
    )

    @securebot.command(secret_params=["pin"])
    async def unlock(self, ctx: securebot.Context, room: int, pin: str) -> None:
        await ctx.send(f"room {room} code {int(pin)}")  # ValueError quoting the pin

    @app_commands.command(
        name="slashunlock",
        description="unlock",
        extras={"securebot": CommandInfo(secret_params={"pin"})},
    )
    async def slashunlock(self, interaction: discord.Interaction, room: int, pin: str) -> None:
        raise ValueError(f"wrong pin {pin!r} for room {room}")


@pytest.fixture
def securebot_plugins() -> list[securebot.Plugin]:
    return [Vault(), CoreCommands()]


async def test_a_failing_prefix_command_logs_no_secret_argument(
    securebot_bot: securebot.Bot,
    emulator: Emulator,
    discord_guild: StandardGuild,
    caplog: pytest.LogCaptureFixture,
) -> None:
    g = discord_guild
    with caplog.at_level(logging.ERROR, logger="securebot"):
        reply = await emulator.ask(g.member, g.general, f"!unlock 7 {PIN}")
    assert reply.content == "Something went wrong while running this command; it has been logged."
    failures = [r for r in caplog.records if r.name == "securebot.bot"]
    assert failures, "the failure was logged"
    logged = "\n".join(caplog.handler.format(r) for r in failures)
    assert "unlock" in logged
    assert "ValueError" in logged
    assert PIN not in logged
    assert "<redacted>" in logged
    assert not [r for r in failures if PIN in str(vars(r))]  # nor anywhere on the record


async def test_a_failing_slash_command_logs_no_secret_option(
    securebot_bot: securebot.Bot,
    emulator: Emulator,
    discord_guild: StandardGuild,
    caplog: pytest.LogCaptureFixture,
) -> None:
    g = discord_guild
    with caplog.at_level(logging.ERROR, logger="securebot"):
        interaction = emulator.slash(g.member, g.general, "slashunlock", {"room": 7, "pin": PIN})
        await emulator.wait_for_response(interaction)
    failures = [r for r in caplog.records if r.name == "securebot.bot"]
    assert failures, "the failure was logged"
    logged = "\n".join(caplog.handler.format(r) for r in failures)
    assert "ValueError" in logged
    assert PIN not in logged
    assert "<redacted>" in logged
    assert not [r for r in failures if PIN in str(vars(r))]
