"""A durable :class:`~securebot.core.scheduler.store.JobStore` in the store's SQLite file.

Due times are kept both as ISO 8601 text (to rebuild the exact aware datetime) and as unix
seconds (to order and compare). A claim is one conditional ``UPDATE``: exactly one process
sharing the file wins it.

A job's payload holds what users typed (a reminder's text, a scheduled command line). Given a
:class:`~securebot.crypto.FieldCipher`, the store seals it (``sealed:`` + base64url envelope,
bound to the job id and its guild, so a guild's crypto-shred covers its jobs too:
:mod:`securebot.storage.job_payloads`); without a cipher, payloads are plain JSON.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from typing import TYPE_CHECKING, Any

from securebot.core.scheduler.model import Job
from securebot.errors import CorruptRecordError
from securebot.storage.job_payloads import (
    SEALED,
    UNREADABLE,
    UNREADABLE_RETRY,
    open_payload,
    payload_key_id,
    seal_payload,
)
from securebot.storage.sqlite.backend import SqliteBackend

if TYPE_CHECKING:
    from securebot.crypto import FieldCipher

__all__ = ["SEALED", "SqliteJobStore"]

log = logging.getLogger("securebot.storage.sqlite.jobs")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, due TEXT NOT NULL, due_ts REAL NOT NULL,
    guild_id INTEGER, user_id INTEGER, channel_id INTEGER, payload TEXT NOT NULL,
    interval INTEGER, created_at TEXT, claimed_by TEXT NOT NULL DEFAULT '',
    lease_until REAL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS jobs_due ON jobs (due_ts);
"""


def _job(row: Any, cipher: FieldCipher | None = None) -> Job:
    try:
        payload = open_payload(cipher, row[0], row[3], row[6])
        return Job(
            id=row[0],
            kind=row[1],
            due=dt.datetime.fromisoformat(row[2]),
            guild_id=row[3],
            user_id=row[4],
            channel_id=row[5],
            payload=payload,
            interval=row[7],
            created_at=None if row[8] is None else dt.datetime.fromisoformat(row[8]),
        )
    except (ValueError, TypeError) as exc:
        raise CorruptRecordError(f"scheduled job {row[0]} cannot be read: {exc}") from None


class SqliteJobStore:
    """Scheduled jobs in SQLite; share the :class:`SqliteBackend` of the store."""

    def __init__(self, backend: SqliteBackend, *, cipher: FieldCipher | None = None) -> None:
        """Keep jobs in ``backend``'s file (table created on first use).

        :param cipher: seals payloads at rest (purpose ``messages``); without one they are
            stored as plain JSON (development and tests only).
        """
        self.backend = backend
        self.cipher = cipher
        self._ready = False

    def _db(self) -> sqlite3.Connection:
        db = self.backend.db
        if not self._ready:
            db.executescript(_SCHEMA)
            self._ready = True
        return db

    async def add(self, job: Job) -> None:
        """Store a new job."""
        try:
            self._db().execute(
                "INSERT INTO jobs (id, kind, due, due_ts, guild_id, user_id, channel_id, payload,"
                " interval, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    job.id,
                    job.kind,
                    job.due.isoformat(),
                    job.due.timestamp(),
                    job.guild_id,
                    job.user_id,
                    job.channel_id,
                    seal_payload(self.cipher, job),
                    job.interval,
                    None if job.created_at is None else job.created_at.isoformat(),
                ),
            )
        except sqlite3.IntegrityError:
            raise ValueError(f"job {job.id} already exists") from None

    async def get(self, job_id: str) -> Job | None:
        """The job, if any."""
        row = (
            self._db()
            .execute(
                "SELECT id, kind, due, guild_id, user_id, channel_id, payload, interval, created_at"
                " FROM jobs WHERE id=?",
                (job_id,),
            )
            .fetchone()
        )
        return None if row is None else _job(row, self.cipher)

    async def remove(self, job_id: str) -> bool:
        """Delete a job."""
        return self._db().execute("DELETE FROM jobs WHERE id=?", (job_id,)).rowcount > 0

    async def due(self, now: dt.datetime, *, limit: int = 100) -> list[Job]:
        """Unclaimed (or lease-expired) jobs due by ``now``, oldest first."""
        ts = now.timestamp()
        rows = (
            self._db()
            .execute(
                "SELECT id, kind, due, guild_id, user_id, channel_id, payload, interval, created_at"
                " FROM jobs WHERE due_ts <= ? AND (lease_until IS NULL OR "
                "lease_until <= ?) ORDER BY due_ts, id LIMIT ?",
                (ts, ts, limit),
            )
            .fetchall()
        )
        jobs = []
        for row in rows:
            try:
                jobs.append(_job(row, self.cipher))
            except CorruptRecordError as exc:
                log.error("%s; set aside, the other jobs go on", exc)
                self._db().execute(
                    "UPDATE jobs SET claimed_by=?, lease_until=? WHERE id=? AND"
                    " (lease_until IS NULL OR lease_until <= ?)",
                    (UNREADABLE, ts + UNREADABLE_RETRY, row[0], ts),
                )
        return jobs

    async def sealed_key_ids(self) -> dict[int, int]:
        """How many stored payloads each key id still seals (``securebot keys destroy``)."""
        counts: dict[int, int] = {}
        for (stored,) in self._db().execute("SELECT payload FROM jobs"):
            key_id = payload_key_id(stored)
            if key_id is not None:
                counts[key_id] = counts.get(key_id, 0) + 1
        return counts

    async def upcoming(self) -> dt.datetime | None:
        """The earliest due time."""
        row = self._db().execute("SELECT due FROM jobs ORDER BY due_ts LIMIT 1").fetchone()
        return None if row is None else dt.datetime.fromisoformat(row[0])

    async def jobs(
        self, *, kind: str | None = None, guild_id: int | None = None, user_id: int | None = None
    ) -> list[Job]:
        """Filtered jobs by due time."""
        sql = [
            "SELECT id, kind, due, guild_id, user_id, channel_id, payload, interval, created_at"
            " FROM jobs WHERE 1"
        ]
        args: list[object] = []
        for column, value in (("kind", kind), ("guild_id", guild_id), ("user_id", user_id)):
            if value is not None:
                sql.append(f"AND {column}=?")
                args.append(value)
        sql.append("ORDER BY due_ts, id")
        rows = self._db().execute(" ".join(sql), args).fetchall()
        return [_job(row, self.cipher) for row in rows]

    async def claim(
        self,
        job_id: str,
        due: dt.datetime,
        *,
        owner: str,
        lease_until: dt.datetime,
        now: dt.datetime,
    ) -> bool:
        """One conditional UPDATE: true for exactly one claimant."""
        cur = self._db().execute(
            "UPDATE jobs SET claimed_by=?, lease_until=? WHERE id=? AND due_ts=? AND "
            "(lease_until IS NULL OR lease_until <= ?)",
            (owner, lease_until.timestamp(), job_id, due.timestamp(), now.timestamp()),
        )
        return cur.rowcount == 1

    async def finish(self, job_id: str, due: dt.datetime, next_due: dt.datetime | None) -> None:
        """Delete or reschedule after a run."""
        db = self._db()
        if next_due is None:
            db.execute("DELETE FROM jobs WHERE id=? AND due_ts=?", (job_id, due.timestamp()))
        else:
            db.execute(
                "UPDATE jobs SET due=?, due_ts=?, claimed_by='', lease_until=NULL "
                "WHERE id=? AND due_ts=?",
                (next_due.isoformat(), next_due.timestamp(), job_id, due.timestamp()),
            )
