"""Run-once locks shared between processes: a :class:`JobLock` protocol and its Redis form.

The Redis form takes an already-configured ``redis.asyncio`` client (from the storage layer), so
core never imports redis. A lock is ``SET key owner NX EX ttl``: the first process wins, the key
expires on its own, nothing has to be released.
"""

from __future__ import annotations

from typing import Any, Protocol


class JobLock(Protocol):
    """A lock that exactly one process can take for a key, for ``ttl`` seconds."""

    async def acquire(self, key: str, *, owner: str, ttl: int) -> bool:
        """Take the lock; ``True`` for exactly one caller until it expires."""


class RedisJobLock:
    """A :class:`JobLock` on Redis (``SET NX EX``), shared by every shard and process."""

    def __init__(self, client: Any, *, prefix: str = "securebot:job-lock:") -> None:
        """:param client: a ``redis.asyncio.Redis`` (or compatible) client."""
        self.client = client
        self.prefix = prefix

    async def acquire(self, key: str, *, owner: str, ttl: int) -> bool:
        """``SET prefix+key owner NX EX ttl``."""
        return bool(await self.client.set(self.prefix + key, owner, nx=True, ex=max(1, ttl)))
