"""A durable :class:`~securebot.core.scheduler.store.JobStore` on MongoDB.

One document per job in ``<prefix>jobs`` (``_id`` = job id). Due times are kept both as ISO 8601
text (to rebuild the exact aware datetime) and as unix seconds (to order and compare), as in the
SQLite store. A claim is one conditional ``find_one_and_update`` on (id, due time, lease free or
expired): a single-document update is atomic in MongoDB, so exactly one process wins it.

Payloads are sealed with the optional :class:`~securebot.crypto.FieldCipher` exactly as the
SQLite store seals them (:mod:`securebot.storage.job_payloads`): the same ``sealed:`` format and
associated data, so the bytes do not depend on the backend.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from securebot.core.scheduler.model import Job
from securebot.errors import CorruptRecordError
from securebot.storage.job_payloads import (
    UNREADABLE,
    UNREADABLE_RETRY,
    open_payload,
    seal_payload,
)

if TYPE_CHECKING:
    from securebot.crypto import FieldCipher
    from securebot.storage.mongo import MongoBackend

__all__ = [
    "MongoJobStore",
    "collection_for",
    "database_of",
    "job_from_mongo",
    "job_to_mongo",
    "jobs_filter",
    "lease_free",
]

log = logging.getLogger("securebot.storage.mongo_jobs")


def job_to_mongo(job: Job, payload: str) -> dict[str, Any]:
    """The document of a new job whose payload is already in its stored form."""
    return {
        "_id": job.id,
        "kind": job.kind,
        "due": job.due.isoformat(),
        "due_ts": job.due.timestamp(),
        "guild_id": job.guild_id,
        "user_id": job.user_id,
        "channel_id": job.channel_id,
        "payload": payload,
        "interval": job.interval,
        "created_at": None if job.created_at is None else job.created_at.isoformat(),
        "claimed_by": "",
        "lease_until": None,
    }


def _optional_int(raw: Mapping[str, Any], name: str) -> int | None:
    value = raw.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} is not an integer")
    return value


def _text(raw: Mapping[str, Any], name: str) -> str:
    value = raw.get(name)
    if not isinstance(value, str):
        raise TypeError(f"{name} is not text")
    return value


def job_from_mongo(raw: Mapping[str, Any], cipher: FieldCipher | None = None) -> Job:
    """A :class:`Job` back from its document.

    :raises CorruptRecordError: a field has the wrong type or the payload cannot be opened.
    """
    job_id = str(raw.get("_id"))
    try:
        guild_id = _optional_int(raw, "guild_id")
        created = raw.get("created_at")
        return Job(
            id=job_id,
            kind=_text(raw, "kind"),
            due=dt.datetime.fromisoformat(raw["due"]),
            guild_id=guild_id,
            user_id=_optional_int(raw, "user_id"),
            channel_id=_optional_int(raw, "channel_id"),
            payload=open_payload(cipher, job_id, guild_id, raw["payload"]),
            interval=_optional_int(raw, "interval"),
            created_at=None if created is None else dt.datetime.fromisoformat(created),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise CorruptRecordError(f"scheduled job {job_id} cannot be read: {exc}") from None


def lease_free(now: dt.datetime) -> dict[str, Any]:
    """Matches jobs nobody holds a live lease on at ``now``."""
    return {"$or": [{"lease_until": None}, {"lease_until": {"$lte": now.timestamp()}}]}


def jobs_filter(
    *, kind: str | None = None, guild_id: int | None = None, user_id: int | None = None
) -> dict[str, Any]:
    """Matches jobs equal to every given value."""
    given = {"kind": kind, "guild_id": guild_id, "user_id": user_id}
    return {name: value for name, value in given.items() if value is not None}


#: Sort order of every listing: due time, then id (as the SQLite store).
BY_DUE = [("due_ts", 1), ("_id", 1)]


class MongoJobStore:
    """Scheduled jobs on MongoDB; share the :class:`~securebot.storage.mongo.MongoBackend`.

    :param backend: an opened backend (its database and collection prefix are used).
    :param cipher: seals payloads at rest (purpose ``messages``); without one they are stored
        as plain JSON (development and tests only).
    """

    def __init__(self, backend: MongoBackend, *, cipher: FieldCipher | None = None) -> None:
        """Keep jobs in ``<prefix>jobs`` of ``backend``'s database (indexes made on first use)."""
        self.backend = backend
        self.cipher = cipher
        self.collection = collection_for(backend, "jobs")
        self._ready = False
        self._duplicate_key: type[BaseException] = _NeverRaisedError

    def __repr__(self) -> str:
        return f"MongoJobStore({self.collection!r})"

    async def _col(self) -> Any:
        col = database_of(self.backend)[self.collection]
        if not self._ready:
            from pymongo.errors import DuplicateKeyError

            self._duplicate_key = DuplicateKeyError
            await col.create_index([("due_ts", 1), ("_id", 1)], name="due")
            await col.create_index([("guild_id", 1)], name="guild")
            await col.create_index([("user_id", 1)], name="user")
            self._ready = True
        return col

    async def add(self, job: Job) -> None:
        """Store a new job (:class:`ValueError` if its id exists)."""
        col = await self._col()
        try:
            await col.insert_one(job_to_mongo(job, seal_payload(self.cipher, job)))
        except self._duplicate_key:
            raise ValueError(f"job {job.id} already exists") from None

    async def get(self, job_id: str) -> Job | None:
        """The job, if any."""
        raw = await (await self._col()).find_one({"_id": job_id})
        return None if raw is None else job_from_mongo(raw, self.cipher)

    async def remove(self, job_id: str) -> bool:
        """Delete a job."""
        result = await (await self._col()).delete_one({"_id": job_id})
        return bool(result.deleted_count)

    async def due(self, now: dt.datetime, *, limit: int = 100) -> list[Job]:
        """Unclaimed (or lease-expired) jobs due by ``now``, oldest first."""
        selector = {"due_ts": {"$lte": now.timestamp()}, **lease_free(now)}
        col = await self._col()
        cursor = col.find(selector).sort(BY_DUE).limit(limit)
        jobs = []
        for raw in await cursor.to_list(None):
            try:
                jobs.append(job_from_mongo(raw, self.cipher))
            except CorruptRecordError as exc:
                log.error("%s; set aside, the other jobs go on", exc)
                await col.update_one(
                    {"_id": raw.get("_id"), **lease_free(now)},
                    {
                        "$set": {
                            "claimed_by": UNREADABLE,
                            "lease_until": now.timestamp() + UNREADABLE_RETRY,
                        }
                    },
                )
        return jobs

    async def upcoming(self) -> dt.datetime | None:
        """The earliest due time."""
        cursor = (await self._col()).find({}, {"due": 1}).sort(BY_DUE).limit(1)
        raws = await cursor.to_list(None)
        if not raws:
            return None
        try:
            return dt.datetime.fromisoformat(raws[0]["due"])
        except (KeyError, TypeError, ValueError):
            raise CorruptRecordError(
                f"scheduled job {raws[0].get('_id')} has no due time"
            ) from None

    async def jobs(
        self, *, kind: str | None = None, guild_id: int | None = None, user_id: int | None = None
    ) -> list[Job]:
        """Filtered jobs by due time."""
        selector = jobs_filter(kind=kind, guild_id=guild_id, user_id=user_id)
        cursor = (await self._col()).find(selector).sort(BY_DUE)
        return [job_from_mongo(raw, self.cipher) for raw in await cursor.to_list(None)]

    async def claim(
        self,
        job_id: str,
        due: dt.datetime,
        *,
        owner: str,
        lease_until: dt.datetime,
        now: dt.datetime,
    ) -> bool:
        """One conditional ``find_one_and_update``: true for exactly one claimant."""
        selector = {"_id": job_id, "due_ts": due.timestamp(), **lease_free(now)}
        raw = await (await self._col()).find_one_and_update(
            selector,
            {"$set": {"claimed_by": owner, "lease_until": lease_until.timestamp()}},
            projection={"_id": 1},
        )
        return raw is not None

    async def finish(self, job_id: str, due: dt.datetime, next_due: dt.datetime | None) -> None:
        """Delete or reschedule after a run (only the run that was due at ``due``)."""
        col = await self._col()
        selector = {"_id": job_id, "due_ts": due.timestamp()}
        if next_due is None:
            await col.delete_one(selector)
            return
        await col.update_one(
            selector,
            {
                "$set": {
                    "due": next_due.isoformat(),
                    "due_ts": next_due.timestamp(),
                    "claimed_by": "",
                    "lease_until": None,
                }
            },
        )


def collection_for(backend: MongoBackend, role: str) -> str:
    """The name of the ``role`` collection next to ``backend``'s (same prefix)."""
    records = backend.names.records
    return records[: len(records) - len("records")] + role


def database_of(backend: MongoBackend) -> Any:
    """The database object of an opened backend (the stores share its client)."""
    return backend.database


class _NeverRaisedError(Exception):
    """Placeholder until the first use loads PyMongo's DuplicateKeyError."""
