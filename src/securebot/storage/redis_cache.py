"""A read-through Redis cache in front of any store of record.

:class:`RedisCache` is itself a :class:`~securebot.core.storage.backend.Backend`: it wraps the
store of record (SQLite, MongoDB) and answers reads of documents and settings from two tiers:

1. an in-process map (a hit costs a dict lookup: what makes cached reads a few microseconds),
2. Redis, shared by every bot process (a new shard starts warm, the store of record is spared).

Rules that keep it honest:

* **Redis is never the store of record.** Writes go to the wrapped backend first; only then is
  the cached entry invalidated (``INCR`` of the entry's version, ``DEL``, and a ``PUBLISH`` that
  makes every other process drop its in-process copy: each process listens on a channel of its
  own besides the shared one, so a writer is not woken by its own invalidations; see
  ``_INVALIDATE``). Counters, queries and exports always go to the store of record.
* **No stale refill.** A reader remembers the entry's version before it reads the store of record
  and fills Redis only if the version did not move meanwhile (one Lua script); the in-process
  tier is filled only if no invalidation arrived meanwhile.
* **Redis down = store of record.** On any Redis error the cache turns itself off: reads go to
  the store of record, the in-process tier is emptied and bypassed (invalidations can no longer
  reach it). A background task reconnects (with Sentinel, to the newly promoted master); before
  serving from Redis again it subscribes to invalidations and moves the cache *generation*, so
  everything cached before the outage (possibly missing invalidations that a failover lost)
  is never read again.

Only the store's already-sealed form is cached: sensitive fields reach Redis as ciphertext.
Writers that bypass the cache (another tool writing to the database directly) must call
:meth:`RedisCache.flush` afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any, Final

import attrs

from securebot.core.storage.backend import (
    ABSENT,
    Backend,
    Document,
    Page,
    Query,
    SettingRow,
)
from securebot.errors import StorageError
from securebot.storage.redis_client import RedisSettings, connect

try:
    from redis.exceptions import NoScriptError
except ImportError:  # pragma: no cover - the module is imported only with the redis extra

    class NoScriptError(Exception):  # type: ignore[no-redef]
        """Stands in for redis-py's error when redis-py is absent (never raised then)."""


__all__ = ["CacheStats", "RedisCache"]

log = logging.getLogger(__name__)

#: In-process marker of "the store of record holds nothing here" (cached misses).
_NONE_JSON: Final = "null"
#: Marks a cached value that must be decoded afresh for each caller (a mutable container).
_FRESH: Final = object()

#: Names one cached entry: ``("d", collection, scope, key)`` for documents,
#: ``("s", namespace, scope, path, name)`` for a setting, ``("p", namespace, scope, path)`` for
#: all settings under a path.
Ident = tuple[str, ...]

# KEYS[1] value key, KEYS[2] version key, KEYS[3] generation key
# ARGV[1] version seen before reading the store, ARGV[2] generation used in KEYS[1],
# ARGV[3] value, ARGV[4] ttl in ms
_FILL = """
if (redis.call('GET', KEYS[3]) or '0') ~= ARGV[2] then return 0 end
if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
return 1
"""

# The constants of one cache configuration are written into the script's text (as Lua
# decimal escapes, see _lua_string): PREFIX the key prefix, GEN_KEY the generation key, CHANNEL
# the shared channel, OWN_PATTERN the glob of every process's own channel, VERSION_TTL in ms.
# ARGV[1] the writer's sender id (its own channel is CHANNEL .. ':' .. sender), ARGV[2] the
# generation the writer uses, then one wire name per invalidated entry. Only what changes per
# call travels: packing every constant as an argument cost more than the script itself.
#
# Per entry: INCR its version, DEL its value in the writer's generation and in the current
# and the previous generation as Redis knows them: a process that has not yet heard of a
# generation change must not leave a value behind in the generation everyone else reads
# (non-cluster Redis: Sentinel or standalone; the keys are derived here, not declared).
# A version key gets its TTL (VERSION_TTL, 24 value TTLs) when INCR creates it, in the same
# atomic script, so every version key expires; it is not pushed back on every write (PEXPIRE
# was a third of the script's time). Versions only guard the few milliseconds between a
# reader's MGET and its fill, so expiry counted from creation instead of from the last write
# leaves that guard as it was: a version that expires and is created again starts at 1.
#
# Delivery: every process subscribes, in one SUBSCRIBE, to the shared channel and to a channel
# of its own; the message goes to every own channel but the writer's (the writer applied it
# already: receiving it back would cost it a wake-up per write). A subscriber of the shared
# channel without an own channel (an older securebot during a rolling upgrade) shows as more
# shared subscribers than own channels: then the message also goes to the shared channel.
# Errors are on the side of delivering twice (invalidations are idempotent), never not at all.
# The message is ``sender|[wire,...]`` (a JSON list of the idents).
_INVALIDATE = """
local PREFIX, GEN_KEY, CHANNEL, OWN_PATTERN, VERSION_TTL = {constants}
local gen = tonumber(redis.call('GET', GEN_KEY) or '0')
local mine, current, previous = PREFIX .. ARGV[2] .. ':', PREFIX .. gen .. ':',
  PREFIX .. (gen - 1) .. ':'
if mine == current then mine = nil end
local values = {}
for i = 3, #ARGV do
  local wire = ARGV[i]
  local version = PREFIX .. 'v:' .. wire
  if redis.call('INCR', version) == 1 then
    redis.call('PEXPIRE', version, VERSION_TTL)
  end
  values[#values + 1] = current .. wire
  values[#values + 1] = previous .. wire
  if mine then values[#values + 1] = mine .. wire end
end
redis.call('DEL', unpack(values))
local message = ARGV[1] .. '|[' .. table.concat(ARGV, ',', 3) .. ']'
local own = CHANNEL .. ':' .. ARGV[1]
local channels = redis.call('PUBSUB', 'CHANNELS', OWN_PATTERN)
for _, channel in ipairs(channels) do
  if channel ~= own then redis.call('PUBLISH', channel, message) end
end
if redis.call('PUBSUB', 'NUMSUB', CHANNEL)[2] > #channels then
  redis.call('PUBLISH', CHANNEL, message)
end
return 1
"""


def _lua_string(text: str) -> str:
    """``text`` as a Lua string literal: every byte a 3-digit decimal escape (no injection)."""
    return '"' + "".join(f"\\{byte:03d}" for byte in text.encode()) + '"'


# KEYS[1] generation key; ARGV[1] channel, ARGV[2] sender id
_FLUSH = """
local gen = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', ARGV[1], ARGV[2] .. '|*' .. gen)
return gen
"""


@attrs.define
class CacheStats:
    """Counters of what the cache did (for tests, ``storage check`` and metrics)."""

    local_hits: int = 0
    redis_hits: int = 0
    misses: int = 0
    fallbacks: int = 0
    #: Reads sent to the store of record because a write of the same entry was in flight.
    bypasses: int = 0
    redis_errors: int = 0
    invalidations_received: int = 0
    recoveries: int = 0
    #: Entries found in Redis that this cache did not write for their key (damaged, planted):
    #: ignored, the store of record answered.
    rejected: int = 0
    #: Seconds from the first Redis error to serving from Redis again, per outage.
    outages: list[float] = attrs.field(factory=list)


def _doc_to_json(doc: Document | None) -> str:
    if doc is None:
        return _NONE_JSON
    return _compact(
        {
            "c": doc.collection,
            "s": doc.scope,
            "k": doc.key,
            "b": doc.body,
            "l": doc.lookups,
            "o": list(doc.owners),
            "v": doc.schema,
            "e": doc.expires_at,
            "r": doc.revision,
        }
    )


class _BadEntryError(StorageError):
    """A cached entry that is not what this cache wrote for its ident (damaged or planted)."""


def _doc_from_json(text: str, collection: str, scope: str, key: str) -> Document | None:
    """The document cached as ``text`` for (``collection``, ``scope``, ``key``).

    Raises :class:`_BadEntryError` unless ``text`` is a document of exactly that identity: a sealed
    field's associated data is computed from the identity the document names, so a document
    of another record (another guild) copied under this entry's Redis key would open there.
    """
    try:
        data = json.loads(text)
    except ValueError:
        raise _BadEntryError("not JSON") from None
    if data is None:
        return None
    if type(data) is not dict:
        raise _BadEntryError("not a document")
    if data.get("c") != collection or data.get("s") != scope or data.get("k") != key:
        raise _BadEntryError("a document of another record")
    try:
        body, lookups, owners = data["b"], data["l"], data["o"]
        schema, expires, revision = data["v"], data["e"], data["r"]
    except KeyError:
        raise _BadEntryError("a document with missing fields") from None
    if (
        type(body) is not dict
        or type(lookups) is not dict
        or type(owners) is not list
        or type(schema) is not int
        or type(revision) is not int
        or not (expires is None or type(expires) in (int, float))
    ):
        raise _BadEntryError("a document with malformed fields")
    return Document(
        collection=collection,
        scope=scope,
        key=key,
        body=body,
        lookups=lookups,
        owners=tuple(owners),
        schema=schema,
        expires_at=expires,
        revision=revision,
    )


class RedisCache:
    """A :class:`Backend` that caches reads of ``store`` in process memory and in Redis.

    :param store: the store of record (every write goes there first).
    :param settings: how to reach Redis (URL or Sentinel, TLS); or pass ``client``.
    :param client: a ready ``redis.asyncio.Redis`` (tests, custom pools). Its connections
        should not retry on their own: the cache falls back instead of waiting.
    :param prefix: key prefix in Redis (several bots may share one Redis).
    :param ttl: seconds an entry lives in Redis without being read back from the store.
    :param local: keep the in-process tier (on by default; off = always ask Redis).
    :param local_max: entries kept in process; the oldest half is dropped beyond it.
    :param reconnect_interval: seconds between reconnection attempts while Redis is down.
    :param liveness: seconds without any reply on the invalidation subscription (it PINGs when
        idle) after which Redis counts as down; bounds how long a silently partitioned process
        could miss invalidations.
    """

    def __init__(
        self,
        store: Backend,
        settings: RedisSettings | None = None,
        *,
        client: Any = None,
        prefix: str = "securebot:cache:",
        ttl: float = 3600.0,
        local: bool = True,
        local_max: int = 100_000,
        reconnect_interval: float = 0.1,
        liveness: float = 3.0,
    ) -> None:
        if (settings is None) == (client is None):
            raise ValueError("RedisCache needs exactly one of `settings` or `client`")
        self.store = store
        self.name = f"redis-cached {store.name}"
        self.settings = settings
        self.prefix = prefix
        self.ttl_ms = max(1, int(ttl * 1000))
        self.local = local
        self.local_max = local_max
        self.reconnect_interval = reconnect_interval
        self.liveness = liveness
        self.stats = CacheStats()
        self._client: Any = client
        self._own_client = client is None
        self._channel = f"{prefix}invalidate"
        #: Tags this instance's invalidation messages (it applies its own synchronously).
        self._sender = os.urandom(8).hex()
        #: This instance's own channel (others' writes reach it there, its own do not).
        self._own_channel = f"{self._channel}:{self._sender}"
        #: Glob of every instance's own channel (the shared channel name escaped).
        self._own_pattern = _glob_escape(self._channel) + ":*"
        self._gen_key = f"{prefix}generation"
        self._gen = "0"
        #: ident -> (JSON text, decoded value if immutable else _FRESH)
        self._local: dict[Ident, tuple[str, Any]] = {}
        self._epoch = 0
        self._pending: dict[Ident, int] = {}
        #: ident -> its wire name (the JSON text costs ~1 µs per ident and write)
        self._wires: dict[Ident, str] = {}
        self._healthy = False
        self._down_since: float | None = None
        self._pubsub: Any = None
        self._listener: asyncio.Task[None] | None = None
        self._recovery: asyncio.Task[None] | None = None
        self._fill: Any = None
        self._invalidate: Any = None
        self._flush: Any = None
        self._closed = True

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def healthy(self) -> bool:
        """Whether reads are currently served from the cache (``False``: store of record)."""
        return self._healthy

    async def open(self) -> None:
        """Open the store of record, then connect to Redis (a down Redis is not an error)."""
        await self.store.open()
        if self._client is None:
            assert self.settings is not None
            self._client = connect(self.settings)
        self._fill = self._client.register_script(_FILL)
        self._invalidate = self._client.register_script(
            _INVALIDATE.replace(
                "{constants}",
                ", ".join(
                    (
                        _lua_string(self.prefix),
                        _lua_string(self._gen_key),
                        _lua_string(self._channel),
                        _lua_string(self._own_pattern),
                        str(self.ttl_ms * 24),
                    )
                ),
            )
        )
        self._flush = self._client.register_script(_FLUSH)
        self._closed = False
        self._down_since = time.monotonic()
        if not await self._try_recover(initial=True):
            log.warning("Redis cache unreachable at start: serving from %s", self.store.name)
            self._start_recovery()

    async def close(self) -> None:
        """Stop the background tasks, close Redis connections, close the store of record."""
        self._closed = True
        self._healthy = False
        for task in (self._listener, self._recovery):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._listener = self._recovery = None
        await self._close_pubsub()
        if self._own_client and self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.aclose()
            self._client = None
        self._local.clear()
        await self.store.close()

    async def _close_pubsub(self) -> None:
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
            self._pubsub = None

    def _degrade(self, error: BaseException) -> None:
        """Stop trusting Redis: store of record only, until the recovery task succeeds."""
        self.stats.redis_errors += 1
        if self._healthy:
            log.warning(
                "Redis cache unavailable (%s): reads go to %s until it is back",
                type(error).__name__,
                self.store.name,
            )
            self._down_since = time.monotonic()
        self._healthy = False
        self._local.clear()
        self._epoch += 1
        self._start_recovery()

    def _start_recovery(self) -> None:
        if self._closed or (self._recovery is not None and not self._recovery.done()):
            return
        self._recovery = asyncio.get_running_loop().create_task(self._recover_loop())

    async def _recover_loop(self) -> None:
        while not self._closed and not await self._try_recover():  # noqa: ASYNC110
            await asyncio.sleep(self.reconnect_interval)

    async def _try_recover(self, *, initial: bool = False) -> bool:
        """Subscribe to invalidations, move the generation, then serve from Redis again."""
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
            self._listener = None
        await self._close_pubsub()
        try:
            pubsub = self._client.pubsub()
            # both in one command: a process is on its own channel only if also on the shared one
            await pubsub.subscribe(self._channel, self._own_channel)
            for _ in range(2):
                confirmed = await pubsub.get_message(timeout=self._timeout())
                if not confirmed or confirmed.get("type") != "subscribe":
                    await pubsub.aclose()
                    return False
            self._pubsub = pubsub
            # Everything cached before now may have missed invalidations (writes made while
            # Redis was unreachable, or lost with an unreplicated master): start a new generation.
            gen = await self._flush(keys=[self._gen_key], args=[self._channel, self._sender])
        except Exception as error:  # noqa: BLE001 (any Redis/socket failure means "still down")
            log.debug("Redis cache still unavailable: %r", error)
            await self._close_pubsub()
            return False
        self._gen = str(int(gen))
        self._local.clear()
        self._epoch += 1
        self._listener = asyncio.get_running_loop().create_task(self._listen(pubsub))
        self._healthy = True
        if self._down_since is not None and not initial:
            self.stats.outages.append(time.monotonic() - self._down_since)
            self.stats.recoveries += 1
            log.warning("Redis cache back after %.2f s", self.stats.outages[-1])
        self._down_since = None
        return True

    def _timeout(self) -> float:
        return self.settings.socket_timeout if self.settings else 0.5

    async def _listen(self, pubsub: Any) -> None:
        """Apply invalidations; PING when idle so a silently dead link is noticed.

        A frozen or partitioned Redis sends no reset: without the PING the subscription would
        look alive while invalidations no longer arrive. No reply within ``liveness`` seconds
        counts as an outage.
        """
        step = self.liveness / 3
        last_seen = time.monotonic()
        pinged = False
        try:
            while True:
                message = await pubsub.get_message(timeout=step)
                now = time.monotonic()
                if message is not None:
                    last_seen, pinged = now, False
                    if message.get("type") == "message":
                        self._on_invalidation(message["data"])
                    continue
                if now - last_seen > self.liveness:
                    raise ConnectionError(f"no reply from Redis for {self.liveness:g} s")
                if not pinged:
                    await pubsub.ping()
                    pinged = True
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 (a broken subscription: degrade, recover)
            if not self._closed:
                self._listener = None
                self._degrade(error)

    def _on_invalidation(self, data: bytes | str) -> None:
        text = data.decode(errors="replace") if isinstance(data, bytes) else data
        sender, _, text = text.partition("|")
        if sender == self._sender:
            return  # applied when it was sent
        self.stats.invalidations_received += 1
        self._epoch += 1
        if text.startswith("*") and text[1:].isdigit():
            self._gen = text[1:]
            self._local.clear()
            return
        try:
            idents = [tuple(str(part) for part in ident) for ident in json.loads(text)]
        except (ValueError, TypeError):
            # not one of ours (another version, or a stray publisher): forget everything local
            log.warning("unreadable message on %s: local cache emptied", self._channel)
            self._local.clear()
            return
        for ident in idents:
            self._local.pop(ident, None)

    # --- keys ---------------------------------------------------------------------------------

    @staticmethod
    def _doc_id(collection: str, scope: str, key: str) -> Ident:
        return ("d", collection, scope, key)

    @staticmethod
    def _setting_id(namespace: str, scope: str, path: str, name: str) -> Ident:
        return ("s", namespace, scope, path, name)

    @staticmethod
    def _settings_id(namespace: str, scope: str, path: str) -> Ident:
        return ("p", namespace, scope, path)

    def _value_key(self, ident: Ident) -> str:
        return f"{self.prefix}{self._gen}:{_wire(ident)}"

    def _version_key(self, ident: Ident) -> str:
        return f"{self.prefix}v:{_wire(ident)}"

    # --- the read path ------------------------------------------------------------------------

    async def _read(self, ident: Ident, load: Any) -> str:
        """The JSON text cached for ``ident``, loading it with ``load()`` on a miss."""
        if self.local and self._healthy:
            cached = self._local.get(ident)
            if cached is not None:
                self.stats.local_hits += 1
                return cached[0]
        if not self._healthy:
            self.stats.fallbacks += 1
            text: str = await load()
            return text
        if ident in self._pending:
            # a write of ours is in flight: only the store of record knows the outcome
            self.stats.bypasses += 1
            text = await load()
            return text
        epoch, gen = self._epoch, self._gen
        wire = _wire(ident)
        value_key, version_key = f"{self.prefix}{gen}:{wire}", f"{self.prefix}v:{wire}"
        try:
            value, version = await self._client.mget(value_key, version_key)
        except Exception as error:  # noqa: BLE001 (Redis failure: fall back, recover later)
            self._degrade(error)
            self.stats.fallbacks += 1
            text = await load()
            return text
        if value is not None:
            self.stats.redis_hits += 1
            try:
                text = value.decode()
            except UnicodeDecodeError:
                await self._reject(ident, _BadEntryError("not UTF-8"))
                text = await load()
                return text
        else:
            self.stats.misses += 1
            text = await load()
            seen = version.decode() if version is not None else "0"
            try:
                await self._fill(
                    keys=[value_key, version_key, self._gen_key],
                    args=[seen, gen, text, self.ttl_ms],
                )
            except Exception as error:  # noqa: BLE001
                self._degrade(error)
                return text
        if self.local and self._healthy and self._epoch == epoch and self._gen == gen:
            if len(self._local) >= self.local_max:
                for old in list(self._local)[: self.local_max // 2]:
                    del self._local[old]
            # not JSON: the caller rejects it (and reads the store of record)
            with contextlib.suppress(ValueError):
                self._local[ident] = (text, _immutable(text))
        return text

    async def _reject(self, ident: Ident, bad: Exception) -> None:
        """Forget a cached entry that is not what this cache wrote for ``ident`` (damaged, or
        written by someone with access to Redis): the caller reads the store of record."""
        self.stats.rejected += 1
        log.error(
            "cache entry %s in Redis is not valid (%s): ignored, read from the store of record",
            _wire(ident),
            bad,
        )
        self._local.pop(ident, None)
        if self._healthy:
            try:
                await self._client.delete(self._value_key(ident))
            except Exception as error:  # noqa: BLE001 (Redis failure: fall back, recover later)
                self._degrade(error)

    @contextlib.asynccontextmanager
    async def _writing(self, idents: Sequence[Ident]) -> AsyncIterator[None]:
        """Around a write to the store of record: bypass the cache for ``idents`` meanwhile,
        then invalidate them here, in Redis and in every other process."""
        self._begin_write(idents)
        try:
            yield
        finally:
            await self._end_write(idents)

    def _begin_write(self, idents: Sequence[Ident]) -> None:
        """Before a write: reads of ``idents`` bypass the cache until :meth:`_end_write`.

        ``begin; try: write; finally: await end`` is :meth:`_writing` without the context
        manager machinery, for the hot settings write.
        """
        self._epoch += 1
        for ident in idents:
            self._pending[ident] = self._pending.get(ident, 0) + 1
            self._local.pop(ident, None)

    async def _end_write(self, idents: Sequence[Ident]) -> None:
        """After a write (done or failed): invalidate ``idents`` everywhere, end the bypass."""
        try:
            await self._invalidate_ids(idents)
        finally:
            for ident in idents:
                left = self._pending[ident] - 1
                if left:
                    self._pending[ident] = left
                else:
                    del self._pending[ident]

    async def _invalidate_ids(self, idents: Sequence[Ident]) -> None:
        """After a write to the store of record: drop ``idents`` here, in Redis, everywhere."""
        self._epoch += 1
        for ident in idents:
            self._local.pop(ident, None)
        if not self._healthy:
            return  # the recovery moves the generation: nothing cached now is read again
        script, sender, gen, wires = self._invalidate, self._sender, self._gen, self._wires
        for start in range(0, len(idents), 500):
            # EVALSHA straight through the client: redis-py's Script wrapper adds ~2 µs per call
            command = ["EVALSHA", script.sha, 0, sender, gen]
            for ident in idents[start : start + 500]:
                wire = wires.get(ident)
                if wire is None:
                    wire = _wire(ident)
                    if len(wires) >= _WIRES_MAX:
                        wires.clear()
                    wires[ident] = wire
                command.append(wire)
            try:
                try:
                    await self._client.execute_command(*command)
                except NoScriptError:  # a restarted or flushed Redis: load it, once
                    command[1] = script.sha = await self._client.script_load(script.script)
                    await self._client.execute_command(*command)
            except Exception as error:  # noqa: BLE001
                self._degrade(error)
                return

    async def flush(self) -> None:
        """Forget everything cached, in every process (after writes that bypassed the cache)."""
        self._epoch += 1
        self._local.clear()
        if not self._healthy:
            return
        try:
            gen = await self._flush(keys=[self._gen_key], args=[self._channel, self._sender])
        except Exception as error:  # noqa: BLE001
            self._degrade(error)
            return
        self._gen = str(int(gen))

    # --- records ------------------------------------------------------------------------------

    async def get(self, collection: str, scope: str, key: str, *, now: float) -> Document | None:
        """The live document (cached), or ``None``."""

        async def load() -> str:
            # cache the document even when it expires later: expiry is checked on every read
            return _doc_to_json(await self.store.get(collection, scope, key, now=now))

        ident = self._doc_id(collection, scope, key)
        try:
            doc = _doc_from_json(await self._read(ident, load), collection, scope, key)
        except _BadEntryError as bad:
            await self._reject(ident, bad)
            doc = await self.store.get(collection, scope, key, now=now)
        if doc is not None and doc.expires_at is not None and doc.expires_at <= now:
            return None
        return doc

    async def put(self, doc: Document, *, now: float, expect: int | None = None) -> int:
        """Write to the store of record, then invalidate the cached copy."""
        async with self._writing([self._doc_id(doc.collection, doc.scope, doc.key)]):
            return await self.store.put(doc, now=now, expect=expect)

    async def put_many(self, docs: Sequence[Document], *, now: float) -> list[int]:
        """Write all to the store of record, then invalidate their cached copies."""
        idents = [self._doc_id(d.collection, d.scope, d.key) for d in docs]
        async with self._writing(idents):
            return await self.store.put_many(docs, now=now)

    async def delete(
        self, collection: str, scope: str, key: str, *, now: float, expect: int | None = None
    ) -> bool:
        """Delete in the store of record, then invalidate the cached copy."""
        async with self._writing([self._doc_id(collection, scope, key)]):
            return await self.store.delete(collection, scope, key, now=now, expect=expect)

    async def find(self, query: Query, *, now: float) -> Page:
        """Queries always go to the store of record."""
        return await self.store.find(query, now=now)

    async def purge(self, collection: str, *, now: float) -> int:
        """Purge in the store of record (cached documents carry their expiry already)."""
        removed = await self.store.purge(collection, now=now)
        if removed:
            await self.flush()
        return removed

    async def collections(self) -> list[str]:
        """From the store of record."""
        return await self.store.collections()

    async def incr(self, collection: str, scope: str, name: str, by: int = 1) -> int:
        """Counters are atomic in the store of record and never cached."""
        return await self.store.incr(collection, scope, name, by)

    async def counter(self, collection: str, scope: str, name: str) -> int:
        """From the store of record."""
        return await self.store.counter(collection, scope, name)

    # --- settings -----------------------------------------------------------------------------

    async def get_setting(self, namespace: str, scope: str, path: str, name: str) -> Any:
        """A stored JSON value (cached), or :data:`ABSENT`."""
        ident = ("s", namespace, scope, path, name)
        if self.local and self._healthy:
            cached = self._local.get(ident)
            if cached is not None:
                self.stats.local_hits += 1
                value = cached[1]
                return json.loads(cached[0]) if value is _FRESH else value

        async def load() -> str:
            value = await self.store.get_setting(namespace, scope, path, name)
            return "" if value is ABSENT else _compact(value)

        try:
            return _decode_setting(await self._read(ident, load))
        except ValueError as bad:
            await self._reject(ident, bad)
            return await self.store.get_setting(namespace, scope, path, name)

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
        """Store in the store of record, then invalidate the value and its path."""
        idents = (("s", namespace, scope, path, name), ("p", namespace, scope, path))
        self._begin_write(idents)  # as ``async with self._writing(idents)``, a hot path
        try:
            await self.store.set_setting(namespace, scope, path, name, value, owner=owner)
        finally:
            await self._end_write(idents)

    async def replace_setting(
        self, namespace: str, scope: str, path: str, name: str, old: Any, new: Any
    ) -> bool:
        """Compare-and-set in the store of record, then invalidate the value and its path."""
        idents = [
            self._setting_id(namespace, scope, path, name),
            self._settings_id(namespace, scope, path),
        ]
        async with self._writing(idents):
            return await self.store.replace_setting(namespace, scope, path, name, old, new)

    async def delete_setting(self, namespace: str, scope: str, path: str, name: str) -> bool:
        """Delete in the store of record, then invalidate the value and its path."""
        idents = [
            self._setting_id(namespace, scope, path, name),
            self._settings_id(namespace, scope, path),
        ]
        async with self._writing(idents):
            return await self.store.delete_setting(namespace, scope, path, name)

    async def get_settings(self, namespace: str, scope: str, path: str) -> dict[str, Any]:
        """Every stored value under one path (cached as a whole)."""

        async def load() -> str:
            values = await self.store.get_settings(namespace, scope, path)
            return _compact(values)

        ident = self._settings_id(namespace, scope, path)
        try:
            values = json.loads(await self._read(ident, load))
            if type(values) is not dict:
                raise _BadEntryError("not a mapping of settings")
        except (ValueError, _BadEntryError) as bad:
            await self._reject(ident, bad)
            return await self.store.get_settings(namespace, scope, path)
        return values

    async def clear_settings(self, namespace: str, scope: str, path: str | None = None) -> int:
        """Clear in the store of record, then forget the whole cache (rare operation)."""
        try:
            return await self.store.clear_settings(namespace, scope, path)
        finally:
            await self.flush()

    async def find_settings(
        self, *, namespace: str | None = None, scope: str | None = None, owner: int | None = None
    ) -> list[SettingRow]:
        """From the store of record."""
        return await self.store.find_settings(namespace=namespace, scope=scope, owner=owner)

    # --- data rights --------------------------------------------------------------------------

    async def owned_by(self, user_id: int, *, now: float) -> list[Document]:
        """From the store of record."""
        return await self.store.owned_by(user_id, now=now)

    async def delete_owned_by(self, user_id: int) -> int:
        """Erase in the store of record, then forget the whole cache."""
        try:
            return await self.store.delete_owned_by(user_id)
        finally:
            await self.flush()

    async def delete_scope(self, scope: str) -> int:
        """Erase in the store of record, then forget the whole cache."""
        try:
            return await self.store.delete_scope(scope)
        finally:
            await self.flush()

    # --- schema bookkeeping -------------------------------------------------------------------

    async def get_meta(self, name: str) -> str | None:
        """From the store of record."""
        return await self.store.get_meta(name)

    async def set_meta(self, name: str, value: str) -> None:
        """To the store of record."""
        await self.store.set_meta(name, value)


#: Compact JSON (one encoder, not one per call as ``json.dumps`` with ``separators`` builds).
_compact = json.JSONEncoder(separators=(",", ":")).encode


#: Wire names remembered per cache (cleared whole beyond this: a bounded, cheap memo).
_WIRES_MAX: Final = 4096


def _glob_escape(text: str) -> str:
    """``text`` as a literal in a Redis glob pattern."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


def _wire(ident: Ident) -> str:
    """The injective text form of an ident, in Redis keys and invalidation messages."""
    return _compact(ident)


def _immutable(text: str) -> Any:
    """The decoded value of a cached setting when it can be shared safely, else :data:`_FRESH`."""
    if not text:
        return ABSENT
    if text[0] in "[{":
        return _FRESH
    return json.loads(text)


def _decode_setting(text: str) -> Any:
    """A cached setting: ``""`` is "absent"; scalars decode cheaply, containers fresh each time."""
    if not text:
        return ABSENT
    return json.loads(text)
