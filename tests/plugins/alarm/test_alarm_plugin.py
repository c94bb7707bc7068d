"""The ``alarm`` plugin on a settable clock: reminders by DM and in channels, repeats with
their limits, run-time permission re-checks, bad input."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest
from tests.pipeline import stub
from tests.pipeline.harness import stub_bot
from tests.pipeline.stub import ALICE, BOB, GENERAL, GUILD, OWNER, STAFF

import securebot
from securebot.core.audit import EventKind
from securebot.core.scheduler import ManualClock, MemoryJobStore, Scheduler
from securebot.plugins.alarm import Alarm
from securebot.plugins.core_commands import CoreCommands

T0 = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


async def settle() -> None:
    for _ in range(60):
        await asyncio.sleep(0)


def clocked(clock: ManualClock, store: MemoryJobStore):  # type: ignore[no-untyped-def]
    def setup(bot: securebot.Bot) -> None:
        bot.clock = clock
        bot.scheduler = Scheduler(store, clock=clock)

    return setup


@pytest.fixture
async def env() -> AsyncIterator[tuple[securebot.Bot, stub.StubDiscord, ManualClock]]:
    clock = ManualClock(T0)
    async with stub_bot([Alarm(), CoreCommands()], setup=clocked(clock, MemoryJobStore())) as (
        bot,
        d,
    ):
        yield bot, d, clock


async def test_reminders_by_dm_here_and_in_a_channel(env) -> None:
    _bot, d, clock = env
    (reply,) = await d.say("!remind me 2m stretch your legs")
    assert reply.startswith("I will remind you by DM <t:")
    (reply,) = await d.say("!remind here 3m tea")
    assert reply.startswith("I will remind you in #general <t:")
    await d.say(f"!remind <#{STAFF}> 1h30m standup")
    mark = len(d.http.sent)
    await clock.advance(dt.timedelta(minutes=2))
    await settle()
    assert d.http.sent[mark:] == [
        (stub.DM_CHANNEL, "⏰ Reminder from Test Guild: stretch your legs")
    ]
    await clock.advance(dt.timedelta(minutes=1))
    await settle()
    assert d.http.sent[-1] == (GENERAL, f"⏰ <@{ALICE}>, reminder: tea")
    await clock.advance(dt.timedelta(hours=2))
    await settle()
    assert d.http.sent[-1] == (STAFF, f"⏰ <@{ALICE}>, reminder: standup")
    assert len(d.http.sent) == mark + 3


async def test_list_and_delete_own_reminders(env) -> None:
    bot, d, _clock = env
    await d.say("!remind me 5m one")
    await d.say("!remind here 10m two")
    await d.say("!remind me 5m bobs", author=BOB)
    (listing,) = await d.say("!remindls")
    assert "1. <t:" in listing
    assert "by DM: one" in listing
    assert f"in <#{GENERAL}>: two" in listing
    assert "bobs" not in listing
    assert await d.say("!remindrm 1") == ["Deleted reminder 1."]
    (listing,) = await d.say("!remindlist")
    assert "one" not in listing
    assert "two" in listing
    (reply,) = await d.say("!reminddel 5")
    assert "`5` is not in your list (1 to 1)" in reply
    assert len(await bot.scheduler.store.jobs()) == 2


async def test_reminders_are_rechecked_when_due(env) -> None:
    bot, d, clock = env
    await d.say("!remind here 2m from alice")
    await d.say("!remind here 2m from bob", author=BOB)
    await bot.permissions.update(
        GUILD, lambda p: p.with_module("alarm", securebot.ModulePolicy(denied_users={ALICE}))
    )
    d.guild._remove_member(d.guild.get_member(BOB))
    mark = len(d.http.sent)
    await clock.advance(dt.timedelta(minutes=2))
    await settle()
    assert d.http.sent[mark:] == []
    await bot.audit_log.flush()
    outcomes = sorted(
        e.event.outcome
        for e in await bot.audit_log.entries(str(GUILD))
        if e.event.kind is EventKind.JOB
    )
    assert outcomes == ["skipped:denied:permissions:user-deny", "skipped:member-left"]


async def test_repeat_posts_every_interval_and_deletes_the_previous_copy(env) -> None:
    bot, d, clock = env
    (reply,) = await d.say("!repeat 60 drink water", author=OWNER)
    assert reply.startswith("Repeating in #general every 60 minute(s), first post <t:")
    mark = len(d.http.calls)
    await clock.advance(dt.timedelta(minutes=60))
    await settle()
    await clock.advance(dt.timedelta(minutes=60))
    await settle()
    calls = [(m, p) for m, p, _ in d.http.calls[mark:]]
    assert calls == [
        ("POST", "/channels/{channel_id}/messages"),
        ("POST", "/channels/{channel_id}/messages"),
        ("DELETE", "/channels/{channel_id}/messages/{message_id}"),
    ]
    assert [text for _, text in d.http.sent[-2:]] == ["drink water", "drink water"]
    (job,) = await bot.scheduler.store.jobs(kind="alarm.repeat")
    assert job.due == T0 + dt.timedelta(minutes=180)


async def test_repeat_flags_default_interval_no_redundant_invoke_remove(env) -> None:
    bot, d, clock = env
    (reply,) = await d.say(f"!repeat --m rules! --c <#{STAFF}> --no-redundant", author=OWNER)
    assert "every 1440 minute(s)" in reply
    (job,) = await bot.scheduler.store.jobs(kind="alarm.repeat")
    assert job.interval == 86_400
    assert job.channel_id == STAFF
    mark = len(d.http.sent)
    await d.say("!repinv 1", author=OWNER)
    await settle()
    assert d.http.sent[mark:] == [(STAFF, "rules!")]
    staff = d.guild.get_channel(STAFF)
    staff.last_message_id = bot.get_cog("alarm").last_posts[job.id]  # nobody spoke since
    await clock.advance(dt.timedelta(days=1))
    await settle()
    assert d.http.sent[mark:] == [(STAFF, "rules!")]  # redundant: skipped
    (listing,) = await d.say("!repls")
    assert listing.startswith(f"1. <#{STAFF}> every 1440 minute(s)")
    assert await d.say("!reprm 1", author=OWNER) == ["Removed repeating message 1."]
    assert await bot.scheduler.store.jobs() == []


async def test_repeat_needs_manage_messages_and_five_per_server(env) -> None:
    _bot, d, _clock = env
    (reply,) = await d.say("!repeat 5 spam")
    assert reply == "You can't use this command here: you need the manage_messages permission(s)."
    for n in range(5):
        await d.say(f"!repeat {n + 1} r{n}", author=OWNER)
    (reply,) = await d.say("!repeat 9 r6", author=OWNER)
    assert "already has 5 repeating messages" in reply


async def test_premium_tier_1_has_unlimited_repeats() -> None:
    clock = ManualClock(T0)
    config = {"plugin": {"alarm": {"premium_tiers": {str(GUILD): 1}}}}
    async with stub_bot(
        [Alarm(), CoreCommands()], setup=clocked(clock, MemoryJobStore()), **config
    ) as (bot, d):
        for n in range(7):
            await d.say(f"!repeat {n + 1} r{n}", author=OWNER)
        assert len(await bot.scheduler.store.jobs(kind="alarm.repeat")) == 7


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("!remind nowhere 2m x", "`nowhere` is not `me`, `here` or a channel of this server"),
        ("!remind me 6h2mo x", "`mo` must come before `h`"),
        ("!remind me 2m", "message is a required argument"),
        ("!remind me soon x", "not a valid time code"),
        ("!remind me <t:1> x", "in the past"),
        ("!remind me 2m " + "x" * 1501, "longer than 1500 characters"),
        ("!remindrm one", 'Converting to "int" failed'),
    ],
)
async def test_bad_reminder_input_is_a_user_message_with_usage(
    env, content: str, expected: str
) -> None:
    _bot, d, _clock = env
    (reply,) = await d.say(content)
    assert expected in reply
    assert "Usage: `!remind" in reply
    assert "Traceback" not in reply


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("!repeat abc", "start with the minutes"),
        ("!repeat 0 x", "at least 1 minute"),
        ("!repeat --i 2h", "the flag `--m` is required"),
        ("!repeat --m x --i 6h2mo", "`--i`:"),
        ("!repeat --m x --bogus", "unknown flag `--bogus`"),
    ],
)
async def test_bad_repeat_input_is_a_user_message_with_usage(
    env, content: str, expected: str
) -> None:
    _bot, d, _clock = env
    (reply,) = await d.say(content, author=OWNER)
    assert expected in reply
    assert "Usage: `!repeat" in reply


async def test_user_data_export_and_delete(env) -> None:
    bot, d, _clock = env
    await d.say("!remind me 5m private note")
    await d.say("!remind me 5m bobs", author=BOB)
    data = await bot.plugin_manager.collect("securebot_export_user_data", user_id=ALICE)
    assert [r["message"] for r in data["alarm"]["alarm.remind"]] == ["private note"]
    erased = await bot.plugin_manager.collect("securebot_delete_user_data", user_id=ALICE)
    assert erased["alarm"] == 1
    assert [job.user_id for job in await bot.scheduler.store.jobs()] == [BOB]
