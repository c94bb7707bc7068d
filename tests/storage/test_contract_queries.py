"""Contract: queries by indexed fields and scope, paging, retention, counters, notifications."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from tests.storage.conftest import ManualClock
from tests.storage.records import Case, Kind, Note, Submission
from tests.storage.test_contract_records import case

from securebot.core.storage import Change, Store
from securebot.errors import ConflictError, StorageError


async def test_find_by_a_plain_index(store: Store) -> None:
    await store.put_many([case(1, user_id=5), case(2, user_id=6), case(3, user_id=5)])
    page = await store.find(Case, scope=1, user_id=5)
    assert [c.number for c in page.items] == [1, 3]
    assert page.next is None


async def test_find_by_a_sealed_lookup_field(store: Store) -> None:
    await store.put_many(
        [case(1, nickname="Ann"), case(2, nickname="Bob"), case(3, guild=2, nickname="Ann")]
    )
    page = await store.find(Case, scope=1, nickname="Ann")
    assert [(c.guild_id, c.number) for c in page.items] == [(1, 1)]


async def test_lookup_queries_need_a_scope(store: Store) -> None:
    with pytest.raises(StorageError, match="scope"):
        await store.find(Case, nickname="Ann")


async def test_only_declared_fields_are_queryable(store: Store) -> None:
    with pytest.raises(StorageError, match="not queryable"):
        await store.find(Case, scope=1, reason="x")
    with pytest.raises(StorageError, match="no field"):
        await store.find(Case, scope=1, colour="red")


async def test_find_across_scopes_and_within_one(store: Store) -> None:
    await store.put_many([case(1, guild=1), case(1, guild=2), case(2, guild=2)])
    everywhere = await store.find(Case, kind=Kind.WARN)
    assert len(everywhere.items) == 3
    only = await store.find(Case, scope=2)
    assert sorted(c.number for c in only.items) == [1, 2]


async def test_conditions_combine(store: Store) -> None:
    await store.put_many(
        [case(1, user_id=5, kind=Kind.BAN), case(2, user_id=5), case(3, user_id=6, kind=Kind.BAN)]
    )
    page = await store.find(Case, scope=1, user_id=5, kind=Kind.BAN)
    assert [c.number for c in page.items] == [1]


async def test_paging_visits_every_record_once(store: Store) -> None:
    await store.put_many([case(n) for n in range(25)])
    seen: list[int] = []
    after = None
    pages = 0
    while True:
        page = await store.find(Case, scope=1, after=after, limit=10)
        pages += 1
        seen.extend(c.number for c in page.items)
        if page.next is None:
            break
        after = page.next
    assert pages == 3
    assert sorted(seen) == list(range(25))
    assert len(seen) == 25
    assert [c.number async for c in store.iterate(Case, scope=1)] == seen


async def test_page_sizes_are_bounded(store: Store) -> None:
    for bad in (0, 1001):
        with pytest.raises(StorageError, match="page size"):
            await store.find(Case, scope=1, limit=bad)


async def test_indexes_follow_updates_and_deletes(store: Store) -> None:
    await store.put(case(1, user_id=5, nickname="Old"))
    await store.put(case(1, user_id=6, nickname="New"))
    assert (await store.find(Case, scope=1, user_id=5)).items == ()
    assert (await store.find(Case, scope=1, nickname="Old")).items == ()
    assert len((await store.find(Case, scope=1, nickname="New")).items) == 1
    await store.delete(Case, 1, scope=1)
    assert (await store.find(Case, scope=1, user_id=6)).items == ()


async def test_retention_hides_then_purges_old_records(store: Store, clock: ManualClock) -> None:
    await store.put(Submission(guild_id=1, form="a", user_id=1))
    clock.advance(200 * 86400)
    await store.put(Submission(guild_id=1, form="b", user_id=1))
    clock.advance(200 * 86400)  # "a" is 400 days old, "b" 200
    assert await store.get(Submission, ("a", 1), scope=1) is None
    assert [s.form for s in (await store.find(Submission, scope=1)).items] == ["b"]
    assert await store.purge(Submission) == 1
    assert await store.purge(Submission) == 0
    assert await store.get(Submission, ("b", 1), scope=1) is not None


async def test_a_ttl_overrides_retention_and_rewrites_renew_it(
    store: Store, clock: ManualClock
) -> None:
    await store.put(Note(name="short"), ttl=dt.timedelta(seconds=60))
    await store.put(Note(name="kept"))
    clock.advance(59)
    await store.put(Note(name="short"), ttl=dt.timedelta(seconds=60))
    clock.advance(59)
    assert await store.get(Note, "short") is not None
    clock.advance(2)
    assert await store.get(Note, "short") is None
    assert await store.purge(Note) == 1
    assert await store.get(Note, "kept") is not None


async def test_an_expired_record_counts_as_absent_for_create_only(
    store: Store, clock: ManualClock
) -> None:
    await store.put(Note(name="x", count=1), ttl=dt.timedelta(seconds=5))
    clock.advance(10)
    await store.put(Note(name="x", count=2), expect=0)
    assert (await store.require(Note, "x")).count == 2
    with pytest.raises(ConflictError):
        await store.put(Note(name="x", count=3), expect=0)


async def test_counters_count_per_scope(store: Store) -> None:
    assert await store.counter("tests.cases", scope=1) == 0
    assert [await store.incr("tests.cases", scope=1) for _ in range(3)] == [1, 2, 3]
    assert await store.incr("tests.cases", scope=2) == 1
    assert await store.incr("tests.cases", scope=1, by=5) == 8
    assert await store.counter("tests.cases", scope=1) == 8
    assert await store.incr("tests.global") == 1


async def test_concurrent_counter_increments_are_distinct(store: Store) -> None:
    numbers = await asyncio.gather(*(store.incr("tests.cases", scope=9) for _ in range(50)))
    assert sorted(numbers) == list(range(1, 51))


async def test_counter_names_are_checked(store: Store) -> None:
    with pytest.raises(StorageError):
        await store.incr("", scope=1)
    with pytest.raises(StorageError):
        await store.incr("a", scope=1, by=True)


async def test_subscribers_see_every_write(store: Store) -> None:
    seen: list[Change] = []
    unsubscribe = store.subscribe(seen.append)

    def broken(change: Change) -> None:
        raise RuntimeError("listener bug")

    store.subscribe(broken)
    await store.put(case(1))
    await store.delete(Case, 1, scope=1)
    await store.delete(Case, 1, scope=1)  # nothing deleted: no change
    unsubscribe()
    await store.put(case(2))
    assert [(c.kind, c.collection, c.scope, c.key) for c in seen] == [
        ("put", "tests.cases", "1", "1"),
        ("delete", "tests.cases", "1", "1"),
    ]
