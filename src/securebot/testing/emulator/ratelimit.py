"""Discord-style rate limits: per-bucket windows, ``X-RateLimit-*`` headers, 429 + retry_after.

Buckets are keyed like Discord's: the bot, the route template and its major parameter
(``channel_id``, ``guild_id`` or ``webhook_id``). Limits are configurable per route; tests may
lower them, or make the next requests fail with :meth:`RateLimiter.inject` to exercise a
client's 429 handling deterministically.
"""

from __future__ import annotations

import hashlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

#: 429s remembered in :attr:`RateLimiter.limited`.
LIMITED_LOG_LIMIT = 1000
#: Requests between two sweeps of expired buckets.
SWEEP_EVERY = 1024


@dataclass
class RateLimits:
    """Configuration: ``limit`` requests per ``window`` seconds per bucket, with overrides.

    ``overrides`` maps ``"METHOD /template"`` (e.g. ``"POST /channels/{channel_id}/messages"``)
    to ``(limit, window)``. ``global_limit`` (Discord: 50) caps each bot's requests per second
    across all routes (interaction callbacks excepted); off by default so throughput
    benchmarks measure the bot. ``enabled=False`` sends no headers and never answers 429.
    """

    enabled: bool = True
    limit: int = 50
    window: float = 1.0
    overrides: dict[str, tuple[int, float]] = field(default_factory=dict)
    global_limit: int | None = None


@dataclass
class _Bucket:
    limit: int
    window: float
    started: float = 0.0
    used: int = 0


@dataclass
class _Injected:
    remaining: int
    retry_after: float
    route: str | None
    is_global: bool


@dataclass
class Verdict:
    """The outcome of one request against its bucket."""

    headers: dict[str, str]
    retry_after: float | None = None
    is_global: bool = False


class RateLimiter:
    """Tracks buckets and decides 200 or 429 for each request."""

    def __init__(
        self, config: RateLimits | None = None, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        """Use ``config`` (defaults: 50 requests per second per bucket); windows are measured
        with ``monotonic``."""
        self.config = config or RateLimits()
        self._monotonic = monotonic
        self._buckets: dict[tuple[int, str, str], _Bucket] = {}
        self._global: dict[int, _Bucket] = {}
        self._injected: list[_Injected] = []
        self._checked = 0
        #: The last 1,000 429s answered: ``(route, retry_after)``.
        self.limited: deque[tuple[str, float]] = deque(maxlen=LIMITED_LOG_LIMIT)

    @property
    def bucket_count(self) -> int:
        """Buckets tracked right now (expired ones are swept every 1,024 requests)."""
        return len(self._buckets) + len(self._global)

    def sweep(self) -> None:
        """Forget the buckets whose window is over (the next request starts a fresh one
        anyway, so this changes no answer; it keeps a long run's memory flat)."""
        now = self._monotonic()
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.started < b.window}
        self._global = {k: b for k, b in self._global.items() if now - b.started < b.window}

    def inject(
        self,
        count: int = 1,
        *,
        retry_after: float = 0.05,
        route: str | None = None,
        is_global: bool = False,
    ) -> None:
        """Answer the next ``count`` requests (of ``"METHOD /template"`` if given) with 429."""
        self._injected.append(_Injected(count, retry_after, route, is_global))

    def check(self, bot_id: int, route: str, major: str) -> Verdict:
        """Count one request; the headers to send, and ``retry_after`` when it is refused."""
        if not self.config.enabled:
            return Verdict(headers={})
        limit, window = self.config.overrides.get(route, (self.config.limit, self.config.window))
        key = (bot_id, route, major)
        self._checked += 1
        if self._checked % SWEEP_EVERY == 0:
            self.sweep()
        bucket = self._buckets.get(key)
        now = self._monotonic()
        if bucket is None or now - bucket.started >= bucket.window:
            bucket = _Bucket(limit=limit, window=window, started=now)
            self._buckets[key] = bucket
        reset_after = max(bucket.window - (now - bucket.started), 0.001)
        bucket_hash = hashlib.sha1(route.encode(), usedforsecurity=False).hexdigest()[:16]
        headers = {
            "X-RateLimit-Bucket": bucket_hash,
            "X-RateLimit-Limit": str(bucket.limit),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        }
        for injected in self._injected:
            if injected.remaining > 0 and injected.route in (None, route):
                injected.remaining -= 1
                headers["X-RateLimit-Remaining"] = str(max(bucket.limit - bucket.used, 0))
                return self._refuse(route, headers, injected.retry_after, injected.is_global)
        self._injected = [i for i in self._injected if i.remaining > 0]
        cap = self.config.global_limit
        if cap is not None and "/interactions/" not in route:
            world = self._global.get(bot_id)
            if world is None or now - world.started >= 1.0:
                world = _Bucket(limit=cap, window=1.0, started=now)
                self._global[bot_id] = world
            if world.used >= cap:
                headers["X-RateLimit-Remaining"] = str(max(bucket.limit - bucket.used, 0))
                return self._refuse(route, headers, max(1.0 - (now - world.started), 0.001), True)
            world.used += 1
        if bucket.used >= bucket.limit:
            headers["X-RateLimit-Remaining"] = "0"
            return self._refuse(route, headers, reset_after, False)
        bucket.used += 1
        headers["X-RateLimit-Remaining"] = str(bucket.limit - bucket.used)
        return Verdict(headers=headers)

    def _refuse(
        self, route: str, headers: dict[str, str], retry_after: float, is_global: bool
    ) -> Verdict:
        self.limited.append((route, retry_after))
        headers["Retry-After"] = str(max(int(retry_after + 0.999), 1))
        headers["X-RateLimit-Scope"] = "global" if is_global else "user"
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        return Verdict(headers=headers, retry_after=retry_after, is_global=is_global)
