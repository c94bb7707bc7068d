"""Who hears an invalidation: every other process once, the writer never, older versions too.

Each cache subscribes to the shared channel and to a channel of its own in one command; a write
publishes to every own channel but the writer's, and to the shared channel only when something
listens there without an own channel (an older securebot during a rolling upgrade).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from tests.storage_redis.helpers import cached_store, eventually

from securebot.crypto import Keyring
from securebot.storage.redis_cache import RedisCache
from securebot.storage.redis_client import RedisSettings
from securebot.testing.redis import RedisServer


@pytest.fixture(scope="module")
def keyring() -> Keyring:
    return Keyring.generate()


@pytest.fixture
def settings(redis_server: RedisServer) -> RedisSettings:
    return RedisSettings(url=redis_server.url)


def _count_deliveries(cache: RedisCache) -> list[str]:
    """Record every write invalidation the cache's listener hands over (its own included).

    Generation changes (``sender|*N``, sent when a cache connects or flushes) go to everyone on
    the shared channel, the sender included; they are rare and not counted here.
    """
    seen: list[str] = []
    apply = cache._on_invalidation

    def spy(data: bytes | str) -> None:
        text = data.decode() if isinstance(data, bytes) else data
        if not text.partition("|")[2].startswith("*"):
            seen.append(text)
        apply(data)

    cache._on_invalidation = spy  # type: ignore[method-assign]
    return seen


async def test_the_writer_never_hears_its_writes_and_the_other_process_hears_each_once(
    tmp_path: Path, keyring: Keyring, settings: RedisSettings
) -> None:
    a, a_cache = cached_store(tmp_path / "db", keyring, settings, prefix="own:")
    b, b_cache = cached_store(tmp_path / "db", keyring, settings, prefix="own:")
    async with a, b:
        a_heard, b_heard = _count_deliveries(a_cache), _count_deliveries(b_cache)
        for value in range(20):
            await a.settings("cachetest").guild(1).set("warn_count", value)

        async def b_heard_all() -> bool:
            return len(b_heard) >= 20

        assert await eventually(b_heard_all)
        await asyncio.sleep(0.05)  # anything extra would have arrived by now
        assert len(b_heard) == 20
        assert all(message.startswith(f"{a_cache._sender}|") for message in b_heard)
        assert a_heard == []
        # and b's reads see the last value (the invalidations were applied)
        assert await b.settings("cachetest").guild(1).get("warn_count") == 19


async def test_a_subscriber_of_the_shared_channel_only_still_hears_every_write(
    tmp_path: Path, keyring: Keyring, settings: RedisSettings, redis_server: RedisServer
) -> None:
    a, a_cache = cached_store(tmp_path / "db", keyring, settings, prefix="old:")
    raw: Any = aioredis.from_url(redis_server.url)
    async with a:
        # a pattern subscription is invisible to NUMSUB: it watches the shared channel only
        watcher = raw.pubsub()
        await watcher.psubscribe("old:invalidate")
        await watcher.get_message(timeout=1)
        await a.settings("cachetest").guild(2).set("warn_count", 1)
        await asyncio.sleep(0.05)
        assert await watcher.get_message(timeout=0.2) is None  # no older process: not sent
        older = raw.pubsub()  # an older securebot: the shared channel, no own channel
        await older.subscribe("old:invalidate")
        await older.get_message(timeout=1)
        await a.settings("cachetest").guild(2).set("warn_count", 2)
        message = await older.get_message(timeout=2)
        assert message is not None
        assert message["data"].decode().startswith(f"{a_cache._sender}|")
        assert '"cachetest"' in message["data"].decode()
        await older.aclose()
        await watcher.aclose()
    await raw.aclose()


async def test_prefixes_with_glob_characters_do_not_hear_each_other(
    tmp_path: Path, keyring: Keyring, settings: RedisSettings
) -> None:
    a, _ = cached_store(tmp_path / "a", keyring, settings, prefix="g*:")
    b, b_cache = cached_store(tmp_path / "a", keyring, settings, prefix="g*:")
    c, c_cache = cached_store(tmp_path / "c", keyring, settings, prefix="gx:")
    async with a, b, c:
        b_heard, c_heard = _count_deliveries(b_cache), _count_deliveries(c_cache)
        await a.settings("cachetest").guild(3).set("warn_count", 5)

        async def b_heard_it() -> bool:
            return len(b_heard) == 1

        assert await eventually(b_heard_it)
        await asyncio.sleep(0.05)
        assert c_heard == []
