"""Someone who can write to Redis (but not to the store of record or the keyring).

A cached document names its own collection, scope and key, and those are what a sealed field's
associated data is computed from. A document copied under another entry's Redis key must not
be served as that entry (its sealed fields would open: they are bound to the copied identity),
and a damaged entry must not crash a read.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.storage_redis.helpers import SECRET_NOTE, SECRET_TOKEN, Note, cached_store

from securebot.crypto import Keyring
from securebot.errors import CorruptRecordError
from securebot.storage.redis_client import RedisSettings
from securebot.testing.redis import RedisServer


@pytest.fixture(scope="module")
def keyring() -> Keyring:
    return Keyring.generate()


@pytest.fixture
def settings(redis_server: RedisServer) -> RedisSettings:
    return RedisSettings(url=redis_server.url)


async def test_a_cached_document_copied_to_another_guilds_entry_is_not_served(
    tmp_path: Path, keyring: Keyring, redis_server: RedisServer, settings: RedisSettings
) -> None:
    writer, _ = cached_store(tmp_path / "db", keyring, settings)
    reader, reader_cache = cached_store(tmp_path / "db", keyring, settings, local=False)
    async with writer, reader:
        await writer.put(Note(guild_id=1, number=1, title="a", text=SECRET_NOTE))
        await writer.put(Note(guild_id=2, number=1, title="b", text="guild two's note"))
        assert (await reader.get(Note, 1, scope=1)).text == SECRET_NOTE  # fills Redis
        assert (await reader.get(Note, 1, scope=2)).text == "guild two's note"
        source = reader_cache._value_key(reader_cache._doc_id("cachetest.notes", "1", "1"))
        target = reader_cache._value_key(reader_cache._doc_id("cachetest.notes", "2", "1"))
        stolen = redis_server.command("GET", source)
        assert stolen is not None
        assert b'"s":"1"' in stolen
        redis_server.command("SET", target, stolen)

        note = await reader.get(Note, 1, scope=2)
        assert note is not None
        assert note.text == "guild two's note"  # the store of record's value, not guild 1's
        assert note.guild_id == 2
        assert reader_cache.stats.rejected == 1


async def test_a_damaged_cache_entry_falls_back_to_the_store_of_record(
    tmp_path: Path, keyring: Keyring, redis_server: RedisServer, settings: RedisSettings
) -> None:
    store, cache = cached_store(tmp_path / "db", keyring, settings, local=False)
    async with store:
        await store.put(Note(guild_id=3, number=9, title="t", text="kept"))
        assert (await store.get(Note, 9, scope=3)).text == "kept"
        target = cache._value_key(cache._doc_id("cachetest.notes", "3", "9"))
        for junk in (b"{not json", b"[1,2]", b'{"c":"cachetest.notes"}', b"\xff\xfe", b"42"):
            redis_server.command("SET", target, junk)
            note = await store.get(Note, 9, scope=3)
            assert note is not None, junk
            assert note.text == "kept", junk
        assert cache.stats.rejected == 5


async def test_a_sensitive_setting_replaced_by_a_plain_value_in_redis_is_refused(
    tmp_path: Path, keyring: Keyring, redis_server: RedisServer, settings: RedisSettings
) -> None:
    store, cache = cached_store(tmp_path / "db", keyring, settings, local=False)
    async with store:
        guild = store.settings("cachetest").guild(6)
        await guild.set("token", SECRET_TOKEN)
        assert await guild.get("token") == SECRET_TOKEN
        target = cache._value_key(cache._setting_id("cachetest", "6", "guild:6", "token"))
        assert redis_server.command("GET", target) is not None
        redis_server.command("SET", target, json.dumps("attacker-token"))
        with pytest.raises(CorruptRecordError, match="token"):
            await guild.get("token")
