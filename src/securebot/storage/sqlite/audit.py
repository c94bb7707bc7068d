"""A durable :class:`~securebot.core.audit.store.AuditStore` in the store's SQLite file.

Entries are append-only rows; the chain's head and retention anchor live in one row per chain
and move in the same transaction as the append, refused when the head moved meanwhile (another
process appended). Records are JSON whose sensitive fields the audit log sealed already.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from securebot.core.audit.chain import Anchor
from securebot.core.audit.store import StoredEntry
from securebot.errors import ConflictError, CorruptRecordError
from securebot.storage.sqlite.backend import SqliteBackend

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_entries (
    chain TEXT NOT NULL, seq INTEGER NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL,
    at REAL NOT NULL, record TEXT NOT NULL, PRIMARY KEY (chain, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit_chains (
    chain TEXT PRIMARY KEY, head_seq INTEGER NOT NULL, head_hash TEXT NOT NULL,
    start_seq INTEGER NOT NULL, start_hash TEXT NOT NULL) WITHOUT ROWID;
"""


# Records are JSON objects of JSON values (the audit log made them): one encoder, built once.
_RECORD_JSON = json.JSONEncoder(separators=(",", ":"), check_circular=False)


class SqliteAuditStore:
    """Audit chains in SQLite; share the :class:`SqliteBackend` of the store."""

    def __init__(self, backend: SqliteBackend) -> None:
        """Keep chains in ``backend``'s file (tables created on first use)."""
        self.backend = backend
        self._ready = False

    def _db(self) -> sqlite3.Connection:
        db = self.backend.db
        if not self._ready:
            db.executescript(_SCHEMA)
            self._ready = True
        return db

    def _anchors(self, chain: str) -> tuple[Anchor, Anchor]:
        row = (
            self._db()
            .execute(
                "SELECT head_seq, head_hash, start_seq, start_hash FROM audit_chains WHERE chain=?",
                (chain,),
            )
            .fetchone()
        )
        if row is None:
            return Anchor(), Anchor()
        return Anchor(row[0], row[1]), Anchor(row[2], row[3])

    async def append(
        self, chain: str, entries: Sequence[StoredEntry], *, expected_head: Anchor
    ) -> None:
        """Append and move the head atomically, or raise :class:`ConflictError`."""
        self._db()
        with self.backend.transaction() as db:
            head, start = self._anchors(chain)
            if head != expected_head:
                raise ConflictError(f"audit chain {chain} moved; retry")
            if not entries:
                return
            encode = _RECORD_JSON.encode
            db.executemany(
                "INSERT INTO audit_entries VALUES (?,?,?,?,?,?)",
                [
                    (
                        chain,
                        e.seq,
                        e.prev_hash,
                        e.hash,
                        e.at,
                        encode(e.record if type(e.record) is dict else dict(e.record)),
                    )
                    for e in entries
                ],
            )
            last = entries[-1]
            db.execute(
                "INSERT OR REPLACE INTO audit_chains VALUES (?,?,?,?,?)",
                (chain, last.seq, last.hash, start.seq, start.hash),
            )

    async def read(self, chain: str) -> list[StoredEntry]:
        """Every retained entry in order."""
        rows = (
            self._db()
            .execute(
                "SELECT seq, prev_hash, hash, at, record FROM audit_entries"
                " WHERE chain=? ORDER BY seq",
                (chain,),
            )
            .fetchall()
        )
        out = []
        for seq, prev, digest, at, record in rows:
            try:
                data = json.loads(record)
            except ValueError:
                raise CorruptRecordError(f"audit chain {chain} entry {seq} is not JSON") from None
            out.append(StoredEntry(chain, seq, prev, digest, at, data))
        return out

    async def head(self, chain: str) -> Anchor:
        """The newest entry."""
        return self._anchors(chain)[0]

    async def start(self, chain: str) -> Anchor:
        """The retention anchor."""
        return self._anchors(chain)[1]

    async def chains(self) -> list[str]:
        """Chains with entries."""
        rows = self._db().execute("SELECT DISTINCT chain FROM audit_entries").fetchall()
        return sorted(r[0] for r in rows)

    async def prune(self, chain: str, *, before: float) -> int:
        """Drop the oldest entries (a prefix) and move the anchor, in one transaction."""
        self._db()
        with self.backend.transaction() as db:
            rows = db.execute(
                "SELECT seq, hash, at FROM audit_entries WHERE chain=? ORDER BY seq", (chain,)
            ).fetchall()
            count = 0
            while count < len(rows) and rows[count][2] < before:
                count += 1
            if count == 0:
                return 0
            last_seq, last_hash, _ = rows[count - 1]
            db.execute("DELETE FROM audit_entries WHERE chain=? AND seq<=?", (chain, last_seq))
            db.execute(
                "UPDATE audit_chains SET start_seq=?, start_hash=? WHERE chain=?",
                (last_seq, last_hash, chain),
            )
        return count
