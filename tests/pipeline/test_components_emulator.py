"""Components go through the same permission engine (emulator, real discord.py): a button of a
:class:`securebot.SecureView` is refused ephemerally to a member the module is not granted to,
works for a manager, stops when the module is disabled, needs the declared Discord permissions,
and every click is audited with ``via="component"``."""

from __future__ import annotations

import discord
import pytest

import securebot
from securebot.core.audit import EventKind
from securebot.core.permissions import ModulePolicy, Requirement, permission_bits
from securebot.plugins.core_commands import CoreCommands
from securebot.testing.emulator import Emulator, StandardGuild


class Panel(securebot.SecureView):
    @discord.ui.button(label="Close", custom_id="mod:close")
    async def close(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(content="closed", view=None)


class PanelPlugin(securebot.Plugin):
    manifest = securebot.PluginManifest(
        name="moderation", version="1.0", description="panel", user_data=securebot.UserData.none()
    )

    @securebot.command()
    async def panel(self, ctx: securebot.Context, strict: bool = False) -> None:
        need = Requirement(user_permissions=permission_bits(["ban_members"])) if strict else None
        await ctx.send("Close the case?", view=Panel(module="moderation", requirement=need))


@pytest.fixture
def securebot_plugins() -> list[securebot.Plugin]:
    return [PanelPlugin(), CoreCommands()]


async def click(emulator: Emulator, user, message) -> str | None:  # type: ignore[no-untyped-def]
    interaction = emulator.click(user, message, "mod:close")
    await emulator.wait_for_response(interaction)
    refusal = emulator.response_message(interaction)
    return refusal.content if refusal is not None and refusal.flags & 64 else None


async def test_buttons_follow_the_permission_engine(
    securebot_bot: securebot.Bot, emulator: Emulator, discord_guild: StandardGuild
) -> None:
    g = discord_guild
    question = await emulator.ask(g.admin, g.general, "!panel")
    refusal = await click(emulator, g.member, question)
    assert refusal == "You can't use this here: the moderation module has not been granted to you."
    assert question.content == "Close the case?"
    await securebot_bot.permissions.update(
        g.guild.id, lambda p: p.with_module("moderation", ModulePolicy(enabled=False))
    )
    assert "disabled" in (await click(emulator, g.owner, question) or "")
    await securebot_bot.permissions.update(
        g.guild.id, lambda p: p.with_module("moderation", ModulePolicy())
    )
    assert await click(emulator, g.admin, question) is None
    assert question.content == "closed"
    await securebot_bot.audit_log.flush()
    clicks = [
        (e.event.actor_id, e.event.outcome, e.event.rule)
        for e in await securebot_bot.audit_log.entries(str(g.guild.id))
        if e.event.kind is EventKind.COMMAND and e.event.via == "component"
    ]
    assert clicks == [
        (g.member.id, "denied", "permissions:not-granted"),
        (g.owner.id, "denied", "permissions:module-disabled"),
        (g.admin.id, "ok", "permissions:default-manager"),
    ]


async def test_a_component_requirement_checks_discord_permissions(
    securebot_bot: securebot.Bot, emulator: Emulator, discord_guild: StandardGuild
) -> None:
    g = discord_guild
    await securebot_bot.permissions.update(
        g.guild.id,
        lambda p: p.with_module("moderation", ModulePolicy(granted_users={g.member.id})),
    )
    question = await emulator.ask(g.admin, g.general, "!panel true")
    refusal = await click(emulator, g.member, question)
    assert refusal == "You can't use this here: you need the ban_members permission(s)."
    assert await click(emulator, g.admin, question) is None
    assert question.content == "closed"
