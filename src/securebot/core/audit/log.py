"""The audit log: cheap recording on the hot path, sealing and storing in batches.

:meth:`AuditLog.record` only queues the event (it runs on every command and every REST call).
:meth:`AuditLog.flush` seals the queued events into their chains in order, encrypts the
sensitive fields, appends them to the :class:`~securebot.core.audit.store.AuditStore` (retrying
when another process moved the head), then tells the ``securebot_on_audit_event`` observers.
A background task flushes every ``interval`` seconds while the bot runs; :meth:`AuditLog.close`
flushes what is left.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeAlias

from securebot.core.audit.chain import VerifyReport, record_hash, verify_chain
from securebot.core.audit.model import GLOBAL_CHAIN, AuditEntry, AuditEvent, EventKind
from securebot.core.audit.sealing import (
    FieldSealer,
    PlainSealer,
    SealedFieldError,
    decode_record,
    seal_record,
)
from securebot.core.audit.store import AuditStore, StoredEntry
from securebot.core.logtext import contained_logger
from securebot.errors import ConflictError, DecryptionError

logger = contained_logger("securebot.audit")  # tracebacks quoting user input stay contained

#: Observer called with each sealed entry (the bot forwards to ``securebot_on_audit_event``).
EntryObserver = Callable[[AuditEntry], Awaitable[None]]

#: An event's fields in :class:`~securebot.core.audit.model.AuditEvent` order (kind, at,
#: guild_id, actor_id, channel_id, action, via, arguments, rule, outcome, duration_ms,
#: correlation_id, detail): what the hot path queues; the event is built from it at flush.
EventFields: TypeAlias = tuple[
    EventKind,
    float,
    int | None,
    int | None,
    int | None,
    str,
    str,
    Mapping[str, str],
    str,
    str,
    float,
    str,
    Mapping[str, Any],
]

_RETRIES = 5


def record_of(fields: EventFields) -> dict[str, Any]:
    """``AuditEvent(*fields).to_dict()`` without building the event."""
    return {
        "kind": fields[0].value,
        "at": fields[1],
        "guild_id": fields[2],
        "actor_id": fields[3],
        "channel_id": fields[4],
        "action": fields[5],
        "via": fields[6],
        "arguments": dict(fields[7]),
        "rule": fields[8],
        "outcome": fields[9],
        "duration_ms": fields[10],
        "correlation_id": fields[11],
        "detail": dict(fields[12]),
    }


def _chain_of(item: AuditEvent | EventFields) -> str:
    if isinstance(item, AuditEvent):
        return item.chain
    guild_id = item[2]
    return str(guild_id) if guild_id is not None else GLOBAL_CHAIN


class AuditLog:
    """Records audit events and keeps them in hash-chained, append-only storage."""

    def __init__(
        self,
        store: AuditStore,
        *,
        sealer: FieldSealer | None = None,
        observer: EntryObserver | None = None,
        observing: Callable[[], bool] | None = None,
        interval: float = 0.5,
    ) -> None:
        """:param sealer: encrypts sensitive fields (default: none, for development).
        :param observing: whether ``observer`` wants entries at a flush (default: always)."""
        self.store = store
        self.sealer: FieldSealer = sealer if sealer is not None else PlainSealer()
        self.observer = observer
        #: Whether the observer wants entries now (``None``: always); checked once per flush.
        self.observing = observing
        self.interval = interval
        self._pending: deque[AuditEvent | EventFields] = deque()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    # --- hot path ---------------------------------------------------------------------------

    def record(self, event: AuditEvent) -> None:
        """Queue ``event``; it is sealed and stored at the next flush."""
        self._pending.append(event)

    def record_fields(self, fields: EventFields) -> None:
        """Queue an event given as its fields; the :class:`AuditEvent` is built at the next flush.

        The cheapest way to record (one tuple on the hot path). The event's content is exactly
        what ``AuditEvent(*fields)`` holds; the mappings in ``fields`` must not be changed
        afterwards (pass fresh ones).
        """
        self._pending.append(fields)

    @property
    def pending(self) -> int:
        """How many events wait for the next flush."""
        return len(self._pending)

    # --- sealing and storing ----------------------------------------------------------------

    async def flush(self) -> int:
        """Seal and store every queued event; return how many were stored."""
        async with self._lock:
            observer = self.observer
            if observer is not None and self.observing is not None and not self.observing():
                observer = None  # nobody listens now: no entry objects to build
            batch: dict[str, list[AuditEvent | EventFields]] = defaultdict(list)
            pending = self._pending
            while pending:
                item = pending.popleft()
                batch[_chain_of(item)].append(item)
            stored = 0
            failed: list[AuditEvent | EventFields] = []
            for chain, items in batch.items():
                try:
                    entries = await self._append(chain, items, observed=observer is not None)
                except Exception:
                    logger.exception("audit chain %s: append failed; events stay queued", chain)
                    failed.extend(items)
                    continue
                stored += len(items)
                if observer is not None:
                    for entry in entries:
                        try:
                            await observer(entry)
                        except Exception:
                            logger.exception("audit observer failed")
            self._pending.extendleft(reversed(failed))
            return stored

    async def _append(
        self, chain: str, items: list[AuditEvent | EventFields], *, observed: bool
    ) -> list[AuditEntry]:
        """Seal ``items`` after the chain's head and store them; the entries when ``observed``."""
        for _attempt in range(_RETRIES):
            head = await self.store.head(chain)
            entries: list[AuditEntry] = []
            stored: list[StoredEntry] = []
            sealer = self.sealer
            seq = head.seq
            prev_hash = head.hash
            for item in items:
                seq += 1
                if isinstance(item, AuditEvent):
                    record = item.to_dict()
                    digest = record_hash(chain, seq, prev_hash, record)  # before sealing
                    if observed:
                        entries.append(AuditEntry(chain, seq, prev_hash, digest, item))
                else:
                    record = record_of(item)
                    digest = record_hash(chain, seq, prev_hash, record)  # before sealing
                    if observed:
                        entries.append(AuditEntry(chain, seq, prev_hash, digest, AuditEvent(*item)))
                stored.append(
                    StoredEntry(
                        chain,
                        seq,
                        prev_hash,
                        digest,
                        record["at"],
                        seal_record(record, chain, seq, sealer),
                    )
                )
                prev_hash = digest
            try:
                await self.store.append(chain, stored, expected_head=head)
            except ConflictError:
                continue
            return entries
        raise ConflictError(f"audit chain {chain}: could not append after {_RETRIES} tries")

    # --- reading and verifying --------------------------------------------------------------

    async def entries(self, chain: str) -> list[AuditEntry]:
        """The retained entries of ``chain``, decrypted (raises on an undecodable entry)."""
        return [self._decode(item) for item in await self.store.read(chain)]

    async def readable_entries(self, chain: str) -> tuple[list[AuditEntry], list[int]]:
        """The retained entries of ``chain`` that open, and the positions of those that do not
        (tampered, or sealed under a key that is gone): a damaged entry never hides the rest."""
        readable: list[AuditEntry] = []
        unreadable: list[int] = []
        for item in await self.store.read(chain):
            try:
                readable.append(self._decode(item))
            except (DecryptionError, ValueError):
                unreadable.append(item.seq)
        return readable, unreadable

    def _decode(self, item: StoredEntry) -> AuditEntry:
        event = decode_record(item.record, item.chain, item.seq, self.sealer)
        return AuditEntry(item.chain, item.seq, item.prev_hash, item.hash, event)

    async def verify(self, chain: str) -> VerifyReport:
        """Verify one chain: changed, removed or reordered entries are reported by position.

        Read without the key that sealed its entries (a :class:`PlainSealer` log), a chain is
        reported as not verified (``needs_key``), not as broken.
        """
        decoded: list[AuditEntry] = []
        for item in await self.store.read(chain):
            try:
                decoded.append(self._decode(item))
            except (DecryptionError, ValueError) as exc:
                report = verify_chain(
                    chain, decoded, start=await self.store.start(chain), head=None
                )
                if not report.ok:
                    return report
                if isinstance(exc, SealedFieldError):
                    return VerifyReport(
                        chain, False, len(decoded), item.seq, str(exc), needs_key=True
                    )
                return VerifyReport(chain, False, len(decoded), item.seq, f"unreadable: {exc}")
        return verify_chain(
            chain,
            decoded,
            start=await self.store.start(chain),
            head=await self.store.head(chain),
        )

    async def verify_all(self) -> list[VerifyReport]:
        """Verify every chain."""
        return [await self.verify(chain) for chain in await self.store.chains()]

    async def prune(self, *, before: float) -> int:
        """Apply retention: drop entries older than ``before`` in every chain."""
        total = 0
        for chain in await self.store.chains():
            total += await self.store.prune(chain, before=before)
        return total

    # --- background flushing ----------------------------------------------------------------

    def start(self) -> None:
        """Start flushing in the background every ``interval`` seconds."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.flush()
            except Exception:
                logger.exception("audit flush failed")

    async def close(self) -> None:
        """Stop the background task and flush what is queued."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()
