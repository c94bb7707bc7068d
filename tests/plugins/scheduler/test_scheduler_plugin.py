"""The ``scheduler`` plugin through a real discord.py bot on a settable clock: one-off and
recurring scheduled commands, checks when scheduling and at run time, limits, audit."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest
from tests.pipeline import stub
from tests.pipeline.harness import stub_bot
from tests.pipeline.plugins_sample import Moderation
from tests.pipeline.stub import ADMIN, ALICE, BOB, GUILD, STAFF

import securebot
from securebot.core.audit import EventKind
from securebot.core.scheduler import ManualClock, MemoryJobStore, Scheduler
from securebot.plugins.core_commands import CoreCommands
from securebot.plugins.scheduler import SchedulerPlugin

T0 = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


class Util(securebot.Plugin):
    manifest = securebot.PluginManifest(
        name="util", version="1.0", description="sample", user_data=securebot.UserData.none()
    )

    @securebot.command()
    async def echo(self, ctx: securebot.Context, *, text: str) -> None:
        await ctx.send(text)


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
    plugins = [SchedulerPlugin(), Moderation(), Util(), CoreCommands()]
    async with stub_bot(plugins, setup=clocked(clock, MemoryJobStore())) as (bot, d):
        yield bot, d, clock


def sent(d: stub.StubDiscord, since: int = 0) -> list[str]:
    return [text for where, text in d.http.sent[since:] if where != stub.DM_CHANNEL]


async def test_a_one_off_command_runs_once_when_due_as_the_user(env) -> None:
    bot, d, clock = env
    (reply,) = await d.say("!schedule --i 2m --command !echo hi there")
    assert reply.startswith("Scheduled `echo hi there` in #general, first run <t:")
    mark = len(d.http.sent)
    await clock.advance(dt.timedelta(minutes=1, seconds=59))
    await settle()
    assert sent(d, mark) == []
    await clock.advance(dt.timedelta(seconds=1))
    await settle()
    assert sent(d, mark) == [
        f"Running a scheduled command of <@{ALICE}>: `echo hi there`",
        "hi there",
    ]
    await clock.advance(dt.timedelta(hours=2))
    await settle()
    assert len(sent(d, mark)) == 2
    await bot.audit_log.flush()
    events = [e.event for e in await bot.audit_log.entries(str(GUILD))]
    run = [e for e in events if e.via == "scheduled"]
    assert [(e.action, e.actor_id, e.outcome) for e in run] == [("echo", ALICE, "ok")]
    (job,) = [e for e in events if e.kind is EventKind.JOB]
    assert job.outcome == "ran"
    assert job.detail["due"] == (T0 + dt.timedelta(minutes=2)).isoformat()


async def test_silent_runs_post_no_notice_and_channel_flag_targets_another_channel(env) -> None:
    _bot, d, clock = env
    await d.say(f"!schedule --interval 5m --c <#{STAFF}> --silent --command echo quiet")
    mark = len(d.http.sent)
    await clock.advance(dt.timedelta(minutes=5))
    await settle()
    assert d.http.sent[mark:] == [(STAFF, "quiet")]


async def test_permissions_are_checked_when_scheduling(env) -> None:
    _bot, d, _clock = env
    (reply,) = await d.say("!schedule --i 2m --command !modping")
    assert reply == (
        "You can't schedule `modping` in #general: "
        "the moderation module has not been granted to you"
    )
    assert await d.say("!schedulelist") == ["No schedulers."]


async def test_permissions_are_checked_again_at_run_time(env) -> None:
    bot, d, clock = env
    await d.say("!schedule --i 2m --silent --command !echo one")
    await bot.permissions.update(
        GUILD, lambda p: p.with_module("util", securebot.ModulePolicy(denied_users={ALICE}))
    )
    mark = len(d.http.sent)
    await clock.advance(dt.timedelta(minutes=2))
    await settle()
    assert sent(d, mark) == []
    await bot.audit_log.flush()
    events = [e.event for e in await bot.audit_log.entries(str(GUILD))]
    (scheduled,) = [e for e in events if e.via == "scheduled"]
    assert (scheduled.outcome, scheduled.rule) == ("denied", "permissions:user-deny")


async def test_a_member_who_left_or_lost_send_is_not_run(env) -> None:
    bot, d, clock = env
    await d.say("!schedule --i 2m --command !echo bob", author=BOB)
    await d.say("!schedule --i 3m --command !echo alice")
    d.guild._remove_member(d.guild.get_member(BOB))  # BOB leaves
    mark = len(d.http.sent)
    await clock.advance(dt.timedelta(minutes=3))
    await settle()
    assert sent(d, mark) == [f"Running a scheduled command of <@{ALICE}>: `echo alice`", "alice"]
    await bot.audit_log.flush()
    jobs = [
        e.event.outcome
        for e in await bot.audit_log.entries(str(GUILD))
        if e.event.kind is EventKind.JOB
    ]
    assert jobs == ["skipped:member-left", "ran"]


async def test_limits_five_per_user_and_the_tier_interval_cap(env) -> None:
    _bot, d, _clock = env
    for n in range(5):
        (reply,) = await d.say(f"!schedule --i {n + 1}m --command echo {n}")
        assert reply.startswith("Scheduled")
    (reply,) = await d.say("!schedule --i 9m --command echo 6")
    assert "you already have 5 pending schedulers here" in reply
    assert (await d.say("!schedule --i 1m --command echo b", author=BOB))[0].startswith("Sch")
    (reply,) = await d.say("!schedule --i 1h1m --command echo b", author=BOB)
    assert "`--interval` is at most 1 hour in this server (got 61 minutes)" in reply


async def test_premium_tiers_raise_the_cap() -> None:
    clock = ManualClock(T0)
    config = {"plugin": {"scheduler": {"premium_tiers": {str(GUILD): 1}}}}
    async with stub_bot(
        [SchedulerPlugin(), Util(), CoreCommands()],
        setup=clocked(clock, MemoryJobStore()),
        **config,
    ) as (_bot, d):
        assert (await d.say("!schedule --i 12h --command echo x"))[0].startswith("Scheduled")
        (reply,) = await d.say("!schedule --i 13h --command echo x")
        assert "at most 12 hours" in reply


async def test_recurring_needs_manage_server_repeats_and_can_be_invoked(env) -> None:
    bot, d, clock = env
    (reply,) = await d.say("!schedulerec --i 10m --silent --command echo tick")
    assert reply == "You can't use this command here: you need the manage_guild permission(s)."
    (reply,) = await d.say("!schedulerec --i 10m --silent --command echo tick", author=ADMIN)
    assert "every 10 minutes" in reply
    mark = len(d.http.sent)
    for _ in range(3):
        await clock.advance(dt.timedelta(minutes=10))
        await settle()
    assert sent(d, mark) == ["tick"] * 3
    await clock.advance(dt.timedelta(minutes=5))
    await d.say("!schedrecinv 1", author=ADMIN)
    await settle()
    assert sent(d, mark) == ["tick"] * 4
    (job,) = await bot.scheduler.store.jobs(kind="scheduler.command")
    assert job.due == clock.now() + dt.timedelta(minutes=10)  # the timer restarted
    (listing,) = await d.say("!schedrecls", author=ADMIN)
    assert listing.startswith("1. `echo tick` in <#")
    assert await d.say("!schedrecrm 1", author=ADMIN) == ["Removed recurring scheduler 1."]
    assert await bot.scheduler.store.jobs() == []


async def test_five_recurring_per_server(env) -> None:
    _bot, d, _clock = env
    for n in range(5):
        await d.say(f"!schedulerec --i {n + 1}m --command echo {n}", author=ADMIN)
    (reply,) = await d.say("!schedulerec --i 9m --command echo 6", author=ADMIN)
    assert "already has 5 recurring schedulers" in reply


async def test_lists_show_own_schedulers_and_managers_see_all(env) -> None:
    bot, d, _clock = env
    await d.say("!schedule --i 5m --command echo a")
    await d.say("!schedule --i 6m --command echo b", author=BOB)
    (mine,) = await d.say("!schedls")
    assert "`echo a`" in mine
    assert "`echo b`" not in mine
    (everyone,) = await d.say("!schedlist", author=ADMIN)
    assert "1. `echo a`" in everyone
    assert "2. `echo b`" in everyone
    (reply,) = await d.say("!schedrm 2")
    assert "`2` is not in the list (1 to 1)" in reply
    assert await d.say("!schedrm 2", author=ADMIN) == ["Removed scheduler 2."]
    remaining = await bot.scheduler.store.jobs()
    assert [job.user_id for job in remaining] == [ALICE]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("!schedule --command !echo x", "the flag `--interval` is required"),
        ("!schedule --i 2m", "the flag `--command` is required"),
        ("!schedule --i 2m --command !nosuch", "there is no command called `nosuch`"),
        ("!schedule --i 2m --command !schedls", "scheduler commands cannot be scheduled"),
        ("!schedule --i 2x --command !echo", "`--interval`:"),
        ("!schedule --i 30s --command !echo", "seconds (`s`) are not allowed"),
        ("!schedule --i <t:1> --command !echo", "in the past"),
        ("!schedule --i 2m --c #nowhere --command !echo", 'Channel "#nowhere" not found'),
        ("!schedrm x", 'Converting to "int" failed'),
    ],
)
async def test_bad_input_is_a_user_message_with_usage(env, content: str, expected: str) -> None:
    _bot, d, _clock = env
    (reply,) = await d.say(content)
    assert expected in reply
    assert "Usage: `!sched" in reply
    assert "Traceback" not in reply


async def test_users_can_export_and_delete_their_scheduled_commands(env) -> None:
    bot, d, _clock = env
    await d.say("!schedule --i 5m --command echo mine")
    await d.say("!schedule --i 5m --command echo theirs", author=BOB)
    data = await bot.plugin_manager.collect("securebot_export_user_data", user_id=ALICE)
    assert [c["command"] for c in data["scheduler"]["scheduled_commands"]] == ["echo mine"]
    erased = await bot.plugin_manager.collect("securebot_delete_user_data", user_id=ALICE)
    assert erased["scheduler"] == 1
    assert [job.user_id for job in await bot.scheduler.store.jobs()] == [BOB]


async def test_a_deleted_channel_or_a_server_the_bot_left_is_skipped_and_audited(env) -> None:
    bot, d, clock = env
    await d.say("!schedule --i 2m --command !echo gone channel")
    await d.say("!schedule --i 3m --command !echo gone server")
    d.guild._remove_channel(d.guild.get_channel(stub.GENERAL))  # the channel is deleted
    await clock.advance(dt.timedelta(minutes=2))
    await settle()
    bot._connection._remove_guild(d.guild)  # then the bot leaves the server
    mark = len(d.http.sent)
    await clock.advance(dt.timedelta(minutes=1))
    await settle()
    assert sent(d, mark) == []
    await bot.audit_log.flush()
    jobs = [
        e.event.outcome
        for e in await bot.audit_log.entries(str(GUILD))
        if e.event.kind is EventKind.JOB
    ]
    assert jobs == ["skipped:channel-gone", "skipped:guild-gone"]
