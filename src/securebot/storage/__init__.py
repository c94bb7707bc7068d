"""Store backends: SQLite (embedded default), MongoDB and a Redis cache, behind their extras.

The API plugins use is :mod:`securebot.core.storage` (``Store``, ``record``, ``field``,
``Scope``). This package holds the backends; :func:`open_sqlite_store` builds the zero-config
default. Heavy clients (pymongo, redis) are imported only by the modules that need them.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from securebot.core.storage import Store

if TYPE_CHECKING:
    from securebot.crypto.keyring import Keyring


async def open_sqlite_store(
    path: str | os.PathLike[str] = "securebot.sqlite3", *, keyring: Keyring | None = None
) -> Store:
    """An opened :class:`Store` on the SQLite file ``path`` (created if needed)."""
    from securebot.storage.sqlite import SqliteBackend

    store = Store(SqliteBackend(path), keyring=keyring)
    await store.open()
    return store


__all__ = ["open_sqlite_store"]
