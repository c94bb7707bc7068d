"""Storage for plugins and bots: the public face of the typed Store and its backends.

Plugins import this face (``from securebot import storage``)::

    @storage.record("moderation.cases", key="number", scope="guild_id")
    @attrs.frozen
    class Case:
        guild_id: int
        number: int
        user_id: int = storage.field(owner=True, index=True)
        reason: str = storage.field(sensitive=True, default="")

    settings = store.settings("moderation")
    settings.register(storage.Scope.GUILD, dm_on_warn=True)

The API itself lives in :mod:`securebot.core.storage` (see its docstring and ``docs/storage.md``);
this package adds the backends: SQLite (``securebot.storage.sqlite``, the zero-configuration
default, see :func:`open_sqlite_store`), MongoDB and a Redis cache. Heavy clients (pymongo,
redis) are imported only by the modules that need them.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from securebot.core.storage import (
    ABSENT,
    GLOBAL,
    Backend,
    Change,
    Document,
    Page,
    Query,
    RecordPage,
    Scope,
    ScopedSettings,
    SettingRow,
    Settings,
    Store,
    Versioned,
    field,
    record,
)

if TYPE_CHECKING:
    from securebot.crypto.keyring import Keyring


async def open_sqlite_store(
    path: str | os.PathLike[str] = "securebot.sqlite3",
    *,
    keyring: Keyring | None = None,
    save_keyring: Callable[[], Awaitable[None]] | None = None,
) -> Store:
    """An opened :class:`Store` on the SQLite file ``path`` (created if needed).

    With a keyring loaded from a file, pass ``save_keyring`` (what re-seals that file): a
    guild's first sealed value creates its data key, which must be saved before data sealed
    under it is written (see :class:`~securebot.core.storage.Store`).
    """
    from securebot.storage.sqlite import SqliteBackend

    store = Store(SqliteBackend(path), keyring=keyring, save_keyring=save_keyring)
    await store.open()
    return store


__all__ = [
    "ABSENT",
    "GLOBAL",
    "Backend",
    "Change",
    "Document",
    "Page",
    "Query",
    "RecordPage",
    "Scope",
    "ScopedSettings",
    "SettingRow",
    "Settings",
    "Store",
    "Versioned",
    "field",
    "open_sqlite_store",
    "record",
]
