"""Record types and builders shared by the Redis cache tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from securebot.core.storage import Backend, Scope, Store, field, record
from securebot.crypto import Keyring
from securebot.storage.redis_cache import RedisCache
from securebot.storage.redis_client import RedisSettings
from securebot.storage.sqlite import SqliteBackend

SECRET_NOTE = "the-secret-plaintext-QX7"
SECRET_TOKEN = "bot-token-plaintext-ZZ9"


@record("cachetest.notes", key="number", scope="guild_id")
@attrs.frozen
class Note:
    """A record with one sealed field and one plain field."""

    guild_id: int
    number: int
    title: str = ""
    text: str = field(sensitive=True, default="")


def cached_store(
    db: Path,
    keyring: Keyring,
    settings: RedisSettings,
    *,
    prefix: str = "t:",
    **options: Any,
) -> tuple[Store, RedisCache]:
    """A Store over RedisCache over SQLite at ``db`` (one "bot process")."""
    cache = RedisCache(SqliteBackend(db), settings, prefix=prefix, **options)
    store = Store(cache, keyring=keyring)
    register(store)
    return store, cache


def register(store: Store) -> None:
    """The settings namespace used by the tests."""
    store.settings("cachetest").register(
        Scope.GUILD, sensitive=["token"], prefix="!", warn_count=0, token=""
    )


async def eventually(check: Callable[[], Any], within: float = 3.0) -> Any:
    """Await ``check()`` until it returns a truthy value (pub/sub delivery is asynchronous)."""
    deadline = time.monotonic() + within
    while True:
        value = await check()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.01)


class SlowReads:
    """Wraps a backend: ``get_setting`` reads the value, then waits for ``release``."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.name = inner.name
        self.read_done = asyncio.Event()
        self.release = asyncio.Event()
        self.armed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def get_setting(self, *args: Any) -> Any:
        value = await self.inner.get_setting(*args)
        if self.armed:
            self.armed = False
            self.read_done.set()
            await self.release.wait()
        return value
