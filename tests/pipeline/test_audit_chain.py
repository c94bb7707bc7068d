"""The audit hash chain: any changed, removed or reordered entry is found and named."""

from __future__ import annotations

import asyncio

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from securebot.core.audit import (
    AuditEvent,
    AuditLog,
    EventKind,
    MemoryAuditStore,
    StoredEntry,
)

events = st.builds(
    AuditEvent,
    kind=st.sampled_from(EventKind),
    at=st.floats(1.7e9, 1.8e9),
    guild_id=st.just(42),
    actor_id=st.integers(1, 10**18),
    action=st.text(max_size=20),
    arguments=st.dictionaries(st.text(max_size=5), st.text(max_size=10), max_size=3),
    outcome=st.sampled_from(["ok", "denied", "error:ValueError"]),
)


def _run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


async def _filled(items: list[AuditEvent]) -> tuple[AuditLog, MemoryAuditStore]:
    store = MemoryAuditStore()
    log = AuditLog(store)
    for index, event in enumerate(items):
        log.record(event)
        if index % 3 == 0:
            await log.flush()
    await log.flush()
    return log, store


@given(st.lists(events, min_size=1, max_size=12))
@settings(max_examples=60)
def test_an_untouched_chain_verifies(items: list[AuditEvent]) -> None:
    async def scenario() -> None:
        log, _ = await _filled(items)
        (report,) = await log.verify_all()
        assert report.ok, report.line()
        assert report.checked == len(items)
        assert [e.event for e in await log.entries("42")] == items

    _run(scenario())


@given(st.lists(events, min_size=2, max_size=12), st.data())
@settings(max_examples=60)
def test_a_changed_entry_is_named(items: list[AuditEvent], data: st.DataObject) -> None:
    async def scenario() -> None:
        log, store = await _filled(items)
        chain = store.entries["42"]
        index = data.draw(st.integers(0, len(chain) - 1))
        record = dict(chain[index].record)
        record["outcome"] = record["outcome"] + "!"
        chain[index] = attrs.evolve(chain[index], record=record)
        (report,) = await log.verify_all()
        assert not report.ok
        assert report.first_bad_seq == index + 1
        assert "changed" in report.problem

    _run(scenario())


@given(st.lists(events, min_size=2, max_size=12), st.data())
@settings(max_examples=60)
def test_a_removed_entry_is_named(items: list[AuditEvent], data: st.DataObject) -> None:
    async def scenario() -> None:
        log, store = await _filled(items)
        chain = store.entries["42"]
        index = data.draw(st.integers(0, len(chain) - 1))
        del chain[index]
        (report,) = await log.verify_all()
        assert not report.ok
        assert report.first_bad_seq == index + 1

    _run(scenario())


@given(st.lists(events, min_size=2, max_size=12), st.data())
@settings(max_examples=60)
def test_reordered_entries_are_named(items: list[AuditEvent], data: st.DataObject) -> None:
    async def scenario() -> None:
        log, store = await _filled(items)
        chain = store.entries["42"]
        index = data.draw(st.integers(0, len(chain) - 2))
        chain[index], chain[index + 1] = chain[index + 1], chain[index]
        (report,) = await log.verify_all()
        assert not report.ok
        assert report.first_bad_seq == index + 1

    _run(scenario())


def test_a_rehashed_forgery_of_the_newest_entry_is_caught_by_the_head() -> None:
    from securebot.core.audit.chain import seal

    async def scenario() -> None:
        event = AuditEvent(EventKind.COMMAND, 1.75e9, guild_id=42, action="ban")
        log, store = await _filled([event, event])
        last = store.entries["42"][-1]
        forged = seal(attrs.evolve(event, action="ping"), last.seq, last.prev_hash)
        store.entries["42"][-1] = StoredEntry(
            "42",
            forged.seq,
            forged.prev_hash,
            forged.hash,
            last.at,
            dict(last.record, action="ping"),
        )
        (report,) = await log.verify_all()
        assert not report.ok
        assert "newest" in report.problem

    _run(scenario())


def test_retention_prunes_a_prefix_and_the_rest_still_verifies() -> None:
    async def scenario() -> None:
        items = [AuditEvent(EventKind.COMMAND, float(t), guild_id=42) for t in range(10)]
        log, _ = await _filled(items)
        assert await log.prune(before=4.0) == 4
        (report,) = await log.verify_all()
        assert report.ok
        assert report.checked == 6

    _run(scenario())


def test_a_failed_append_keeps_the_events_queued() -> None:
    class Broken(MemoryAuditStore):
        async def append(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            raise OSError("disk gone")

    async def scenario() -> None:
        log = AuditLog(Broken())
        log.record(AuditEvent(EventKind.COMMAND, 1.0, guild_id=1))
        assert await log.flush() == 0
        assert log.pending == 1

    _run(scenario())


def test_a_sealed_field_that_does_not_open_is_reported() -> None:
    from securebot.errors import DecryptionError

    class Sealer:
        def seal(self, plaintext: bytes, *, context: str) -> str:
            return context + "|" + plaintext.decode()

        def open(self, sealed: str, *, context: str) -> bytes:
            bound, _, text = sealed.partition("|")
            if bound != context:
                raise DecryptionError("bound to another place")
            return text.encode()

    async def scenario() -> None:
        store = MemoryAuditStore()
        log = AuditLog(store, sealer=Sealer())
        for t in range(3):
            log.record(AuditEvent(EventKind.COMMAND, float(t), guild_id=7, arguments={"a": "b"}))
        await log.flush()
        assert (await log.verify("7")).ok
        first, second = store.entries["7"][0], store.entries["7"][1]
        store.entries["7"][1] = attrs.evolve(
            second, record=dict(second.record, arguments=first.record["arguments"])
        )
        report = await log.verify("7")
        assert not report.ok
        assert report.first_bad_seq == 2
        assert "unreadable" in report.problem

    _run(scenario())


@pytest.mark.parametrize("guild", [None, 5])
def test_events_go_to_their_guild_chain(guild: int | None) -> None:
    async def scenario() -> None:
        store = MemoryAuditStore()
        log = AuditLog(store)
        log.record(AuditEvent(EventKind.HTTP, 1.0, guild_id=guild))
        await log.flush()
        assert await store.chains() == ["global" if guild is None else "5"]

    _run(scenario())
