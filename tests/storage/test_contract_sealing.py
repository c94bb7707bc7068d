"""Contract: sensitive fields are sealed above the backend; damage stays with its record."""

from __future__ import annotations

import base64

import attrs
import pytest
from tests.storage.records import Case, Note, Profile
from tests.storage.test_contract_records import case

from securebot.core.storage import Document, Store
from securebot.core.storage.codec import SEALED
from securebot.errors import CorruptRecordError, StorageError

SECRET = "the-moderator-wrote-this-8d1f"


async def _raw(store: Store, collection: str, scope: str, key: str) -> Document:
    doc = await store.backend.get(collection, scope, key, now=store.clock())
    assert doc is not None
    return doc


async def test_the_backend_only_sees_ciphertext(store: Store) -> None:
    await store.put(case(1, reason=SECRET, nickname=SECRET))
    doc = await _raw(store, "tests.cases", "1", "1")
    assert SECRET not in repr(doc)
    assert set(doc.body[SEALED]) == {"reason", "nickname"}
    assert "reason" not in doc.body
    assert "nickname" not in doc.body


async def test_lookup_tokens_differ_between_guilds(store: Store) -> None:
    await store.put(case(1, guild=1, nickname="Same"))
    await store.put(case(1, guild=2, nickname="Same"))
    one = await _raw(store, "tests.cases", "1", "1")
    two = await _raw(store, "tests.cases", "2", "1")
    assert one.lookups["nickname"] != two.lookups["nickname"]


async def _tamper(store: Store, doc: Document, field: str, value: str) -> None:
    body = dict(doc.body)
    body[SEALED] = {**body[SEALED], field: value}
    await store.backend.put(attrs.evolve(doc, body=body), now=store.clock())


async def test_a_corrupt_ciphertext_fails_that_record_only(store: Store) -> None:
    await store.put_many([case(1), case(2), case(3)])
    doc = await _raw(store, "tests.cases", "1", "2")
    blob = bytearray(base64.b64decode(doc.body[SEALED]["reason"]))
    blob[-1] ^= 0x01
    await _tamper(store, doc, "reason", base64.b64encode(bytes(blob)).decode())
    with pytest.raises(CorruptRecordError, match=r"tests.cases/1/2.*'reason'"):
        await store.get(Case, 2, scope=1)
    assert (await store.require(Case, 1, scope=1)).reason == "reason 1"
    page = await store.find(Case, scope=1)
    assert [c.number for c in page.items] == [1, 3]
    assert len(page.corrupt) == 1
    assert "tests.cases/1/2" in str(page.corrupt[0])


async def test_garbage_instead_of_a_ciphertext_is_a_clear_error(store: Store) -> None:
    await store.put(case(1))
    await _tamper(store, await _raw(store, "tests.cases", "1", "1"), "reason", "not base64 !!")
    with pytest.raises(CorruptRecordError, match="cannot be decrypted"):
        await store.get(Case, 1, scope=1)


async def test_a_ciphertext_moved_to_another_record_does_not_open(store: Store) -> None:
    await store.put_many([case(1, reason="one"), case(2, reason="two")])
    one = await _raw(store, "tests.cases", "1", "1")
    two = await _raw(store, "tests.cases", "1", "2")
    await _tamper(store, two, "reason", one.body[SEALED]["reason"])
    with pytest.raises(CorruptRecordError):
        await store.get(Case, 2, scope=1)


async def test_without_a_keyring_sensitive_fields_are_refused(store: Store) -> None:
    bare = Store(store.backend, clock=store.clock)
    with pytest.raises(StorageError, match="no keyring"):
        await bare.put(Note(name="n", text="secret"))
    assert await store.get(Note, "n") is None


async def test_old_records_are_migrated_on_read_and_by_migrate(store: Store) -> None:
    old = Document(
        "tests.profiles",
        "global",
        "5",
        {"user_id": 5, "name": "ada lovelace"},
        owners=(5,),
        schema=1,
    )
    await store.backend.put(old, now=store.clock())
    assert await store.get(Profile, 5) == Profile(user_id=5, display="Ada Lovelace", bio="")
    done = await store.migrate()
    assert done["tests.profiles"] == 1
    assert done["tests.cases"] == 0
    assert (await _raw(store, "tests.profiles", "global", "5")).schema == 2
    assert (await store.migrate())["tests.profiles"] == 0
    assert await store.backend.get_meta("schema:tests.profiles") == "2"


async def test_a_record_from_newer_code_is_refused(store: Store) -> None:
    await store.backend.put(
        Document("tests.profiles", "global", "6", {"user_id": 6}, schema=3), now=store.clock()
    )
    with pytest.raises(CorruptRecordError, match="newer than this code"):
        await store.get(Profile, 6)
