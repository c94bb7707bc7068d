"""Scheduling into a channel the user cannot post in is refused when scheduling (emulator,
real discord.py), not only skipped when due: nothing is stored and the refusal does not name
the hidden channel."""

from __future__ import annotations

import pytest

import securebot
from securebot.plugins.core_commands import CoreCommands
from securebot.plugins.scheduler import SchedulerPlugin
from securebot.testing.emulator import Emulator, StandardGuild


@pytest.fixture
def securebot_plugins() -> list[securebot.Plugin]:
    return [SchedulerPlugin(), CoreCommands()]


async def test_a_hidden_channel_cannot_be_targeted(
    securebot_bot: securebot.Bot, emulator: Emulator, discord_guild: StandardGuild
) -> None:
    g = discord_guild
    reply = await emulator.ask(
        g.member, g.general, f"!schedule --i 2m --channel <#{g.staff.id}> --command ping"
    )
    assert reply.content == "You can't schedule commands in that channel: you cannot post there."
    assert await securebot_bot.scheduler.store.jobs() == []
    allowed = await emulator.ask(
        g.moderator, g.general, f"!schedule --i 2m --channel <#{g.staff.id}> --command ping"
    )
    assert allowed.content.startswith("Scheduled `ping` in #staff")
