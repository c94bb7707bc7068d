"""A scheduled run that fails unexpectedly is still audited (``error:<Type>``) and the
scheduler keeps the job's next run."""

from __future__ import annotations

import datetime as dt

from tests.pipeline.harness import stub_bot
from tests.pipeline.stub import GUILD
from tests.plugins.scheduler.test_scheduler_plugin import T0, Util, clocked, settle

import securebot
from securebot.core.audit import EventKind
from securebot.core.scheduler import ManualClock, MemoryJobStore
from securebot.plugins.core_commands import CoreCommands
from securebot.plugins.scheduler import SchedulerPlugin


class FlakyScheduler(SchedulerPlugin):
    """The scheduler plugin whose run dies on a connection error (Discord unreachable)."""

    manifest = SchedulerPlugin.manifest  # the cog (module) keeps the plugin's name

    async def _execute(self, bot: securebot.Bot, run: securebot.JobRun) -> str:
        raise ConnectionResetError("connection reset by peer")


async def test_a_run_that_raises_is_audited_as_an_error() -> None:
    clock = ManualClock(T0)
    plugins = [FlakyScheduler(), Util(), CoreCommands()]
    async with stub_bot(plugins, setup=clocked(clock, MemoryJobStore())) as (bot, d):
        (reply,) = await d.say("!schedule --interval 5m --command echo hi")
        assert reply.startswith("Scheduled `echo hi`")
        await clock.advance(dt.timedelta(minutes=5))
        await settle()
        await bot.audit_log.flush()
        jobs = [
            (e.event.action, e.event.outcome)
            for e in await bot.audit_log.entries(str(GUILD))
            if e.event.kind is EventKind.JOB
        ]
        assert jobs == [("scheduler.command", "error:ConnectionResetError")]
