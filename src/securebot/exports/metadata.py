"""Export metadata: who made which archive, where it is, until when, and its hash.

An :class:`ExportRecord` is what the bot remembers about an export; the password is not part of
it (it is stored nowhere: losing the DM means losing the archive). The user-derived field
(``label``: the channel's and guild's names) is sealed with the ``exports`` field cipher when
the record becomes a stored document; ids, times, size and hash stay searchable.

:class:`ExportMetadataStore` is the small protocol the service and the gateway need;
:class:`MemoryExportMetadataStore` keeps sealed documents in memory. A store on the storage API
maps the same documents onto a collection.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import attrs

from securebot.crypto import GLOBAL_SCOPE, FieldCipher, FieldContext
from securebot.errors import CorruptRecordError, DecryptionError, RecordNotFoundError
from securebot.exports.stores.base import is_object_key

#: Collection name of export records (also part of the sealed field's context).
COLLECTION = "exports"
_EXPORT_ID = re.compile(r"^[0-9a-f]{32}$")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_STORE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def new_export_id() -> str:
    """A fresh export id (uuid4 hex): what download links name."""
    return uuid.uuid4().hex


def is_export_id(value: str) -> bool:
    """Whether ``value`` looks like an export id (32 lowercase hex digits)."""
    return bool(_EXPORT_ID.fullmatch(value))


@attrs.frozen
class ExportRecord:
    """What is kept about one export (never the password)."""

    export_id: str
    owner_id: int
    guild_id: int | None
    channel_id: int | None
    #: Unix times.
    created_at: float
    expires_at: float
    #: Archive size in bytes and hex SHA-256.
    size: int
    sha256: str
    #: Object store name (``local``, ``s3``) and the key inside it.
    store: str
    object_key: str
    message_count: int = 0
    formats: tuple[str, ...] = ()
    #: Human label (``#general in Guild``): user-derived, sealed at rest.
    label: str = attrs.field(default="", repr=False)

    def __attrs_post_init__(self) -> None:
        problem = _record_problem(self)
        if problem:
            # Raised for records read back from storage too: nothing acts on a tampered one.
            raise ValueError(f"export record: {problem}")

    def expired(self, now: float) -> bool:
        """Whether the export is past its retention at unix time ``now``."""
        return now >= self.expires_at

    def download_name(self) -> str:
        """The file name a download is offered under (no channel or guild names)."""
        return f"securebot-export-{self.export_id[:8]}.7z"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _record_problem(record: ExportRecord) -> str:
    """What is wrong with ``record``'s values ("" when nothing): names the field, never the
    value (it may come from a tampered document)."""
    stored: Any = record  # typed as declared, but read back from storage: checked as it is
    if not isinstance(stored.export_id, str) or not is_export_id(stored.export_id):
        return "export_id is not an export id"
    for name in ("owner_id", "size", "message_count"):
        value = getattr(stored, name)
        if not _is_int(value) or value < 0:
            return f"{name} is not a non-negative integer"
    for name in ("guild_id", "channel_id"):
        value = getattr(stored, name)
        if value is not None and not _is_int(value):
            return f"{name} is not an integer"
    for name in ("created_at", "expires_at"):
        value = getattr(stored, name)
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not math.isfinite(value)
        ):
            return f"{name} is not a time"
    if not isinstance(stored.sha256, str) or not _SHA256.fullmatch(stored.sha256):
        return "sha256 is not a hex SHA-256"
    if not isinstance(stored.store, str) or not _STORE.fullmatch(stored.store):
        return "store is not a store name"
    if not isinstance(stored.object_key, str) or not is_object_key(stored.object_key):
        return "object_key is not an export object key"
    if not isinstance(stored.formats, tuple) or not all(
        isinstance(name, str) for name in stored.formats
    ):
        return "formats is not a list of names"
    if not isinstance(stored.label, str):
        return "label is not text"
    return ""


def _label_context(record_id: str, guild_id: int | None) -> FieldContext:
    scope = str(guild_id) if guild_id is not None else GLOBAL_SCOPE
    return FieldContext(COLLECTION, "label", record_id, scope)


def to_document(record: ExportRecord, cipher: FieldCipher | None) -> dict[str, Any]:
    """The stored form of ``record``: ``label`` sealed with ``cipher`` (dropped without one)."""
    document = attrs.asdict(record, recurse=False)
    document["formats"] = list(record.formats)
    label = document.pop("label")
    if cipher is not None and label:
        document["label"] = cipher.encrypt(label, _label_context(record.export_id, record.guild_id))
    return document


def from_document(document: Mapping[str, Any], cipher: FieldCipher | None) -> ExportRecord:
    """The inverse of :func:`to_document`.

    :raises CorruptRecordError: the document is malformed or its label does not decrypt.
    """
    values = dict(document)
    sealed = values.pop("label", None)
    try:
        label = ""
        if sealed is not None and cipher is not None:
            opened = cipher.decrypt(
                bytes(sealed), _label_context(values["export_id"], values["guild_id"])
            )
            label = str(opened)
        formats = values.get("formats", ())
        if not isinstance(formats, list | tuple):
            raise TypeError("formats")
        values["formats"] = tuple(formats)
        return ExportRecord(**values, label=label)
    except (DecryptionError, KeyError, TypeError, ValueError) as exc:
        raise CorruptRecordError(
            f"export record {values.get('export_id', '?')!r} is unreadable: {type(exc).__name__}"
        ) from None


@runtime_checkable
class ExportMetadataStore(Protocol):
    """Where export records live."""

    async def save(self, record: ExportRecord) -> None:
        """Insert or replace ``record``."""

    async def get(self, export_id: str) -> ExportRecord:
        """The record of ``export_id``.

        :raises RecordNotFoundError: unknown export.
        """

    async def delete(self, export_id: str) -> bool:
        """Forget the record; ``False`` when there was none."""

    async def expired(self, now: float) -> list[ExportRecord]:
        """Records past retention at ``now``."""

    async def owned_by(self, owner_id: int) -> list[ExportRecord]:
        """Every record of ``owner_id`` (data-rights export and erasure)."""


class MemoryExportMetadataStore:
    """Sealed export documents in a dict (tests, single-process bots)."""

    def __init__(self, cipher: FieldCipher | None = None) -> None:
        """:param cipher: seals the user-derived fields (``label``); without one they are
        not stored at all."""
        self.cipher = cipher
        self.documents: dict[str, dict[str, Any]] = {}

    async def save(self, record: ExportRecord) -> None:
        """Insert or replace ``record``."""
        self.documents[record.export_id] = to_document(record, self.cipher)

    async def get(self, export_id: str) -> ExportRecord:
        """The record of ``export_id``."""
        document = self.documents.get(export_id)
        if document is None:
            raise RecordNotFoundError("no such export")
        return from_document(document, self.cipher)

    async def delete(self, export_id: str) -> bool:
        """Forget the record."""
        return self.documents.pop(export_id, None) is not None

    async def expired(self, now: float) -> list[ExportRecord]:
        """Records past retention."""
        return [
            from_document(d, self.cipher) for d in self.documents.values() if now >= d["expires_at"]
        ]

    async def owned_by(self, owner_id: int) -> list[ExportRecord]:
        """Every record of ``owner_id``."""
        return [
            from_document(d, self.cipher)
            for d in self.documents.values()
            if d["owner_id"] == owner_id
        ]
