"""Where the Mongo audit and job store behaviours run: a MOCK, and a real server when given.

``mock``: mongomock behind the async adapter (:mod:`tests.storage_mongo.mock_adapter`) — a
MOCK that checks what our filters and conditional updates *mean*; NOT MongoDB coverage (no
wire protocol, no real concurrency, no write concern).

``mongo``: the REAL server named by ``SECUREBOT_TEST_MONGODB_URI`` (a fresh database per test,
dropped afterwards); skipped, with that reason, when the variable is unset.

``env.open()`` opens one more backend on the same database: another process sharing storage,
or the same bot after a restart.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import attrs
import pytest
from tests.storage_mongo.mock_adapter import MockDatabase

from securebot.storage.mongo import MongoBackend, MongoSettings

ENV = "SECUREBOT_TEST_MONGODB_URI"
SKIP_REASON = f"MongoDB audit/job store suite NOT run against a server: {ENV} unset"

#: The kinds each behaviour runs on; the real one is skipped (with the reason) when unset.
KINDS = [
    pytest.param("mock", id="MOCK-mongomock"),
    pytest.param(
        "mongo", id="mongo", marks=pytest.mark.skipif(not os.environ.get(ENV), reason=SKIP_REASON)
    ),
]


@attrs.define
class MongoEnv:
    """One shared database and a way to open backends ("processes") on it."""

    kind: str
    open: Callable[[], Awaitable[MongoBackend]]


@asynccontextmanager
async def mongo_env(kind: str) -> AsyncIterator[MongoEnv]:
    """A fresh database of ``kind`` (``mock`` or ``mongo``); every backend closed after."""
    opened: list[MongoBackend] = []
    uri = os.environ.get(ENV, "")
    name = f"securebot_stores_{uuid.uuid4().hex[:12]}"
    if kind == "mock":
        database = MockDatabase()

        def make() -> MongoBackend:
            return MongoBackend(database=database)
    else:
        if not uri:
            pytest.skip(SKIP_REASON)

        def make() -> MongoBackend:
            return MongoBackend(
                MongoSettings(uri=uri, database=name, server_selection_timeout_ms=5000)
            )

    async def open_backend() -> MongoBackend:
        backend = make()
        opened.append(backend)
        await backend.open()
        return backend

    try:
        yield MongoEnv(kind, open_backend)
    finally:
        for backend in opened:
            await backend.close()
        if kind == "mongo":
            from pymongo import AsyncMongoClient

            client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(uri)
            try:
                await client.drop_database(name)
            finally:
                await client.close()
