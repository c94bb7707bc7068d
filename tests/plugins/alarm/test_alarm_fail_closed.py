"""Reminders fail closed and stay audited when the run-time re-check cannot decide (the
policy store is down) or the delivery itself fails unexpectedly."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.pipeline.harness import stub_bot
from tests.pipeline.stub import GUILD
from tests.plugins.alarm.test_alarm_plugin import T0, clocked, settle

import securebot
from securebot.core.audit import EventKind
from securebot.core.permissions import GuildPolicy
from securebot.core.scheduler import ManualClock, MemoryJobStore
from securebot.plugins.alarm import Alarm
from securebot.plugins.core_commands import CoreCommands


class BrokenPolicies:
    """A policy store whose backend is down."""

    async def load(self, guild_id: int) -> GuildPolicy | None:
        raise ConnectionError("store unreachable")

    async def save(self, guild_id: int, policy: GuildPolicy) -> None:
        raise ConnectionError("store unreachable")


async def _job_outcomes(bot: securebot.Bot) -> list[str]:
    await bot.audit_log.flush()
    return [
        e.event.outcome
        for e in await bot.audit_log.entries(str(GUILD))
        if e.event.kind is EventKind.JOB
    ]


async def test_a_reminder_is_not_delivered_when_its_recheck_cannot_decide() -> None:
    clock = ManualClock(T0)
    async with stub_bot([Alarm(), CoreCommands()], setup=clocked(clock, MemoryJobStore())) as (
        bot,
        d,
    ):
        await d.say("!remind here 2m secret plans")
        bot.permissions.store = BrokenPolicies()
        bot.permissions.forget(GUILD)
        mark = len(d.http.sent)
        await clock.advance(dt.timedelta(minutes=2))
        await settle()
        assert d.http.sent[mark:] == []
        assert await _job_outcomes(bot) == ["skipped:denied:permissions:error"]


async def test_a_delivery_that_raises_is_still_audited() -> None:
    clock = ManualClock(T0)
    plugin = Alarm()
    async with stub_bot([plugin, CoreCommands()], setup=clocked(clock, MemoryJobStore())) as (
        bot,
        d,
    ):
        await d.say("!remind here 2m tea")
        (job,) = await bot.scheduler.store.jobs()
        run = securebot.JobRun(job, job.due, job.due)

        async def explode(bot: securebot.Bot, job: object) -> str:
            raise RuntimeError("delivery exploded")

        with pytest.raises(RuntimeError):
            await plugin._handle(run, "alarm.remind", explode)
        assert await _job_outcomes(bot) == ["error:RuntimeError"]
