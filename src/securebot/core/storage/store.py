"""The typed async :class:`Store`: records, counters, queries, retention, settings, data rights.

A :class:`Store` wraps one :class:`~securebot.core.storage.backend.Backend` and a keyring. It
encodes records to documents (sealing sensitive fields, computing lookup tokens), decodes them
back (migrating old schema versions on the fly) and tells subscribers about every write.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from securebot.core.storage.backend import GLOBAL, Backend, Change, Document, Query, scope_of
from securebot.core.storage.codec import FieldSealer, KeyringSealer, NoSealer, RecordCodec, key_of
from securebot.core.storage.records import _SPECS, RecordSpec, record_types, spec_of
from securebot.core.storage.settings import Settings
from securebot.errors import ConflictError, CorruptRecordError, RecordNotFoundError, StorageError

if TYPE_CHECKING:
    import datetime as dt

    from securebot.crypto.keyring import Keyring

R = TypeVar("R")

log = logging.getLogger("securebot.storage")

#: Largest page :meth:`Store.find` returns.
MAX_PAGE = 1000


@attrs.frozen
class Versioned(Generic[R]):
    """A record with the revision it was read at (pass it as ``expect`` to write it back)."""

    record: R
    revision: int


@attrs.frozen
class RecordPage(Generic[R]):
    """One page of records; ``next`` is the cursor of the following page (``None`` at the end).

    Records that could not be decoded are not in ``items``: their errors are in ``corrupt`` so
    one damaged record never hides the others.
    """

    items: tuple[R, ...]
    next: tuple[str, str] | None
    corrupt: tuple[CorruptRecordError, ...] = ()


class Store:
    """Typed records and settings over a backend; see :mod:`securebot.core.storage`."""

    def __init__(
        self,
        backend: Backend,
        *,
        keyring: Keyring | None = None,
        sealer: FieldSealer | None = None,
        clock: Callable[[], float] = time.time,
        save_keyring: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Use ``backend``; seal with ``keyring`` (or an explicit ``sealer``).

        Without either, storing a record with sensitive fields fails closed.

        :param save_keyring: persists ``keyring`` (e.g. re-seals its file). Sealing the first
            value of a guild creates that guild's data key; with this callback the store saves
            the keyring *before* it writes anything sealed under a new key, so a crash can never
            leave data behind whose key was only in memory. Without it (an in-memory keyring,
            tests) the first new key is logged as a warning: values sealed under it will not
            open once the process ends.
        """
        self.backend = backend
        if sealer is None:
            sealer = KeyringSealer(keyring) if keyring is not None else NoSealer()
        self.keyring = keyring
        self.codec = RecordCodec(sealer)
        self.clock = clock
        self._save_keyring = save_keyring
        self._warned_volatile_keys = False
        self._listeners: list[Callable[[Change], None]] = []
        self._settings: dict[str, Settings] = {}

    # --- lifecycle ------------------------------------------------------------------------------

    async def open(self) -> None:
        """Open the backend."""
        await self.backend.open()

    async def close(self) -> None:
        """Close the backend."""
        await self.backend.close()

    async def __aenter__(self) -> Store:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def keyring_durable(self) -> None:
        """Save the keyring if sealing changed it (a new guild key); call before writing."""
        if self.keyring is None or not self.keyring.dirty:
            return
        if self._save_keyring is not None:
            await self._save_keyring()
        elif not self._warned_volatile_keys:
            self._warned_volatile_keys = True
            log.warning(
                "a new data key exists only in memory: this store has no save_keyring, so "
                "values sealed under it will not open after a restart (pass save_keyring, "
                "e.g. the keyring file's save)"
            )

    # --- change notification ---------------------------------------------------------------------

    def subscribe(self, listener: Callable[[Change], None]) -> Callable[[], None]:
        """Call ``listener(change)`` after every write through this store; return an unsubscribe.

        Listeners run synchronously; one that raises is logged and never fails the write.
        """
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def _notify(self, change: Change) -> None:
        for listener in list(self._listeners):
            try:
                listener(change)
            except Exception:
                log.exception("storage change listener %r failed", listener)

    # --- helpers -------------------------------------------------------------------------------

    def _scope(self, spec: RecordSpec, scope: int | str | None) -> str:
        if spec.scope is None:
            if scope is not None:
                raise StorageError(f"{spec.collection} is global; do not pass a scope")
            return GLOBAL
        if scope is None:
            raise StorageError(f"{spec.collection} is kept per guild; pass scope=<guild id>")
        return scope_of(scope)

    def _identity(self, record: Any) -> tuple[RecordSpec, str, str]:
        spec = spec_of(type(record))
        scope = GLOBAL if spec.scope is None else scope_of(getattr(record, spec.scope))
        key = key_of(spec, tuple(getattr(record, name) for name in spec.key))
        return spec, scope, key

    def _expiry(self, spec: RecordSpec, ttl: dt.timedelta | None) -> float | None:
        life = ttl if ttl is not None else spec.retention
        return None if life is None else self.clock() + life.total_seconds()

    def _decode(self, spec: RecordSpec, doc: Document) -> Any:
        return self.codec.decode(spec, doc)

    # --- records -------------------------------------------------------------------------------

    async def get(self, cls: type[R], key: Any, *, scope: int | str | None = None) -> R | None:
        """The record of type ``cls`` under ``key`` (a tuple for composite keys), or ``None``.

        :raises CorruptRecordError: that record cannot be decrypted or decoded.
        """
        spec = _SPECS.get(cls) or spec_of(cls)  # spec_of: the error for an undeclared type
        if type(scope) is int and scope >= 0 and spec.scope is not None:  # a guild id
            sc = str(scope)
        else:
            sc = self._scope(spec, scope)
        k = str(key) if type(key) is int and len(spec.key) == 1 else key_of(spec, key)
        doc = await self.backend.get(spec.collection, sc, k, now=self.clock())
        if doc is None:
            return None
        if doc.key != k or doc.scope != sc or doc.collection != spec.collection:
            raise _not_asked(spec.collection, sc, k, doc)
        record: R = self.codec.decode(spec, doc)
        return record

    async def get_versioned(
        self, cls: type[R], key: Any, *, scope: int | str | None = None
    ) -> Versioned[R] | None:
        """The record and its revision, for a later compare-and-set :meth:`put`."""
        spec = spec_of(cls)
        sc, k = self._scope(spec, scope), key_of(spec, key)
        doc = await self.backend.get(spec.collection, sc, k, now=self.clock())
        if doc is None:
            return None
        if doc.key != k or doc.scope != sc or doc.collection != spec.collection:
            raise _not_asked(spec.collection, sc, k, doc)
        return Versioned(self._decode(spec, doc), doc.revision)

    async def require(self, cls: type[R], key: Any, *, scope: int | str | None = None) -> R:
        """Like :meth:`get` but :class:`RecordNotFoundError` when absent."""
        found = await self.get(cls, key, scope=scope)
        if found is None:
            raise RecordNotFoundError(f"no {spec_of(cls).collection} record {key!r}")
        return found

    async def put(
        self, record: Any, *, expect: int | None = None, ttl: dt.timedelta | None = None
    ) -> int:
        """Write ``record``; return its new revision.

        :param expect: compare-and-set: ``0`` to create only, or the revision last read.
        :param ttl: expire after this long (overrides the collection's retention).
        :raises ConflictError: ``expect`` does not match; nothing was written.
        """
        spec, scope, key = self._identity(record)
        doc = self.codec.encode(spec, record, scope, key, self._expiry(spec, ttl))
        await self.keyring_durable()
        revision = await self.backend.put(doc, now=self.clock(), expect=expect)
        if self._listeners:
            self._notify(Change("put", spec.collection, scope, key))
        return revision

    async def put_many(self, records: Iterable[Any]) -> int:
        """Write many records in one backend transaction where possible; return the count."""
        docs = []
        for record in records:
            spec, scope, key = self._identity(record)
            docs.append(self.codec.encode(spec, record, scope, key, self._expiry(spec, None)))
        if not docs:
            return 0
        await self.keyring_durable()
        await self.backend.put_many(docs, now=self.clock())
        if self._listeners:
            for doc in docs:
                self._notify(Change("put", doc.collection, doc.scope, doc.key))
        return len(docs)

    async def update(
        self,
        cls: type[R],
        key: Any,
        change: Callable[[R | None], R | None],
        *,
        scope: int | str | None = None,
        attempts: int = 100,
    ) -> R | None:
        """Read-modify-write with compare-and-set, retried on conflicts.

        ``change`` gets the current record (``None`` if absent) and returns the new one, or
        ``None`` to leave it as it is. It must be a pure function: it may run several times.

        :raises ConflictError: still conflicting after ``attempts`` tries.
        """
        for attempt in range(attempts):
            found = await self.get_versioned(cls, key, scope=scope)
            current = None if found is None else found.record
            new = change(current)
            if new is None:
                return current
            try:
                await self.put(new, expect=0 if found is None else found.revision)
            except ConflictError:
                # let the writer that won finish; jitter so the losers do not collide again
                await asyncio.sleep(random.random() * 0.002 * min(attempt, 10))  # noqa: S311
                continue
            return new
        raise ConflictError(
            f"{spec_of(cls).collection} {key!r}: still changing after {attempts} attempts"
        )

    async def delete(
        self,
        cls: type[Any],
        key: Any,
        *,
        scope: int | str | None = None,
        expect: int | None = None,
    ) -> bool:
        """Delete a record; return whether it existed. ``expect``: compare-and-set revision."""
        spec = spec_of(cls)
        sc, k = self._scope(spec, scope), key_of(spec, key)
        existed = await self.backend.delete(spec.collection, sc, k, now=self.clock(), expect=expect)
        if existed and self._listeners:
            self._notify(Change("delete", spec.collection, sc, k))
        return existed

    async def find(
        self,
        cls: type[R],
        *,
        scope: int | str | None = None,
        after: tuple[str, str] | None = None,
        limit: int = 100,
        **where: Any,
    ) -> RecordPage[R]:
        """One page of records of ``cls`` whose indexed fields equal ``where``.

        ``scope`` restricts to one guild (required when querying a ``lookup`` field, whose
        blind index is per guild). Pass ``after=page.next`` for the following page.
        """
        spec = spec_of(cls)
        if not 1 <= limit <= MAX_PAGE:
            raise StorageError(f"page size must be 1..{MAX_PAGE}, got {limit}")
        sc = None if scope is None else scope_of(scope)
        if spec.scope is None and sc not in (None, GLOBAL):
            raise StorageError(f"{spec.collection} is global; do not pass a scope")
        tokens: dict[str, str] = {}
        any_of: dict[str, tuple[str, ...]] = {}
        for name, value in where.items():
            options = spec.field_spec(name).options
            if options.lookup and sc is None:
                raise StorageError(
                    f"{spec.collection}.{name} is a sealed lookup field; pass scope=<guild id>"
                )
            found = self.codec.query_tokens(spec, name, value, sc or GLOBAL)
            if len(found) == 1:
                tokens[name] = found[0]
            else:  # an index key rotation is under way: records carry either key's token
                any_of[name] = tuple(found)
        page = await self.backend.find(
            Query(spec.collection, sc, tokens, after, limit, where_any=any_of), now=self.clock()
        )
        items: list[Any] = []
        corrupt = [CorruptRecordError(message) for message in page.corrupt]
        for doc in page.items:
            try:
                items.append(self._decode(spec, doc))
            except CorruptRecordError as exc:
                log.error("%s", exc)
                corrupt.append(exc)
        return RecordPage(tuple(items), page.next, tuple(corrupt))

    async def iterate(
        self, cls: type[R], *, scope: int | str | None = None, **where: Any
    ) -> AsyncIterator[R]:
        """Every matching record, page by page (corrupt ones are logged and skipped)."""
        after = None
        while True:
            page = await self.find(cls, scope=scope, after=after, limit=MAX_PAGE, **where)
            for item in page.items:
                yield item
            if page.next is None:
                return
            after = page.next

    async def purge(self, cls: type[Any] | None = None) -> int:
        """Remove expired records of ``cls`` (or of every declared record type)."""
        specs = [spec_of(cls)] if cls is not None else record_types()
        total = 0
        now = self.clock()
        for spec in specs:
            removed = await self.backend.purge(spec.collection, now=now)
            if removed:
                total += removed
                self._notify(Change("purge", spec.collection, GLOBAL, ""))
        return total

    # --- counters ------------------------------------------------------------------------------

    async def incr(self, name: str, *, scope: int | str | None = None, by: int = 1) -> int:
        """Atomically add ``by`` to the counter ``name`` of ``scope``; return the new value.

        Case numbers: ``await store.incr("moderation.cases", scope=guild_id)`` gives 1, 2, 3...
        exactly once each, across processes sharing the backend.
        """
        if isinstance(by, bool) or not isinstance(by, int):
            raise StorageError("a counter moves by an int")
        return await self.backend.incr(_counter_collection(name), scope_of(scope), name, by)

    async def counter(self, name: str, *, scope: int | str | None = None) -> int:
        """The counter's current value (0 before the first :meth:`incr`)."""
        return await self.backend.counter(_counter_collection(name), scope_of(scope), name)

    # --- settings ------------------------------------------------------------------------------

    def settings(self, namespace: str) -> Settings:
        """The settings of ``namespace`` (one object per namespace and store)."""
        found = self._settings.get(namespace)
        if found is None:
            found = self._settings[namespace] = Settings(self, namespace)
        return found

    # --- migrations ----------------------------------------------------------------------------

    async def migrate(self, specs: Iterable[RecordSpec] | None = None) -> dict[str, int]:
        """Upgrade stored records older than their type's version; return counts by collection.

        Run at startup (``securebot storage migrate`` does the same). Records are also upgraded
        on read, so a bot keeps working while this runs. Idempotent.
        """
        done: dict[str, int] = {}
        for spec in specs if specs is not None else record_types():

            def outdated(doc: Document, spec: RecordSpec = spec) -> bool:
                return doc.schema < spec.version

            done[spec.collection] = await self._rewrite(spec, outdated, "migration")
            await self.backend.set_meta(f"schema:{spec.collection}", str(spec.version))
        return done

    async def reencrypt(self, specs: Iterable[RecordSpec] | None = None) -> dict[str, int]:
        """Seal again, under the current primary keys, what is stored under older ones.

        The key-rotation step between ``promote`` and ``retire`` (docs/security.md): every record
        with a sealed field under a non-primary key, or whose blind-index tokens were computed
        with a non-primary index key, is rewritten (compare-and-set, so a concurrent write by the
        bot wins and is already current), and so is every sealed settings value. Returns counts
        by collection (settings under ``"settings"``); run it until it rewrites nothing.
        Unreadable records are logged and left as they are.
        """
        codec = self.codec
        done: dict[str, int] = {}
        for spec in specs if specs is not None else record_types():
            if not (spec.sensitive or any(f.options.lookup for f in spec.fields)):
                continue

            def stale(doc: Document, spec: RecordSpec = spec) -> bool:
                if codec.stale_seals(doc):
                    return True
                fresh = codec.encode(spec, self._decode(spec, doc), doc.scope, doc.key, None)
                return dict(fresh.lookups) != dict(doc.lookups)

            done[spec.collection] = await self._rewrite(spec, stale, "re-encryption")
        done["settings"] = await self._reseal_settings()
        return done

    async def sealed_key_ids(self) -> dict[int, int]:
        """How many stored sealed values (record fields, settings) each key id still seals.

        What ``securebot keys destroy`` checks first: a key some stored value still names is
        not destroyed (re-encrypt first). Needs no keyring; expired records are not counted.
        """
        counts: dict[int, int] = {}
        codec = self.codec
        for collection in await self.backend.collections():
            async for doc in self._documents(collection):
                for key_id in codec.sealed_key_ids(doc):
                    counts[key_id] = counts.get(key_id, 0) + 1
        for row in await self.backend.find_settings():
            setting_key = codec.setting_key_id(row.value)
            if setting_key is not None:
                counts[setting_key] = counts.get(setting_key, 0) + 1
        return counts

    async def stale_undeclared(self, specs: Iterable[RecordSpec] | None = None) -> dict[str, int]:
        """What :meth:`reencrypt` cannot rewrite: records of collections no record type in
        ``specs`` declares (all declared types by default) that still hold a sealed field under
        a non-primary key, counted by collection.

        Re-encryption needs a record's type to re-seal it; an operator who ran
        ``securebot storage reencrypt`` without the module declaring a type must be told, or
        the old key looks free to retire.
        """
        declared = {spec.collection for spec in (specs if specs is not None else record_types())}
        left: dict[str, int] = {}
        for collection in await self.backend.collections():
            if collection in declared:
                continue
            count = 0
            async for doc in self._documents(collection):
                count += self.codec.stale_seals(doc)
            if count:
                left[collection] = count
        return left

    async def _documents(self, collection: str) -> AsyncIterator[Document]:
        """Every live document of ``collection``, page by page."""
        after = None
        while True:
            page = await self.backend.find(
                Query(collection, None, {}, after, MAX_PAGE), now=self.clock()
            )
            for doc in page.items:
                yield doc
            if page.next is None:
                return
            after = page.next

    async def _rewrite(self, spec: RecordSpec, wanted: Callable[[Document], bool], job: str) -> int:
        """Re-encode every stored record of ``spec`` that ``wanted`` picks; return how many."""
        count = 0
        after = None
        while True:
            page = await self.backend.find(
                Query(spec.collection, None, {}, after, MAX_PAGE), now=self.clock()
            )
            for message in page.corrupt:
                log.error("%s skipped a record: %s", job, message)
            for doc in page.items:
                try:
                    if not wanted(doc):
                        continue
                    record = self._decode(spec, doc)
                except CorruptRecordError as exc:
                    log.error("%s skipped a record: %s", job, exc)
                    continue
                new = self.codec.encode(spec, record, doc.scope, doc.key, doc.expires_at)
                await self.keyring_durable()
                try:
                    await self.backend.put(new, now=self.clock(), expect=doc.revision)
                except ConflictError:
                    continue  # written meanwhile by current code: already current
                count += 1
            if page.next is None:
                break
            after = page.next
        return count

    async def _reseal_settings(self) -> int:
        count = 0
        for row in await self.backend.find_settings():
            if not self.codec.stale_setting(row.value):
                continue
            ctx = self.codec.context(f"settings.{row.namespace}", row.name, row.path, row.scope)
            try:
                value = self.codec.open_setting(row.value, ctx)
            except CorruptRecordError as exc:
                log.error("re-encryption skipped a setting: %s", exc)
                continue
            sealed = self.codec.seal_setting(value, ctx)
            await self.keyring_durable()
            # compare-and-set: a value the bot wrote since it was read here is current already
            if await self.backend.replace_setting(
                row.namespace, row.scope, row.path, row.name, row.value, sealed
            ):
                count += 1
        return count

    # --- data rights ---------------------------------------------------------------------------

    def _plain(self, doc: Document) -> dict[str, Any]:
        return self.codec.plain_fields(doc)

    async def export_user(self, user_id: int) -> dict[str, Any]:
        """Everything kept about ``user_id``, readable and JSON-able.

        Shape: ``{"records": {collection: [fields...]}, "settings": {namespace: [...]},
        "unreadable": [messages]}``.
        """
        records: dict[str, list[dict[str, Any]]] = {}
        unreadable: list[str] = []
        for doc in await self.backend.owned_by(user_id, now=self.clock()):
            try:
                fields = self._plain(doc)
            except CorruptRecordError as exc:
                unreadable.append(str(exc))
                continue
            records.setdefault(doc.collection, []).append(
                {"scope": doc.scope, "key": doc.key, "fields": fields}
            )
        settings = await self._export_settings(
            await self.backend.find_settings(owner=user_id), unreadable
        )
        return {
            "user_id": user_id,
            "records": records,
            "settings": settings,
            "unreadable": unreadable,
        }

    async def _export_settings(
        self, rows: Iterable[Any], unreadable: list[str]
    ) -> dict[str, list[dict[str, Any]]]:
        from securebot.crypto.context import FieldContext

        out: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            ctx = FieldContext(f"settings.{row.namespace}", row.name, row.path, row.scope)
            try:
                value = self.codec.open_setting(row.value, ctx)
            except CorruptRecordError as exc:
                unreadable.append(str(exc))
                continue
            out.setdefault(row.namespace, []).append(
                {"scope": row.scope, "path": row.path, "name": row.name, "value": value}
            )
        return out

    async def delete_user(self, user_id: int) -> int:
        """Erase every record and settings value owned by ``user_id``; return how many."""
        count = await self.backend.delete_owned_by(user_id)
        self._notify(Change("erase", "", GLOBAL, str(user_id)))
        return count

    async def export_guild(self, guild_id: int) -> dict[str, Any]:
        """Everything kept for a guild (records, counters excluded, settings), readable."""
        scope = scope_of(guild_id)
        records: dict[str, list[dict[str, Any]]] = {}
        unreadable: list[str] = []
        for collection in await self.backend.collections():
            after = None
            while True:
                page = await self.backend.find(
                    Query(collection, scope, {}, after, MAX_PAGE), now=self.clock()
                )
                unreadable.extend(page.corrupt)
                for doc in page.items:
                    try:
                        fields = self._plain(doc)
                    except CorruptRecordError as exc:
                        unreadable.append(str(exc))
                        continue
                    records.setdefault(collection, []).append({"key": doc.key, "fields": fields})
                if page.next is None:
                    break
                after = page.next
        settings = await self._export_settings(
            await self.backend.find_settings(scope=scope), unreadable
        )
        return {
            "guild_id": guild_id,
            "records": records,
            "settings": settings,
            "unreadable": unreadable,
        }

    async def delete_guild(self, guild_id: int) -> int:
        """Erase every record, counter and settings value of a guild; return how many.

        Crypto-shredding of the guild's key is the keyring's job (``securebot storage
        delete-guild`` does both).
        """
        scope = scope_of(guild_id)
        count = await self.backend.delete_scope(scope)
        self._notify(Change("erase", "", scope, ""))
        return count


def _not_asked(collection: str, scope: str, key: str, doc: Document) -> CorruptRecordError:
    """The backend answered with another record than the one asked for: its sealed fields
    would open (they are bound to the identity the document names), so it is refused."""
    return CorruptRecordError(
        f"record {collection}/{scope}/{key}: the store holds a document of"
        f" {doc.collection}/{doc.scope}/{doc.key} there, not the record asked for"
    )


def _counter_collection(name: str) -> str:
    if not name or not all(part for part in name.split(".")):
        raise StorageError(f"invalid counter name {name!r}")
    return "counters"


def collections_of(specs: Iterable[RecordSpec]) -> Mapping[str, RecordSpec]:
    """Declared record specs by collection name."""
    return {spec.collection: spec for spec in specs}
