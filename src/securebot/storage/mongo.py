"""The MongoDB backend, on PyMongo's native asyncio client (``AsyncMongoClient``).

Thin by design: the document shapes, filters, updates and indexes are in
:mod:`securebot.storage.mongo_mapping` (pure, unit-tested); this module only sends them.

Production defaults: a replica set (``replicaSet=`` in the URI or :attr:`MongoSettings.replica_set`)
with retryable writes and reads, ``w="majority"`` + journal for every write (configurable),
``readConcern`` majority, and bulk writes in one multi-document transaction when the server is a
replica-set member. TLS with X.509 client certificates: set ``tls_ca_file`` and
``tls_certificate_key_file`` (and ``x509_auth=True`` to authenticate as the certificate's
subject, ``authMechanism=MONGODB-X509``).

``pymongo`` (the ``mongo`` extra) is imported only when :meth:`MongoBackend.open` runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from securebot.core.storage.backend import ABSENT, Document, Page, Query, SettingRow
from securebot.errors import BackendUnavailableError, ConfigError, ConflictError
from securebot.storage import mongo_mapping as mapping

__all__ = ["MongoBackend", "MongoSettings"]


@attrs.frozen
class MongoSettings:
    """How to reach MongoDB. The URI may hold credentials: it never appears in a repr."""

    uri: str = attrs.field(repr=False)
    database: str = "securebot"
    prefix: str = "securebot_"
    replica_set: str | None = None
    #: Write concern: ``"majority"`` (default) or a number of members.
    write_concern: str | int = "majority"
    journal: bool = True
    write_timeout_ms: int = 10_000
    retry_writes: bool = True
    retry_reads: bool = True
    server_selection_timeout_ms: int = 10_000
    tls: bool = False
    tls_ca_file: str | None = None
    tls_certificate_key_file: str | None = None
    tls_certificate_key_password: str | None = attrs.field(default=None, repr=False)
    #: Authenticate with the client certificate (``MONGODB-X509``).
    x509_auth: bool = False
    app_name: str = "securebot"

    def __attrs_post_init__(self) -> None:
        if not self.uri.startswith(("mongodb://", "mongodb+srv://")):
            raise ConfigError("MongoDB uri must start with mongodb:// or mongodb+srv://")
        if self.x509_auth and not self.tls_certificate_key_file:
            raise ConfigError("MongoDB x509_auth needs tls_certificate_key_file")
        if isinstance(self.write_concern, int) and self.write_concern < 1:
            raise ConfigError("MongoDB write_concern must be 'majority' or >= 1")

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``AsyncMongoClient`` besides the URI."""
        kwargs: dict[str, Any] = {
            "retryWrites": self.retry_writes,
            "retryReads": self.retry_reads,
            "w": self.write_concern,
            "journal": self.journal,
            "wTimeoutMS": self.write_timeout_ms,
            "readConcernLevel": "majority",
            "serverSelectionTimeoutMS": self.server_selection_timeout_ms,
            "appname": self.app_name,
            "tz_aware": True,
        }
        if self.replica_set:
            kwargs["replicaSet"] = self.replica_set
        if self.tls or self.tls_ca_file or self.tls_certificate_key_file:
            kwargs["tls"] = True
        if self.tls_ca_file:
            kwargs["tlsCAFile"] = self.tls_ca_file
        if self.tls_certificate_key_file:
            kwargs["tlsCertificateKeyFile"] = self.tls_certificate_key_file
        if self.tls_certificate_key_password:
            kwargs["tlsCertificateKeyFilePassword"] = self.tls_certificate_key_password
        if self.x509_auth:
            kwargs["authMechanism"] = "MONGODB-X509"
        return kwargs


class MongoBackend:
    """A :class:`~securebot.core.storage.backend.Backend` on MongoDB.

    :param settings: connection settings; or pass ``database`` (an already-open async database
        object, e.g. from a client the application owns).
    """

    name = "mongo"

    def __init__(
        self,
        settings: MongoSettings | None = None,
        *,
        database: Any = None,
        prefix: str = "securebot_",
        transactions: bool | None = None,
    ) -> None:
        if (settings is None) == (database is None):
            raise ValueError("MongoBackend needs exactly one of `settings` or `database`")
        self.settings = settings
        self.names = mapping.CollectionNames(settings.prefix if settings else prefix)
        self._db: Any = database
        self._client: Any = None
        self._transactions = transactions
        self._duplicate_key: type[BaseException] = _NeverRaisedError
        self._return_after: Any = True

    def __repr__(self) -> str:
        where = self.settings.database if self.settings else "<database>"
        return f"MongoBackend({where!r})"

    # --- lifecycle ------------------------------------------------------------------------------

    async def open(self) -> None:
        """Connect (settings), check the server answers, create the indexes."""
        try:
            from pymongo.errors import DuplicateKeyError, PyMongoError
        except ImportError as error:  # pragma: no cover - only without the extra
            raise ConfigError(
                "the MongoDB backend needs pymongo: pip install 'securebot[mongo]'"
            ) from error
        self._duplicate_key = DuplicateKeyError
        if self.settings is not None and self._client is None:
            from pymongo import AsyncMongoClient

            self._client = AsyncMongoClient(self.settings.uri, **self.settings.client_kwargs())
            self._db = self._client[self.settings.database]
        try:
            if self._client is not None:
                hello = await self._client.admin.command("hello")
                if self._transactions is None:
                    self._transactions = "setName" in hello
            for spec in mapping.index_specs(self.names):
                await self._db[spec.collection].create_index(spec.keys, **spec.options)
        except PyMongoError as error:
            raise BackendUnavailableError(
                f"MongoDB is unreachable or refused the setup ({type(error).__name__}); "
                "check the URI, the replica set name and TLS settings"
            ) from None

    async def close(self) -> None:
        """Close the client this backend opened (not a database it was given)."""
        if self._client is not None:
            await self._client.close()
            self._client = None
            self._db = None

    @property
    def database(self) -> Any:
        """The open database (the audit and job stores share this backend's client).

        :raises BackendUnavailableError: the backend is not open.
        """
        if self._db is None:
            raise BackendUnavailableError("the MongoDB backend is not open (open the Store first)")
        return self._db

    def _col(self, name: str) -> Any:
        return self._db[name]

    # --- records --------------------------------------------------------------------------------

    async def get(self, collection: str, scope: str, key: str, *, now: float) -> Document | None:
        """The live document, or ``None``."""
        raw = await self._col(self.names.records).find_one(
            mapping.doc_filter(collection, scope, key, now=now)
        )
        return None if raw is None else mapping.document_from_mongo(raw)

    async def put(self, doc: Document, *, now: float, expect: int | None = None) -> int:
        """Insert or replace; compare-and-set with ``expect`` (see the Backend protocol)."""
        records = self._col(self.names.records)
        ident = mapping.record_id(doc.collection, doc.scope, doc.key)
        if expect is None:
            for _ in range(3):
                try:
                    revision = await self._write_over(records, {"_id": ident}, doc, upsert=True)
                    if revision is not None:
                        return revision
                except self._duplicate_key:  # two upserts raced: the second one retries
                    continue
            raise ConflictError(f"{doc.collection} {doc.key!r}: concurrent creation kept failing")
        if expect == 0:
            try:
                await records.insert_one(mapping.document_to_mongo(doc, 1))
                return 1
            except self._duplicate_key:
                expired = {"_id": ident, "e": {"$ne": None, "$lte": now}}
                revision = await self._write_over(records, expired, doc)
                if revision is None:
                    raise ConflictError(
                        f"{doc.collection}/{doc.scope}/{doc.key}: expected revision 0 "
                        "(create only), found a live document"
                    ) from None
                return revision
        selector = {"_id": ident, "r": expect, **mapping.live_filter(now)}
        revision = await self._write_over(records, selector, doc)
        if revision is None:
            raise ConflictError(
                f"{doc.collection}/{doc.scope}/{doc.key}: expected revision {expect}, "
                "found another (or none)"
            )
        return revision

    async def _write_over(
        self, records: Any, selector: Mapping[str, Any], doc: Document, *, upsert: bool = False
    ) -> int | None:
        """Write ``doc`` over the record ``selector`` matches (or insert it with ``upsert``);
        its new revision, or ``None`` when nothing matched."""
        raw = await records.find_one_and_update(
            selector,
            mapping.write_update(doc),
            projection={"r": 1},
            upsert=upsert,
            return_document=self._return_after,
        )
        return None if raw is None else int(raw["r"])

    async def put_many(self, docs: Sequence[Document], *, now: float) -> list[int]:
        """Unconditional writes; in one transaction on a replica set."""
        if not docs:
            return []
        if self._transactions and self._client is not None:

            async def write_all(session: Any) -> list[int]:
                return [await self._put_in(doc, session) for doc in docs]

            async with self._client.start_session() as session:
                revisions: list[int] = await session.with_transaction(write_all)
                return revisions
        return [await self.put(doc, now=now) for doc in docs]

    async def _put_in(self, doc: Document, session: Any) -> int:
        raw = await self._col(self.names.records).find_one_and_update(
            {"_id": mapping.record_id(doc.collection, doc.scope, doc.key)},
            mapping.write_update(doc),
            projection={"r": 1},
            upsert=True,
            return_document=self._return_after,
            session=session,
        )
        return int(raw["r"])

    async def delete(
        self, collection: str, scope: str, key: str, *, now: float, expect: int | None = None
    ) -> bool:
        """Delete; ``True`` if a live document existed."""
        records = self._col(self.names.records)
        if expect is None:
            raw = await records.find_one_and_delete(mapping.doc_filter(collection, scope, key))
            return raw is not None and _live(raw, now)
        selector = {**mapping.doc_filter(collection, scope, key, now=now), "r": expect}
        raw = await records.find_one_and_delete(selector)
        if raw is None:
            raise ConflictError(
                f"{collection}/{scope}/{key}: expected revision {expect}, found another (or none)"
            )
        return True

    async def find(self, query: Query, *, now: float) -> Page:
        """One page, ordered by ``(scope, key)``."""
        cursor = (
            self._col(self.names.records)
            .find(mapping.find_filter(query, now=now))
            .sort(mapping.find_sort())
            .limit(query.limit + 1)
        )
        raws = await cursor.to_list(None)
        docs = [mapping.document_from_mongo(raw) for raw in raws[: query.limit]]
        return Page(tuple(docs), mapping.next_cursor(docs, query.limit, len(raws)))

    async def purge(self, collection: str, *, now: float) -> int:
        """Delete expired documents of ``collection`` (the TTL index also does it, lazily)."""
        result = await self._col(self.names.records).delete_many(
            {"c": collection, "e": {"$ne": None, "$lte": now}}
        )
        return int(result.deleted_count)

    async def collections(self) -> list[str]:
        """Collections holding documents or counters."""
        names = set(await self._col(self.names.records).distinct("c"))
        names |= set(await self._col(self.names.counters).distinct("c"))
        return sorted(str(name) for name in names)

    async def incr(self, collection: str, scope: str, name: str, by: int = 1) -> int:
        """Atomic ``$inc`` with upsert."""
        raw = await self._col(self.names.counters).find_one_and_update(
            {"_id": mapping.counter_id(collection, scope, name)},
            {"$inc": {"value": by}, "$setOnInsert": {"c": collection, "s": scope, "n": name}},
            upsert=True,
            return_document=self._return_after,
        )
        return int(raw["value"])

    async def counter(self, collection: str, scope: str, name: str) -> int:
        """Current value, 0 if absent."""
        raw = await self._col(self.names.counters).find_one(
            {"_id": mapping.counter_id(collection, scope, name)}
        )
        return 0 if raw is None else int(raw["value"])

    # --- settings -------------------------------------------------------------------------------

    async def get_setting(self, namespace: str, scope: str, path: str, name: str) -> Any:
        """The stored value or :data:`ABSENT`."""
        raw = await self._col(self.names.settings).find_one(
            {"_id": mapping.setting_id(namespace, scope, path, name)}
        )
        return ABSENT if raw is None else mapping.setting_from_mongo(raw).value

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
        """Upsert one value."""
        doc = mapping.setting_to_mongo(namespace, scope, path, name, value, owner)
        await self._col(self.names.settings).replace_one({"_id": doc["_id"]}, doc, upsert=True)

    async def replace_setting(
        self, namespace: str, scope: str, path: str, name: str, old: Any, new: Any
    ) -> bool:
        """Store ``new`` if the stored value is still ``old`` (one conditional update)."""
        result = await self._col(self.names.settings).update_one(
            {
                "_id": mapping.setting_id(namespace, scope, path, name),
                "j": mapping.setting_text(old),
            },
            {"$set": {"j": mapping.setting_text(new)}},
        )
        return bool(result.matched_count)

    async def delete_setting(self, namespace: str, scope: str, path: str, name: str) -> bool:
        """Delete one value."""
        result = await self._col(self.names.settings).delete_one(
            {"_id": mapping.setting_id(namespace, scope, path, name)}
        )
        return bool(result.deleted_count)

    async def get_settings(self, namespace: str, scope: str, path: str) -> dict[str, Any]:
        """Every value under one path."""
        selector = mapping.settings_filter(namespace=namespace, scope=scope, path=path)
        raws = await self._col(self.names.settings).find(selector).to_list(None)
        rows = [mapping.setting_from_mongo(raw) for raw in raws]
        return {row.name: row.value for row in rows}

    async def clear_settings(self, namespace: str, scope: str, path: str | None = None) -> int:
        """Delete values of a namespace in a scope (one path or all)."""
        selector = mapping.settings_filter(namespace=namespace, scope=scope, path=path)
        result = await self._col(self.names.settings).delete_many(selector)
        return int(result.deleted_count)

    async def find_settings(
        self, *, namespace: str | None = None, scope: str | None = None, owner: int | None = None
    ) -> list[SettingRow]:
        """Values matching every given filter, in a stable order."""
        selector = mapping.settings_filter(namespace=namespace, scope=scope, owner=owner)
        raws = await self._col(self.names.settings).find(selector).sort([("_id", 1)]).to_list(None)
        return [mapping.setting_from_mongo(raw) for raw in raws]

    # --- data rights ----------------------------------------------------------------------------

    async def owned_by(self, user_id: int, *, now: float) -> list[Document]:
        """Live documents listing ``user_id`` as an owner."""
        selector = {"o": user_id, **mapping.live_filter(now)}
        raws = await self._col(self.names.records).find(selector).sort([("_id", 1)]).to_list(None)
        return [mapping.document_from_mongo(raw) for raw in raws]

    async def delete_owned_by(self, user_id: int) -> int:
        """Delete the user's documents and settings values."""
        docs = await self._col(self.names.records).delete_many({"o": user_id})
        values = await self._col(self.names.settings).delete_many({"o": user_id})
        return int(docs.deleted_count) + int(values.deleted_count)

    async def delete_scope(self, scope: str) -> int:
        """Delete every document, counter and setting of a guild."""
        total = 0
        for name in (self.names.records, self.names.counters, self.names.settings):
            result = await self._col(name).delete_many({"s": scope})
            total += int(result.deleted_count)
        return total

    # --- schema bookkeeping ---------------------------------------------------------------------

    async def get_meta(self, name: str) -> str | None:
        """A bookkeeping value."""
        raw = await self._col(self.names.meta).find_one({"_id": name})
        return None if raw is None else str(raw["value"])

    async def set_meta(self, name: str, value: str) -> None:
        """Store a bookkeeping value."""
        await self._col(self.names.meta).replace_one(
            {"_id": name}, {"_id": name, "value": value}, upsert=True
        )


class _NeverRaisedError(Exception):
    """Placeholder until :meth:`MongoBackend.open` loads PyMongo's DuplicateKeyError."""


def _live(raw: Any, now: float) -> bool:
    expires = raw.get("e")
    return expires is None or float(expires) > now
