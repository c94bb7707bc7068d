"""The shared storage contract suite's fixtures: ``store`` runs every contract test per backend.

Backends are registered by modules named ``backends_*.py`` in this directory, each exposing
``BACKENDS: dict[str, BackendFactory]`` (see README.md). This file only knows SQLite.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from securebot.core.storage import Backend, Store
from securebot.crypto import Keyring

#: ``factory(tmp_path)`` -> async context manager yielding an *unopened* backend.
BackendFactory = Callable[[Path], AbstractAsyncContextManager[Backend]]


def _registry() -> dict[str, BackendFactory]:
    found: dict[str, BackendFactory] = {}
    here = Path(__file__).parent
    for info in sorted(pkgutil.iter_modules([str(here)]), key=lambda i: i.name):
        if info.name.startswith("backends_"):
            module = importlib.import_module(f"tests.storage.{info.name}")
            for name, factory in module.BACKENDS.items():
                if name in found:
                    raise RuntimeError(f"storage backend {name!r} registered twice")
                found[name] = factory
    return found


BACKEND_FACTORIES = _registry()


class ManualClock:
    """A settable unix-time clock shared by the store and the test."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> ManualClock:
    """The store's clock (advance it to test retention)."""
    return ManualClock()


@pytest.fixture(scope="session")
def keyring() -> Keyring:
    """One fresh in-memory keyring for the session."""
    return Keyring.generate()


@pytest.fixture(params=sorted(BACKEND_FACTORIES))
def backend_name(request: pytest.FixtureRequest) -> str:
    """The backend under test (one run of each contract test per registered backend)."""
    return str(request.param)


@pytest.fixture
async def store(
    backend_name: str, tmp_path: Path, keyring: Keyring, clock: ManualClock
) -> AsyncIterator[Store]:
    """An opened Store over the backend under test, with a keyring and a manual clock."""
    async with BACKEND_FACTORIES[backend_name](tmp_path) as backend:
        store = Store(backend, keyring=keyring, clock=clock)
        await store.open()
        try:
            yield store
        finally:
            await store.close()
