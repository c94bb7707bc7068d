"""The invalidation script: constants quoted into its text, EVALSHA with a reload after a
script flush, and the exact keys it moves in Redis (on a real redis-server)."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis.asyncio as aioredis
from tests.storage_redis.helpers import cached_store, eventually

from securebot.crypto import Keyring
from securebot.storage import redis_cache
from securebot.storage.redis_cache import _lua_string, _wire
from securebot.storage.redis_client import RedisSettings
from securebot.testing.redis import RedisServer

#: Quotes, a Lua long bracket, a newline, glob characters and non-ASCII in the prefix.
ODD_PREFIX = "t\"']]..--[[\n\\*?[x]:é:"


@pytest.fixture(scope="module")
def keyring() -> Keyring:
    return Keyring.generate()


def test_lua_strings_are_decimal_escapes_of_every_byte() -> None:
    assert _lua_string('a"') == '"\\097\\034"'
    assert _lua_string("é") == '"\\195\\169"'
    assert _lua_string("") == '""'


async def test_an_odd_prefix_is_quoted_into_the_script_and_invalidates_exactly(
    tmp_path: Path, keyring: Keyring, redis_server: RedisServer
) -> None:
    settings = RedisSettings(url=redis_server.url)
    a, a_cache = cached_store(tmp_path / "db", keyring, settings, prefix=ODD_PREFIX)
    b, b_cache = cached_store(tmp_path / "db", keyring, settings, prefix=ODD_PREFIX)
    raw = aioredis.from_url(redis_server.url)
    try:
        async with a, b:
            ga, gb = a.settings("cachetest").guild(3), b.settings("cachetest").guild(3)

            async def same_generation() -> bool:  # b's start moved it; a hears that
                return a_cache._gen == b_cache._gen

            assert await eventually(same_generation)
            await ga.set("warn_count", 1)
            assert await gb.get("warn_count") == 1  # b fills Redis and its process memory
            ident = ("s", "cachetest", "3", "guild:3", "warn_count")
            gen = b_cache._gen
            value_key = f"{ODD_PREFIX}{gen}:{_wire(ident)}"
            version_key = f"{ODD_PREFIX}v:{_wire(ident)}"
            assert await raw.get(value_key) == b"1"
            before = int(await raw.get(version_key))
            # stale copies in the previous generation and in an older one a lagging writer uses
            previous_key = f"{ODD_PREFIX}{int(gen) - 1}:{_wire(ident)}"
            await raw.set(previous_key, b"0")
            a_cache._gen = str(int(gen) - 5)
            lagging_key = f"{ODD_PREFIX}{a_cache._gen}:{_wire(ident)}"
            await raw.set(lagging_key, b"0")
            received = a_cache.stats.invalidations_received
            await ga.set("warn_count", 2)
            assert await raw.exists(value_key, previous_key, lagging_key) == 0
            assert int(await raw.get(version_key)) == before + 1
            assert 0 < await raw.pttl(version_key) <= a_cache.ttl_ms * 24

            async def b_sees_two() -> bool:
                return await gb.get("warn_count") == 2

            assert await eventually(b_sees_two)
            assert b_cache.stats.invalidations_received >= 1
            # a is not woken by its own write
            assert a_cache.stats.invalidations_received == received
            assert a_cache.stats.redis_errors == b_cache.stats.redis_errors == 0
    finally:
        await raw.aclose()


async def test_a_flushed_script_cache_is_reloaded_not_a_fallback(
    tmp_path: Path, keyring: Keyring, redis_server: RedisServer
) -> None:
    settings = RedisSettings(url=redis_server.url)
    a, a_cache = cached_store(tmp_path / "db", keyring, settings, prefix="flush:")
    b, b_cache = cached_store(tmp_path / "db", keyring, settings, prefix="flush:")
    raw = aioredis.from_url(redis_server.url)
    try:
        async with a, b:
            ga, gb = a.settings("cachetest").guild(4), b.settings("cachetest").guild(4)
            await ga.set("prefix", "?")
            assert await gb.get("prefix") == "?"
            await raw.script_flush()  # as after a Redis restart or failover
            await ga.set("prefix", "$")

            async def b_sees_dollar() -> bool:
                return await gb.get("prefix") == "$"

            assert await eventually(b_sees_dollar)
            assert a_cache.healthy
            assert a_cache.stats.redis_errors == 0
            assert b_cache.stats.redis_errors == 0
    finally:
        await raw.aclose()


async def test_the_wire_memo_stays_bounded_and_correct(
    tmp_path: Path,
    keyring: Keyring,
    redis_server: RedisServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(redis_cache, "_WIRES_MAX", 8)
    settings = RedisSettings(url=redis_server.url)
    a, a_cache = cached_store(tmp_path / "db", keyring, settings, prefix="memo:")
    b, _ = cached_store(tmp_path / "db", keyring, settings, prefix="memo:")
    async with a, b:
        sa, sb = a.settings("cachetest"), b.settings("cachetest")
        for gid in range(20):
            await sa.guild(gid).set("warn_count", gid)
            assert await sb.guild(gid).get("warn_count") == gid
        for gid in range(20):
            await sa.guild(gid).set("warn_count", gid + 100)
        assert len(a_cache._wires) <= 8
        for ident, wire in a_cache._wires.items():
            assert wire == _wire(ident)

        async def b_sees_all() -> bool:
            got = [await sb.guild(gid).get("warn_count") for gid in range(20)]
            return got == [gid + 100 for gid in range(20)]

        assert await eventually(b_sees_all)
