"""Registers "mongo" with the contract suite: a REAL MongoDB named by SECUREBOT_TEST_MONGODB_URI.

Unset (the default here: no mongod can be installed on these machines), no "mongo" case is
generated and the session summary says so plainly (tests/storage_mongo/conftest.py).
Start one with Docker (docs/storage-production.md)::

    docker run -d -p 27017:27017 mongo:7 --replSet rs0
    docker exec <id> mongosh --eval 'rs.initiate()'
    SECUREBOT_TEST_MONGODB_URI='mongodb://127.0.0.1:27017/?replicaSet=rs0&directConnection=true' \
        ./dev test tests/storage

Each factory call uses a fresh database, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from securebot.storage.mongo import MongoBackend, MongoSettings

ENV = "SECUREBOT_TEST_MONGODB_URI"
SKIP_REASON = f"MongoDB contract suite NOT run: {ENV} unset"


@asynccontextmanager
async def mongo_backend(tmp_path: Path) -> AsyncIterator[MongoBackend]:
    """A MongoBackend on a throw-away database of the server in SECUREBOT_TEST_MONGODB_URI."""
    uri = os.environ.get(ENV)
    if not uri:  # registered only when set; kept for direct use of the factory
        pytest.skip(SKIP_REASON)
    settings = MongoSettings(uri=uri, database=f"securebot_contract_{uuid.uuid4().hex[:12]}")
    backend = MongoBackend(settings)
    try:
        yield backend
    finally:
        from pymongo import AsyncMongoClient

        client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(uri)
        try:
            await client.drop_database(settings.database)
        finally:
            await client.close()


BACKENDS = {"mongo": mongo_backend} if os.environ.get(ENV) else {}
