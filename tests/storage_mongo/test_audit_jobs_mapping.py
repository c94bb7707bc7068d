"""The Mongo audit and job stores' document mapping, pure: no server, no mock."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from securebot.core.audit.chain import GENESIS, Anchor
from securebot.core.audit.store import StoredEntry
from securebot.core.scheduler.model import Job
from securebot.crypto import FieldCipher, Keyring
from securebot.errors import BackendUnavailableError, CorruptRecordError, StorageError
from securebot.storage.job_payloads import SEALED, open_payload, seal_payload
from securebot.storage.mongo import MongoBackend, MongoSettings
from securebot.storage.mongo_audit import (
    MongoAuditStore,
    anchors_from_mongo,
    entry_from_mongo,
    entry_id,
    entry_to_mongo,
)
from securebot.storage.mongo_jobs import (
    MongoJobStore,
    collection_for,
    database_of,
    job_from_mongo,
    job_to_mongo,
    jobs_filter,
    lease_free,
)
from securebot.storage.sqlite import SqliteBackend, SqliteJobStore

JSON_LEAF = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8)
RECORDS = st.dictionaries(
    st.text(max_size=6), JSON_LEAF | st.lists(JSON_LEAF, max_size=3), max_size=4
)
HASHES = st.text("0123456789abcdef", min_size=64, max_size=64)
ENTRIES = st.builds(
    StoredEntry,
    chain=st.text(min_size=1, max_size=10),
    seq=st.integers(1, 2**62),
    prev_hash=HASHES,
    hash=HASHES,
    at=st.floats(0, 4e9),
    record=RECORDS,
)
ZONES = st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=5, minutes=30))])
TIMES = st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1), timezones=ZONES)
IDS = st.none() | st.integers(1, 2**63 - 1)
JOBS = st.builds(
    Job,
    id=st.text(min_size=1, max_size=12),
    kind=st.text(min_size=1, max_size=12),
    due=TIMES,
    guild_id=IDS,
    user_id=IDS,
    channel_id=IDS,
    payload=RECORDS,
    interval=st.none() | st.integers(60, 10**8),
    created_at=st.none() | TIMES,
)
CIPHER = FieldCipher(Keyring.generate(), "messages")


@given(ENTRIES)
def test_entries_round_trip_exactly(entry: StoredEntry) -> None:
    doc = entry_to_mongo(entry)
    assert entry_from_mongo(doc) == entry
    assert isinstance(doc["r"], str)  # user-typed keys ($x, a.b) never become field names
    assert doc["_id"] == entry_id(entry.chain, entry.seq)


@given(st.text(), st.integers(), st.text(), st.integers())
def test_entry_ids_are_injective(c1: str, q1: int, c2: str, q2: int) -> None:
    assert (entry_id(c1, q1) == entry_id(c2, q2)) == ((c1, q1) == (c2, q2))


def test_entries_with_keys_mongo_would_refuse_as_fields_survive() -> None:
    entry = StoredEntry("1", 1, GENESIS, "a" * 64, 1.0, {"$where": {"a.b": 1}})
    assert entry_from_mongo(entry_to_mongo(entry)).record == {"$where": {"a.b": 1}}


def test_a_record_that_is_not_json_is_refused_before_it_is_stored() -> None:
    with pytest.raises(StorageError, match="entry 3"):
        entry_to_mongo(StoredEntry("1", 3, GENESIS, "a" * 64, 1.0, {"x": float("nan")}))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"q": "3"}, "no chain position"),
        ({"q": True}, "no chain position"),
        ({"c": None}, "no chain position"),
        ({"h": 5}, "no hashes"),
        ({"at": "yesterday"}, "no time"),
        ({"r": "[1, 2]"}, "not a JSON object"),
        ({"r": "{broken"}, "is not JSON"),
        ({"r": {"inline": 1}}, "is not JSON"),
    ],
)
def test_damaged_entry_documents_give_a_clear_error(
    change: dict[str, object], message: str
) -> None:
    doc = entry_to_mongo(StoredEntry("1", 3, GENESIS, "a" * 64, 1.0, {"x": 1}))
    doc.update(change)
    with pytest.raises(CorruptRecordError, match=message):
        entry_from_mongo(doc)


def test_chain_documents_give_head_and_start() -> None:
    assert anchors_from_mongo(None) == (Anchor(), Anchor())
    raw = {"_id": "1", "hs": 9, "hh": "h" * 64, "ss": 4, "sh": "s" * 64}
    assert anchors_from_mongo(raw) == (Anchor(9, "h" * 64), Anchor(4, "s" * 64))
    assert anchors_from_mongo({"_id": "1", "hs": 2, "hh": "x"})[1] == Anchor()
    with pytest.raises(CorruptRecordError, match="audit chain 1: head record damaged"):
        anchors_from_mongo({"_id": "1", "hs": "9", "hh": "x"})
    with pytest.raises(CorruptRecordError, match="head record damaged"):
        anchors_from_mongo({"_id": "1", "hh": "x"})


@given(JOBS, st.booleans())
def test_jobs_round_trip_exactly_with_or_without_a_cipher(job: Job, sealed: bool) -> None:
    cipher = CIPHER if sealed else None
    doc = job_to_mongo(job, seal_payload(cipher, job))
    back = job_from_mongo(doc, cipher)
    assert back == job
    assert back.due.utcoffset() == job.due.utcoffset()
    assert doc["due_ts"] == job.due.timestamp()
    assert doc["payload"].startswith(SEALED) == sealed
    assert (doc["claimed_by"], doc["lease_until"]) == ("", None)


@pytest.mark.parametrize(
    "change",
    [
        {"due": "soon"},
        {"due": None},
        {"guild_id": "9"},
        {"interval": 1.5},
        {"payload": 5},
        {"kind": None},
        {"created_at": 5},
    ],
)
def test_damaged_job_documents_give_a_clear_error(change: dict[str, object]) -> None:
    doc = job_to_mongo(Job("j", "k", dt.datetime(2030, 1, 1, tzinfo=dt.UTC)), "{}")
    doc.update(change)
    with pytest.raises(CorruptRecordError, match="scheduled job j"):
        job_from_mongo(doc)


def test_filters_say_what_they_mean() -> None:
    now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert lease_free(now) == {
        "$or": [{"lease_until": None}, {"lease_until": {"$lte": now.timestamp()}}]
    }
    assert jobs_filter() == {}
    assert jobs_filter(kind="k", user_id=5) == {"kind": "k", "user_id": 5}


async def test_mongo_and_sqlite_seal_payloads_alike(tmp_path: Path) -> None:
    """The same format and associated data: a payload sealed by one store opens in the other."""
    backend = SqliteBackend(tmp_path / "j.sqlite3")
    await backend.open()
    try:
        job = Job("j1", "alarm.remind", dt.datetime(2030, 1, 1, tzinfo=dt.UTC), guild_id=4)
        job = Job(job.id, job.kind, job.due, guild_id=4, payload={"text": "hello there"})
        await SqliteJobStore(backend, cipher=CIPHER).add(job)
        (stored,) = backend.db.execute("SELECT payload FROM jobs").fetchone()
    finally:
        await backend.close()
    assert stored.startswith(SEALED)
    assert "hello" not in stored
    assert job_from_mongo(job_to_mongo(job, stored), CIPHER) == job
    with pytest.raises(CorruptRecordError, match="cannot be opened"):
        open_payload(CIPHER, "j1", 5, stored)  # bound to the guild
    with pytest.raises(CorruptRecordError, match="cannot be opened"):
        open_payload(CIPHER, "j2", 4, stored)  # bound to the job
    with pytest.raises(CorruptRecordError, match="cannot be opened"):
        open_payload(CIPHER, "j1", 4, stored[:-4] + "AAAA")  # tampered
    with pytest.raises(CorruptRecordError, match="not a JSON object"):
        open_payload(None, "j1", 4, "[1]")


def test_stores_take_the_backend_prefix_and_refuse_an_unopened_backend() -> None:
    backend = MongoBackend(MongoSettings(uri="mongodb://user:pw@db.example/"))
    backend_b = MongoBackend(database=object(), prefix="bot2_")
    assert collection_for(backend, "jobs") == "securebot_jobs"
    assert MongoJobStore(backend_b).collection == "bot2_jobs"
    audit = MongoAuditStore(backend_b)
    assert (audit.entries_name, audit.chains_name) == ("bot2_audit_entries", "bot2_audit_chains")
    with pytest.raises(BackendUnavailableError, match="not open"):
        database_of(backend)
    assert "pw" not in repr(MongoJobStore(backend)) + repr(MongoAuditStore(backend))
    assert json.loads(entry_id("a", 1)) == ["a", 1]
