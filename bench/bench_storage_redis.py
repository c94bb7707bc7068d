"""Settings through the Redis-cached Store against raw redis-py (performance-anchors B4).

10,000 operations cycling over 1,000 guilds, one value per guild, in the same process run, on a
real redis-server started on a free port (no persistence, like the anchor's recipe):

* ``settings_get_cached``: ``store.settings(...).guild(g).get("prefix")`` through
  :class:`~securebot.storage.redis_cache.RedisCache` over SQLite, warm (process-memory tier).
  Anchor: a raw ``sqlite3`` point query + ``json.loads`` (target <= 2x, i.e. <= ~7 us; Red's
  Config JSON driver get is ~12 us on this machine class — not installed here, see below);
* ``settings_get_redis``: the same get with the process-memory tier off, so every read is one
  Redis round trip (``MGET`` of value + version). Anchor: raw ``redis.asyncio`` ``GET``
  (target <= 1.3);
* ``settings_set_cached``: a set through the cache = SQLite write (the store of record) + one
  Redis round trip that invalidates and publishes. Anchor: the least any write-then-invalidate
  cache must do, in raw clients: a ``sqlite3`` upsert + one raw ``redis.asyncio`` ``SET``
  (target <= 1.3). The raw ``SET`` alone is printed in the detail for reference.

Red-DiscordBot is not installed in the bench extra (it pins aiohttp 3.9.5, incompatible with
discord.py 2.7), so its line is omitted; the anchors file records it at 11.8 us per get.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import sqlite3
import statistics
import tempfile
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from bench.harness import Result, _time_async_batch
from securebot.core.storage import Scope, Store
from securebot.storage.redis_cache import RedisCache
from securebot.storage.redis_client import RedisSettings
from securebot.storage.sqlite import SqliteBackend
from securebot.testing.redis import start_redis_server

GUILDS = 1_000
OPS = 10_000


def run() -> list[Result]:
    """Time cached/uncached gets and sets, ours against raw redis-py and raw sqlite3."""
    with tempfile.TemporaryDirectory() as tmp, start_redis_server(Path(tmp) / "redis") as server:
        return asyncio.run(_measure(Path(tmp), server.url))


async def _compare(
    name: str, ours: Any, anchor: Any, *, target: float, number: int, detail: str
) -> Result:
    # compare_async runs its own event loop; our clients live in this one, so time here
    await ours()
    await anchor()
    subject_samples, anchor_samples = [], []
    for _ in range(7):
        subject_samples.append(await _time_async_batch(ours, number))
        anchor_samples.append(await _time_async_batch(anchor, number))
    return Result(
        name=name,
        subject_us=statistics.median(subject_samples),
        anchor_us=statistics.median(anchor_samples),
        target=target,
        detail=detail,
    )


async def _measure(tmp: Path, url: str) -> list[Result]:
    cached = Store(RedisCache(SqliteBackend(tmp / "cached.sqlite3"), RedisSettings(url=url)))
    remote = Store(
        RedisCache(SqliteBackend(tmp / "remote.sqlite3"), RedisSettings(url=url), local=False)
    )
    client = aioredis.from_url(url)
    raw = sqlite3.connect(tmp / "raw.sqlite3", isolation_level=None)
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("PRAGMA synchronous=NORMAL")
    raw.execute(
        "CREATE TABLE kv (guild INTEGER NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,"
        " PRIMARY KEY (guild, name)) WITHOUT ROWID"
    )
    for store in (cached, remote):
        store.settings("bench").register(Scope.GUILD, prefix="!")
        await store.open()
    try:
        cached_settings = cached.settings("bench")
        remote_settings = remote.settings("bench")
        for gid in range(GUILDS):
            await cached_settings.guild(gid).set("prefix", f"p{gid}")
            await remote_settings.guild(gid).set("prefix", f"p{gid}")
            await client.set(f"sb:guild:{gid}:prefix", json.dumps(f"p{gid}"))
            raw.execute("INSERT INTO kv VALUES (?, ?, ?)", (gid, "prefix", json.dumps(f"p{gid}")))
        for gid in range(GUILDS):  # warm both tiers
            await cached_settings.guild(gid).get("prefix")
            await remote_settings.guild(gid).get("prefix")
        ids = itertools.cycle(range(GUILDS))
        anchor_ids = itertools.cycle(range(GUILDS))
        # Redis answers bytes | str | None to the type checker; the anchor decodes what it stored.
        loads: Any = json.loads
        dumps = json.dumps
        select = "SELECT value FROM kv WHERE guild=? AND name=?"

        async def cached_get() -> object:
            return await cached_settings.guild(next(ids)).get("prefix")

        async def remote_get() -> object:
            return await remote_settings.guild(next(ids)).get("prefix")

        async def cached_set() -> None:
            await cached_settings.guild(next(ids)).set("prefix", "?")

        async def sqlite_get() -> object:
            return loads(raw.execute(select, (next(anchor_ids), "prefix")).fetchone()[0])

        async def redis_get() -> object:
            return loads(await client.get(f"sb:guild:{next(anchor_ids)}:prefix"))

        upsert = (
            "INSERT INTO kv VALUES (?, ?, ?)"
            " ON CONFLICT (guild, name) DO UPDATE SET value=excluded.value"
        )

        async def redis_set() -> None:
            await client.set(f"sb:guild:{next(anchor_ids)}:prefix", dumps("?"))

        async def sqlite_and_redis_set() -> None:
            gid = next(anchor_ids)
            raw.execute(upsert, (gid, "prefix", dumps("?")))
            await client.set(f"sb:guild:{gid}:prefix", dumps("?"))

        results = []
        results.append(
            await _compare(
                "storage.settings_get_cached",
                cached_get,
                sqlite_get,
                target=2.0,
                number=OPS,
                detail=f"({OPS} gets over {GUILDS} guilds, warm; anchor raw sqlite3 get; "
                "goal <= 7us, Red Config get ~12us)",
            ),
        )
        results.append(
            await _compare(
                "storage.settings_get_redis",
                remote_get,
                redis_get,
                target=1.3,
                number=OPS // 5,
                detail=f"({OPS // 5} gets, process tier off; anchor raw redis.asyncio GET)",
            ),
        )
        # one subscriber per Redis in this process from here: the remote store's listener would
        # otherwise spend this event loop's time on every invalidation the sets publish
        await remote.close()
        results.append(
            await _compare(
                "storage.settings_set_cached",
                cached_set,
                sqlite_and_redis_set,
                target=1.3,
                number=OPS // 5,
                detail=f"({OPS // 5} sets: SQLite commit + Redis invalidate/publish; "
                "anchor raw sqlite3 upsert + raw redis.asyncio SET)",
            )
        )
        plain_set = await _compare(
            "storage.settings_set_vs_redis_set",
            cached_set,
            redis_set,
            target=1.3,
            number=OPS // 5,
            detail="(reference: raw redis.asyncio SET alone, nothing durable)",
        )
        results[-1] = Result(
            name=results[-1].name,
            subject_us=results[-1].subject_us,
            anchor_us=results[-1].anchor_us,
            target=results[-1].target,
            detail=f"{results[-1].detail}; raw SET alone {plain_set.anchor_us:.1f}us",
        )
        stats = cached.backend.stats  # type: ignore[attr-defined]
        assert stats.redis_errors == 0, "the cache fell back during the benchmark"
        return results
    finally:
        await cached.close()
        with contextlib.suppress(Exception):
            await remote.close()
        await client.aclose()
        raw.close()
