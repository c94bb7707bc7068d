"""The durable scheduler: due times on a settable clock, restarts, run-once, recurrence."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import pytest
import redis.asyncio as aioredis

from securebot.core.scheduler import (
    JobRun,
    ManualClock,
    MemoryJobStore,
    RedisJobLock,
    Scheduler,
)
from securebot.errors import DuplicateRegistrationError

T0 = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


def _scheduler(
    store: MemoryJobStore, clock: ManualClock, runs: list[JobRun], **kw: object
) -> Scheduler:
    scheduler = Scheduler(store, clock=clock, **kw)  # type: ignore[arg-type]

    async def handler(run: JobRun) -> None:
        runs.append(run)

    scheduler.register("test.remind", handler)
    return scheduler


async def _copy(store: MemoryJobStore) -> MemoryJobStore:
    """Another process's view of the same stored jobs."""
    other = MemoryJobStore()
    for job in await store.jobs():
        await other.add(job)
    return other


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_a_job_runs_when_due_and_not_before() -> None:
    clock, store, runs = ManualClock(T0), MemoryJobStore(), []
    scheduler = _scheduler(store, clock, runs)
    await scheduler.schedule("test.remind", T0 + dt.timedelta(minutes=2), user_id=1)
    scheduler.start()
    await _settle()
    await clock.advance(dt.timedelta(minutes=1, seconds=59))
    await _settle()
    assert runs == []
    await clock.advance(dt.timedelta(seconds=1))
    await _settle()
    assert len(runs) == 1
    assert await store.jobs() == []
    await clock.advance(dt.timedelta(hours=1))
    await _settle()
    assert len(runs) == 1
    await scheduler.stop()


async def test_a_job_missed_while_stopped_runs_once_on_restart_with_its_due_time_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock, store, runs = ManualClock(T0), MemoryJobStore(), []
    first = _scheduler(store, clock, runs)
    first.start()
    job = await first.schedule("test.remind", T0 + dt.timedelta(minutes=2))
    await _settle()
    await first.stop()
    await clock.advance(dt.timedelta(minutes=30))
    second = _scheduler(store, clock, runs)
    with caplog.at_level(logging.INFO, logger="securebot.scheduler"):
        second.start()
        await _settle()
    assert [(r.job.id, r.due) for r in runs] == [(job.id, job.due)]
    assert runs[0].late == dt.timedelta(minutes=28)
    assert job.due.isoformat() in caplog.text
    await second.stop()


async def test_two_schedulers_sharing_a_store_run_a_job_once() -> None:
    clock, store, runs = ManualClock(T0), MemoryJobStore(), []
    a, b = _scheduler(store, clock, runs), _scheduler(store, clock, runs)
    await a.schedule("test.remind", T0)
    assert sum(await asyncio.gather(a.run_due(), b.run_due())) == 1
    assert len(runs) == 1


async def test_two_processes_with_their_own_view_of_the_store_run_once_through_redis(
    redis_url: str,
) -> None:
    clock, runs = ManualClock(T0), []
    store_a = MemoryJobStore()
    seed = _scheduler(store_a, clock, [])
    await seed.schedule("test.remind", T0 + dt.timedelta(minutes=2))
    store_b = await _copy(store_a)  # a second process, its own copy of the job
    store_c = await _copy(store_a)
    client_a = aioredis.from_url(redis_url)
    client_b = aioredis.from_url(redis_url)
    try:
        a = _scheduler(store_a, clock, runs, lock=RedisJobLock(client_a), owner="a")
        b = _scheduler(store_b, clock, runs, lock=RedisJobLock(client_b), owner="b")
        await clock.advance(dt.timedelta(minutes=2))
        assert sum(await asyncio.gather(a.run_due(), b.run_due())) == 1
        assert len(runs) == 1
        without_lock = _scheduler(store_c, clock, [], owner="c")
        assert await without_lock.run_due() == 1  # the lock, not luck, kept it to one
    finally:
        await client_a.aclose()
        await client_b.aclose()


async def test_recurring_jobs_move_on_and_skip_missed_intervals() -> None:
    clock, store, runs = ManualClock(T0), MemoryJobStore(), []
    scheduler = _scheduler(store, clock, runs)
    job = await scheduler.schedule("test.remind", T0 + dt.timedelta(hours=1), interval=3600)
    await clock.advance(dt.timedelta(hours=3, minutes=30))
    assert await scheduler.run_due() == 1
    (stored,) = await store.jobs()
    assert stored.id == job.id
    assert stored.due == T0 + dt.timedelta(hours=4)
    assert await scheduler.run_due() == 0


async def test_run_now_restarts_a_recurring_timer() -> None:
    clock, store, runs = ManualClock(T0), MemoryJobStore(), []
    scheduler = _scheduler(store, clock, runs)
    job = await scheduler.schedule("test.remind", T0 + dt.timedelta(hours=1), interval=3600)
    await clock.advance(dt.timedelta(minutes=10))
    assert await scheduler.run_now(job.id)
    assert len(runs) == 1
    (stored,) = await store.jobs()
    assert stored.due == T0 + dt.timedelta(minutes=70)


async def test_a_failing_handler_is_logged_and_the_run_is_done(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock, store = ManualClock(T0), MemoryJobStore()
    outcomes: list[str] = []
    scheduler = Scheduler(
        store, clock=clock, observer=lambda run, outcome: outcomes.append(outcome)
    )

    async def broken(run: JobRun) -> None:
        raise RuntimeError("boom")

    scheduler.register("test.broken", broken)
    await scheduler.schedule("test.broken", T0)
    await scheduler.schedule("test.unknown", T0)
    assert await scheduler.run_due() == 2
    assert sorted(outcomes) == ["error:RuntimeError", "no-handler"]
    assert "failed" in caplog.text
    assert await store.jobs() == []


def test_a_kind_has_one_handler() -> None:
    scheduler = Scheduler(MemoryJobStore())

    async def handler(run: JobRun) -> None:
        return None

    scheduler.register("k", handler)
    with pytest.raises(DuplicateRegistrationError):
        scheduler.register("k", handler)


async def test_naive_times_and_bad_intervals_are_refused() -> None:
    scheduler = Scheduler(MemoryJobStore())
    with pytest.raises(ValueError, match="timezone-aware"):
        await scheduler.schedule("k", dt.datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="positive"):
        await scheduler.schedule("k", T0, interval=0)
    with pytest.raises(ValueError, match="backwards"):
        await ManualClock(T0).set(T0 - dt.timedelta(seconds=1))


async def test_a_due_job_held_by_another_process_does_not_make_the_loop_spin() -> None:
    class HeldElsewhere:
        def __init__(self) -> None:
            self.attempts = 0

        async def acquire(self, key: str, *, owner: str, ttl: int) -> bool:
            self.attempts += 1
            return False

    clock, store, runs = ManualClock(T0), MemoryJobStore(), []
    lock = HeldElsewhere()
    scheduler = _scheduler(store, clock, runs, lock=lock)
    await scheduler.schedule("test.remind", T0)
    scheduler.start()
    for _ in range(500):
        await asyncio.sleep(0)
    assert lock.attempts == 1
    await clock.advance(dt.timedelta(seconds=1))
    await _settle()
    assert lock.attempts == 2
    assert runs == []
    await scheduler.stop()
