"""A MOCK: mongomock's in-memory collections behind PyMongo-async-shaped coroutines.

This is NOT MongoDB coverage. mongomock re-implements the query language in Python; it checks
that the filters, updates and sort orders our mapping produces *mean* what we intend (query
semantics). Replica sets, transactions, write concerns, TLS and the wire protocol are not
exercised here: the real contract suite runs against a server when SECUREBOT_TEST_MONGODB_URI
is set.
"""

from __future__ import annotations

from typing import Any

import mongomock


class MockCursor:
    """``find()``'s cursor: chainable ``sort``/``limit``, then ``await to_list()``."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def sort(self, keys: Any) -> MockCursor:
        self._cursor = self._cursor.sort(keys)
        return self

    def limit(self, count: int) -> MockCursor:
        self._cursor = self._cursor.limit(count)
        return self

    async def to_list(self, length: int | None = None) -> list[Any]:
        items = list(self._cursor)
        return items if length is None else items[:length]


class MockCollection:
    """The coroutine methods MongoBackend calls, forwarded to a mongomock collection."""

    def __init__(self, collection: Any) -> None:
        self._c = collection

    def find(self, *args: Any, **kwargs: Any) -> MockCursor:
        return MockCursor(self._c.find(*args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._c, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            kwargs.pop("session", None)
            return method(*args, **kwargs)

        return call


class MockDatabase:
    """``db[name]`` gives a :class:`MockCollection` (MOCK: see the module docstring)."""

    def __init__(self) -> None:
        self._db = mongomock.MongoClient().db

    def __getitem__(self, name: str) -> MockCollection:
        return MockCollection(self._db[name])

    def raw(self, name: str) -> Any:
        """The underlying mongomock collection (to inspect stored documents)."""
        return self._db[name]
