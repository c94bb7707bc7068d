"""Settings get/set through the Store on SQLite against raw ``sqlite3`` (performance-anchors B4).

10,000 operations cycling over 1,000 guilds, one value per guild, in the same process run:

* ours: ``store.settings("bench").guild(gid).get("prefix")`` / ``.set("prefix", value)`` on a
  :class:`~securebot.storage.sqlite.SqliteBackend` (WAL, synchronous=NORMAL, one autocommitted
  statement per set);
* anchor: the same table shape used directly through ``sqlite3`` from a coroutine: one
  ``SELECT`` + ``json.loads`` per get, one upsert (``INSERT ... ON CONFLICT DO UPDATE``) +
  ``json.dumps`` per set, autocommitted (same durability).

Target ratio <= 1.3 (uncached). The cache helper adds redis-py and cached-read lines.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sqlite3
import tempfile
from pathlib import Path

from bench.harness import Result, compare_async
from securebot.core.storage import Scope, Store
from securebot.storage.sqlite import SqliteBackend

GUILDS = 1_000
OPS = 10_000
TARGET = 1.3


def _raw_connection(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(
        "CREATE TABLE kv (guild INTEGER NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,"
        " PRIMARY KEY (guild, name)) WITHOUT ROWID"
    )
    return db


def run() -> list[Result]:
    """Time settings get and set, ours against raw sqlite3."""
    with tempfile.TemporaryDirectory() as tmp:
        return _measure(Path(tmp))


def _measure(tmp: Path) -> list[Result]:
    store = Store(SqliteBackend(tmp / "store.sqlite3"))
    settings = store.settings("bench")
    settings.register(Scope.GUILD, prefix="!")
    raw = _raw_connection(tmp / "raw.sqlite3")

    async def fill() -> None:
        await store.open()
        for gid in range(GUILDS):
            await settings.guild(gid).set("prefix", f"p{gid}")
            raw.execute(
                "INSERT OR REPLACE INTO kv VALUES (?, ?, ?)", (gid, "prefix", json.dumps(f"p{gid}"))
            )

    asyncio.run(fill())  # the SQLite backend has no event-loop affinity
    ours_ids = itertools.cycle(range(GUILDS))
    raw_ids = itertools.cycle(range(GUILDS))
    select = "SELECT value FROM kv WHERE guild=? AND name=?"
    upsert = (
        "INSERT INTO kv VALUES (?, ?, ?)"
        " ON CONFLICT (guild, name) DO UPDATE SET value=excluded.value"
    )
    loads, dumps = json.loads, json.dumps

    async def ours_get() -> object:
        return await settings.guild(next(ours_ids)).get("prefix")

    async def raw_get() -> object:
        row = raw.execute(select, (next(raw_ids), "prefix")).fetchone()
        return loads(row[0])

    async def ours_set() -> None:
        gid = next(ours_ids)
        await settings.guild(gid).set("prefix", "?")

    async def raw_set() -> None:
        raw.execute(upsert, (next(raw_ids), "prefix", dumps("?")))

    results = [
        compare_async(
            "storage.settings_get_sqlite",
            ours_get,
            raw_get,
            target=TARGET,
            number=OPS,
            detail=f"({OPS} gets over {GUILDS} guilds; anchor raw sqlite3)",
        ),
        compare_async(
            "storage.settings_set_sqlite",
            ours_set,
            raw_set,
            target=TARGET,
            number=OPS,
            detail=f"({OPS} sets over {GUILDS} guilds, each committed; anchor raw sqlite3)",
        ),
    ]
    asyncio.run(store.close())
    raw.close()
    return results
