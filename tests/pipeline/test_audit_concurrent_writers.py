"""Concurrent writers never fork an audit chain and never lose or duplicate an event.

Several :class:`AuditLog` instances (shards, processes) append to the same chain at once. The
store refuses an append whose expected head moved and the log retries, so the chain stays one
line: it verifies, and holds every recorded event exactly once. The stores here yield between
reading the head and appending, so the flushes really interleave.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from securebot.core.audit import AuditEvent, AuditLog, EventKind, MemoryAuditStore, StoredEntry
from securebot.core.audit.chain import Anchor
from securebot.storage.sqlite.audit import SqliteAuditStore
from securebot.storage.sqlite.backend import SqliteBackend


class Racing:
    """An audit store that lets other tasks run between every call (a slow network)."""

    def __init__(self, inner: MemoryAuditStore | SqliteAuditStore) -> None:
        self.inner = inner

    async def append(
        self, chain: str, entries: Sequence[StoredEntry], *, expected_head: Anchor
    ) -> None:
        await asyncio.sleep(0)
        await self.inner.append(chain, entries, expected_head=expected_head)

    async def read(self, chain: str) -> list[StoredEntry]:
        return await self.inner.read(chain)

    async def head(self, chain: str) -> Anchor:
        head = await self.inner.head(chain)
        await asyncio.sleep(0)
        return head

    async def start(self, chain: str) -> Anchor:
        return await self.inner.start(chain)

    async def chains(self) -> list[str]:
        return await self.inner.chains()

    async def prune(self, chain: str, *, before: float) -> int:
        return await self.inner.prune(chain, before=before)


#: Per writer, batches of actor ids: each batch is recorded, then flushed at once.
plans = st.lists(
    st.lists(st.lists(st.integers(1, 10**6), min_size=1, max_size=4), min_size=1, max_size=4),
    min_size=2,
    max_size=4,
)


def _event(writer: int, actor: int) -> AuditEvent:
    return AuditEvent(EventKind.COMMAND, 1.7e9, guild_id=7, actor_id=actor, action=f"w{writer}")


def _key(event: AuditEvent) -> tuple[str, int | None]:
    return event.action, event.actor_id


async def _write(
    logs: list[AuditLog], plan: list[list[list[int]]]
) -> Counter[tuple[str, int | None]]:
    expected: Counter[tuple[str, int | None]] = Counter()

    async def writer(index: int) -> None:
        log = logs[index]
        for batch in plan[index]:
            for actor in batch:
                event = _event(index, actor)
                expected[_key(event)] += 1
                log.record(event)
            await log.flush()
        while log.pending:  # a flush that lost every retry keeps its events queued
            await log.flush()

    await asyncio.gather(*(writer(i) for i in range(len(plan))))
    return expected


async def _check(reader: AuditLog, expected: Counter[tuple[str, int | None]]) -> None:
    (report,) = await reader.verify_all()
    assert report.ok, report.line()
    assert report.checked == sum(expected.values())
    assert Counter(_key(e.event) for e in await reader.entries("7")) == expected


@given(plans)
@settings(max_examples=40, deadline=None)
def test_writers_sharing_a_store_do_not_fork_the_chain(plan: list[list[list[int]]]) -> None:
    async def scenario() -> None:
        store = MemoryAuditStore()
        logs = [AuditLog(Racing(store)) for _ in plan]
        await _check(AuditLog(store), await _write(logs, plan))

    asyncio.run(scenario())


@given(plans)
@settings(max_examples=10, deadline=None)
def test_processes_sharing_a_sqlite_file_do_not_fork_the_chain(
    plan: list[list[list[int]]],
) -> None:
    async def scenario(path: Path) -> None:
        backends = [SqliteBackend(path) for _ in plan]  # one connection each, like processes
        for backend in backends:
            await backend.open()
        try:
            logs = [AuditLog(Racing(SqliteAuditStore(b))) for b in backends]
            expected = await _write(logs, plan)
            await _check(AuditLog(SqliteAuditStore(backends[0])), expected)
        finally:
            for backend in backends:
                await backend.close()

    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(scenario(Path(folder) / "audit.sqlite3"))
