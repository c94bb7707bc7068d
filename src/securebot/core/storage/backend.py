"""The backend contract: what SQLite, MongoDB and caches implement.

A backend stores :class:`Document` values (already encoded and sealed by the
:class:`~securebot.core.storage.store.Store`: sensitive fields arrive as opaque strings) and
settings values. It never sees a plaintext sensitive value or a key. Every method is a
coroutine; every backend passes the shared contract suite in ``tests/storage``.

Identity: a document is named by ``(collection, scope, key)``; ``scope`` is a guild id as a
decimal string or ``"global"``. Revisions start at 1 and grow by one per write of that
document; ``expect`` on writes implements compare-and-set (``0`` = "must not exist").
Expiry: documents whose ``expires_at`` (unix seconds) is ``<= now`` are invisible to reads and
queries and removed by :meth:`Backend.purge`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, Protocol

import attrs

#: The scope of data that belongs to no guild.
GLOBAL: Final = "global"


class _Absent:
    """The type of :data:`ABSENT`."""

    _instance: _Absent | None = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False


#: Returned by :meth:`Backend.get_setting` when no value is stored (``None`` is a value).
ABSENT: Final = _Absent()


@attrs.frozen
class Document:
    """One stored record as a backend sees it.

    ``body`` is JSON-able (``dict``/``list``/``str``/``int``/``float``/``bool``/``None``);
    sealed fields are base64 strings. ``lookups`` maps queryable field names to equality tokens
    (blind-index hex or a canonical plain value). ``owners`` are the Discord user ids this
    document belongs to. ``revision`` is assigned by the backend and ignored on writes.
    """

    collection: str
    scope: str
    key: str
    body: Mapping[str, Any]
    lookups: Mapping[str, str] = attrs.field(factory=dict)
    owners: tuple[int, ...] = ()
    schema: int = 1
    expires_at: float | None = None
    revision: int = 0


@attrs.frozen
class Query:
    """Documents of one collection, optionally of one scope, matching every lookup token.

    Results are ordered by ``(scope, key)``; ``after`` is the cursor returned in
    :attr:`Page.next` (exclusive), ``limit`` the page size (1..1000). ``where_any`` maps a
    field to several tokens, any of which matches (a blind index under each live index key
    while a key rotation is under way); every field of ``where`` and ``where_any`` must match.
    """

    collection: str
    scope: str | None = None
    where: Mapping[str, str] = attrs.field(factory=dict)
    after: tuple[str, str] | None = None
    limit: int = 100
    where_any: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)


@attrs.frozen
class Page:
    """One page of query results and the cursor of the next page (``None`` on the last).

    ``corrupt`` holds one message per stored document of this page that the backend could not
    even parse (its own encoding is damaged); such documents are not in ``items``.
    """

    items: tuple[Document, ...]
    next: tuple[str, str] | None = None
    corrupt: tuple[str, ...] = ()


@attrs.frozen
class SettingRow:
    """One stored settings value (for exports and erasure)."""

    namespace: str
    scope: str
    path: str
    name: str
    value: Any
    owner: int | None = None


@attrs.frozen
class Change:
    """A write observed by :meth:`Store.subscribe` listeners (caches, in-process mirrors).

    ``kind`` is ``"put"``, ``"delete"``, ``"setting"``, ``"purge"`` (``key`` empty: the whole
    collection may have changed) or ``"erase"`` (a user or guild erasure: drop everything).
    """

    kind: str
    collection: str
    scope: str
    key: str


class Backend(Protocol):
    """A store of record (or a cache wrapping one). Implementations must be coroutine-safe."""

    #: Short name for logs and ``securebot storage check`` (``"sqlite"``, ``"mongo"``...).
    name: str

    async def open(self) -> None:
        """Connect and create/upgrade the backend's own schema (idempotent)."""

    async def close(self) -> None:
        """Release connections; the backend may be opened again."""

    # --- records ------------------------------------------------------------------------------

    async def get(self, collection: str, scope: str, key: str, *, now: float) -> Document | None:
        """The live document, or ``None`` (absent or expired)."""

    async def put(self, doc: Document, *, now: float, expect: int | None = None) -> int:
        """Insert or replace ``doc``; return its new revision.

        :param expect: ``None`` unconditional; ``0`` only if absent (an expired document counts
            as absent); ``n`` only if the current revision is ``n``.
        :raises ConflictError: the condition does not hold; nothing was written.
        """

    async def put_many(self, docs: Sequence[Document], *, now: float) -> list[int]:
        """Unconditionally write all ``docs`` in one transaction where the backend has them."""

    async def delete(
        self, collection: str, scope: str, key: str, *, now: float, expect: int | None = None
    ) -> bool:
        """Delete a document; return whether a live one existed.

        :raises ConflictError: ``expect`` is given and is not the live revision.
        """

    async def find(self, query: Query, *, now: float) -> Page:
        """One page of live documents matching ``query``."""

    async def purge(self, collection: str, *, now: float) -> int:
        """Remove the expired documents of ``collection``; return how many."""

    async def collections(self) -> list[str]:
        """Collections that hold documents or counters."""

    async def incr(self, collection: str, scope: str, name: str, by: int = 1) -> int:
        """Atomically add ``by`` to a counter (created at 0) and return the new value."""

    async def counter(self, collection: str, scope: str, name: str) -> int:
        """The counter's current value (0 if never incremented)."""

    # --- settings -----------------------------------------------------------------------------

    async def get_setting(self, namespace: str, scope: str, path: str, name: str) -> Any:
        """A stored JSON value, or :data:`ABSENT`."""

    async def set_setting(
        self,
        namespace: str,
        scope: str,
        path: str,
        name: str,
        value: Any,
        *,
        owner: int | None = None,
    ) -> None:
        """Store a JSON value (``None`` is a value; use :meth:`delete_setting` to clear)."""

    async def replace_setting(
        self, namespace: str, scope: str, path: str, name: str, old: Any, new: Any
    ) -> bool:
        """Compare-and-set: store ``new`` only if the stored value still equals ``old``.

        Returns whether ``new`` was stored (``False``: another writer changed or removed the
        value meanwhile, and its value stays).
        """

    async def delete_setting(self, namespace: str, scope: str, path: str, name: str) -> bool:
        """Remove one stored value; return whether it existed."""

    async def get_settings(self, namespace: str, scope: str, path: str) -> dict[str, Any]:
        """Every stored value under one path, by name."""

    async def clear_settings(self, namespace: str, scope: str, path: str | None = None) -> int:
        """Remove stored values of a namespace in a scope (one path, or all of the scope)."""

    async def find_settings(
        self, *, namespace: str | None = None, scope: str | None = None, owner: int | None = None
    ) -> list[SettingRow]:
        """Stored values matching every given filter."""

    # --- data rights --------------------------------------------------------------------------

    async def owned_by(self, user_id: int, *, now: float) -> list[Document]:
        """Every live document listing ``user_id`` among its owners."""

    async def delete_owned_by(self, user_id: int) -> int:
        """Delete documents and settings owned by ``user_id``; return how many."""

    async def delete_scope(self, scope: str) -> int:
        """Delete every document, counter and setting of ``scope``; return how many."""

    # --- schema bookkeeping -------------------------------------------------------------------

    async def get_meta(self, name: str) -> str | None:
        """A backend-wide bookkeeping value (schema versions of collections)."""

    async def set_meta(self, name: str, value: str) -> None:
        """Store a bookkeeping value."""


def scope_of(guild_id: int | str | None) -> str:
    """The scope string of a guild id (``None`` → ``"global"``)."""
    if type(guild_id) is int and guild_id >= 0:
        return str(guild_id)
    if guild_id is None:
        return GLOBAL
    if isinstance(guild_id, bool) or not isinstance(guild_id, int | str):
        raise TypeError(f"a guild id is an int, got {type(guild_id).__name__}")
    text = str(guild_id)
    # one spelling per guild (ASCII digits, no leading zero): "0123" or Unicode digits would
    # be another scope, which erasing, exporting or shredding guild 123 would not reach
    if text != GLOBAL and not (
        text.isascii() and text.isdigit() and (text == "0" or text[0] != "0")
    ):
        raise ValueError(f"not a guild id: {text!r}")
    return text


__all__ = [
    "ABSENT",
    "GLOBAL",
    "Backend",
    "Change",
    "Document",
    "Page",
    "Query",
    "SettingRow",
    "scope_of",
]
