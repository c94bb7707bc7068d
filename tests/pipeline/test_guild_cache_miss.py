"""A message from a server the bot has not cached (startup, an outage, a cache miss) is not
a direct message: the server's settings cannot be read, so commands are refused instead of
running as if no server settings existed."""

from __future__ import annotations

import discord
import pytest
from discord import app_commands

import securebot
from securebot.core.audit import EventKind
from securebot.core.permissions import ModulePolicy
from securebot.plugins.core_commands import CoreCommands
from securebot.testing.emulator import Emulator, StandardGuild


class Slash(securebot.Plugin):
    manifest = securebot.PluginManifest(
        name="util", version="1.0", description="slash", user_data=securebot.UserData.none()
    )

    @app_commands.command(name="hello", description="say hello")
    async def hello(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("hello")


@pytest.fixture
def securebot_plugins() -> list[securebot.Plugin]:
    return [CoreCommands(), Slash()]


async def test_an_uncached_server_is_refused_not_treated_as_a_dm(
    securebot_bot: securebot.Bot, emulator: Emulator, discord_guild: StandardGuild
) -> None:
    g = discord_guild
    await securebot_bot.permissions.update(
        g.guild.id,
        lambda p: p.with_module("core_commands", ModulePolicy(denied_users={g.member.id})),
    )
    assert await emulator.ask(g.admin, g.general, "!ping")  # the server works while cached
    cached = securebot_bot.get_guild(g.guild.id)
    assert cached is not None
    securebot_bot._connection._remove_guild(cached)  # the cache loses the server
    before = len(emulator.bot_messages())
    emulator.send(g.member, g.general, "!ping")
    await emulator.settle()
    assert not [m for m in emulator.bot_messages()[before:] if m.content.startswith("pong")]
    await securebot_bot.audit_log.flush()
    refused = [
        (e.event.actor_id, e.event.action, e.event.outcome, e.event.rule)
        for chain in await securebot_bot.audit_log.store.chains()
        for e in await securebot_bot.audit_log.entries(chain)
        if e.event.kind is EventKind.COMMAND and e.event.actor_id == g.member.id
    ]
    assert refused == [(g.member.id, "ping", "denied", "permissions:guild-unavailable")]


async def test_a_slash_command_from_an_uncached_server_still_follows_its_settings(
    securebot_bot: securebot.Bot, emulator: Emulator, discord_guild: StandardGuild
) -> None:
    """An interaction names its server (discord.py builds a partial one): the server's policy
    is still read by id, so a deny holds while the cache misses the server."""
    g = discord_guild
    await securebot_bot.permissions.update(
        g.guild.id, lambda p: p.with_module("util", ModulePolicy(denied_users={g.member.id}))
    )
    cached = securebot_bot.get_guild(g.guild.id)
    assert cached is not None
    securebot_bot._connection._remove_guild(cached)
    refused = emulator.slash(g.member, g.general, "hello")
    await emulator.wait_for_response(refused)
    answer = emulator.response_message(refused)
    assert answer is not None
    assert answer.content == "You can't use this here: you are denied the util module here."
    allowed = emulator.slash(g.admin, g.general, "hello")
    await emulator.wait_for_response(allowed)
    answer = emulator.response_message(allowed)
    assert answer is not None
    assert answer.content == "hello"
