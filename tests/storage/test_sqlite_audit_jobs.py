"""SQLite implementations of the core AuditStore and JobStore: durable across reopen, shared
between processes (two connections to one file), with the in-memory stores' behaviours."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from securebot.core.audit import AuditEvent, AuditLog, EventKind
from securebot.core.audit.chain import Anchor
from securebot.core.scheduler import JobRun, ManualClock, Scheduler
from securebot.core.scheduler.model import Job
from securebot.errors import ConflictError, CorruptRecordError
from securebot.storage.sqlite import SqliteAuditStore, SqliteBackend, SqliteJobStore

T0 = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
async def backend(tmp_path: Path) -> AsyncIterator[SqliteBackend]:
    backend = SqliteBackend(tmp_path / "bot.sqlite3")
    await backend.open()
    yield backend
    await backend.close()


async def _reopen(backend: SqliteBackend) -> SqliteBackend:
    await backend.close()
    again = SqliteBackend(backend.path)
    await again.open()
    return again


def _events(n: int, guild: int = 42) -> list[AuditEvent]:
    return [
        AuditEvent(EventKind.COMMAND, 1000.0 + t, guild_id=guild, actor_id=t, action=f"a{t}")
        for t in range(n)
    ]


async def test_an_audit_chain_survives_a_restart_and_verifies(backend: SqliteBackend) -> None:
    log = AuditLog(SqliteAuditStore(backend))
    for index, event in enumerate(_events(10)):
        log.record(event)
        if index % 3 == 0:
            await log.flush()
    await log.flush()
    again = await _reopen(backend)
    reopened = AuditLog(SqliteAuditStore(again))
    (report,) = await reopened.verify_all()
    assert report.ok
    assert report.checked == 10
    assert [e.event for e in await reopened.entries("42")] == _events(10)
    await again.close()


async def test_audit_appends_refuse_a_moved_head(backend: SqliteBackend) -> None:
    store = SqliteAuditStore(backend)
    log = AuditLog(store)
    log.record(_events(1)[0])
    await log.flush()
    head = await store.head("42")
    assert head.seq == 1
    with pytest.raises(ConflictError, match="moved"):
        await store.append("42", [], expected_head=Anchor())
    assert len(await store.read("42")) == 1


async def test_a_changed_audit_row_is_named_by_verify(backend: SqliteBackend) -> None:
    log = AuditLog(SqliteAuditStore(backend))
    for event in _events(5):
        log.record(event)
    await log.flush()
    backend.db.execute(
        "UPDATE audit_entries SET record = replace(record, '\"a2\"', '\"forged\"') "
        "WHERE chain='42' AND seq=3"
    )
    (report,) = await log.verify_all()
    assert not report.ok
    assert "3" in report.line()


async def test_audit_retention_prunes_a_prefix_and_the_rest_verifies(
    backend: SqliteBackend,
) -> None:
    store = SqliteAuditStore(backend)
    log = AuditLog(store)
    for event in _events(10):
        log.record(event)
    await log.flush()
    assert await log.prune(before=1004.0) == 4
    again = await _reopen(backend)
    (report,) = await AuditLog(SqliteAuditStore(again)).verify_all()
    assert report.ok
    assert report.checked == 6
    assert (await SqliteAuditStore(again).start("42")).seq == 4
    await again.close()


async def test_audit_chains_per_guild(backend: SqliteBackend) -> None:
    store = SqliteAuditStore(backend)
    log = AuditLog(store)
    for event in _events(2, guild=1) + _events(3, guild=2):
        log.record(event)
    await log.flush()
    assert await store.chains() == ["1", "2"]
    assert [len(await store.read(c)) for c in ("1", "2")] == [2, 3]


def _scheduler(store: SqliteJobStore, clock: ManualClock, runs: list[JobRun]) -> Scheduler:
    scheduler = Scheduler(store, clock=clock)  # type: ignore[arg-type]

    async def handler(run: JobRun) -> None:
        runs.append(run)

    scheduler.register("test.remind", handler)
    return scheduler


async def test_a_job_survives_a_restart_and_runs_once(backend: SqliteBackend) -> None:
    clock, runs = ManualClock(T0), []
    first = _scheduler(SqliteJobStore(backend), clock, runs)
    job = await first.schedule(
        "test.remind", T0 + dt.timedelta(minutes=2), user_id=5, payload={"text": "hi"}
    )
    again = await _reopen(backend)
    await clock.set(T0 + dt.timedelta(minutes=30))
    second = _scheduler(SqliteJobStore(again), clock, runs)
    assert await second.run_due() == 1
    assert await second.run_due() == 0
    assert [(r.job.id, r.due, dict(r.job.payload)) for r in runs] == [
        (job.id, job.due, {"text": "hi"})
    ]
    assert await SqliteJobStore(again).jobs() == []
    await again.close()


async def test_two_processes_sharing_the_file_run_a_job_once(tmp_path: Path) -> None:
    a, b = SqliteBackend(tmp_path / "j.sqlite3"), SqliteBackend(tmp_path / "j.sqlite3")
    await a.open()
    await b.open()
    clock, runs = ManualClock(T0), []
    one, two = (
        _scheduler(SqliteJobStore(a), clock, runs),
        _scheduler(SqliteJobStore(b), clock, runs),
    )
    for minute in range(5):
        await one.schedule("test.remind", T0 - dt.timedelta(minutes=minute))
    counts = await asyncio.gather(one.run_due(), two.run_due())
    assert sum(counts) == 5
    assert len(runs) == 5
    assert len({r.job.id for r in runs}) == 5
    await a.close()
    await b.close()


async def test_recurring_jobs_move_on(backend: SqliteBackend) -> None:
    clock, runs = ManualClock(T0), []
    scheduler = _scheduler(SqliteJobStore(backend), clock, runs)
    job = await scheduler.schedule("test.remind", T0, interval=3600)
    await clock.set(T0 + dt.timedelta(hours=2, minutes=30))
    assert await scheduler.run_due() == 1
    stored = await SqliteJobStore(backend).get(job.id)
    assert stored is not None
    assert stored.due == T0 + dt.timedelta(hours=3)


async def test_job_store_queries_and_claims(backend: SqliteBackend) -> None:
    store = SqliteJobStore(backend)
    tz = dt.timezone(dt.timedelta(hours=-5))
    jobs = [
        Job("a", "k1", T0, guild_id=1, user_id=2),
        Job("b", "k2", T0 + dt.timedelta(hours=1), guild_id=1, user_id=3),
        Job("c", "k1", (T0 - dt.timedelta(hours=1)).astimezone(tz), guild_id=2),
    ]
    for job in jobs:
        await store.add(job)
    with pytest.raises(ValueError, match="already exists"):
        await store.add(jobs[0])
    assert await store.get("c") == jobs[2]
    assert [j.id for j in await store.due(T0)] == ["c", "a"]
    assert [j.id for j in await store.jobs(kind="k1")] == ["c", "a"]
    assert [j.id for j in await store.jobs(guild_id=1, user_id=3)] == ["b"]
    assert await store.upcoming() == jobs[2].due
    lease = T0 + dt.timedelta(minutes=5)
    assert await store.claim("a", T0, owner="x", lease_until=lease, now=T0) is True
    assert await store.claim("a", T0, owner="y", lease_until=lease, now=T0) is False
    assert [j.id for j in await store.due(T0)] == ["c"]
    assert await store.claim("a", T0, owner="y", lease_until=lease, now=lease) is True
    await store.finish("a", T0, None)
    assert await store.get("a") is None
    assert await store.remove("b") is True
    assert await store.remove("b") is False
    assert attrs.evolve(jobs[2]).due.utcoffset() == (await store.get("c")).due.utcoffset()  # type: ignore[union-attr]


_events_strategy = st.builds(
    AuditEvent,
    kind=st.sampled_from(EventKind),
    at=st.floats(1.7e9, 1.8e9),
    guild_id=st.sampled_from([None, 1, 42]),
    actor_id=st.integers(1, 10**18),
    action=st.text(max_size=20),
    arguments=st.dictionaries(st.text(max_size=5), st.text(max_size=10), max_size=3),
    outcome=st.sampled_from(["ok", "denied", "error:ValueError"]),
)


def _canonical(event: AuditEvent) -> str:
    """An order key that does not depend on the key order of the event's dicts."""
    return json.dumps(event.to_dict(), sort_keys=True, default=str)


@settings(max_examples=25, deadline=None)
@given(items=st.lists(_events_strategy, min_size=1, max_size=12), flush_every=st.integers(1, 4))
def test_any_audit_history_verifies_after_a_restart(
    tmp_path_factory: pytest.TempPathFactory, items: list[AuditEvent], flush_every: int
) -> None:
    path = tmp_path_factory.mktemp("audit") / "a.sqlite3"

    async def scenario() -> None:
        backend = SqliteBackend(path)
        await backend.open()
        log = AuditLog(SqliteAuditStore(backend))
        for index, event in enumerate(items):
            log.record(event)
            if index % flush_every == 0:
                await log.flush()
        await log.flush()
        again = await _reopen(backend)
        reopened = AuditLog(SqliteAuditStore(again))
        reports = await reopened.verify_all()
        assert all(r.ok for r in reports), [r.line() for r in reports]
        assert sum(r.checked for r in reports) == len(items)
        stored = []
        for chain in await SqliteAuditStore(again).chains():
            stored += [e.event for e in await reopened.entries(chain)]
        assert sorted(stored, key=_canonical) == sorted(items, key=_canonical)
        await again.close()

    asyncio.run(scenario())


async def test_a_job_that_no_longer_opens_does_not_stop_the_others(backend: SqliteBackend) -> None:
    """A shredded guild's reminder (or a damaged row) cannot be opened: the other jobs still
    run, and the unreadable one is neither run nor deleted (a wrong keyring must not wipe jobs)."""
    from securebot.crypto import FieldCipher, Keyring

    keyring = Keyring.generate()
    cipher = FieldCipher(keyring, "messages")
    clock, runs = ManualClock(T0), []
    scheduler = _scheduler(SqliteJobStore(backend, cipher=cipher), clock, runs)
    doomed = await scheduler.schedule(
        "test.remind", T0 - dt.timedelta(minutes=5), guild_id=9, payload={"text": "gone"}
    )
    kept = await scheduler.schedule(
        "test.remind", T0 - dt.timedelta(minutes=1), guild_id=8, payload={"text": "kept"}
    )
    keyring.shred_guild("9")
    assert await scheduler.run_due() == 1
    assert [(r.job.id, dict(r.job.payload)) for r in runs] == [(kept.id, {"text": "kept"})]
    assert await scheduler.run_due() == 0  # set aside, not retried on every pass
    row = backend.db.execute("SELECT id FROM jobs WHERE id=?", (doomed.id,)).fetchone()
    assert row is not None  # still there: restoring the right keyring would bring it back


async def test_an_unsealed_payload_is_refused_when_payloads_are_sealed(
    backend: SqliteBackend,
) -> None:
    """Someone able to write the database plants a job with a plain payload (a scheduled
    command line): with a cipher configured it is not run."""
    from securebot.crypto import FieldCipher, Keyring

    cipher = FieldCipher(Keyring.generate(), "messages")
    store = SqliteJobStore(backend, cipher=cipher)
    await store.add(Job("real", "test.remind", T0, guild_id=1, payload={"text": "ok"}))
    backend.db.execute(
        "INSERT INTO jobs (id, kind, due, due_ts, guild_id, user_id, channel_id, payload)"
        " VALUES ('planted', 'test.remind', ?, ?, 1, 5, NULL, ?)",
        (T0.isoformat(), T0.timestamp(), json.dumps({"text": "run me"})),
    )
    with pytest.raises(CorruptRecordError, match="not sealed"):
        await store.get("planted")
    assert [job.id for job in await store.due(T0)] == ["real"]
