"""FAULT TEST: SIGKILL the Redis master under read/write load, with Sentinel failing over.

Two cache instances ("bot processes") share one SQLite store of record and a Sentinel-managed
Redis (master + replica + 3 sentinels, real processes). Proves: every read and write keeps
answering during the outage (reads fall back to the store of record), no settings write is lost,
values cached before the failover (present on the promoted replica) are never served afterwards,
and reports the recovery time (run with ``-s`` to see it).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from tests.storage_redis.helpers import cached_store, eventually, register

from securebot.core.storage import Store
from securebot.crypto import Keyring
from securebot.storage.redis_client import RedisSettings
from securebot.storage.sqlite import SqliteBackend
from securebot.testing.redis import RedisTLSFiles, SentinelTopology, start_sentinel_topology

GUILDS = range(1, 21)  # written all along
QUIET = range(21, 31)  # cached before the kill, written only while Redis is down


@pytest.mark.slow
async def test_sigkill_of_the_master_under_load_loses_nothing_and_serves_nothing_stale(
    tmp_path: Path, sentinel_topology: SentinelTopology
) -> None:
    topology = sentinel_topology
    keyring = Keyring.generate()
    settings = RedisSettings(
        sentinels=topology.sentinel_addresses,
        service_name=topology.service_name,
        socket_timeout=0.3,
        connect_timeout=0.3,
    )
    db = tmp_path / "store.sqlite3"
    a, a_cache = cached_store(db, keyring, settings, prefix="bot:")
    b, b_cache = cached_store(db, keyring, settings, prefix="bot:")
    async with a, b:
        assert a_cache.healthy
        assert b_cache.healthy
        ga = {g: a.settings("cachetest").guild(g) for g in (*GUILDS, *QUIET)}
        gb = {g: b.settings("cachetest").guild(g) for g in (*GUILDS, *QUIET)}
        written: dict[int, int] = {}
        for g in (*GUILDS, *QUIET):
            await ga[g].set("warn_count", 1)
            written[g] = 1
        for g in (*GUILDS, *QUIET):  # b caches value 1 everywhere: in its memory and in Redis
            assert await gb[g].get("warn_count") == 1
        assert topology.master.command("WAIT", 1, 2000) == 1  # ...replicated to the replica
        stale_keys = [
            k
            for k in topology.replica.command("KEYS", "bot:*")
            if b'"warn_count"' in k and not k.startswith(b"bot:v:")
        ]
        assert len(stale_keys) == len(GUILDS) + len(QUIET)

        errors: list[BaseException] = []
        attempted = dict(written)
        reads = {"a": 0, "b": 0}
        stop = asyncio.Event()

        async def writer() -> None:
            value = 1
            while not stop.is_set():
                value += 1
                for g in GUILDS:
                    attempted[g] = value
                    try:
                        await ga[g].set("warn_count", value)
                        written[g] = value
                    except Exception as error:
                        errors.append(error)
                await asyncio.sleep(0.005)

        async def reader(name: str, scoped: dict[int, object]) -> None:
            while not stop.is_set():
                for g in GUILDS:
                    try:
                        value = await scoped[g].get("warn_count")  # type: ignore[attr-defined]
                        assert 1 <= value <= attempted[g]
                        reads[name] += 1
                    except Exception as error:
                        errors.append(error)
                await asyncio.sleep(0.002)

        tasks = [
            asyncio.create_task(writer()),
            asyncio.create_task(reader("a", ga)),  # type: ignore[arg-type]
            asyncio.create_task(reader("b", gb)),  # type: ignore[arg-type]
        ]
        await asyncio.sleep(0.3)
        old_master = topology.master.address
        killed_at = time.monotonic()
        topology.kill_master()

        async def both_degraded() -> bool:
            return not a_cache.healthy and not b_cache.healthy

        assert await eventually(both_degraded, within=5)
        for g in QUIET:  # written while no invalidation can reach Redis
            await ga[g].set("warn_count", 99)
            written[g] = 99
        quiet_keys = [k for k in stale_keys if any(f'"{g}"'.encode() in k for g in QUIET)]
        assert len(quiet_keys) == len(QUIET)
        reads_before_recovery = dict(reads)
        new_master = await asyncio.to_thread(topology.wait_for_failover, old_master, 30)
        failover_s = time.monotonic() - killed_at

        async def both_recovered() -> bool:
            return a_cache.healthy and b_cache.healthy

        assert await eventually(both_recovered, within=30)
        recovered_s = time.monotonic() - killed_at
        await asyncio.sleep(0.5)  # load continues on the recovered cache
        stop.set()
        await asyncio.gather(*tasks)

        assert errors == []
        assert new_master == topology.replica.address
        assert reads["a"] > reads_before_recovery["a"] > 0
        assert reads["b"] > reads_before_recovery["b"] > 0
        assert b_cache.stats.fallbacks > 0  # the outage was served by the store of record
        assert a_cache.stats.recoveries == 1
        assert b_cache.stats.recoveries == 1
        # the values cached before the kill still sit on the promoted replica, unread
        still_there = topology.replica.command("KEYS", "bot:*")
        assert set(quiet_keys) <= set(still_there)
        assert all(topology.replica.command("GET", k) == b"1" for k in quiet_keys)
        # nothing stale after recovery: both processes and a fresh one see the last writes
        for g in (*GUILDS, *QUIET):

            async def current(g: int = g) -> bool:
                return (
                    await ga[g].get("warn_count") == written[g]
                    and await gb[g].get("warn_count") == written[g]
                )

            if not await eventually(current, within=2):
                seen_a = await ga[g].get("warn_count")
                seen_b = await gb[g].get("warn_count")
                pytest.fail(
                    f"guild {g}: wrote {written[g]}, a reads {seen_a}, b reads {seen_b}; "
                    f"a: {a_cache.stats}, b: {b_cache.stats}"
                )
        assert min(written.values()) > 2  # writes really happened during the outage
        c, _ = cached_store(db, keyring, settings, prefix="bot:")
        async with c:
            for g in (*GUILDS, *QUIET):
                assert await c.settings("cachetest").guild(g).get("warn_count") == written[g]
        print(
            f"\nRedis failover under load: sentinel promoted the replica after {failover_s:.2f} s; "
            f"caches served from Redis again after {recovered_s:.2f} s "
            f"(a: {a_cache.stats.outages[0]:.2f} s, b: {b_cache.stats.outages[0]:.2f} s of "
            f"store-of-record fallback); reads a={reads['a']} b={reads['b']}, "
            f"fallback reads b={b_cache.stats.fallbacks}, errors={len(errors)}"
        )
    # no write lost: the store of record alone has every last value
    plain = Store(SqliteBackend(db), keyring=keyring)
    register(plain)
    async with plain:
        for g in (*GUILDS, *QUIET):
            assert await plain.settings("cachetest").guild(g).get("warn_count") == written[g]


@pytest.mark.slow
async def test_sentinel_over_mutual_tls_fails_over_and_the_cache_recovers(
    tmp_path: Path, redis_tls_files: RedisTLSFiles
) -> None:
    with start_sentinel_topology(tmp_path / "tls-topology", tls=redis_tls_files) as topology:
        assert topology.master.command("CONFIG", "GET", "port") == [b"port", b"0"]  # TLS only
        settings = RedisSettings(
            sentinels=topology.sentinel_addresses,
            service_name=topology.service_name,
            ssl=True,
            sentinel_ssl=True,
            ssl_ca_certs=str(redis_tls_files.ca),
            ssl_certfile=str(redis_tls_files.client_cert),
            ssl_keyfile=str(redis_tls_files.client_key),
            socket_timeout=0.3,
            connect_timeout=0.3,
        )
        keyring = Keyring.generate()
        a, a_cache = cached_store(tmp_path / "db", keyring, settings, prefix="tls:")
        b, b_cache = cached_store(tmp_path / "db", keyring, settings, prefix="tls:")
        async with a, b:
            assert a_cache.healthy
            assert b_cache.healthy
            await a.settings("cachetest").guild(1).set("prefix", "before")
            assert await b.settings("cachetest").guild(1).get("prefix") == "before"
            assert b_cache.stats.misses == 1
            killed = topology.kill_master()
            await asyncio.to_thread(topology.wait_for_failover, killed.address, 30)
            await a.settings("cachetest").guild(1).set("prefix", "after")

            async def recovered() -> bool:
                return a_cache.healthy and b_cache.healthy

            assert await eventually(recovered, within=30)

            async def b_sees_after() -> bool:
                return await b.settings("cachetest").guild(1).get("prefix") == "after"

            assert await eventually(b_sees_after, within=2)
            assert b_cache.stats.recoveries == 1
