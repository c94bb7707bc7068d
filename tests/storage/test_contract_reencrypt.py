"""Contract: after a key rotation, ``Store.reencrypt`` moves every sealed value and blind-index
token to the new primary keys, loses nothing, and then has nothing left to do."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from tests.storage.records import Case, Note
from tests.storage.test_contract_records import case

from securebot.core.storage import Document, Scope, Store
from securebot.core.storage.backend import SettingRow
from securebot.core.storage.codec import PURPOSE, SEALED, SEALED_SETTING
from securebot.crypto import FieldCipher


def _key_ids(store: Store, doc: Document) -> set[int]:
    cipher = FieldCipher(store.keyring, PURPOSE)  # type: ignore[arg-type]
    return {cipher.key_id_of(base64.b64decode(text)) for text in doc.body[SEALED].values()}


async def _doc(store: Store, collection: str, scope: str, key: str) -> Document:
    doc = await store.backend.get(collection, scope, key, now=store.clock())
    assert doc is not None
    return doc


async def test_records_move_to_the_new_primary_and_stay_readable(store: Store) -> None:
    assert store.keyring is not None
    await store.put_many([case(n, reason=f"reason {n}", nickname=f"nick{n}") for n in (1, 2, 3)])
    await store.put(Note(name="n", text="global secret"))
    old = store.keyring.primary(PURPOSE).key_id
    new = store.keyring.rotate(PURPOSE)
    assert _key_ids(store, await _doc(store, "tests.cases", "1", "2")) == {old}

    done = await store.reencrypt()
    assert done["tests.cases"] == 3
    assert done["tests.notes"] == 1
    assert _key_ids(store, await _doc(store, "tests.cases", "1", "2")) == {new}
    assert _key_ids(store, await _doc(store, "tests.notes", "global", "n")) == {new}
    got = await store.get(Case, 2, scope=1)
    assert got is not None
    assert got.reason == "reason 2"
    assert (await store.find(Case, scope=1, nickname="NICK3")).items[0].number == 3
    again = await store.reencrypt()
    assert again["tests.cases"] == again["tests.notes"] == 0


async def test_a_new_index_key_recomputes_lookup_tokens(store: Store) -> None:
    assert store.keyring is not None
    await store.put(case(1, nickname="Alice"))
    before = (await _doc(store, "tests.cases", "1", "1")).lookups["nickname"]
    store.keyring.rotate("index")
    assert (await store.reencrypt())["tests.cases"] == 1
    after = (await _doc(store, "tests.cases", "1", "1")).lookups["nickname"]
    assert after != before
    assert [c.number for c in (await store.find(Case, scope=1, nickname="alice")).items] == [1]


async def test_sealed_settings_are_sealed_again(store: Store) -> None:
    assert store.keyring is not None
    settings = store.settings("reenc")
    settings.register(Scope.GUILD, sensitive=("webhook",), webhook="", plain=0)
    await settings.guild(5).set("webhook", "https://hooks.example/secret")
    await settings.guild(5).set("plain", 3)
    store.keyring.rotate(PURPOSE)
    assert (await store.reencrypt())["settings"] == 1
    rows = [r for r in await store.backend.find_settings(namespace="reenc") if r.name == "webhook"]
    blob = base64.b64decode(rows[0].value[SEALED_SETTING])
    cipher = FieldCipher(store.keyring, PURPOSE)
    assert not cipher.needs_reencryption(blob)
    assert await settings.guild(5).get("webhook") == "https://hooks.example/secret"
    assert (await store.reencrypt())["settings"] == 0


async def test_nothing_to_do_without_a_rotation(store: Store) -> None:
    await store.put(case(1, reason="r"))
    done = await store.reencrypt()
    assert set(done.values()) == {0}


class _WriterDuringReencryption:
    """The store of record, with the bot writing settings right after re-encryption read them."""

    def __init__(self, inner: Any, write: Callable[[], Awaitable[None]]) -> None:
        self.inner = inner
        self.write = write

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def find_settings(self, **filters: Any) -> list[SettingRow]:
        rows: list[SettingRow] = await self.inner.find_settings(**filters)
        await self.write()
        return rows


async def test_a_settings_write_during_reencryption_is_not_overwritten(store: Store) -> None:
    """Re-encryption runs next to the bot (docs/security.md): it must not put back an old
    value over one the bot wrote after re-encryption read the settings."""
    assert store.keyring is not None
    settings = store.settings("reenc-race")
    settings.register(Scope.GUILD, sensitive=("webhook",), webhook="")
    await settings.guild(5).set("webhook", "https://hooks.example/old")
    await settings.guild(6).set("webhook", "https://hooks.example/six")
    store.keyring.rotate(PURPOSE)

    async def bot_writes() -> None:
        await settings.guild(5).set("webhook", "https://hooks.example/new")

    racing = Store(
        _WriterDuringReencryption(store.backend, bot_writes),  # type: ignore[arg-type]
        keyring=store.keyring,
        clock=store.clock,
    )
    done = await racing.reencrypt()
    assert await settings.guild(5).get("webhook") == "https://hooks.example/new"
    assert await settings.guild(6).get("webhook") == "https://hooks.example/six"
    assert done["settings"] == 1  # guild 6 only: guild 5's value changed under it
    assert (await store.reencrypt())["settings"] == 0


async def test_lookups_find_every_record_while_an_index_key_rotation_is_under_way(
    store: Store,
) -> None:
    """docs/storage.md: queries keep working throughout a rotation. Between promoting a new
    index key and the end of re-encryption, records carry tokens of either key."""
    assert store.keyring is not None
    await store.put(case(1, nickname="Alice"))
    staged = store.keyring.add_key("index")  # rolled out, not primary yet
    await store.put(case(2, nickname="alice"))  # old primary
    store.keyring.promote(staged)
    await store.put(case(3, nickname="ALICE"))  # new primary
    found = await store.find(Case, scope=1, nickname="alice")
    assert sorted(c.number for c in found.items) == [1, 2, 3]
    assert [c.number for c in (await store.find(Case, scope=1, nickname="bob")).items] == []
    by_kind = await store.find(Case, scope=1, nickname="alice", kind=case(1).kind)
    assert sorted(c.number for c in by_kind.items) == [1, 2, 3]
    await store.reencrypt()
    assert sorted(c.number for c in (await store.find(Case, scope=1, nickname="alice")).items) == [
        1,
        2,
        3,
    ]


class _CrashAfter:
    """The store of record, failing every record write after ``writes`` of them (a kill)."""

    def __init__(self, inner: Any, writes: int) -> None:
        self.inner = inner
        self.left = writes

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def put(self, doc: Document, **kwargs: Any) -> int:
        if self.left == 0:
            raise RuntimeError("killed")
        self.left -= 1
        return int(await self.inner.put(doc, **kwargs))


async def test_an_interrupted_reencryption_loses_nothing_and_a_rerun_completes(
    store: Store,
) -> None:
    assert store.keyring is not None
    await store.put_many([case(n, reason=f"reason {n}", nickname=f"nick{n}") for n in range(1, 8)])
    new = store.keyring.rotate(PURPOSE)
    crashing = Store(
        _CrashAfter(store.backend, 3),  # type: ignore[arg-type]
        keyring=store.keyring,
        clock=store.clock,
    )
    with pytest.raises(RuntimeError, match="killed"):
        await crashing.reencrypt()
    for n in range(1, 8):  # half old, half new key: every record reads
        got = await store.get(Case, n, scope=1)
        assert got is not None
        assert got.reason == f"reason {n}"
    done = await store.reencrypt()
    assert done["tests.cases"] == 4
    for n in range(1, 8):
        assert _key_ids(store, await _doc(store, "tests.cases", "1", str(n))) == {new}
    assert (await store.reencrypt())["tests.cases"] == 0


class _BotWritesAfterRead:
    """The store of record, with the bot updating a record right after re-encryption read it."""

    def __init__(self, inner: Any, write: Callable[[], Awaitable[None]]) -> None:
        self.inner = inner
        self.write = write

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def find(self, query: Any, **kwargs: Any) -> Any:
        page = await self.inner.find(query, **kwargs)
        await self.write()
        return page


async def test_a_record_written_during_reencryption_keeps_the_bots_value(store: Store) -> None:
    assert store.keyring is not None
    await store.put_many([case(n, reason=f"old {n}") for n in (1, 2)])
    store.keyring.rotate(PURPOSE)

    async def bot_writes() -> None:
        await store.put(case(2, reason="new 2"))

    racing = Store(
        _BotWritesAfterRead(store.backend, bot_writes),  # type: ignore[arg-type]
        keyring=store.keyring,
        clock=store.clock,
    )
    done = await racing.reencrypt()
    assert done["tests.cases"] == 1  # record 2 conflicted: the bot's write is current already
    got = await store.get(Case, 2, scope=1)
    assert got is not None
    assert got.reason == "new 2"
    one = await store.get(Case, 1, scope=1)
    assert one is not None
    assert one.reason == "old 1"
