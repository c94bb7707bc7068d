"""Slash commands go through the same permission engine as prefix commands (emulator, real
discord.py): module grants, a disabled module, Discord's ``default_permissions`` enforced (it is
only a hint to clients), refusals answered ephemerally and audited with ``via="slash"``."""

from __future__ import annotations

import discord
import pytest
from discord import app_commands

import securebot
from securebot.core.audit import EventKind
from securebot.core.permissions import ModulePolicy
from securebot.core.plugin import CommandInfo
from securebot.plugins.core_commands import CoreCommands
from securebot.testing.emulator import Emulator, StandardGuild


class SlashModeration(securebot.Plugin):
    """A restricted module with two slash commands."""

    manifest = securebot.PluginManifest(
        name="moderation",
        version="1.0",
        description="slash sample",
        user_data=securebot.UserData.none(),
    )

    @app_commands.command(name="modslash", description="a moderation slash command")
    async def modslash(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("slash ok")

    @app_commands.command(name="slashban", description="needs Ban Members")
    @app_commands.default_permissions(ban_members=True)
    async def slashban(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("would ban")


class SlashRooms(securebot.Plugin):
    """An everyone module whose slash command takes a secret option (a room PIN)."""

    manifest = securebot.PluginManifest(
        name="raidroom",
        version="1.0",
        description="slash sample with a secret option",
        user_data=securebot.UserData.none(),
    )

    @app_commands.command(
        name="roomjoin",
        description="join a room",
        extras={"securebot": CommandInfo(secret_params={"pin"})},
    )
    async def roomjoin(
        self, interaction: discord.Interaction, room: int, pin: str, member: discord.Member
    ) -> None:
        await interaction.response.send_message(f"joined {room}", ephemeral=True)


@pytest.fixture
def securebot_plugins() -> list[securebot.Plugin]:
    return [SlashModeration(), SlashRooms(), CoreCommands()]


async def run(emulator: Emulator, user, channel, name: str) -> tuple[str, bool]:  # type: ignore[no-untyped-def]
    interaction = emulator.slash(user, channel, name)
    await emulator.wait_for_response(interaction)
    message = emulator.response_message(interaction)
    assert message is not None
    return message.content, bool(message.flags & 64)


async def test_slash_commands_follow_module_grants_and_switches(
    securebot_bot: securebot.Bot, emulator: Emulator, discord_guild: StandardGuild
) -> None:
    g = discord_guild
    assert await run(emulator, g.admin, g.general, "modslash") == ("slash ok", False)
    content, ephemeral = await run(emulator, g.member, g.general, "modslash")
    assert content == (
        "You can't use this here: the moderation module has not been granted to you."
    )
    assert ephemeral
    await securebot_bot.permissions.update(
        g.guild.id,
        lambda p: p.with_module("moderation", ModulePolicy(granted_users={g.member.id})),
    )
    assert await run(emulator, g.member, g.general, "modslash") == ("slash ok", False)
    await securebot_bot.permissions.update(
        g.guild.id, lambda p: p.with_module("moderation", ModulePolicy(enabled=False))
    )
    content, _ = await run(emulator, g.owner, g.general, "modslash")
    assert "disabled" in content


async def test_default_permissions_are_enforced_not_just_hinted(
    securebot_bot: securebot.Bot, emulator: Emulator, discord_guild: StandardGuild
) -> None:
    g = discord_guild
    await securebot_bot.permissions.update(
        g.guild.id,
        lambda p: p.with_module("moderation", ModulePolicy(granted_users={g.member.id})),
    )
    content, ephemeral = await run(emulator, g.member, g.general, "slashban")
    assert content == "You can't use this here: you need the ban_members permission(s)."
    assert ephemeral
    content, _ = await run(emulator, g.moderator, g.general, "slashban")  # Ban, but no grant
    assert content.endswith("the moderation module has not been granted to you.")
    assert await run(emulator, g.admin, g.general, "slashban") == ("would ban", False)


async def test_slash_invocations_are_audited_allowed_and_denied(
    securebot_bot: securebot.Bot, emulator: Emulator, discord_guild: StandardGuild
) -> None:
    g = discord_guild
    await run(emulator, g.admin, g.general, "modslash")
    await run(emulator, g.member, g.general, "modslash")
    await emulator.settle()
    await securebot_bot.audit_log.flush()
    events = [
        e.event
        for e in await securebot_bot.audit_log.entries(str(g.guild.id))
        if e.event.kind is EventKind.COMMAND
    ]
    assert [(e.via, e.action, e.actor_id, e.outcome, e.rule) for e in events] == [
        ("slash", "modslash", g.admin.id, "ok", "permissions:default-manager"),
        ("slash", "modslash", g.member.id, "denied", "permissions:not-granted"),
    ]


async def test_slash_options_are_audited_with_secret_options_redacted(
    securebot_bot: securebot.Bot, emulator: Emulator, discord_guild: StandardGuild
) -> None:
    g = discord_guild
    interaction = emulator.slash(
        g.member, g.general, "roomjoin", {"room": 7, "pin": "hunter2-pin", "member": g.admin}
    )
    await emulator.wait_for_response(interaction)
    await emulator.settle()
    await securebot_bot.audit_log.flush()
    (event,) = [
        e.event
        for e in await securebot_bot.audit_log.entries(str(g.guild.id))
        if e.event.kind is EventKind.COMMAND and e.event.action == "roomjoin"
    ]
    assert event.outcome == "ok"
    assert dict(event.arguments) == {
        "room": "7",
        "pin": "<redacted>",
        "member": f"user:{g.admin.id}",
    }
    stored = await securebot_bot.audit_log.store.read(str(g.guild.id))
    assert "hunter2-pin" not in repr(stored)
