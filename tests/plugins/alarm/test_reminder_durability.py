"""Done-means 4: a reminder scheduled for 2 minutes fires once after the bot is stopped and
restarted (settable clock; jobs in the storage layer's SQLite job store, reopened from the file),
and once only when two bots share it: each bot opens the SQLite file through its own connection
(as two processes would) and takes the run-once lock in a real redis-server on a free port. A
third variant gives each bot its own in-memory copy of the job, so only Redis stands between
them. Last, two real OS processes (``two_process_child.py``) share the SQLite file and Redis on
the system clock.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from tests.pipeline import stub
from tests.pipeline.harness import stub_bot
from tests.pipeline.stub import GENERAL, GUILD

import securebot
from securebot.core.audit import EventKind
from securebot.core.scheduler import ManualClock, MemoryJobStore, RedisJobLock, Scheduler
from securebot.plugins.alarm import Alarm
from securebot.storage.sqlite import SqliteBackend, SqliteJobStore
from securebot.testing.redis import start_redis_server

T0 = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
REMINDER = (GENERAL, f"⏰ <@{stub.ALICE}>, reminder: stand up")
ROOT = Path(__file__).resolve().parents[3]


async def settle() -> None:
    for _ in range(80):
        await asyncio.sleep(0)


def clocked(clock: ManualClock, store: object, **scheduler_options):  # type: ignore[no-untyped-def]
    def setup(bot: securebot.Bot) -> None:
        bot.clock = clock
        bot.scheduler = Scheduler(store, clock=clock, **scheduler_options)

    return setup


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    with start_redis_server(tmp_path) as server:
        yield server.url


async def _sqlite(path: Path) -> tuple[SqliteBackend, SqliteJobStore]:
    backend = SqliteBackend(path)
    await backend.open()
    return backend, SqliteJobStore(backend)


async def test_a_reminder_fires_once_after_a_stop_and_restart(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    clock = ManualClock(T0)
    path = tmp_path / "securebot.sqlite3"
    backend, store = await _sqlite(path)
    async with stub_bot([Alarm()], setup=clocked(clock, store)) as (_first, d1):
        (reply,) = await d1.say("!remind here 2m stand up")
        assert reply.startswith("I will remind you in #general")
        await clock.advance(dt.timedelta(minutes=1))
        await settle()
        assert REMINDER not in d1.http.sent
    await backend.close()
    # stopped: the due time passes while no bot runs; the next bot reopens the file
    await clock.advance(dt.timedelta(minutes=10))
    backend, store = await _sqlite(path)
    with caplog.at_level(logging.INFO, logger="securebot.scheduler"):
        async with stub_bot([Alarm()], setup=clocked(clock, store)) as (second, d2):
            await settle()
            assert d2.http.sent == [REMINDER]
            await clock.advance(dt.timedelta(hours=3))
            await settle()
            assert d2.http.sent == [REMINDER]
            await second.audit_log.flush()
            (job,) = [
                e.event
                for e in await second.audit_log.entries(str(GUILD))
                if e.event.kind is EventKind.JOB
            ]
    assert job.outcome == "sent:channel"
    assert job.detail["due"] == (T0 + dt.timedelta(minutes=2)).isoformat()
    assert job.detail["late_seconds"] == 9 * 60
    assert f"originally due at {(T0 + dt.timedelta(minutes=2)).isoformat()}" in caplog.text
    assert await store.jobs() == []
    await backend.close()


@pytest.mark.parametrize("shared_store", [True, False], ids=["shared-sqlite", "memory-copies"])
async def test_two_bots_sharing_redis_fire_the_reminder_once(
    redis_url: str, shared_store: bool, tmp_path: Path
) -> None:
    """Both bots wake at the due time. With the shared SQLite file the claim and the Redis lock
    both guard the run; with separate in-memory copies only the Redis lock does."""
    clock = ManualClock(T0)
    backends: list[SqliteBackend] = []
    if shared_store:
        first_backend, first_store = await _sqlite(tmp_path / "shared.sqlite3")
        second_backend, second_store = await _sqlite(tmp_path / "shared.sqlite3")
        backends = [first_backend, second_backend]
    else:
        first_store, second_store = MemoryJobStore(), MemoryJobStore()
    clients = [aioredis.from_url(redis_url), aioredis.from_url(redis_url)]
    try:
        one = clocked(clock, first_store, lock=RedisJobLock(clients[0]), owner="bot-one")
        two = clocked(clock, second_store, lock=RedisJobLock(clients[1]), owner="bot-two")
        async with (
            stub_bot([Alarm()], setup=one) as (_bot1, d1),
            stub_bot([Alarm()], setup=two) as (_bot2, d2),
        ):
            await d1.say("!remind here 2m stand up")
            if not shared_store:
                for job in await first_store.jobs():
                    await second_store.add(job)
            await settle()
            await clock.advance(dt.timedelta(minutes=2))

            def fired() -> list[tuple[int, str]]:
                return [s for s in d1.http.sent + d2.http.sent if s == REMINDER]

            # Redis round trips take real time: wait (up to 10 s) for the run, then give the
            # other bot time to (wrongly) run it too, with the clock moving on meanwhile.
            for _ in range(1000):
                if fired():
                    break
                await asyncio.sleep(0.01)
            for _ in range(5):
                await clock.advance(dt.timedelta(seconds=30))
                await asyncio.sleep(0.05)
            assert fired() == [REMINDER]
            (key,) = await clients[0].keys("securebot:job-lock:*")
            winner = (await clients[0].get(key)).decode()
            assert winner in ("bot-one", "bot-two")
            sender = d1 if winner == "bot-one" else d2
            assert REMINDER in sender.http.sent
    finally:
        for client in clients:
            await client.aclose()
        for backend in backends:
            await backend.close()


async def test_two_bot_processes_sharing_redis_and_sqlite_fire_a_reminder_once(
    redis_url: str, tmp_path: Path
) -> None:
    """Two real OS processes, each a bot with its own SQLite connection and Redis client, wake
    for the same due reminder on the system clock: exactly one of them delivers it."""
    import json
    import subprocess
    import sys

    from securebot.core.scheduler import Scheduler, SystemClock

    path = tmp_path / "shared.sqlite3"
    backend, store = await _sqlite(path)
    scheduler = Scheduler(store, clock=SystemClock())
    await scheduler.schedule(
        "alarm.remind",
        dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1.5),
        guild_id=GUILD,
        user_id=stub.ALICE,
        channel_id=GENERAL,
        payload={"target": "channel", "message": "stand up"},
    )
    await backend.close()
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.plugins.alarm.two_process_child",
            str(path),
            redis_url,
            owner,
            "3.5",
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for owner in ("process-one", "process-two")
    ]
    outputs = [await child.communicate() for child in children]
    assert [child.returncode for child in children] == [0, 0], outputs[0][1][-2000:]
    delivered = [json.loads(out.decode().strip().splitlines()[-1]) for out, _ in outputs]
    assert sorted(len(d) for d in delivered) == [0, 1]
    assert [text for d in delivered for text in d] == [REMINDER[1]]
    client = aioredis.from_url(redis_url)
    try:
        (key,) = await client.keys("securebot:job-lock:*")
        winner = (await client.get(key)).decode()
    finally:
        await client.aclose()
    assert delivered[("process-one", "process-two").index(winner)] == [REMINDER[1]]
    backend, store = await _sqlite(path)
    assert await store.jobs() == []
    await backend.close()
