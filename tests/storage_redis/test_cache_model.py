"""Two cache instances ("bot processes") over one store of record, driven by hypothesis against a
dict model: once the other process has received a write's invalidation, every read in either
process returns exactly what the model says (no stale read, in either tier)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from tests.storage_redis.helpers import cached_store

from securebot.core.storage import Store
from securebot.crypto import Keyring
from securebot.storage.redis_cache import RedisCache
from securebot.storage.redis_client import RedisSettings
from securebot.testing.redis import RedisServer

T = TypeVar("T")
GUILDS = st.sampled_from([1, 2, 3])
PROCESS = st.sampled_from([0, 1])
VALUES = st.one_of(st.text(max_size=6), st.integers(-5, 5).map(str))


def test_two_processes_agree_with_a_dict_model(redis_server: RedisServer, tmp_path: Path) -> None:
    keyring = Keyring.generate()
    runs = iter(range(10**6))
    hits: list[int] = []

    class TwoProcesses(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.loop = asyncio.new_event_loop()
            run = next(runs)
            redis = RedisSettings(url=redis_server.url)
            db = tmp_path / f"run{run}.sqlite3"
            pairs = [cached_store(db, keyring, redis, prefix=f"m{run}:") for _ in range(2)]
            self.stores: list[Store] = [store for store, _ in pairs]
            self.caches: list[RedisCache] = [cache for _, cache in pairs]
            for store in self.stores:
                self.run(store.open())
            self.model: dict[int, str] = {}
            # the second open() announced a new generation to the first: wait for it, then count
            # only the invalidations the rules cause
            deadline = time.monotonic() + 5
            while self.caches[0].stats.invalidations_received < 1:
                assert time.monotonic() < deadline, "the generation change never arrived"
                self.run(asyncio.sleep(0.001))
            self.sent = [c.stats.invalidations_received for c in reversed(self.caches)]

        def run(self, coro: Coroutine[Any, Any, T]) -> T:
            return self.loop.run_until_complete(coro)

        def teardown(self) -> None:
            hits.extend(c.stats.local_hits + c.stats.redis_hits for c in self.caches)
            for store in self.stores:
                self.run(store.close())
            self.loop.close()

        def _settle(self, writer: int) -> None:
            """Wait until the other process has received every message ``writer`` sent."""
            self.sent[writer] += 1
            other = self.caches[1 - writer]
            deadline = time.monotonic() + 5
            while other.stats.invalidations_received < self.sent[writer]:
                assert time.monotonic() < deadline, "an invalidation never arrived"
                self.run(asyncio.sleep(0.001))

        def _guild(self, process: int, guild: int) -> Any:
            return self.stores[process].settings("cachetest").guild(guild)

        @rule(process=PROCESS, guild=GUILDS, value=VALUES)
        def set_prefix(self, process: int, guild: int, value: str) -> None:
            self.run(self._guild(process, guild).set("prefix", value))
            self.model[guild] = value
            self._settle(process)

        @rule(process=PROCESS, guild=GUILDS)
        def clear_prefix(self, process: int, guild: int) -> None:
            self.run(self._guild(process, guild).clear("prefix"))
            self.model.pop(guild, None)
            self._settle(process)

        @rule(process=PROCESS, guild=GUILDS)
        def read(self, process: int, guild: int) -> None:
            expected = self.model.get(guild, "!")
            assert self.run(self._guild(process, guild).get("prefix")) == expected
            assert self.run(self._guild(process, guild).all())["prefix"] == expected

        @invariant()
        def both_processes_see_the_model(self) -> None:
            for process in (0, 1):
                for guild in (1, 2, 3):
                    got = self.run(self._guild(process, guild).get("prefix"))
                    assert got == self.model.get(guild, "!"), (process, guild)

        @invariant()
        def the_cache_is_in_use(self) -> None:
            assert all(cache.healthy for cache in self.caches)

    run_state_machine_as_test(
        TwoProcesses,
        settings=settings(max_examples=25, stateful_step_count=20, deadline=None, database=None),
    )
    # the reads above were really served by the cache tiers, not only by the store of record
    assert sum(hits) > 0
