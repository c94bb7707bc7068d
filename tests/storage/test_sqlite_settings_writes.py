"""SQLite settings writes: replace-in-place and first-value paths keep the row exact."""

from __future__ import annotations

from pathlib import Path

import pytest

from securebot.core.storage import Scope, Store
from securebot.errors import BackendUnavailableError, StorageError
from securebot.storage.sqlite import SqliteBackend


def _rows(backend: SqliteBackend) -> list[tuple[object, ...]]:
    return backend.db.execute(
        "SELECT namespace, scope, path, name, value, owner FROM settings ORDER BY path, name"
    ).fetchall()


async def test_a_first_value_is_inserted_and_a_second_replaces_it(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "s.sqlite3")
    await backend.open()
    await backend.set_setting("ns", "global", "user:7", "lang", "fr", owner=7)
    assert _rows(backend) == [("ns", "global", "user:7", "lang", '"fr"', 7)]
    await backend.set_setting("ns", "global", "user:7", "lang", "de", owner=7)
    await backend.set_setting("ns", "global", "user:7", "lang", "de", owner=7)  # same value
    assert _rows(backend) == [("ns", "global", "user:7", "lang", '"de"', 7)]
    # the replacement touched only that row, and the owner stays findable for erasure
    await backend.set_setting("ns", "global", "user:8", "lang", "en", owner=8)
    assert await backend.delete_owned_by(7) == 1
    assert _rows(backend) == [("ns", "global", "user:8", "lang", '"en"', 8)]
    await backend.close()


async def test_two_connections_writing_the_same_name_keep_one_row(tmp_path: Path) -> None:
    first, second = SqliteBackend(tmp_path / "s.sqlite3"), SqliteBackend(tmp_path / "s.sqlite3")
    await first.open()
    await second.open()
    await first.set_setting("ns", "5", "guild:5", "prefix", "!")
    await second.set_setting("ns", "5", "guild:5", "prefix", "?")  # replaces first's row
    assert await first.get_setting("ns", "5", "guild:5", "prefix") == "?"
    assert len(_rows(first)) == 1
    await first.close()
    await second.close()


async def test_settings_through_the_store_round_trip_many_guilds(tmp_path: Path) -> None:
    store = Store(SqliteBackend(tmp_path / "s.sqlite3"))
    settings = store.settings("bench")
    settings.register(Scope.GUILD, prefix="!")
    await store.open()
    for gid in range(50):
        await settings.guild(gid).set("prefix", f"p{gid}")
    for gid in range(0, 50, 2):
        await settings.guild(gid).set("prefix", None)  # None is a value, not a deletion
    got = [await settings.guild(gid).get("prefix") for gid in range(50)]
    assert got == [None if gid % 2 == 0 else f"p{gid}" for gid in range(50)]
    assert await settings.guild(99).get("prefix") == "!"
    await store.close()


async def test_a_bad_value_or_a_closed_store_writes_nothing(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "s.sqlite3")
    with pytest.raises(BackendUnavailableError, match="not open"):
        await backend.set_setting("ns", "5", "guild:5", "prefix", "!")
    await backend.open()
    with pytest.raises(StorageError, match="not JSON-able"):
        await backend.set_setting("ns", "5", "guild:5", "prefix", {1, 2})
    assert _rows(backend) == []
    await backend.close()
