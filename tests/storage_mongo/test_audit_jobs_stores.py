"""MongoAuditStore and MongoJobStore: the SQLite stores' behaviours, plus MongoDB's own crash
windows, on mongomock (a MOCK: query and conditional-update semantics only, NOT MongoDB
coverage) and on a REAL server when SECUREBOT_TEST_MONGODB_URI is set (skipped otherwise)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.storage_mongo.stores_env import KINDS, MongoEnv, mongo_env

from securebot.core.audit import AuditEvent, AuditLog, EventKind
from securebot.core.audit.chain import Anchor
from securebot.core.audit.store import StoredEntry
from securebot.core.scheduler import JobRun, ManualClock, Scheduler
from securebot.core.scheduler.model import Job
from securebot.crypto import FieldCipher, Keyring
from securebot.errors import ConflictError, CorruptRecordError, StorageError
from securebot.storage.mongo_audit import MongoAuditStore
from securebot.storage.mongo_jobs import MongoJobStore, database_of

T0 = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
SECRET = "remind me: the vault code is 7731"


@pytest.fixture(params=KINDS)
async def env(request: pytest.FixtureRequest) -> AsyncIterator[MongoEnv]:
    async with mongo_env(request.param) as opened:
        yield opened


def _events(n: int, guild: int = 42) -> list[AuditEvent]:
    return [
        AuditEvent(EventKind.COMMAND, 1000.0 + t, guild_id=guild, actor_id=t, action=f"a{t}")
        for t in range(n)
    ]


def _raw(store: MongoAuditStore | MongoJobStore, name: str) -> Any:
    return database_of(store.backend)[name]


# --- audit --------------------------------------------------------------------------------------


async def test_an_audit_chain_survives_a_restart_and_verifies(env: MongoEnv) -> None:
    log = AuditLog(MongoAuditStore(await env.open()))
    for index, event in enumerate(_events(10)):
        log.record(event)
        if index % 3 == 0:
            await log.flush()
    await log.flush()
    reopened = AuditLog(MongoAuditStore(await env.open()))
    (report,) = await reopened.verify_all()
    assert report.ok, report.line()
    assert report.checked == 10
    assert [e.event for e in await reopened.entries("42")] == _events(10)


async def test_audit_appends_refuse_a_moved_head_and_write_nothing(env: MongoEnv) -> None:
    store = MongoAuditStore(await env.open())
    log = AuditLog(store)
    log.record(_events(1)[0])
    await log.flush()
    head = await store.head("42")
    assert head.seq == 1
    with pytest.raises(ConflictError, match="moved"):
        await store.append("42", [], expected_head=Anchor())
    stale = StoredEntry("42", 1, "0" * 64, "f" * 64, 5.0, {"x": 1})
    with pytest.raises(ConflictError, match="moved"):
        await store.append("42", [stale], expected_head=Anchor())
    assert [e.hash for e in await store.read("42")] == [head.hash]
    assert await _raw(store, store.entries_name).count_documents({}) == 1


async def test_two_writers_from_one_head_one_wins_the_loser_writes_nothing(
    env: MongoEnv,
) -> None:
    one, two = MongoAuditStore(await env.open()), MongoAuditStore(await env.open())
    mine = [StoredEntry("7", 1, "0" * 64, "a" * 64, 1.0, {"who": "one"})]
    theirs = [
        StoredEntry("7", 1, "0" * 64, "b" * 64, 1.0, {"who": "two"}),
        StoredEntry("7", 2, "b" * 64, "c" * 64, 2.0, {"who": "two"}),
    ]
    results = await asyncio.gather(
        one.append("7", mine, expected_head=Anchor()),
        two.append("7", theirs, expected_head=Anchor()),
        return_exceptions=True,
    )
    assert sum(isinstance(r, ConflictError) for r in results) == 1
    assert sum(r is None for r in results) == 1
    stored = await one.read("7")
    winner = mine if results[0] is None else theirs
    assert stored == winner
    assert await one.head("7") == Anchor(winner[-1].seq, winner[-1].hash)


async def test_a_batch_that_does_not_follow_the_head_is_refused(env: MongoEnv) -> None:
    store = MongoAuditStore(await env.open())
    gap = [StoredEntry("9", 2, "0" * 64, "a" * 64, 1.0, {})]
    with pytest.raises(StorageError, match="does not follow"):
        await store.append("9", gap, expected_head=Anchor())
    assert await store.head("9") == Anchor()
    assert await store.chains() == []


@pytest.mark.parametrize("inserted", [0, 2])
@pytest.mark.parametrize("fault", ["killed", "network"])
async def test_a_writer_that_fails_after_moving_the_head_loses_and_repeats_nothing(
    env: MongoEnv, monkeypatch: pytest.MonkeyPatch, inserted: int, fault: str
) -> None:
    """The batch waits in the chain document; the next reader (another process) finishes it.

    ``killed``: the task dies mid-write (cancelled, as when the process stops). ``network``:
    a driver error after the commit point: the append counts as done (no duplicate on retry).
    """
    from pymongo.errors import AutoReconnect

    dying = MongoAuditStore(await env.open())
    log = AuditLog(dying)
    for event in _events(2):
        log.record(event)
    await log.flush()

    async def crash(chain: str, docs: Any, head_seq: int) -> None:
        for doc in docs[:inserted]:  # part of the batch made it before the fault
            await _raw(dying, dying.entries_name).insert_one(dict(doc))
        raise asyncio.CancelledError if fault == "killed" else AutoReconnect("connection reset")

    monkeypatch.setattr(dying, "_write", crash)
    for event in _events(5)[2:]:
        log.record(event)
    if fault == "killed":
        with pytest.raises(asyncio.CancelledError):
            await log.flush()
    else:
        assert await log.flush() == 3
        assert log.pending == 0
        await log.flush()
    monkeypatch.undo()

    survivor = AuditLog(MongoAuditStore(await env.open()))
    (report,) = await survivor.verify_all()
    assert report.ok, report.line()
    assert [e.event for e in await survivor.entries("42")] == _events(5)
    raw_chain = await _raw(dying, dying.chains_name).find_one({"_id": "42"})
    assert "pending" not in raw_chain
    assert raw_chain["hs"] == 5


async def test_a_changed_audit_entry_is_named_by_verify(env: MongoEnv) -> None:
    store = MongoAuditStore(await env.open())
    log = AuditLog(store)
    for event in _events(5):
        log.record(event)
    await log.flush()
    entries = _raw(store, store.entries_name)
    raw = await entries.find_one({"c": "42", "q": 3})
    forged = raw["r"].replace('"a2"', '"forged"')
    assert forged != raw["r"]
    await entries.update_one({"_id": raw["_id"]}, {"$set": {"r": forged}})
    (report,) = await log.verify_all()
    assert not report.ok
    assert report.first_bad_seq == 3


async def test_a_removed_audit_entry_is_named_by_verify(env: MongoEnv) -> None:
    store = MongoAuditStore(await env.open())
    log = AuditLog(store)
    for event in _events(5):
        log.record(event)
    await log.flush()
    await _raw(store, store.entries_name).delete_one({"c": "42", "q": 2})
    (report,) = await log.verify_all()
    assert not report.ok
    assert report.first_bad_seq in (2, 3)
    assert len(await store.read("42")) == 4


async def test_an_undecodable_entry_gives_a_clear_error(env: MongoEnv) -> None:
    store = MongoAuditStore(await env.open())
    log = AuditLog(store)
    for event in _events(3):
        log.record(event)
    await log.flush()
    await _raw(store, store.entries_name).update_one(
        {"c": "42", "q": 2}, {"$set": {"r": "{not json"}}
    )
    with pytest.raises(CorruptRecordError, match="audit chain 42 entry 2 is not JSON"):
        await store.read("42")


async def test_audit_retention_prunes_a_prefix_and_the_rest_verifies(env: MongoEnv) -> None:
    store = MongoAuditStore(await env.open())
    log = AuditLog(store)
    for event in _events(10):
        log.record(event)
    await log.flush()
    assert await log.prune(before=1004.0) == 4
    again = MongoAuditStore(await env.open())
    (report,) = await AuditLog(again).verify_all()
    assert report.ok, report.line()
    assert report.checked == 6
    assert (await again.start("42")).seq == 4
    assert await _raw(again, again.entries_name).count_documents({"c": "42"}) == 6
    assert await log.prune(before=1004.0) == 0


async def test_a_prune_that_dies_after_moving_the_anchor_hides_then_drops_the_rest(
    env: MongoEnv,
) -> None:
    store = MongoAuditStore(await env.open())
    log = AuditLog(store)
    for event in _events(6):
        log.record(event)
    await log.flush()
    entries, chains = _raw(store, store.entries_name), _raw(store, store.chains_name)
    third = await entries.find_one({"c": "42", "q": 3})
    # the anchor moved, the deletion never ran (process killed in between):
    await chains.update_one({"_id": "42"}, {"$set": {"ss": 3, "sh": third["h"]}})
    (report,) = await log.verify_all()
    assert report.ok, report.line()
    assert [e.seq for e in await store.read("42")] == [4, 5, 6]
    assert await store.prune("42", before=0.0) == 0
    assert await entries.count_documents({"c": "42"}) == 3


async def test_audit_chains_per_guild(env: MongoEnv) -> None:
    store = MongoAuditStore(await env.open())
    log = AuditLog(store)
    for event in _events(2, guild=1) + _events(3, guild=2):
        log.record(event)
    await log.flush()
    assert await store.chains() == ["1", "2"]
    assert [len(await store.read(c)) for c in ("1", "2")] == [2, 3]
    assert await log.prune(before=2000.0) == 5
    assert await store.chains() == []


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


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(_events_strategy, min_size=1, max_size=10), flush_every=st.integers(1, 4))
def test_any_audit_history_verifies_after_a_restart(
    kind: str, items: list[AuditEvent], flush_every: int
) -> None:
    async def scenario() -> None:
        async with mongo_env(kind) as env:
            log = AuditLog(MongoAuditStore(await env.open()))
            for index, event in enumerate(items):
                log.record(event)
                if index % flush_every == 0:
                    await log.flush()
            await log.flush()
            store = MongoAuditStore(await env.open())
            reopened = AuditLog(store)
            reports = await reopened.verify_all()
            assert all(r.ok for r in reports), [r.line() for r in reports]
            assert sum(r.checked for r in reports) == len(items)
            stored = []
            for chain in await store.chains():
                stored += [e.event for e in await reopened.entries(chain)]
            assert sorted(stored, key=repr) == sorted(items, key=repr)

    asyncio.run(scenario())


# --- jobs ---------------------------------------------------------------------------------------


def _scheduler(store: MongoJobStore, clock: ManualClock, runs: list[JobRun]) -> Scheduler:
    scheduler = Scheduler(store, clock=clock)

    async def handler(run: JobRun) -> None:
        runs.append(run)

    scheduler.register("test.remind", handler)
    return scheduler


async def test_a_job_survives_a_restart_and_runs_once(env: MongoEnv) -> None:
    clock, runs = ManualClock(T0), []
    first = _scheduler(MongoJobStore(await env.open()), clock, runs)
    job = await first.schedule(
        "test.remind", T0 + dt.timedelta(minutes=2), user_id=5, payload={"text": "hi"}
    )
    again = await env.open()
    await clock.set(T0 + dt.timedelta(minutes=30))
    second = _scheduler(MongoJobStore(again), clock, runs)
    assert await second.run_due() == 1
    assert await second.run_due() == 0
    assert [(r.job.id, r.due, dict(r.job.payload)) for r in runs] == [
        (job.id, job.due, {"text": "hi"})
    ]
    assert await MongoJobStore(again).jobs() == []


async def test_two_processes_sharing_the_database_run_a_job_once(env: MongoEnv) -> None:
    clock, runs = ManualClock(T0), []
    one = _scheduler(MongoJobStore(await env.open()), clock, runs)
    two = _scheduler(MongoJobStore(await env.open()), clock, runs)
    for minute in range(5):
        await one.schedule("test.remind", T0 - dt.timedelta(minutes=minute))
    counts = await asyncio.gather(one.run_due(), two.run_due())
    assert sum(counts) == 5
    assert len(runs) == 5
    assert len({r.job.id for r in runs}) == 5


async def test_recurring_jobs_move_on(env: MongoEnv) -> None:
    clock, runs = ManualClock(T0), []
    backend = await env.open()
    scheduler = _scheduler(MongoJobStore(backend), clock, runs)
    job = await scheduler.schedule("test.remind", T0, interval=3600)
    await clock.set(T0 + dt.timedelta(hours=2, minutes=30))
    assert await scheduler.run_due() == 1
    stored = await MongoJobStore(backend).get(job.id)
    assert stored is not None
    assert stored.due == T0 + dt.timedelta(hours=3)


async def test_job_store_queries_and_claims(env: MongoEnv) -> None:
    store = MongoJobStore(await env.open())
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
    assert (await store.get("c")).due.utcoffset() == tz.utcoffset(None)  # type: ignore[union-attr]
    assert await store.get("zz") is None
    assert [j.id for j in await store.due(T0)] == ["c", "a"]
    assert [j.id for j in await store.due(T0, limit=1)] == ["c"]
    assert [j.id for j in await store.jobs(kind="k1")] == ["c", "a"]
    assert [j.id for j in await store.jobs(guild_id=1, user_id=3)] == ["b"]
    assert await store.upcoming() == jobs[2].due
    lease = T0 + dt.timedelta(minutes=5)
    assert await store.claim("a", T0, owner="x", lease_until=lease, now=T0) is True
    assert await store.claim("a", T0, owner="y", lease_until=lease, now=T0) is False
    assert (
        await store.claim(
            "a", T0 - dt.timedelta(seconds=1), owner="y", lease_until=lease, now=lease
        )
        is False
    )
    assert [j.id for j in await store.due(T0)] == ["c"]
    assert await store.claim("a", T0, owner="y", lease_until=lease, now=lease) is True
    await store.finish("a", T0 + dt.timedelta(days=1), None)  # another run's due time: no-op
    assert await store.get("a") is not None
    await store.finish("a", T0, None)
    assert await store.get("a") is None
    assert await store.remove("b") is True
    assert await store.remove("b") is False
    assert await store.claim("b", T0, owner="x", lease_until=lease, now=T0) is False


async def test_concurrent_claims_of_one_run_have_one_winner(env: MongoEnv) -> None:
    stores = [MongoJobStore(await env.open()) for _ in range(3)]
    await stores[0].add(Job("once", "k", T0))
    lease = T0 + dt.timedelta(minutes=1)
    wins = await asyncio.gather(
        *(
            s.claim("once", T0, owner=f"p{i}", lease_until=lease, now=T0)
            for i, s in enumerate(stores)
            for _ in range(4)
        )
    )
    assert wins.count(True) == 1


async def test_payloads_are_sealed_in_the_documents_and_bound_to_their_job(
    env: MongoEnv,
) -> None:
    cipher = FieldCipher(Keyring.generate(), "messages")
    store = MongoJobStore(await env.open(), cipher=cipher)
    await store.add(Job("j1", "alarm.remind", T0, guild_id=9, payload={"text": SECRET}))
    await store.add(Job("j2", "alarm.remind", T0, guild_id=9, payload={"text": "other"}))
    assert (await store.get("j1")).payload == {"text": SECRET}  # type: ignore[union-attr]
    raw_jobs = _raw(store, store.collection)
    documents = await raw_jobs.find({}).to_list(None)
    assert all(doc["payload"].startswith("sealed:") for doc in documents)
    assert SECRET not in repr(documents)
    assert "vault" not in repr(documents)
    # a sealed payload copied onto another job does not open (bound to job id and guild)
    first = await raw_jobs.find_one({"_id": "j1"})
    await raw_jobs.update_one({"_id": "j2"}, {"$set": {"payload": first["payload"]}})
    with pytest.raises(CorruptRecordError, match="scheduled job j2 cannot be opened"):
        await store.get("j2")
    # without the keyring the store refuses plainly instead of returning ciphertext
    with pytest.raises(CorruptRecordError, match="no keyring is configured"):
        await MongoJobStore(store.backend).get("j1")
    # the damage is confined to that job
    assert (await store.get("j1")).payload == {"text": SECRET}  # type: ignore[union-attr]


async def test_unreadable_due_jobs_are_set_aside_and_planted_plain_payloads_refused(
    env: MongoEnv,
) -> None:
    keyring = Keyring.generate()
    store = MongoJobStore(await env.open(), cipher=FieldCipher(keyring, "messages"))
    await store.add(Job("shredded", "alarm.remind", T0, guild_id=9, payload={"text": "x"}))
    await store.add(Job("ok", "alarm.remind", T0, guild_id=8, payload={"text": "y"}))
    await store.add(Job("planted", "alarm.remind", T0, guild_id=8, payload={"text": "z"}))
    await _raw(store, store.collection).update_one(
        {"_id": "planted"}, {"$set": {"payload": '{"text": "run me"}'}}
    )
    keyring.shred_guild("9")
    assert [job.id for job in await store.due(T0)] == ["ok"]
    with pytest.raises(CorruptRecordError, match="not sealed"):
        await store.get("planted")
    assert [job.id for job in await store.due(T0)] == ["ok"]  # set aside, not read again
    left = {doc["_id"] for doc in await _raw(store, store.collection).find({}).to_list(None)}
    assert left == {"shredded", "ok", "planted"}  # nothing deleted


async def test_a_damaged_job_document_gives_a_clear_error(env: MongoEnv) -> None:
    store = MongoJobStore(await env.open())
    await store.add(Job("j", "k", T0, guild_id=3))
    await _raw(store, store.collection).update_one({"_id": "j"}, {"$set": {"guild_id": "3"}})
    with pytest.raises(CorruptRecordError, match="scheduled job j cannot be read"):
        await store.get("j")


async def test_sealed_audit_fields_never_reach_the_documents(env: MongoEnv) -> None:
    from securebot.core.audit import CipherSealer

    keyring = Keyring.generate()
    store = MongoAuditStore(await env.open())
    log = AuditLog(store, sealer=CipherSealer(FieldCipher(keyring, "audit")))
    event = AuditEvent(
        EventKind.COMMAND, 1000.0, guild_id=5, action="remind", arguments={"text": SECRET}
    )
    log.record(event)
    await log.flush()
    documents = await _raw(store, store.entries_name).find({}).to_list(None)
    documents += await _raw(store, store.chains_name).find({}).to_list(None)
    assert documents
    assert SECRET not in repr(documents)
    assert "vault" not in repr(documents)
    reopened = AuditLog(
        MongoAuditStore(await env.open()), sealer=CipherSealer(FieldCipher(keyring, "audit"))
    )
    assert [e.event for e in await reopened.entries("5")] == [event]
    (report,) = await reopened.verify_all()
    assert report.ok, report.line()
