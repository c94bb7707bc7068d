"""Rate limits count only invocations the permission engine allowed (DESIGN §4: permissions,
then cooldown / rate limit, then the handler).

Otherwise anyone refused a command could spend a shared (per-guild or per-channel) budget and
lock out the people allowed to run it; a refused attempt also must not be answered as
"on cooldown" (it would tell the user the command exists for them).
"""

from __future__ import annotations

import pytest

import securebot
from securebot.core.audit import EventKind
from securebot.core.cooldowns import rate_limit
from securebot.plugins.core_commands import CoreCommands
from securebot.testing.emulator import Emulator, StandardGuild


class Announcements(securebot.Plugin):
    """A restricted module (managers only) with a per-guild budget."""

    manifest = securebot.PluginManifest(
        name="moderation", version="1.0", description="ann", user_data=securebot.UserData.none()
    )

    @rate_limit(2, 3600, per="guild")
    @securebot.command()
    async def announce(self, ctx: securebot.Context) -> None:
        await ctx.send("announced")


@pytest.fixture
def securebot_plugins() -> list[securebot.Plugin]:
    return [Announcements(), CoreCommands()]


async def test_refused_users_do_not_spend_a_shared_budget(
    securebot_bot: securebot.Bot, emulator: Emulator, discord_guild: StandardGuild
) -> None:
    g = discord_guild
    for _ in range(3):  # not granted: refused silently, every time
        emulator.send(g.member, g.general, "!announce")
    await emulator.settle()
    assert emulator.bot_messages() == []
    assert (await emulator.ask(g.admin, g.general, "!announce")).content == "announced"
    assert (await emulator.ask(g.admin, g.general, "!announce")).content == "announced"
    third = await emulator.ask(g.admin, g.general, "!announce")
    assert "cooldown" in third.content.lower() or "try again" in third.content.lower()
    await securebot_bot.audit_log.flush()
    outcomes = [
        (e.event.actor_id, e.event.outcome)
        for e in await securebot_bot.audit_log.entries(str(g.guild.id))
        if e.event.kind is EventKind.COMMAND
    ]
    assert outcomes == [
        *[(g.member.id, "denied")] * 3,
        (g.admin.id, "ok"),
        (g.admin.id, "ok"),
        (g.admin.id, "rate-limited"),
    ]
