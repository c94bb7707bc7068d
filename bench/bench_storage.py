"""Settings get/set through the Store on SQLite against raw ``sqlite3`` (performance-anchors B4).

10,000 operations cycling over 1,000 guilds, one value per guild, in the same process run:

* ours: ``store.settings("bench").guild(gid).get("prefix")`` / ``.set("prefix", value)`` on a
  :class:`~securebot.storage.sqlite.SqliteBackend` (WAL, synchronous=NORMAL, one autocommitted
  statement per set);
* anchor: a minimal ``(guild, name) -> value`` table used directly through ``sqlite3`` from a
  coroutine: one
  ``SELECT`` + JSON decode per get, one upsert (``INSERT ... ON CONFLICT DO UPDATE``) +
  JSON encode per set, autocommitted (same durability); the same stdlib JSON calls as ours.

Target ratio <= 1.3 (uncached). The cache helper adds redis-py and cached-read lines.

Also a sealed record read (``store.get`` of a record with one sensitive field, 1,000 records)
against raw ``sqlite3`` + the reference field codec of performance-anchors §4 (``json`` →
cached ``AESGCM`` with associated data → base64) on the same row shape, building the same attrs
record; target <= 1.5 (B3).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import sqlite3
import tempfile
from pathlib import Path

import attrs
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bench.harness import Result, compare_async
from securebot.core.storage import Scope, Store, field, record
from securebot.crypto import Keyring
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


@record("bench.notes", key="number", scope="guild_id")
@attrs.frozen
class Note:
    """A typical small record: ids, a plain flag, one sealed text."""

    guild_id: int
    number: int
    user_id: int = field(owner=True)
    done: bool = False
    text: str = field(sensitive=True, default="")


def run() -> list[Result]:
    """Time settings get and set, and a sealed record read, ours against raw sqlite3."""
    with tempfile.TemporaryDirectory() as tmp:
        return [*_measure(Path(tmp)), _measure_records(Path(tmp))]


def _measure_records(tmp: Path) -> Result:
    store = Store(SqliteBackend(tmp / "records.sqlite3"), keyring=Keyring.generate())
    raw = sqlite3.connect(tmp / "raw-records.sqlite3", isolation_level=None)
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute(
        "CREATE TABLE docs (scope TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL,"
        " PRIMARY KEY (scope, key)) WITHOUT ROWID"
    )
    aead = AESGCM(os.urandom(32))
    text = "warned for spamming links in #general, second time this week"

    async def fill() -> None:
        await store.open()
        for n in range(1000):
            await store.put(Note(guild_id=n % 10, number=n, user_id=7, text=text))
            nonce = os.urandom(12)
            aad = f"bench.notes|text|{n}|{n % 10}".encode()
            sealed = nonce + aead.encrypt(nonce, json.dumps(text).encode(), aad)
            body: dict[str, object] = {"guild_id": n % 10, "number": n, "user_id": 7, "done": False}
            body["text"] = base64.b64encode(sealed).decode()
            raw.execute(
                "INSERT INTO docs VALUES (?, ?, ?)", (str(n % 10), str(n), json.dumps(body))
            )

    asyncio.run(fill())
    ours_ids = itertools.cycle(range(1000))
    raw_ids = itertools.cycle(range(1000))
    decode = json.JSONDecoder().decode

    async def ours() -> object:
        n = next(ours_ids)
        return await store.get(Note, n, scope=n % 10)

    async def anchor() -> object:
        n = next(raw_ids)
        row = raw.execute(
            "SELECT body FROM docs WHERE scope=? AND key=?", (str(n % 10), str(n))
        ).fetchone()
        body = decode(row[0])
        blob = base64.b64decode(body["text"])
        aad = f"bench.notes|text|{n}|{n % 10}".encode()
        body["text"] = decode(aead.decrypt(blob[:12], blob[12:], aad).decode())
        return Note(**body)  # the same typed result as ours

    result = compare_async(
        "storage.record_get_sealed_sqlite",
        ours,
        anchor,
        target=1.5,
        number=5000,
        detail="(typed record, 1 sealed field; anchor raw sqlite3 + json/AESGCM/base64 + attrs)",
    )
    asyncio.run(store.close())
    raw.close()
    return result


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
    # the anchors use the fastest stdlib JSON calls, the same ones our backend uses
    loads, dumps = json.JSONDecoder().decode, json.JSONEncoder(separators=(",", ":")).encode

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
