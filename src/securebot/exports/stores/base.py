"""The object-store protocol exports are kept in, and the object-key scheme.

An object key reveals nothing about its content: ``exports/<yyyy>/<mm>/<uuid4>.7z``, no guild,
channel, user or export id. Stores hold only encrypted archives.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

#: The prefix every export object lives under (the S3 lifecycle rule targets it).
EXPORT_PREFIX = "exports/"
#: How long exports are kept unless configured otherwise.
DEFAULT_RETENTION = dt.timedelta(days=30)

_KEY = re.compile(
    r"^exports/\d{4}/\d{2}/"
    r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.7z$"
)


def new_object_key(now: dt.datetime) -> str:
    """A fresh key ``exports/<yyyy>/<mm>/<uuid4>.7z`` for an archive made at ``now``."""
    return f"{EXPORT_PREFIX}{now:%Y}/{now:%m}/{uuid.uuid4()}.7z"


def is_object_key(key: str) -> bool:
    """Whether ``key`` has the exact shape :func:`new_object_key` makes (nothing else is served
    or purged)."""
    return bool(_KEY.fullmatch(key))


@runtime_checkable
class ObjectStore(Protocol):
    """Where encrypted archives are kept.

    Implementations: :class:`~securebot.exports.LocalExportStore` (a directory, the embedded
    default) and :class:`~securebot.exports.S3ExportStore`.
    """

    #: Short name recorded in export metadata (``local``, ``s3``).
    name: str

    async def put(self, key: str, data: bytes, *, sha256: str) -> None:
        """Store ``data`` under ``key``; ``sha256`` (hex) is checked by the store if it can."""

    def stream(self, key: str, *, chunk_size: int = 256 * 1024) -> AsyncIterator[bytes]:
        """The object's bytes in chunks (an async iterator).

        :raises ~securebot.errors.RecordNotFoundError: no such object (on first iteration).
        """

    async def presign(self, key: str, *, expires_in: int, filename: str) -> str | None:
        """A time-limited direct download URL, or ``None`` if the store cannot make one (the
        gateway then streams the object itself)."""

    async def delete(self, key: str) -> bool:
        """Remove the object; ``False`` when it was not there."""

    async def purge(self) -> int:
        """Remove objects past retention; return how many were removed."""
