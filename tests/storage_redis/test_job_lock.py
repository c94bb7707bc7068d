"""RedisJobLock wired to the scheduler on a real redis-server: shared jobs run exactly once."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt

import redis.asyncio as aioredis

from securebot.core.scheduler import (
    JobRun,
    ManualClock,
    MemoryJobStore,
    RedisJobLock,
    Scheduler,
)
from securebot.testing.redis import RedisServer

T0 = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


async def _clone(store: MemoryJobStore) -> MemoryJobStore:
    """Another process's own copy of the same stored jobs (no shared claim state)."""
    other = MemoryJobStore()
    for job in await store.jobs():
        await other.add(job)
    return other


async def test_three_schedulers_with_their_own_stores_run_each_shared_job_once(
    redis_server: RedisServer,
) -> None:
    clock = ManualClock(T0)
    seed_store = MemoryJobStore()
    seed = Scheduler(seed_store, clock=clock)
    seed.register("test.remind", _noop)
    for minute in range(1, 11):
        await seed.schedule("test.remind", T0 + dt.timedelta(minutes=minute), user_id=minute)
    runs: collections.Counter[str] = collections.Counter()
    clients = [aioredis.from_url(redis_server.url) for _ in range(3)]
    try:
        schedulers = []
        for index, client in enumerate(clients):
            store = await _clone(seed_store)
            scheduler = Scheduler(
                store, clock=clock, lock=RedisJobLock(client), owner=f"shard-{index}"
            )

            async def handler(run: JobRun) -> None:
                runs[run.job.id] += 1

            scheduler.register("test.remind", handler)
            schedulers.append(scheduler)
        await clock.advance(dt.timedelta(minutes=10))
        ran = await asyncio.gather(*(s.run_due() for s in schedulers))
        assert sum(ran) == 10
        assert len(runs) == 10
        assert set(runs.values()) == {1}
        # the lock keys live in Redis with an expiry: nothing has to be released by hand
        keys = await clients[0].keys("securebot:job-lock:*")
        assert len(keys) == 10
        assert all([await clients[0].ttl(key) > 0 for key in keys])
        # without the shared lock a fourth process would run them all again
        unlocked = Scheduler(await _clone(seed_store), clock=clock, owner="unlocked")
        unlocked.register("test.remind", _noop)
        assert await unlocked.run_due() == 10
    finally:
        for client in clients:
            await client.aclose()


async def _noop(run: JobRun) -> None:
    return None
