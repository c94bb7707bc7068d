"""Pure mapping between securebot's backend values and MongoDB documents, filters and updates.

No driver is imported here: every function returns plain ``dict``/``list`` values that PyMongo
(or a test double) accepts, so the mapping is unit-tested without a server.

Layout (one database, four collections; names prefixed, ``securebot_`` by default):

``records`` — one document per :class:`~securebot.core.storage.backend.Document`::

    {_id: '["cases","123","7"]', c: "cases", s: "123", k: "7",
     b: '<canonical JSON of the body; sealed fields are ciphertext strings in it>',
     l: ["user\\u0000<token>", ...],   # lookup tokens, one multikey index serves every field
     o: [user ids], v: schema, e: expiry (unix s) or null,
     x: expiry as a BSON date (a TTL index removes expired documents on its own) or absent,
     r: revision}

``counters`` ``{_id, c, s, n, value}``; ``settings`` ``{_id, ns, s, p, n, j (JSON), o}``;
``meta`` ``{_id: name, value}``.

Bodies and setting values are stored as canonical JSON text: it round-trips every JSON value
exactly (keys with ``.``/``$``, integers beyond 64 bits, lists vs. tuples), and securebot never
queries inside a body (queries use ``l`` tokens, owners ``o`` and scope ``s``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from securebot.core.storage.backend import Document, Query, SettingRow
from securebot.errors import CorruptRecordError, StorageError

__all__ = [
    "LOOKUP_SEPARATOR",
    "CollectionNames",
    "IndexSpec",
    "counter_id",
    "doc_filter",
    "document_from_mongo",
    "document_to_mongo",
    "find_filter",
    "find_sort",
    "index_specs",
    "live_filter",
    "next_cursor",
    "record_id",
    "setting_from_mongo",
    "setting_id",
    "setting_to_mongo",
    "settings_filter",
    "write_update",
]

#: Separates a lookup field name from its token inside the ``l`` array.
LOOKUP_SEPARATOR: Final = "\x00"

_SORT: Final = [("s", 1), ("k", 1)]


class CollectionNames:
    """The MongoDB collection names used by one store (``prefix`` + role)."""

    __slots__ = ("counters", "meta", "records", "settings")

    def __init__(self, prefix: str = "securebot_") -> None:
        """Names: ``<prefix>`` + ``records``, ``counters``, ``settings``, ``meta``."""
        self.records = f"{prefix}records"
        self.counters = f"{prefix}counters"
        self.settings = f"{prefix}settings"
        self.meta = f"{prefix}meta"


def _canonical(value: Any) -> str:
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise StorageError(f"value is not JSON-able: {error}") from None


def record_id(collection: str, scope: str, key: str) -> str:
    """The ``_id`` of a record document (injective: a JSON array of the three names)."""
    return _canonical([collection, scope, key])


def counter_id(collection: str, scope: str, name: str) -> str:
    """The ``_id`` of a counter document."""
    return _canonical([collection, scope, name])


def setting_id(namespace: str, scope: str, path: str, name: str) -> str:
    """The ``_id`` of a settings value document."""
    return _canonical([namespace, scope, path, name])


def _lookup_tokens(lookups: Mapping[str, str]) -> list[str]:
    return sorted(f"{name}{LOOKUP_SEPARATOR}{token}" for name, token in lookups.items())


def _expiry_date(expires_at: float | None) -> dt.datetime | None:
    if expires_at is None:
        return None
    return dt.datetime.fromtimestamp(expires_at, dt.UTC)


def document_to_mongo(doc: Document, revision: int) -> dict[str, Any]:
    """The full MongoDB document for ``doc`` stored at ``revision``."""
    out: dict[str, Any] = {"_id": record_id(doc.collection, doc.scope, doc.key)}
    out.update(_fields(doc))
    out["r"] = revision
    return out


def _fields(doc: Document) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "c": doc.collection,
        "s": doc.scope,
        "k": doc.key,
        "b": _canonical(doc.body),
        "l": _lookup_tokens(doc.lookups),
        "o": [int(owner) for owner in doc.owners],
        "v": int(doc.schema),
        "e": doc.expires_at,
    }
    expiry = _expiry_date(doc.expires_at)
    if expiry is not None:
        fields["x"] = expiry
    return fields


def write_update(doc: Document) -> dict[str, Any]:
    """An update that stores ``doc``'s fields and moves the revision up by one.

    Used with ``upsert=True`` it creates the document at revision 1.
    """
    fields = _fields(doc)
    update: dict[str, Any] = {"$set": fields, "$inc": {"r": 1}}
    if "x" not in fields:
        update["$unset"] = {"x": ""}
    return update


def document_from_mongo(raw: Mapping[str, Any]) -> Document:
    """Back from MongoDB; :class:`CorruptRecordError` if the document is not one of ours."""
    try:
        lookups: dict[str, str] = {}
        for item in raw.get("l", ()):
            name, sep, token = str(item).partition(LOOKUP_SEPARATOR)
            if not sep:
                raise ValueError(f"lookup entry without separator: {name!r}")
            lookups[name] = token
        expires = raw.get("e")
        return Document(
            collection=str(raw["c"]),
            scope=str(raw["s"]),
            key=str(raw["k"]),
            body=json.loads(raw["b"]),
            lookups=lookups,
            owners=tuple(int(owner) for owner in raw.get("o", ())),
            schema=int(raw.get("v", 1)),
            expires_at=None if expires is None else float(expires),
            revision=int(raw["r"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        ident = raw.get("_id", "?") if isinstance(raw, Mapping) else "?"
        raise CorruptRecordError(
            f"MongoDB record {ident!r} is not a securebot document ({type(error).__name__})"
        ) from None


def live_filter(now: float) -> dict[str, Any]:
    """Matches documents that have not expired at ``now`` (no expiry, or a later one)."""
    return {"$or": [{"e": None}, {"e": {"$gt": now}}]}


def doc_filter(
    collection: str, scope: str, key: str, *, now: float | None = None
) -> dict[str, Any]:
    """One record by identity; with ``now``, only while it is live."""
    selector: dict[str, Any] = {"_id": record_id(collection, scope, key)}
    if now is not None:
        selector.update(live_filter(now))
    return selector


def find_filter(query: Query, *, now: float) -> dict[str, Any]:
    """The filter of :class:`Query` (collection, scope, lookup tokens, cursor, live only)."""
    clauses: list[dict[str, Any]] = [{"c": query.collection}, live_filter(now)]
    if query.scope is not None:
        clauses.append({"s": query.scope})
    if query.where:
        clauses.append({"l": {"$all": _lookup_tokens(query.where)}})
    for name, tokens in sorted(query.where_any.items()):
        if not tokens:
            raise StorageError(f"query on {name!r}: no token to match")
        clauses.append({"l": {"$in": sorted(f"{name}{LOOKUP_SEPARATOR}{t}" for t in tokens)}})
    if query.after is not None:
        scope, key = query.after
        clauses.append({"$or": [{"s": {"$gt": scope}}, {"s": scope, "k": {"$gt": key}}]})
    return {"$and": clauses}


def find_sort() -> list[tuple[str, int]]:
    """Result order of :meth:`Backend.find`: ``(scope, key)`` ascending (binary order)."""
    return list(_SORT)


def next_cursor(items: Sequence[Document], limit: int, fetched: int) -> tuple[str, str] | None:
    """The cursor after a page: fetch ``limit + 1`` and pass how many came back."""
    if fetched <= limit or not items:
        return None
    last = items[-1]
    return (last.scope, last.key)


def setting_to_mongo(
    namespace: str, scope: str, path: str, name: str, value: Any, owner: int | None
) -> dict[str, Any]:
    """The settings value document."""
    return {
        "_id": setting_id(namespace, scope, path, name),
        "ns": namespace,
        "s": scope,
        "p": path,
        "n": name,
        "j": _canonical(value),
        "o": owner,
    }


def setting_text(value: Any) -> str:
    """The stored (canonical JSON) text of a settings value: equal values, equal texts."""
    return _canonical(value)


def setting_from_mongo(raw: Mapping[str, Any]) -> SettingRow:
    """A :class:`SettingRow` back from MongoDB."""
    try:
        owner = raw.get("o")
        return SettingRow(
            namespace=str(raw["ns"]),
            scope=str(raw["s"]),
            path=str(raw["p"]),
            name=str(raw["n"]),
            value=json.loads(raw["j"]),
            owner=None if owner is None else int(owner),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise CorruptRecordError(
            f"MongoDB setting {raw.get('_id', '?')!r} is malformed ({type(error).__name__})"
        ) from None


def settings_filter(
    *,
    namespace: str | None = None,
    scope: str | None = None,
    path: str | None = None,
    owner: int | None = None,
) -> dict[str, Any]:
    """Settings values matching every given filter."""
    selector: dict[str, Any] = {}
    if namespace is not None:
        selector["ns"] = namespace
    if scope is not None:
        selector["s"] = scope
    if path is not None:
        selector["p"] = path
    if owner is not None:
        selector["o"] = owner
    return selector


class IndexSpec:
    """One index to create: collection role, keys, and options (``name`` always set)."""

    __slots__ = ("collection", "keys", "options")

    def __init__(self, collection: str, keys: list[tuple[str, int]], **options: Any) -> None:
        """``keys`` as PyMongo takes them; ``options`` passed to ``create_index``."""
        self.collection = collection
        self.keys = keys
        self.options = options

    def __repr__(self) -> str:
        return f"IndexSpec({self.collection!r}, {self.keys!r}, {self.options!r})"


def index_specs(names: CollectionNames) -> list[IndexSpec]:
    """Every index the backend needs (created idempotently at open)."""
    return [
        IndexSpec(names.records, [("c", 1), ("s", 1), ("k", 1)], name="by_scope", unique=True),
        IndexSpec(names.records, [("c", 1), ("l", 1), ("s", 1), ("k", 1)], name="by_lookup"),
        IndexSpec(names.records, [("o", 1)], name="by_owner"),
        IndexSpec(names.records, [("s", 1)], name="by_guild"),
        IndexSpec(names.records, [("x", 1)], name="expiry_ttl", expireAfterSeconds=0),
        IndexSpec(names.counters, [("s", 1)], name="by_guild"),
        IndexSpec(names.settings, [("ns", 1), ("s", 1), ("p", 1)], name="by_path"),
        IndexSpec(names.settings, [("o", 1)], name="by_owner"),
        IndexSpec(names.settings, [("s", 1)], name="by_guild"),
    ]
