"""Contract: records (get/put/delete, compare-and-set, keys, types, batches, updates)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from tests.storage.records import Case, Kind, Note, Submission

from securebot.core.storage import Store, record
from securebot.errors import ConflictError, RecordNotFoundError, StorageError


def case(number: int, guild: int = 1, **kw: object) -> Case:
    fields: dict[str, object] = {"user_id": 100 + number, "reason": f"reason {number}"}
    fields.update(kw)
    return Case(guild_id=guild, number=number, **fields)  # type: ignore[arg-type]


async def test_a_put_record_reads_back_equal(store: Store) -> None:
    c = case(1, nickname="Zed", at=dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC), tags=("a", "b"))
    await store.put(c)
    assert await store.get(Case, 1, scope=1) == c


async def test_a_missing_record_is_none_and_require_says_so(store: Store) -> None:
    assert await store.get(Case, 404, scope=1) is None
    with pytest.raises(RecordNotFoundError, match="tests.cases"):
        await store.require(Case, 404, scope=1)


async def test_revisions_start_at_one_and_grow_per_write(store: Store) -> None:
    assert await store.put(case(1)) == 1
    assert await store.put(case(1, reason="changed")) == 2
    found = await store.get_versioned(Case, 1, scope=1)
    assert found is not None
    assert found.revision == 2
    assert found.record.reason == "changed"


async def test_create_only_refuses_an_existing_record(store: Store) -> None:
    assert await store.put(case(1), expect=0) == 1
    with pytest.raises(ConflictError):
        await store.put(case(1, reason="other"), expect=0)
    assert (await store.require(Case, 1, scope=1)).reason == "reason 1"


async def test_compare_and_set_with_a_stale_revision_writes_nothing(store: Store) -> None:
    await store.put(case(1))
    await store.put(case(1, reason="second"))
    with pytest.raises(ConflictError, match="expected revision 1"):
        await store.put(case(1, reason="lost update"), expect=1)
    assert (await store.require(Case, 1, scope=1)).reason == "second"
    assert await store.put(case(1, reason="third"), expect=2) == 3


async def test_compare_and_set_on_a_missing_record_conflicts(store: Store) -> None:
    with pytest.raises(ConflictError):
        await store.put(case(9), expect=1)
    assert await store.get(Case, 9, scope=1) is None


async def test_delete_reports_whether_the_record_existed(store: Store) -> None:
    await store.put(case(1))
    assert await store.delete(Case, 1, scope=1) is True
    assert await store.get(Case, 1, scope=1) is None
    assert await store.delete(Case, 1, scope=1) is False


async def test_conditional_delete(store: Store) -> None:
    await store.put(case(1))
    with pytest.raises(ConflictError):
        await store.delete(Case, 1, scope=1, expect=7)
    assert await store.get(Case, 1, scope=1) is not None
    assert await store.delete(Case, 1, scope=1, expect=1) is True


async def test_the_same_key_in_two_guilds_is_two_records(store: Store) -> None:
    await store.put(case(1, guild=1, reason="one"))
    await store.put(case(1, guild=2, reason="two"))
    assert (await store.require(Case, 1, scope=1)).reason == "one"
    assert (await store.require(Case, 1, scope=2)).reason == "two"
    await store.delete(Case, 1, scope=2)
    assert await store.get(Case, 1, scope=1) is not None


async def test_scope_must_match_the_declaration(store: Store) -> None:
    with pytest.raises(StorageError, match="per guild"):
        await store.get(Case, 1)
    with pytest.raises(StorageError, match="global"):
        await store.get(Note, "x", scope=5)


async def test_composite_keys(store: Store) -> None:
    sub = Submission(guild_id=3, form="apply", user_id=7, answers={"why": "because"})
    await store.put(sub)
    assert await store.get(Submission, ("apply", 7), scope=3) == sub
    assert await store.get(Submission, ("apply", 8), scope=3) is None
    with pytest.raises(StorageError, match="2 part"):
        await store.get(Submission, "apply", scope=3)


async def test_enums_datetimes_tuples_and_mappings_round_trip(store: Store) -> None:
    at = dt.datetime(2030, 5, 6, 7, 8, 9, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    c = case(2, kind=Kind.BAN, at=at, tags=("x",))
    await store.put(c)
    back = await store.require(Case, 2, scope=1)
    assert back.kind is Kind.BAN
    assert back.at == at
    assert back.at.utcoffset() == at.utcoffset()
    assert back.tags == ("x",)


async def test_values_that_cannot_be_stored_are_refused(store: Store) -> None:
    with pytest.raises(StorageError, match="cannot store"):
        await store.put(Note(name="n", count=object()))  # type: ignore[arg-type]


async def test_undeclared_types_are_refused(store: Store) -> None:
    class Plain:
        pass

    with pytest.raises(StorageError, match="not a record type"):
        await store.get(Plain, 1)


def test_declarations_are_checked_at_import_time() -> None:
    import attrs

    with pytest.raises(StorageError, match="no field"):

        @record("tests.bad", key="missing")
        @attrs.frozen
        class Bad:
            name: str

    with pytest.raises(StorageError, match="declared twice"):

        @record("tests.cases", key="name")
        @attrs.frozen
        class Again:
            name: str

    with pytest.raises(StorageError, match="needs migrations"):

        @record("tests.bad2", key="name", version=3)
        @attrs.frozen
        class Unmigrated:
            name: str


async def test_update_creates_changes_and_leaves_alone(store: Store) -> None:
    def bump(note: Note | None) -> Note:
        return Note(name="n", count=1) if note is None else Note(name="n", count=note.count + 1)

    assert (await store.update(Note, "n", bump)).count == 1  # type: ignore[union-attr]
    assert (await store.update(Note, "n", bump)).count == 2  # type: ignore[union-attr]
    same = await store.update(Note, "n", lambda note: None)
    assert same is not None
    assert same.count == 2


async def test_concurrent_updates_lose_nothing(store: Store) -> None:
    def bump(note: Note | None) -> Note:
        return Note(name="c", count=(note.count if note else 0) + 1)

    await asyncio.gather(*(store.update(Note, "c", bump) for _ in range(20)))
    assert (await store.require(Note, "c")).count == 20


async def test_bulk_writes(store: Store) -> None:
    assert await store.put_many([case(n) for n in range(1, 51)]) == 50
    assert await store.put_many([]) == 0
    for n in (1, 25, 50):
        assert (await store.require(Case, n, scope=1)).reason == f"reason {n}"
    found = await store.get_versioned(Case, 7, scope=1)
    assert found is not None
    assert found.revision == 1


async def test_keys_must_be_valid_text(store: Store) -> None:
    with pytest.raises(StorageError, match="valid text"):
        await store.put(Submission(guild_id=1, form="bad\ud800", user_id=1))
    with pytest.raises(StorageError, match="empty key"):
        await store.put(Note(name=""))
