"""A subcommand is audited under its own name with the verdict that decided it.

``!cfg set ...`` runs the permission engine for the group and for the subcommand; the audit
record names the subcommand (``cfg set``), the rule that decided *it* and its arguments with
secrets redacted, whether it ran or was refused.
"""

from __future__ import annotations

import pytest
from discord.ext import commands

import securebot
from securebot.core.audit import EventKind
from securebot.core.audit.model import AuditEvent
from securebot.core.permissions import requires
from securebot.core.plugin import CommandInfo
from securebot.plugins.core_commands import CoreCommands
from securebot.testing.emulator import Emulator, StandardGuild


class Settings(securebot.Plugin):
    manifest = securebot.PluginManifest(
        name="util", version="1.0", description="groups", user_data=securebot.UserData.none()
    )

    @commands.group(invoke_without_command=True)
    async def cfg(self, ctx: securebot.Context) -> None:
        await ctx.send("cfg")

    @requires(user={"manage_guild"})
    @cfg.command(name="set", extras={"securebot": CommandInfo(secret_params={"token"})})
    async def cfg_set(self, ctx: securebot.Context, key: str, token: str) -> None:
        await ctx.send(f"set {key}")


@pytest.fixture
def securebot_plugins() -> list[securebot.Plugin]:
    return [Settings(), CoreCommands()]


async def _commands(bot: securebot.Bot, guild: int) -> list[AuditEvent]:
    await bot.audit_log.flush()
    return [
        e.event
        for e in await bot.audit_log.entries(str(guild))
        if e.event.kind is EventKind.COMMAND
    ]


async def test_subcommands_are_audited_with_their_own_name_and_verdict(
    securebot_bot: securebot.Bot, emulator: Emulator, discord_guild: StandardGuild
) -> None:
    g = discord_guild
    assert (await emulator.ask(g.admin, g.general, "!cfg set color s3cr3t")).content == "set color"
    refused = await emulator.ask(g.member, g.general, "!cfg set color s3cr3t")
    assert "Manage Server" in refused.content or "manage_guild" in refused.content
    events = await _commands(securebot_bot, g.guild.id)
    assert [(e.actor_id, e.action, e.outcome, e.rule, dict(e.arguments)) for e in events] == [
        (
            g.admin.id,
            "cfg set",
            "ok",
            "permissions:default-everyone",
            {"key": "color", "token": "<redacted>"},
        ),
        (g.member.id, "cfg set", "denied", "permissions:missing-permissions", {}),
    ]
