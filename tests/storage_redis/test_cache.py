"""RedisCache in front of SQLite on a real redis-server: hits, invalidation across processes,
no stale refills, ciphertext only in Redis, fallback to the store of record when Redis dies."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from tests.storage_redis.helpers import (
    SECRET_NOTE,
    SECRET_TOKEN,
    Note,
    SlowReads,
    cached_store,
    eventually,
    register,
)

from securebot.core.storage import ABSENT, Store
from securebot.crypto import Keyring, pki, tls
from securebot.errors import ConfigError, ConflictError
from securebot.storage.redis_cache import RedisCache
from securebot.storage.redis_client import RedisSettings
from securebot.storage.sqlite import SqliteBackend
from securebot.testing.redis import RedisServer, RedisTLSFiles, start_redis_server


@pytest.fixture(scope="module")
def keyring() -> Keyring:
    return Keyring.generate()


@pytest.fixture
def settings(redis_server: RedisServer) -> RedisSettings:
    return RedisSettings(url=redis_server.url)


async def test_reads_are_served_from_process_memory_then_redis(
    tmp_path: Path, keyring: Keyring, settings: RedisSettings
) -> None:
    store, cache = cached_store(tmp_path / "db", keyring, settings)
    other, other_cache = cached_store(tmp_path / "db", keyring, settings)
    async with store, other:
        assert cache.healthy
        guild = store.settings("cachetest").guild(1)
        await guild.set("prefix", "?")
        assert await guild.get("prefix") == "?"  # miss: store of record, fills both tiers
        assert (cache.stats.misses, cache.stats.local_hits) == (1, 0)
        for _ in range(5):
            assert await guild.get("prefix") == "?"
        assert cache.stats.local_hits == 5
        # another process gets it from Redis, without asking its store of record
        assert await other.settings("cachetest").guild(1).get("prefix") == "?"
        assert other_cache.stats.redis_hits == 1
        assert other_cache.stats.misses == 0


async def test_absent_values_are_cached_and_a_later_write_replaces_them(
    tmp_path: Path, keyring: Keyring, settings: RedisSettings
) -> None:
    store, cache = cached_store(tmp_path / "db", keyring, settings)
    async with store:
        assert await cache.get_setting("cachetest", "5", "", "prefix") is ABSENT
        assert await cache.get_setting("cachetest", "5", "", "prefix") is ABSENT
        assert cache.stats.local_hits == 1
        guild = store.settings("cachetest").guild(5)
        assert await guild.get("prefix") == "!"  # the registered default
        await guild.set("prefix", "$")
        assert await guild.get("prefix") == "$"


async def test_a_write_in_one_process_is_seen_by_the_others(
    tmp_path: Path, keyring: Keyring, settings: RedisSettings
) -> None:
    a, _ = cached_store(tmp_path / "db", keyring, settings)
    b, b_cache = cached_store(tmp_path / "db", keyring, settings)
    async with a, b:
        ga, gb = a.settings("cachetest").guild(7), b.settings("cachetest").guild(7)
        await ga.set("warn_count", 1)
        assert await gb.get("warn_count") == 1
        assert await gb.get("warn_count") == 1  # now in b's process memory
        await ga.set("warn_count", 2)

        async def b_sees_two() -> bool:
            return await gb.get("warn_count") == 2

        assert await eventually(b_sees_two)
        assert b_cache.stats.invalidations_received >= 1
        # whole-path reads are invalidated too
        assert (await gb.all())["warn_count"] == 2
        await ga.clear("warn_count")

        async def b_sees_default() -> bool:
            return (await gb.all())["warn_count"] == 0

        assert await eventually(b_sees_default)


async def test_records_are_cached_and_invalidated_by_put_delete_and_conflicts(
    tmp_path: Path, keyring: Keyring, settings: RedisSettings
) -> None:
    a, a_cache = cached_store(tmp_path / "db", keyring, settings)
    b, _ = cached_store(tmp_path / "db", keyring, settings)
    async with a, b:
        rev = await a.put(Note(guild_id=3, number=1, title="t1", text=SECRET_NOTE))
        assert (await b.get(Note, 1, scope=3)).title == "t1"
        assert (await a.get(Note, 1, scope=3)).text == SECRET_NOTE
        assert (await a.get(Note, 1, scope=3)).title == "t1"
        assert a_cache.stats.local_hits >= 1
        await b.put(Note(guild_id=3, number=1, title="t2"), expect=rev)
        with pytest.raises(ConflictError):
            await a.put(Note(guild_id=3, number=1, title="lost"), expect=rev)

        async def a_sees_t2() -> bool:
            found = await a.get(Note, 1, scope=3)
            return found is not None and found.title == "t2"

        assert await eventually(a_sees_t2)
        assert await b.delete(Note, 1, scope=3)

        async def a_sees_nothing() -> bool:
            return await a.get(Note, 1, scope=3) is None

        assert await eventually(a_sees_nothing)


async def test_counters_and_queries_always_go_to_the_store_of_record(
    tmp_path: Path, keyring: Keyring, settings: RedisSettings
) -> None:
    a, _ = cached_store(tmp_path / "db", keyring, settings)
    b, _ = cached_store(tmp_path / "db", keyring, settings)
    async with a, b:
        numbers = await asyncio.gather(*(s.incr("cases", scope=9) for s in (a, b) * 10))
        assert sorted(numbers) == list(range(1, 21))
        await a.put(Note(guild_id=9, number=1, title="x"))
        page = await b.find(Note, scope=9)
        assert [n.title for n in page.items] == ["x"]


async def test_a_slow_reader_never_refills_the_cache_with_a_value_older_than_a_write(
    tmp_path: Path, keyring: Keyring, settings: RedisSettings
) -> None:
    slow = SlowReads(SqliteBackend(tmp_path / "db"))
    reader_cache = RedisCache(slow, settings, prefix="t:")  # type: ignore[arg-type]
    reader = Store(reader_cache, keyring=keyring)
    register(reader)
    writer, _ = cached_store(tmp_path / "db", keyring, settings)
    async with reader, writer:
        await writer.settings("cachetest").guild(1).set("prefix", "old")
        slow.armed = True
        pending = asyncio.create_task(reader.settings("cachetest").guild(1).get("prefix"))
        await slow.read_done.wait()  # the reader holds "old", read from the store of record
        await writer.settings("cachetest").guild(1).set("prefix", "new")
        await asyncio.sleep(0.05)
        slow.release.set()
        assert await pending == "old"  # it was the value when the read started
        # ...but it was not cached: every later reader, here and elsewhere, sees "new"
        assert await reader.settings("cachetest").guild(1).get("prefix") == "new"
        third, _ = cached_store(tmp_path / "db", keyring, settings)
        async with third:
            assert await third.settings("cachetest").guild(1).get("prefix") == "new"


async def test_redis_holds_only_ciphertext_of_sensitive_fields(
    tmp_path: Path, keyring: Keyring, redis_server: RedisServer, settings: RedisSettings
) -> None:
    store, _ = cached_store(tmp_path / "db", keyring, settings)
    async with store:
        await store.put(Note(guild_id=4, number=1, title="plain title", text=SECRET_NOTE))
        guild = store.settings("cachetest").guild(4)
        await guild.set("token", SECRET_TOKEN)
        assert (await store.get(Note, 1, scope=4)).text == SECRET_NOTE
        assert await guild.get("token") == SECRET_TOKEN
        assert (await guild.all())["token"] == SECRET_TOKEN
    keys = redis_server.command("KEYS", "*")
    values = [redis_server.command("DUMP", key) for key in keys]
    raw = b"".join(keys) + b"".join(v for v in values if v)
    assert b"plain title" in raw  # the cache really holds the record...
    assert SECRET_NOTE.encode() not in raw  # ...but never the sealed field's plaintext
    assert SECRET_TOKEN.encode() not in raw
    strings = [redis_server.command("GET", k) for k in keys if b":v:" not in k]
    assert all(SECRET_NOTE.encode() not in (s or b"") for s in strings)


async def test_erasing_a_guild_forgets_everything_cached(
    tmp_path: Path, keyring: Keyring, settings: RedisSettings
) -> None:
    a, _ = cached_store(tmp_path / "db", keyring, settings)
    b, _ = cached_store(tmp_path / "db", keyring, settings)
    async with a, b:
        await a.settings("cachetest").guild(8).set("prefix", "%")
        await a.put(Note(guild_id=8, number=1, title="gone soon"))
        assert await b.settings("cachetest").guild(8).get("prefix") == "%"
        assert await b.get(Note, 1, scope=8) is not None
        await a.delete_guild(8)

        async def b_forgot() -> bool:
            prefix = await b.settings("cachetest").guild(8).get("prefix")
            return prefix == "!" and await b.get(Note, 1, scope=8) is None

        assert await eventually(b_forgot)


async def test_when_redis_dies_reads_and_writes_go_to_the_store_of_record(
    tmp_path: Path, keyring: Keyring
) -> None:
    with start_redis_server(tmp_path / "redis") as server:
        store, cache = cached_store(tmp_path / "db", keyring, RedisSettings(url=server.url))
        async with store:
            guild = store.settings("cachetest").guild(2)
            await guild.set("prefix", "a")
            assert await guild.get("prefix") == "a"
            server.kill()
            assert await guild.get("prefix") == "a"  # local tier, or the store after the error

            async def degraded() -> bool:
                return not cache.healthy

            assert await eventually(degraded)
            await guild.set("prefix", "b")  # not lost: Redis was never the store of record
            assert await guild.get("prefix") == "b"
            assert cache.stats.fallbacks >= 1
            assert cache.stats.redis_errors >= 1
    reopened = Store(SqliteBackend(tmp_path / "db"), keyring=keyring)
    register(reopened)
    async with reopened:
        assert await reopened.settings("cachetest").guild(2).get("prefix") == "b"


async def test_an_unreachable_redis_at_start_is_not_fatal(tmp_path: Path, keyring: Keyring) -> None:
    with start_redis_server(tmp_path / "redis") as server:
        url = server.url
    store, cache = cached_store(tmp_path / "db", keyring, RedisSettings(url=url))
    async with store:
        assert not cache.healthy
        await store.settings("cachetest").guild(1).set("prefix", "z")
        assert await store.settings("cachetest").guild(1).get("prefix") == "z"
        assert cache.stats.fallbacks == 1


async def test_mutual_tls_with_client_certificate(
    tmp_path: Path,
    keyring: Keyring,
    redis_tls_server: RedisServer,
    redis_tls_files: RedisTLSFiles,
) -> None:
    tls = RedisSettings(
        url=f"rediss://127.0.0.1:{redis_tls_server.port}/0",
        ssl_ca_certs=str(redis_tls_files.ca),
        ssl_certfile=str(redis_tls_files.client_cert),
        ssl_keyfile=str(redis_tls_files.client_key),
    )
    store, cache = cached_store(tmp_path / "db", keyring, tls)
    async with store:
        assert cache.healthy
        await store.settings("cachetest").guild(1).set("prefix", "tls")
        assert await store.settings("cachetest").guild(1).get("prefix") == "tls"
        assert cache.stats.misses == 1
    context = redis_tls_files.client_context()
    by_context = RedisSettings(
        url=f"redis://127.0.0.1:{redis_tls_server.port}/0", ssl_context=context
    )
    store, cache = cached_store(tmp_path / "db", keyring, by_context)
    async with store:
        assert cache.healthy
        assert await store.settings("cachetest").guild(1).get("prefix") == "tls"
        assert (cache.stats.misses, cache.stats.redis_errors) == (1, 0)  # filled over TLS
    no_cert = RedisSettings(
        url=f"rediss://127.0.0.1:{redis_tls_server.port}/0", ssl_ca_certs=str(redis_tls_files.ca)
    )
    store, cache = cached_store(tmp_path / "db", keyring, no_cert)
    async with store:
        assert not cache.healthy  # refused by the server: the store of record still answers
        assert await store.settings("cachetest").guild(1).get("prefix") == "tls"


def test_settings_validate_and_never_show_the_password() -> None:
    with pytest.raises(ConfigError, match="exactly one"):
        RedisSettings()
    with pytest.raises(ConfigError, match="exactly one"):
        RedisSettings(url="redis://x", sentinels=["a:1"])
    with pytest.raises(ConfigError, match="host:port"):
        RedisSettings(sentinels=["nohost"])
    with pytest.raises(ConfigError, match="ssl_certfile"):
        RedisSettings(url="rediss://x", ssl_keyfile="k.pem")
    settings = RedisSettings(sentinels=["127.0.0.1:26379", ("::1", 26380)], password="hunter2")
    assert settings.sentinels == (("127.0.0.1", 26379), ("::1", 26380))
    assert "hunter2" not in repr(settings)
    assert "s3nt" not in repr(RedisSettings(sentinels=["h:1"], sentinel_password="s3nt"))
    with_url = RedisSettings(url="rediss://bot:hunter2@redis.internal:6380/0")
    assert "hunter2" not in repr(with_url)
    assert "redis.internal:6380" in repr(with_url)
    assert "hunter2" not in repr(RedisSettings(url="redis://:hunter2@h/0"))


async def test_cache_over_mtls_with_the_internal_pki_and_in_memory_client_keys(
    tmp_path: Path, keyring: Keyring
) -> None:
    root = pki.create_root()
    intermediate = pki.create_intermediate(root)
    server = pki.issue_server(intermediate, "redis", dns=["localhost"], ips=["127.0.0.1"])
    files = tmp_path / "server-tls"
    files.mkdir()
    (files / "server.pem").write_bytes(pki.bundle_pem(server.certificate, intermediate.certificate))
    (files / "server.key").write_bytes(server.private_key_pem())
    (files / "server.key").chmod(0o600)
    (files / "root.pem").write_bytes(root.certificate_pem())
    server_files = RedisTLSFiles(
        ca=files / "root.pem", cert=files / "server.pem", key=files / "server.key"
    )
    leaf = pki.issue_client(intermediate, "bot")
    with (
        start_redis_server(tmp_path / "redis", tls=server_files) as redis_tls,
        tls.RedisTLS(
            ca_pem=root.certificate_pem(),
            cert_chain_pem=pki.bundle_pem(leaf.certificate, intermediate.certificate),
            key_pem=leaf.private_key_pem(),
        ) as material,
    ):
        settings = RedisSettings(
            url=f"redis://127.0.0.1:{redis_tls.port}/0", tls_kwargs=material.kwargs()
        )
        a, a_cache = cached_store(tmp_path / "db", keyring, settings)
        b, b_cache = cached_store(tmp_path / "db", keyring, settings)
        async with a, b:
            assert a_cache.healthy
            assert b_cache.healthy
            await a.settings("cachetest").guild(1).set("prefix", "mtls")
            assert await a.settings("cachetest").guild(1).get("prefix") == "mtls"
            assert await b.settings("cachetest").guild(1).get("prefix") == "mtls"
            assert b_cache.stats.redis_hits == 1  # served by Redis, over mutual TLS


async def test_a_frozen_redis_is_noticed_by_the_idle_subscription_and_recovered_from(
    tmp_path: Path, keyring: Keyring
) -> None:
    with start_redis_server(tmp_path / "redis") as server:
        store, cache = cached_store(
            tmp_path / "db", keyring, RedisSettings(url=server.url), liveness=0.6
        )
        async with store:
            guild = store.settings("cachetest").guild(1)
            await guild.set("prefix", "f")
            assert await guild.get("prefix") == "f"
            assert await guild.get("prefix") == "f"  # local hit: no Redis command at all
            server.process.send_signal(signal.SIGSTOP)  # no reset, no error: silence
            try:

                async def noticed() -> bool:
                    return not cache.healthy

                assert await eventually(noticed, within=5)
                assert await guild.get("prefix") == "f"  # from the store of record
            finally:
                server.process.send_signal(signal.SIGCONT)

            async def recovered() -> bool:
                return cache.healthy

            assert await eventually(recovered, within=10)
            assert cache.stats.recoveries == 1


async def test_a_stray_message_on_the_channel_only_empties_the_local_tier(
    tmp_path: Path, keyring: Keyring, redis_server: RedisServer, settings: RedisSettings
) -> None:
    store, cache = cached_store(tmp_path / "db", keyring, settings, prefix="stray:")
    async with store:
        guild = store.settings("cachetest").guild(1)
        await guild.set("prefix", "s")
        assert await guild.get("prefix") == "s"
        for junk in ("someone|not json", "x|[1, {", "no separator at all", "y|*abc"):
            redis_server.command("PUBLISH", "stray:invalidate", junk)

        async def received() -> bool:
            return cache.stats.invalidations_received >= 4

        assert await eventually(received)
        assert cache.healthy
        assert await guild.get("prefix") == "s"
        assert cache.stats.redis_errors == 0
