"""Registers "redis-cached sqlite" with the contract suite: RedisCache over SqliteBackend.

One real redis-server is started on a free port the first time a factory runs and killed when
the test process exits; each factory call uses its own key prefix, so tests never share cache
entries. Owned by the cache helper (see tests/storage/README.md, "Adding a backend").
"""

from __future__ import annotations

import atexit
import contextlib
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from securebot.storage.redis_cache import RedisCache
from securebot.storage.redis_client import RedisSettings
from securebot.storage.sqlite import SqliteBackend
from securebot.testing.redis import RedisServer, start_redis_server

_servers: list[RedisServer] = []
_exit = contextlib.ExitStack()
atexit.register(_exit.close)


def _server() -> RedisServer:
    if not _servers or not _servers[0].alive:
        _servers[:] = [
            _exit.enter_context(start_redis_server(tempfile.mkdtemp(prefix="sb-contract-redis-")))
        ]
    return _servers[0]


@asynccontextmanager
async def redis_cached_sqlite(tmp_path: Path) -> AsyncIterator[RedisCache]:
    """SQLite in ``tmp_path`` as the store of record, cached in a shared real redis-server."""
    server = _server()
    yield RedisCache(
        SqliteBackend(tmp_path / "store.sqlite3"),
        RedisSettings(url=server.url),
        prefix=f"contract:{uuid.uuid4().hex}:",
    )


BACKENDS = {"redis-cached sqlite": redis_cached_sqlite}
