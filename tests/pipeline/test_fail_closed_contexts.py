"""Fail closed where the context is unusual (emulator, real discord.py).

A direct message has no server, so nobody holds Manage Server there: a module that is not open
to everyone is refused in DMs (everyone modules still work). A permission check that cannot
decide (the policy store is down, a stored policy is damaged) refuses slash commands and
component clicks exactly as it refuses prefix commands: the user is told, the handler does not
run, and the refusal is audited once with ``permissions:error``.
"""

from __future__ import annotations

import discord
import pytest
from discord import app_commands

import securebot
from securebot.core.audit import EventKind
from securebot.core.audit.model import AuditEvent
from securebot.core.permissions import GuildPolicy
from securebot.plugins.core_commands import CoreCommands
from securebot.testing.emulator import BotAccount, Emulator, StandardGuild


class Panel(securebot.SecureView):
    @discord.ui.button(label="Close", custom_id="mod:close")
    async def close(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(content="closed", view=None)


class Restricted(securebot.Plugin):
    """A module for managers only (not in the everyone list)."""

    manifest = securebot.PluginManifest(
        name="moderation",
        version="1.0",
        description="restricted sample",
        user_data=securebot.UserData.none(),
    )

    @securebot.command()
    async def modping(self, ctx: securebot.Context) -> None:
        await ctx.send("modpong")

    @securebot.command()
    async def panel(self, ctx: securebot.Context) -> None:
        await ctx.send("Close the case?", view=Panel(module="moderation"))

    @app_commands.command(name="modslash", description="a moderation slash command")
    async def modslash(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("slash ok")


class BrokenPolicies:
    """A policy store whose backend is down."""

    async def load(self, guild_id: int) -> GuildPolicy | None:
        raise ConnectionError("store unreachable")

    async def save(self, guild_id: int, policy: GuildPolicy) -> None:
        raise ConnectionError("store unreachable")


@pytest.fixture
def securebot_plugins() -> list[securebot.Plugin]:
    return [Restricted(), CoreCommands()]


async def _commands(bot: securebot.Bot, chain: str) -> list[AuditEvent]:
    await bot.audit_log.flush()
    return [
        e.event for e in await bot.audit_log.entries(chain) if e.event.kind is EventKind.COMMAND
    ]


async def test_restricted_modules_are_refused_in_direct_messages(
    securebot_bot: securebot.Bot,
    emulator: Emulator,
    discord_guild: StandardGuild,
    discord_bot_account: BotAccount,
) -> None:
    g = discord_guild
    for user in (g.member, g.admin):  # an administrator of some server is nobody in a DM
        emulator.dm(user, discord_bot_account, "!modping")
        await emulator.settle()
        replies = [m.content for m in emulator.dms(user) if m.author_id != user.id]
        assert "modpong" not in replies
        assert replies[-1] == (
            "You can't use this command here: the moderation module only works in a server."
        )
    emulator.dm(g.member, discord_bot_account, "!ping")  # an everyone module still works
    await emulator.settle()
    assert emulator.dms(g.member)[-1].content.startswith("pong")
    events = await _commands(securebot_bot, "global")
    assert [(e.actor_id, e.action, e.outcome, e.rule) for e in events] == [
        (g.member.id, "modping", "denied", "permissions:guild-only"),
        (g.admin.id, "modping", "denied", "permissions:guild-only"),
        (g.member.id, "ping", "ok", "permissions:direct-message"),
    ]


async def test_an_undecidable_slash_command_is_refused_and_audited_once(
    securebot_bot: securebot.Bot, emulator: Emulator, discord_guild: StandardGuild
) -> None:
    g = discord_guild
    securebot_bot.permissions.store = BrokenPolicies()
    securebot_bot.permissions.forget(g.guild.id)
    interaction = emulator.slash(g.admin, g.general, "modslash")
    await emulator.wait_for_response(interaction)
    answer = emulator.response_message(interaction)
    assert answer is not None
    assert answer.content == (
        "You can't use this here: the permission settings could not be read; try again later."
    )
    assert answer.flags & 64  # ephemeral
    await emulator.settle()
    events = await _commands(securebot_bot, str(g.guild.id))
    assert [(e.via, e.action, e.outcome, e.rule) for e in events] == [
        ("slash", "modslash", "denied", "permissions:error")
    ]


async def test_an_undecidable_click_is_refused_and_audited(
    securebot_bot: securebot.Bot, emulator: Emulator, discord_guild: StandardGuild
) -> None:
    g = discord_guild
    question = await emulator.ask(g.admin, g.general, "!panel")
    securebot_bot.permissions.store = BrokenPolicies()
    securebot_bot.permissions.forget(g.guild.id)
    interaction = emulator.click(g.admin, question, "mod:close")
    await emulator.wait_for_response(interaction)
    answer = emulator.response_message(interaction)
    assert answer is not None
    assert answer.flags & 64
    assert "could not be read" in answer.content
    assert question.content == "Close the case?"  # the button's handler did not run
    events = await _commands(securebot_bot, str(g.guild.id))
    assert [(e.via, e.outcome, e.rule) for e in events if e.via == "component"] == [
        ("component", "denied", "permissions:error")
    ]
