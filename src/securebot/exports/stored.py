"""Export metadata on the storage API: :class:`StoreExportMetadata` over a core ``Store``.

Records are global (the gateway looks an export up by its id alone) and keyed by export id;
``owner_id`` is the owner field (data-rights export and erasure find it) and indexed; the
user-derived ``label`` is sealed by the Store. Each record expires with its export (``ttl``),
so ``Store.purge`` removes stale metadata too.
"""

from __future__ import annotations

import datetime as dt

import attrs

from securebot.core.storage import Store, field, record
from securebot.errors import RecordNotFoundError
from securebot.exports.metadata import ExportRecord

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
    object_key: str = ""
    message_count: int = 0
    formats: tuple[str, ...] = ()
    label: str = field(sensitive=True, default="")

    @classmethod
    def of(cls, item: ExportRecord) -> ExportEntry:
        """The entry for ``item``."""
        return cls(**attrs.asdict(item, recurse=False))

    def to_record(self) -> ExportRecord:
        """The :class:`ExportRecord` this entry stores."""
        values = attrs.asdict(self, recurse=False)
        values["formats"] = tuple(values["formats"])
        return ExportRecord(**values)


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
        """The record of ``export_id``."""
        entry = await self.store.get(ExportEntry, export_id)
        if entry is None:
            raise RecordNotFoundError("no such export")
        return entry.to_record()

    async def delete(self, export_id: str) -> bool:
        """Forget the record."""
        return bool(await self.store.delete(ExportEntry, export_id))

    async def expired(self, now: float) -> list[ExportRecord]:
        """Records past their export's retention."""
        return [e.to_record() async for e in self.store.iterate(ExportEntry) if now >= e.expires_at]

    async def owned_by(self, owner_id: int) -> list[ExportRecord]:
        """Every record of ``owner_id``."""
        return [e.to_record() async for e in self.store.iterate(ExportEntry, owner_id=owner_id)]
