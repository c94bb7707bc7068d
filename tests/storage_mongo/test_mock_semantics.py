"""Query semantics of MongoBackend's filters and updates, run on mongomock — a MOCK.

These tests check what our filters and updates *mean* (CAS conditions, expiry, lookup matching,
paging order, erasure) using mongomock's Python re-implementation of the query language. They are
NOT MongoDB coverage: no server, no replica set, no transactions, no write concern, no TLS. The
shared contract suite runs on a real server when SECUREBOT_TEST_MONGODB_URI is set.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import bson
import pytest
from tests.storage.records import Case
from tests.storage_mongo.mock_adapter import MockDatabase

from securebot.core.storage import Document, Query, Store
from securebot.crypto import Keyring
from securebot.errors import ConflictError, CorruptRecordError
from securebot.storage.mongo import MongoBackend, MongoSettings

NOW = 1_800_000_000.0


@pytest.fixture
async def mock_backend() -> AsyncIterator[tuple[MongoBackend, MockDatabase]]:
    database = MockDatabase()
    backend = MongoBackend(database=database)
    await backend.open()
    yield backend, database
    await backend.close()


def _doc(key: str, scope: str = "1", **kw: object) -> Document:
    return Document("cases", scope, key, {"n": key}, **kw)  # type: ignore[arg-type]


async def test_mock_compare_and_set(mock_backend: tuple[MongoBackend, MockDatabase]) -> None:
    backend, _ = mock_backend
    assert await backend.put(_doc("a"), now=NOW, expect=0) == 1
    with pytest.raises(ConflictError, match="expected revision 0"):
        await backend.put(_doc("a"), now=NOW, expect=0)
    with pytest.raises(ConflictError, match="expected revision 5"):
        await backend.put(Document("cases", "1", "a", {"n": "lost"}), now=NOW, expect=5)
    assert (await backend.get("cases", "1", "a", now=NOW)).body == {"n": "a"}
    assert await backend.put(_doc("a"), now=NOW, expect=1) == 2
    assert await backend.put(_doc("a"), now=NOW) == 3
    # an expired document counts as absent for create-only writes
    await backend.put(_doc("old", expires_at=NOW - 1), now=NOW - 10)
    assert await backend.get("cases", "1", "old", now=NOW) is None
    assert await backend.put(_doc("old"), now=NOW, expect=0) == 2
    with pytest.raises(ConflictError):
        await backend.delete("cases", "1", "a", now=NOW, expect=1)
    assert await backend.delete("cases", "1", "a", now=NOW, expect=3)
    assert not await backend.delete("cases", "1", "a", now=NOW)


async def test_mock_settings_compare_and_set(
    mock_backend: tuple[MongoBackend, MockDatabase],
) -> None:
    backend, _ = mock_backend
    assert not await backend.replace_setting("ns", "1", "guild:1", "x", None, 1)  # absent
    await backend.set_setting("ns", "1", "guild:1", "x", {"_sealed_v1": "old"}, owner=7)
    assert not await backend.replace_setting("ns", "1", "guild:1", "x", {"_sealed_v1": "?"}, 2)
    assert await backend.get_setting("ns", "1", "guild:1", "x") == {"_sealed_v1": "old"}
    new = {"_sealed_v1": "new"}
    assert await backend.replace_setting("ns", "1", "guild:1", "x", {"_sealed_v1": "old"}, new)
    assert await backend.get_setting("ns", "1", "guild:1", "x") == new
    assert [r.value for r in await backend.find_settings(owner=7)] == [new]  # owner kept


async def test_mock_a_record_copied_under_another_records_id_is_refused(
    mock_backend: tuple[MongoBackend, MockDatabase],
) -> None:
    """Someone able to write MongoDB copies guild 1's case document (its c/s/k fields too)
    under guild 2's _id: its sealed fields would open (they are bound to what it names), so
    guild 2 would read guild 1's secret. The store refuses a record that is not the one asked."""
    backend, database = mock_backend
    store = Store(backend, keyring=Keyring.generate(), clock=lambda: NOW)
    await store.put(Case(guild_id=1, number=1, user_id=5, reason="guild one's secret"))
    await store.put(Case(guild_id=2, number=1, user_id=6, reason="guild two's"))
    raw = database.raw(backend.names.records)
    one = raw.find_one({"c": "tests.cases", "s": "1", "k": "1"})
    two = raw.find_one({"c": "tests.cases", "s": "2", "k": "1"})
    raw.delete_one({"_id": one["_id"]})  # (c, s, k) is unique: move it, do not copy it
    raw.replace_one({"_id": two["_id"]}, {**one, "_id": two["_id"]})
    with pytest.raises(CorruptRecordError, match="not the record asked for"):
        await store.get(Case, 1, scope=2)
    with pytest.raises(CorruptRecordError, match="not the record asked for"):
        await store.get_versioned(Case, 1, scope=2)


async def test_mock_queries_match_lookups_scope_expiry_and_page_in_order(
    mock_backend: tuple[MongoBackend, MockDatabase],
) -> None:
    backend, _ = mock_backend
    for scope in ("2", "1"):
        for key in ("b", "a", "c"):
            await backend.put(
                _doc(key, scope, lookups={"user": "u1" if key != "c" else "u2", "kind": "warn"}),
                now=NOW,
            )
    await backend.put(_doc("z", "1", lookups={"user": "u1"}, expires_at=NOW), now=NOW)
    page = await backend.find(Query("cases", where={"user": "u1", "kind": "warn"}), now=NOW)
    assert [(d.scope, d.key) for d in page.items] == [
        ("1", "a"),
        ("1", "b"),
        ("2", "a"),
        ("2", "b"),
    ]
    first = await backend.find(Query("cases", limit=2), now=NOW)
    assert [(d.scope, d.key) for d in first.items] == [("1", "a"), ("1", "b")]
    assert first.next == ("1", "b")
    second = await backend.find(Query("cases", after=first.next, limit=3), now=NOW)
    assert [(d.scope, d.key) for d in second.items] == [("1", "c"), ("2", "a"), ("2", "b")]
    third = await backend.find(Query("cases", after=second.next, limit=3), now=NOW)
    assert [(d.scope, d.key) for d in third.items] == [("2", "c")]
    assert third.next is None
    scoped = await backend.find(Query("cases", scope="2", where={"user": "u2"}), now=NOW)
    assert [(d.scope, d.key) for d in scoped.items] == [("2", "c")]
    # any of several tokens of one field (an index key rotation), every field still required
    either = Query("cases", scope="1", where={"kind": "warn"}, where_any={"user": ("u2", "u9")})
    assert [d.key for d in (await backend.find(either, now=NOW)).items] == ["c"]
    both = Query("cases", scope="1", where_any={"user": ("u1", "u2"), "kind": ("warn",)})
    assert [d.key for d in (await backend.find(both, now=NOW)).items] == ["a", "b", "c"]
    none = Query("cases", scope="1", where_any={"user": ("u1",), "kind": ("ban",)})
    assert (await backend.find(none, now=NOW)).items == ()
    assert await backend.purge("cases", now=NOW) == 1


async def test_mock_counters_are_atomic(mock_backend: tuple[MongoBackend, MockDatabase]) -> None:
    backend, _ = mock_backend
    values = await asyncio.gather(*(backend.incr("c.n", "1", "c.n") for _ in range(30)))
    assert sorted(values) == list(range(1, 31))
    assert await backend.counter("c.n", "1", "c.n") == 30
    assert await backend.counter("c.n", "2", "c.n") == 0
    assert await backend.collections() == ["c.n"]


async def test_mock_erasure_by_owner_and_by_guild(
    mock_backend: tuple[MongoBackend, MockDatabase],
) -> None:
    backend, _ = mock_backend
    await backend.put(_doc("a", owners=(7,)), now=NOW)
    await backend.put(_doc("b", owners=(8,)), now=NOW)
    await backend.put(_doc("c", "2", owners=(7, 8)), now=NOW)
    await backend.set_setting("mod", "1", "member:1:7", "warns", 3, owner=7)
    await backend.set_setting("mod", "2", "guild:2", "prefix", "!")
    await backend.incr("cases", "2", "cases")
    assert [d.key for d in await backend.owned_by(7, now=NOW)] == ["a", "c"]
    assert [r.name for r in await backend.find_settings(owner=7)] == ["warns"]
    assert await backend.delete_owned_by(7) == 3
    assert await backend.owned_by(7, now=NOW) == []
    assert await backend.delete_scope("2") == 2  # the setting and the counter
    assert await backend.counter("cases", "2", "cases") == 0
    assert [d.key for d in (await backend.find(Query("cases"), now=NOW)).items] == ["b"]


async def test_raw_documents_hold_no_sealed_plaintext() -> None:
    database = MockDatabase()
    store = Store(MongoBackend(database=database), keyring=Keyring.generate())
    secret = "reason-plaintext-M0NG0"
    async with store:
        await store.put(Case(guild_id=1, number=1, user_id=5, reason=secret, nickname=secret))
        assert (await store.require(Case, 1, scope=1)).reason == secret
    raw = b"".join(bson.encode(doc) for doc in database.raw("securebot_records").find())
    assert b"tests.cases" in raw
    assert secret.encode() not in raw


@pytest.mark.mongo
async def test_raw_documents_on_a_real_server_hold_no_sealed_plaintext() -> None:
    uri = os.environ.get("SECUREBOT_TEST_MONGODB_URI")
    if not uri:
        pytest.skip("MongoDB contract suite NOT run: SECUREBOT_TEST_MONGODB_URI unset")
    settings = MongoSettings(uri=uri, database=f"securebot_raw_{os.getpid()}")
    backend = MongoBackend(settings)
    store = Store(backend, keyring=Keyring.generate())
    secret = "reason-plaintext-R3AL"
    async with store:
        try:
            await store.put(Case(guild_id=1, number=1, user_id=5, reason=secret))
            raws = await backend._col(backend.names.records).find({}).to_list(None)
            raw = b"".join(bson.encode(doc) for doc in raws)
            assert b"tests.cases" in raw
            assert secret.encode() not in raw
        finally:
            await backend._client.drop_database(settings.database)
