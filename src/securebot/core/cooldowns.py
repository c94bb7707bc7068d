"""Cooldowns and rate limits per user, member, channel or guild, held across shards in Redis.

A command declares its limit next to it::

    @securebot.rate_limit(1, 86_400, per="user")       # timely: once a day
    @securebot.command()
    async def timely(self, ctx): ...

Limits use GCRA (the generic cell rate algorithm): one timestamp per key, ``rate`` uses per
``per`` seconds with bursts up to ``rate``. :class:`MemoryCooldowns` keeps them in-process;
:class:`RedisCooldowns` keeps them in Redis (one atomic script call), so every shard and process
sees the same limit. Plugins can also call :meth:`CooldownGate.hit` for their own limits (e.g.
auto-react's 50 reactions per 5 minutes per guild).
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import attrs
from discord.ext import commands

#: Key of the :class:`RateLimit` in ``Command.extras``.
RATE_LIMIT_KEY = "securebot.rate_limit"


class Per(enum.Enum):
    """What a limit counts separately."""

    USER = "user"
    MEMBER = "member"
    CHANNEL = "channel"
    GUILD = "guild"


_BUCKET_TYPES = {
    Per.USER: commands.BucketType.user,
    Per.MEMBER: commands.BucketType.member,
    Per.CHANNEL: commands.BucketType.channel,
    Per.GUILD: commands.BucketType.guild,
}


@attrs.frozen
class RateLimit:
    """``rate`` uses per ``per_seconds``, counted separately for each ``per``."""

    rate: int
    per_seconds: float
    per: Per = Per.USER

    def __attrs_post_init__(self) -> None:
        if self.rate < 1 or self.per_seconds <= 0:
            raise ValueError("a rate limit needs rate >= 1 and a positive period")


_T = TypeVar("_T")


def rate_limit(rate: int, per_seconds: float, *, per: str = "user") -> Callable[[_T], _T]:
    """Limit a command to ``rate`` uses per ``per_seconds`` for each user/member/channel/guild.

    Apply it above ``@securebot.command``.
    """
    limit = RateLimit(rate, per_seconds, Per(per))

    def decorator(target: _T) -> _T:
        if not isinstance(target, commands.Command):
            raise TypeError("@securebot.rate_limit goes above @securebot.command")
        target.extras[RATE_LIMIT_KEY] = limit
        return target

    return decorator


class CooldownBackend(Protocol):
    """Where limit state lives."""

    async def hit(self, key: str, limit: RateLimit, now: float) -> float:
        """Count one use; return 0 if allowed, else the seconds until the next allowed use."""


def _gcra(tat: float, now: float, limit: RateLimit) -> tuple[float, float]:
    """One GCRA step: (retry_after, new tat)."""
    emission = limit.per_seconds / limit.rate
    tolerance = limit.per_seconds - emission
    tat = max(tat, now)
    if tat - now > tolerance:
        return tat - now - tolerance, tat
    return 0.0, tat + emission


class MemoryCooldowns:
    """Limits kept in this process."""

    def __init__(self) -> None:
        """Start with no state."""
        self._tat: dict[str, float] = {}

    async def hit(self, key: str, limit: RateLimit, now: float) -> float:
        """Count one use (GCRA)."""
        retry, tat = _gcra(self._tat.get(key, 0.0), now, limit)
        if not retry:
            self._tat[key] = tat
            if len(self._tat) > 100_000:
                self._evict(now)
        return retry

    def _evict(self, now: float) -> None:
        for key in [k for k, tat in self._tat.items() if tat <= now]:
            del self._tat[key]


_SCRIPT = """
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local now = tonumber(ARGV[1])
local emission = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
if tat < now then tat = now end
if tat - now > tolerance then return tostring(tat - now - tolerance) end
local new = tat + emission
redis.call('SET', KEYS[1], tostring(new), 'PX', math.ceil((new - now) * 1000) + 1000)
return '0'
"""


class RedisCooldowns:
    """Limits kept in Redis: the same for every shard and process (one script call per use)."""

    def __init__(self, client: Any, *, prefix: str = "securebot:cooldown:") -> None:
        """:param client: a ``redis.asyncio.Redis`` (or compatible) client."""
        self.client = client
        self.prefix = prefix
        self._script: Any = None

    async def hit(self, key: str, limit: RateLimit, now: float) -> float:
        """Count one use atomically in Redis."""
        if self._script is None:
            self._script = self.client.register_script(_SCRIPT)
        emission = limit.per_seconds / limit.rate
        result = await self._script(
            keys=[self.prefix + key],
            args=[repr(now), repr(emission), repr(limit.per_seconds - emission)],
        )
        return float(result.decode() if isinstance(result, bytes) else result)


def bucket_key(command: str, limit: RateLimit, ctx: commands.Context[Any]) -> str:
    """The key a use counts under: command + the user, member, channel or guild."""
    if limit.per is Per.USER:
        scope = f"u{ctx.author.id}"
    elif limit.per is Per.MEMBER:
        scope = f"m{ctx.guild.id if ctx.guild else 0}:{ctx.author.id}"
    elif limit.per is Per.CHANNEL:
        scope = f"c{ctx.channel.id}"
    else:
        scope = f"g{ctx.guild.id if ctx.guild else ctx.author.id}"
    return f"{command}:{scope}"


class CooldownGate:
    """Applies commands' declared limits; what the bot calls before running a command that
    declares one (``RATE_LIMIT_KEY`` in its ``extras``)."""

    def __init__(
        self, backend: CooldownBackend | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        """:param backend: where state lives (default: this process's memory)."""
        self.backend: CooldownBackend = backend if backend is not None else MemoryCooldowns()
        self.clock = clock

    async def hit(self, key: str, limit: RateLimit) -> float:
        """Count one use of ``key``; 0 if allowed, else seconds to wait."""
        return await self.backend.hit(key, limit, self.clock())

    async def check(self, ctx: commands.Context[Any]) -> None:
        """Count the use of ``ctx.command`` or raise ``CommandOnCooldown`` (a no-op without a
        declared limit)."""
        command = ctx.command
        if command is None:
            return
        limit = command.extras.get(RATE_LIMIT_KEY)
        if not isinstance(limit, RateLimit):
            return
        retry = await self.hit(bucket_key(command.qualified_name, limit, ctx), limit)
        if retry > 0:
            cooldown = commands.Cooldown(limit.rate, limit.per_seconds)
            raise commands.CommandOnCooldown(cooldown, retry, _BUCKET_TYPES[limit.per])
