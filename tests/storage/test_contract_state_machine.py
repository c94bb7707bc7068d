"""Contract: a hypothesis state machine drives get/put/delete/counter/CAS against a dict model."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from tests.storage.conftest import BACKEND_FACTORIES, ManualClock
from tests.storage.records import Case

from securebot.core.storage import Store
from securebot.crypto import Keyring
from securebot.errors import ConflictError

T = TypeVar("T")

GUILDS = st.sampled_from([1, 2])
NUMBERS = st.integers(min_value=1, max_value=6)
TEXT = st.text(max_size=12)


def _machine(backend_name: str, root: Path, keyring: Keyring) -> type[RuleBasedStateMachine]:
    counter = iter(range(10**9))

    class StoreMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.loop = asyncio.new_event_loop()
            directory = root / f"run{next(counter)}"
            directory.mkdir()
            self.factory = BACKEND_FACTORIES[backend_name](directory)
            backend = self.run(self.factory.__aenter__())
            self.store = Store(backend, keyring=keyring, clock=ManualClock())
            self.run(self.store.open())
            self.model: dict[tuple[int, int], tuple[Case, int]] = {}
            self.counters: dict[int, int] = {}

        def run(self, coro: Coroutine[Any, Any, T]) -> T:
            return self.loop.run_until_complete(coro)

        def teardown(self) -> None:
            self.run(self.store.close())
            self.run(self.factory.__aexit__(None, None, None))
            self.loop.close()

        @rule(guild=GUILDS, number=NUMBERS, reason=TEXT, user=st.integers(1, 3))
        def put(self, guild: int, number: int, reason: str, user: int) -> None:
            record = Case(guild_id=guild, number=number, user_id=user, reason=reason)
            revision = self.run(self.store.put(record))
            old = self.model.get((guild, number))
            assert revision >= 1
            if old is not None:
                assert revision == old[1] + 1
            self.model[(guild, number)] = (record, revision)

        @rule(guild=GUILDS, number=NUMBERS, reason=TEXT, stale=st.booleans())
        def compare_and_set(self, guild: int, number: int, reason: str, stale: bool) -> None:
            current = self.model.get((guild, number))
            live = 0 if current is None else current[1]
            expect = live + 1 if stale else live
            record = Case(guild_id=guild, number=number, user_id=1, reason=reason)
            try:
                revision = self.run(self.store.put(record, expect=expect))
            except ConflictError:
                assert stale
                return
            assert not stale
            self.model[(guild, number)] = (record, revision)

        @rule(guild=GUILDS, number=NUMBERS, conditional=st.booleans())
        def delete(self, guild: int, number: int, conditional: bool) -> None:
            current = self.model.get((guild, number))
            expect = None
            if conditional:
                expect = 1 if current is None else current[1]
            try:
                existed = self.run(self.store.delete(Case, number, scope=guild, expect=expect))
            except ConflictError:
                assert conditional
                assert current is None
                return
            assert existed == (current is not None)
            self.model.pop((guild, number), None)

        @rule(guild=GUILDS, number=NUMBERS)
        def get(self, guild: int, number: int) -> None:
            found = self.run(self.store.get_versioned(Case, number, scope=guild))
            expected = self.model.get((guild, number))
            if expected is None:
                assert found is None
            else:
                assert found is not None
                assert (found.record, found.revision) == expected

        @rule(guild=GUILDS, by=st.integers(-3, 10))
        def incr(self, guild: int, by: int) -> None:
            value = self.run(self.store.incr("tests.machine", scope=guild, by=by))
            self.counters[guild] = self.counters.get(guild, 0) + by
            assert value == self.counters[guild]

        @invariant()
        def scopes_list_exactly_the_model(self) -> None:
            for guild in (1, 2):
                page = self.run(self.store.find(Case, scope=guild, limit=100))
                assert [c.number for c in page.items] == sorted(
                    n for (g, n) in self.model if g == guild
                )

    return StoreMachine


def test_store_behaves_like_a_dict(backend_name: str, tmp_path: Path, keyring: Keyring) -> None:
    machine = _machine(backend_name, tmp_path, keyring)
    run_state_machine_as_test(
        machine, settings=settings(max_examples=30, stateful_step_count=25, deadline=None)
    )


def test_the_machine_catches_a_broken_backend(
    backend_name: str, tmp_path: Path, keyring: Keyring
) -> None:
    """The model is not vacuous: a backend that forgets deletes is caught."""
    machine = _machine(backend_name, tmp_path, keyring)

    class Forgetful(machine):  # type: ignore[misc, valid-type]
        @rule(guild=GUILDS, number=NUMBERS)
        def lose_a_delete(self, guild: int, number: int) -> None:
            # deletes behind the model's back, as a backend losing a write would
            self.run(self.store.delete(Case, number, scope=guild))

    with pytest.raises(AssertionError):
        run_state_machine_as_test(
            Forgetful, settings=settings(max_examples=60, stateful_step_count=25, deadline=None)
        )
