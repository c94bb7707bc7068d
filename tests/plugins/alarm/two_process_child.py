"""One "bot process" for the two-process run-once test: a securebot Bot (no-network stub) with
the alarm plugin, jobs in the shared SQLite file, the run-once lock in the shared redis-server.
Prints the reminders it delivered as JSON on its last line.

Usage: python -m tests.plugins.alarm.two_process_child DB_PATH REDIS_URL OWNER SECONDS
"""

from __future__ import annotations

import asyncio
import json
import sys

import redis.asyncio as aioredis
from tests.pipeline.harness import stub_bot

import securebot
from securebot.core.scheduler import RedisJobLock, Scheduler, SystemClock
from securebot.plugins.alarm import Alarm
from securebot.storage.sqlite import SqliteBackend, SqliteJobStore


async def main(path: str, url: str, owner: str, seconds: float) -> None:
    backend = SqliteBackend(path)
    await backend.open()
    client = aioredis.from_url(url)

    def setup(bot: securebot.Bot) -> None:
        bot.scheduler = Scheduler(
            SqliteJobStore(backend),
            clock=SystemClock(),
            lock=RedisJobLock(client),
            owner=owner,
            poll=0.05,
            busy_retry=0.05,
        )

    try:
        async with stub_bot([Alarm()], setup=setup) as (_bot, d):
            await asyncio.sleep(seconds)
            sent = [text for _, text in d.http.sent]
    finally:
        await client.aclose()
        await backend.close()
    print(json.dumps(sent))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])))
