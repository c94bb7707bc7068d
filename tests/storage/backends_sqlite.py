"""Registers the SQLite backend with the contract suite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from securebot.storage.sqlite import SqliteBackend


@asynccontextmanager
async def sqlite_backend(tmp_path: Path) -> AsyncIterator[SqliteBackend]:
    """A fresh SQLite file in the test's directory."""
    yield SqliteBackend(tmp_path / "store.sqlite3")


BACKENDS = {"sqlite": sqlite_backend}
