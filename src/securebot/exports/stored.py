"""Export metadata on the storage API: :class:`StoreExportMetadata` over a core ``Store``.

Records are global (the gateway looks an export up by its id alone) and keyed by export id;
``owner_id`` is the owner field (data-rights export and erasure find it) and indexed. The
user-derived ``label`` and the ``object_key`` are sealed by the Store, bound to their record:
moved into another record, a key does not open, so someone who can write the database cannot
point a record at another export's archive (to download it, or to have the purge delete it).
Each record expires with its export (``ttl``), so ``Store.purge`` removes stale metadata too.
"""

from __future__ import annotations

import datetime as dt
import logging

import attrs

from securebot.core.storage import Store, field, record
from securebot.errors import CorruptRecordError, RecordNotFoundError
from securebot.exports.metadata import ExportRecord, is_export_id

logger = logging.getLogger("securebot.exports")

#: Extra time a record is kept after its export expired (so the purge finds the object first).
GRACE = dt.timedelta(days=1)


@record("exports.records", key="export_id")
@attrs.frozen
class ExportEntry:
    """The stored form of an :class:`~securebot.exports.ExportRecord`."""

    export_id: str
    owner_id: int = field(owner=True, index=True)
    guild_id: int | None = None
    channel_id: int | None = None
    created_at: float = 0.0
    expires_at: float = 0.0
    size: int = 0
    sha256: str = ""
    store: str = ""
    object_key: str = field(sensitive=True, default="")
    message_count: int = 0
    formats: tuple[str, ...] = ()
    label: str = field(sensitive=True, default="")

    @classmethod
    def of(cls, item: ExportRecord) -> ExportEntry:
        """The entry for ``item``."""
        return cls(**attrs.asdict(item, recurse=False))

    def to_record(self) -> ExportRecord:
        """The :class:`ExportRecord` this entry stores.

        :raises CorruptRecordError: a value is not what the bot wrote (tampered or damaged
            storage); the message names the export, never the values.
        """
        values = attrs.asdict(self, recurse=False)
        try:
            if not isinstance(values["formats"], list | tuple):
                raise TypeError("formats")
            values["formats"] = tuple(values["formats"])
            return ExportRecord(**values)
        except (TypeError, ValueError) as exc:
            shown = self.export_id if isinstance(self.export_id, str) else "?"
            shown = shown if is_export_id(shown) else "?"
            raise CorruptRecordError(f"export record {shown!r} is unreadable: {exc}") from None


class StoreExportMetadata:
    """:class:`~securebot.exports.ExportMetadataStore` on a core :class:`Store`."""

    def __init__(self, store: Store) -> None:
        """:param store: an open Store with a keyring (the label is sealed)."""
        self.store = store

    async def save(self, record: ExportRecord) -> None:
        """Insert or replace ``record``; it expires a day after the export."""
        remaining = record.expires_at - self.store.clock()
        ttl = dt.timedelta(seconds=max(remaining, 0.0)) + GRACE
        await self.store.put(ExportEntry.of(record), ttl=ttl)

    async def get(self, export_id: str) -> ExportRecord:
        """The record of ``export_id``.

        :raises RecordNotFoundError: unknown export.
        :raises CorruptRecordError: the stored record is not one the bot wrote for that id.
        """
        entry = await self.store.get(ExportEntry, export_id)
        if entry is None:
            raise RecordNotFoundError("no such export")
        try:
            record = entry.to_record()
        except CorruptRecordError as exc:
            reason = str(exc).partition(": ")[2]
            raise CorruptRecordError(
                f"export record {export_id!r} is unreadable: {reason}"
            ) from None
        if record.export_id != export_id:
            raise CorruptRecordError(f"export record {export_id!r} names another export")
        return record

    async def delete(self, export_id: str) -> bool:
        """Forget the record."""
        return bool(await self.store.delete(ExportEntry, export_id))

    async def expired(self, now: float) -> list[ExportRecord]:
        """Records past their export's retention (unreadable ones are skipped and logged: the
        store's own expiry removes them)."""
        found = _readable([e async for e in self.store.iterate(ExportEntry)])
        return [r for r in found if now >= r.expires_at]

    async def owned_by(self, owner_id: int) -> list[ExportRecord]:
        """Every readable record of ``owner_id``."""
        return _readable([e async for e in self.store.iterate(ExportEntry, owner_id=owner_id)])


def _readable(entries: list[ExportEntry]) -> list[ExportRecord]:
    records = []
    for entry in entries:
        try:
            records.append(entry.to_record())
        except CorruptRecordError as exc:
            logger.warning("exports: skipping a stored record: %s", exc)
    return records
