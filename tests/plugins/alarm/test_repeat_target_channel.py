"""``repeat --c #channel`` needs the author to post there, when created and at every post
(emulator, real discord.py).

``repeat`` needs Manage Messages where it is typed; without a check on the target channel a
moderator could make the bot post, every interval, in a channel they cannot post in (a
read-only announcements channel, a hidden one).
"""

from __future__ import annotations

import pytest

import securebot
from securebot.core.audit import EventKind
from securebot.plugins.alarm import Alarm
from securebot.plugins.core_commands import CoreCommands
from securebot.testing.emulator import Emulator, StandardGuild
from securebot.testing.emulator import permissions as bits


@pytest.fixture
def securebot_plugins() -> list[securebot.Plugin]:
    return [Alarm(), CoreCommands()]


async def test_a_repeat_cannot_target_a_channel_its_author_cannot_post_in(
    securebot_bot: securebot.Bot, emulator: Emulator, discord_guild: StandardGuild
) -> None:
    g = discord_guild
    news = emulator.create_channel(g.guild, "announcements")
    emulator.set_overwrite(news, g.guild.everyone, deny=bits.SEND_MESSAGES)  # read-only
    await emulator.settle()
    reply = await emulator.ask(g.moderator, g.general, f"!repeat --m buy now --c <#{news.id}>")
    assert reply.content == (
        "You can't make repeating messages in that channel: you need to post and manage "
        "messages there."
    )
    reply = await emulator.ask(g.moderator, g.general, f"!repeat --m patrol --c <#{g.staff.id}>")
    assert reply.content.startswith("Repeating in #staff")
    assert len(await securebot_bot.scheduler.store.jobs()) == 1


async def test_a_repeat_stops_posting_when_its_author_loses_the_channel(
    securebot_bot: securebot.Bot, emulator: Emulator, discord_guild: StandardGuild
) -> None:
    g = discord_guild
    reply = await emulator.ask(g.moderator, g.general, f"!repeat --m patrol --c <#{g.staff.id}>")
    assert reply.content.startswith("Repeating in #staff")
    (job,) = await securebot_bot.scheduler.store.jobs()
    emulator.set_overwrite(
        g.staff, g.moderator_role, allow=bits.VIEW_CHANNEL, deny=bits.SEND_MESSAGES
    )
    await emulator.settle()
    before = len(emulator.messages(g.staff))
    await securebot_bot.scheduler.run_now(job.id)
    await emulator.settle()
    assert len(emulator.messages(g.staff)) == before
    await securebot_bot.audit_log.flush()
    outcomes = [
        e.event.outcome
        for e in await securebot_bot.audit_log.entries(str(g.guild.id))
        if e.event.kind is EventKind.JOB
    ]
    assert outcomes == ["skipped:member-cannot-send"]


async def test_a_reminder_cannot_target_a_hidden_channel_nor_name_it(
    securebot_bot: securebot.Bot, emulator: Emulator, discord_guild: StandardGuild
) -> None:
    g = discord_guild
    reply = await emulator.ask(g.member, g.general, f"!remind <#{g.staff.id}> 2m psst")
    assert reply.content == "You can't send messages in that channel."
    assert await securebot_bot.scheduler.store.jobs() == []
