"""A durable :class:`~securebot.core.audit.store.AuditStore` on MongoDB.

Two collections next to the backend's (same prefix):

- ``<prefix>audit_entries``: one document per entry, ``_id`` = ``[chain, seq]`` as JSON (so
  an entry position can be written once only), fields ``c`` chain, ``q`` seq, ``p`` previous
  hash, ``h`` hash, ``at`` time, ``r`` the record as JSON text (exactly as the audit log made
  it, sensitive fields already sealed; text also keeps user-typed keys such as ``$x`` or ``a.b``
  out of MongoDB's field-name rules).
- ``<prefix>audit_chains``: one document per chain, ``_id`` = chain: the head (``hs``, ``hh``),
  the retention anchor (``ss``, ``sh``) and, while a batch is being written, ``pending``.

**How an append stays atomic without a transaction.** The chain document is the commit point:
one conditional ``find_one_and_update`` matches the expected head (and no unfinished batch),
moves the head to the batch's last entry and stores the batch itself in ``pending``, all in one
single-document write (atomic on any deployment: standalone, replica set or sharded). A writer
whose head moved matches nothing and gets :class:`~securebot.errors.ConflictError`; it never
writes an entry. The winner then inserts the entries (idempotent: ``_id`` per position) and
clears ``pending``. Crash windows:

- before the head moves: nothing happened; the audit log keeps the events queued and retries.
- after the head moved, before or while the entries are inserted: the batch is committed and
  safe in the chain document (a driver error at this point does not fail the append, so the
  audit log never appends the same events twice); the next ``read``, ``head``, ``append`` or
  ``prune`` of the chain, in any process, finishes it first (inserting what is missing,
  ignoring what is there), so readers and verifiers never see a head without its entries.

A multi-document transaction would also do on a replica set; this way needs none (and works on
a standalone server), costs one extra single-document write per batch, and limits a batch to
what fits in one document (:data:`MAX_BATCH_BYTES`; the audit log flushes far smaller batches).

**Retention.** :meth:`~MongoAuditStore.prune` moves the anchor first (never backwards), then
deletes the entries at or before it. Entries at or before the anchor are never read, so a crash
between the two steps leaves only invisible entries, which the next prune deletes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from securebot.core.audit.chain import GENESIS, Anchor
from securebot.core.audit.store import StoredEntry
from securebot.errors import ConflictError, CorruptRecordError, StorageError
from securebot.storage.mongo_jobs import collection_for, database_of

if TYPE_CHECKING:
    from securebot.storage.mongo import MongoBackend

log = logging.getLogger("securebot.storage.mongo")

__all__ = [
    "MAX_BATCH_BYTES",
    "MongoAuditStore",
    "anchors_from_mongo",
    "entry_from_mongo",
    "entry_id",
    "entry_to_mongo",
]

#: Largest batch (approximate encoded size) one append takes: it travels in one document
#: (MongoDB's limit is 16 MiB).
MAX_BATCH_BYTES = 8 * 1024 * 1024

#: Tries of one append when it finds another process's unfinished batch to complete first.
_TRIES = 3


def entry_id(chain: str, seq: int) -> str:
    """The ``_id`` of the entry at ``seq`` of ``chain`` (injective: a JSON array)."""
    return json.dumps([chain, seq], separators=(",", ":"), ensure_ascii=False)


def entry_to_mongo(entry: StoredEntry) -> dict[str, Any]:
    """The document of one entry."""
    try:
        record = json.dumps(dict(entry.record), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StorageError(f"audit chain {entry.chain} entry {entry.seq}: {exc}") from None
    return {
        "_id": entry_id(entry.chain, entry.seq),
        "c": entry.chain,
        "q": entry.seq,
        "p": entry.prev_hash,
        "h": entry.hash,
        "at": entry.at,
        "r": record,
    }


def entry_from_mongo(raw: Mapping[str, Any]) -> StoredEntry:
    """An entry back from its document.

    :raises CorruptRecordError: a field is missing or has the wrong type, or the record is not
        a JSON object.
    """
    chain, seq = raw.get("c"), raw.get("q")
    where = f"audit chain {chain} entry {seq}"
    if not isinstance(chain, str) or isinstance(seq, bool) or not isinstance(seq, int):
        raise CorruptRecordError(f"{where}: no chain position")
    prev, digest, at, record = raw.get("p"), raw.get("h"), raw.get("at"), raw.get("r")
    if not isinstance(prev, str) or not isinstance(digest, str):
        raise CorruptRecordError(f"{where}: no hashes")
    if isinstance(at, bool) or not isinstance(at, int | float):
        raise CorruptRecordError(f"{where}: no time")
    if not isinstance(record, str):
        raise CorruptRecordError(f"{where} is not JSON")
    try:
        data = json.loads(record)
    except ValueError:
        raise CorruptRecordError(f"{where} is not JSON") from None
    if not isinstance(data, dict):
        raise CorruptRecordError(f"{where} is not a JSON object")
    return StoredEntry(chain, seq, prev, digest, float(at), data)


def anchors_from_mongo(raw: Mapping[str, Any] | None) -> tuple[Anchor, Anchor]:
    """The (head, start) anchors of a chain document (``None``: an empty chain)."""
    if raw is None:
        return Anchor(), Anchor()
    try:
        head = Anchor(_int(raw["hs"]), str(raw["hh"]))
        start = Anchor(_int(raw.get("ss", 0)), str(raw.get("sh", GENESIS)))
    except (KeyError, TypeError):
        raise CorruptRecordError(f"audit chain {raw.get('_id')}: head record damaged") from None
    return head, start


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("not an integer")
    return value


def _check_batch(chain: str, entries: Sequence[StoredEntry], head: Anchor) -> None:
    for offset, entry in enumerate(entries, start=1):
        if entry.chain != chain or entry.seq != head.seq + offset:
            raise StorageError(
                f"audit chain {chain}: batch entry {entry.chain}/{entry.seq} does not follow"
                f" the head {head.seq}"
            )


class MongoAuditStore:
    """Audit chains on MongoDB; share the :class:`~securebot.storage.mongo.MongoBackend`.

    :param backend: an opened backend (its database and collection prefix are used).
    """

    def __init__(self, backend: MongoBackend) -> None:
        """Keep chains next to ``backend``'s collections (indexes made on first use)."""
        self.backend = backend
        self.entries_name = collection_for(backend, "audit_entries")
        self.chains_name = collection_for(backend, "audit_chains")
        self._ready = False
        self._duplicate_key: type[BaseException] = _NeverRaisedError
        self._bulk_error: type[BaseException] = _NeverRaisedError
        self._driver_error: type[BaseException] = _NeverRaisedError

    def __repr__(self) -> str:
        return f"MongoAuditStore({self.entries_name!r})"

    async def _cols(self) -> tuple[Any, Any]:
        database = database_of(self.backend)
        entries, chains = database[self.entries_name], database[self.chains_name]
        if not self._ready:
            from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

            self._duplicate_key, self._bulk_error = DuplicateKeyError, BulkWriteError
            self._driver_error = PyMongoError
            await entries.create_index([("c", 1), ("q", 1)], unique=True, name="chain_seq")
            self._ready = True
        return entries, chains

    async def _write(self, chain: str, docs: Sequence[Mapping[str, Any]], head_seq: int) -> None:
        """Insert a committed batch (what is there already stays) and clear ``pending``."""
        entries, chains = await self._cols()
        if docs:
            try:
                await entries.insert_many([dict(doc) for doc in docs], ordered=False)
            except self._bulk_error as error:
                details = getattr(error, "details", None) or {}
                codes = {item.get("code") for item in details.get("writeErrors", ())}
                if codes - {11000} or details.get("writeConcernErrors"):
                    raise
        await chains.update_one(
            {"_id": chain, "hs": head_seq, "pending": {"$exists": True}},
            {"$unset": {"pending": ""}},
        )

    async def _settle(self, chain: str) -> dict[str, Any] | None:
        """The chain document, after finishing a batch a writer left unfinished."""
        _, chains = await self._cols()
        raw: dict[str, Any] | None = await chains.find_one({"_id": chain})
        if raw is not None and "pending" in raw:
            pending = raw.pop("pending")
            head, _ = anchors_from_mongo(raw)
            if not isinstance(pending, list):
                raise CorruptRecordError(f"audit chain {chain}: unfinished batch damaged")
            await self._write(chain, pending, head.seq)
        return raw

    async def append(
        self, chain: str, entries: Sequence[StoredEntry], *, expected_head: Anchor
    ) -> None:
        """Append and move the head atomically, or raise :class:`ConflictError`."""
        _, chains = await self._cols()
        for _attempt in range(_TRIES):
            state = await self._settle(chain)
            if anchors_from_mongo(state)[0] != expected_head:
                raise ConflictError(f"audit chain {chain} moved; retry")
            if not entries:
                return
            _check_batch(chain, entries, expected_head)
            docs = [entry_to_mongo(entry) for entry in entries]
            if sum(len(doc["r"]) + 256 for doc in docs) > MAX_BATCH_BYTES:
                raise StorageError(
                    f"audit chain {chain}: a batch of {len(docs)} entries is too large for one"
                    " append; flush the audit log more often"
                )
            last = entries[-1]
            selector = {
                "_id": chain,
                "hs": expected_head.seq,
                "hh": expected_head.hash,
                "pending": {"$exists": False},
            }
            update = {
                "$set": {"hs": last.seq, "hh": last.hash, "pending": docs},
                "$setOnInsert": {"ss": 0, "sh": GENESIS},
            }
            try:
                won = await chains.find_one_and_update(
                    selector,
                    update,
                    upsert=state is None,
                    projection={"_id": 1},
                    return_document=True,
                )
            except self._duplicate_key:  # the chain was created meanwhile
                won = None
            if won is None:
                continue  # moved, or another batch is unfinished: settle and look again
            try:
                await self._write(chain, docs, last.seq)
            except self._driver_error as error:  # committed: the next reader finishes it
                log.warning(
                    "audit chain %s: batch committed, entries not written yet (%s); the next"
                    " read or append finishes it",
                    chain,
                    type(error).__name__,
                )
            return
        raise ConflictError(f"audit chain {chain} moved; retry")

    async def read(self, chain: str) -> list[StoredEntry]:
        """Every retained entry in order."""
        entries, _ = await self._cols()
        state = await self._settle(chain)
        if state is None:
            return []
        head, start = anchors_from_mongo(state)
        selector = {"c": chain, "q": {"$gt": start.seq, "$lte": head.seq}}
        raws = await entries.find(selector).sort([("q", 1)]).to_list(None)
        return [entry_from_mongo(raw) for raw in raws]

    async def head(self, chain: str) -> Anchor:
        """The newest entry."""
        return anchors_from_mongo(await self._settle(chain))[0]

    async def start(self, chain: str) -> Anchor:
        """The retention anchor."""
        return anchors_from_mongo(await self._settle(chain))[1]

    async def chains(self) -> list[str]:
        """Chains with retained entries."""
        entries, chains = await self._cols()
        unfinished = await chains.find({"pending": {"$exists": True}}, {"_id": 1}).to_list(None)
        for raw in unfinished:
            await self._settle(str(raw["_id"]))
        names = []
        for name in await entries.distinct("c"):
            start = await self.start(str(name))
            if await entries.find_one({"c": name, "q": {"$gt": start.seq}}, {"_id": 1}):
                names.append(str(name))
        return sorted(names)

    async def prune(self, chain: str, *, before: float) -> int:
        """Drop the oldest entries (a prefix): move the anchor, then delete up to it."""
        entries, chains = await self._cols()
        state = await self._settle(chain)
        if state is None:
            return 0
        _, start = anchors_from_mongo(state)
        await entries.delete_many({"c": chain, "q": {"$lte": start.seq}})  # after a crash
        cursor = entries.find({"c": chain, "q": {"$gt": start.seq}}, {"q": 1, "h": 1, "at": 1})
        rows = await cursor.sort([("q", 1)]).to_list(None)
        count = 0
        while count < len(rows) and float(rows[count]["at"]) < before:
            count += 1
        if count == 0:
            return 0
        last = rows[count - 1]
        moved = await chains.update_one(
            {"_id": chain, "ss": {"$lt": last["q"]}},
            {"$set": {"ss": last["q"], "sh": last["h"]}},
        )
        await entries.delete_many({"c": chain, "q": {"$lte": last["q"]}})
        return count if moved.modified_count else 0


class _NeverRaisedError(Exception):
    """Placeholder until the first use loads PyMongo's error classes."""
