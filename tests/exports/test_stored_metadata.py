"""Export metadata on the storage API (SQLite): round trip, sealed label, owner lookup, expiry,
and no password in the database file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from securebot.core.storage import Store
from securebot.crypto import Keyring, Secret
from securebot.errors import RecordNotFoundError
from securebot.exports import DownloadTokenSigner, ExportInfo, ExportService, LocalExportStore
from securebot.exports.stored import StoreExportMetadata
from securebot.storage.sqlite import SqliteBackend

from .conftest import BASE, make_messages


def _raw(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.glob("bot.sqlite3*")))


class Clock:
    now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_metadata_in_sqlite_is_sealed_and_expires(tmp_path: Path) -> None:
    clock = Clock()
    db = tmp_path / "bot.sqlite3"
    store = Store(SqliteBackend(db), keyring=Keyring.generate(), clock=clock)
    await store.open()
    try:
        metadata = StoreExportMetadata(store)
        service = ExportService(
            store=LocalExportStore(tmp_path / "objects", clock=clock),
            metadata=metadata,
            signer=DownloadTokenSigner(Secret(os.urandom(32)), clock=clock),
            gateway_url="https://gw.example",
            clock=clock,
        )
        info = ExportInfo("#very-private-channel", BASE, channel_id=3, guild_id=4)
        result = await service.export_messages(make_messages(5), info, owner_id=77)
        got = await metadata.get(result.record.export_id)
        assert got == result.record
        assert got.label == "#very-private-channel"
        assert [r.export_id for r in await metadata.owned_by(77)] == [result.record.export_id]
        assert await metadata.owned_by(78) == []
        on_disk = _raw(tmp_path)
        assert result.record.sha256.encode() in on_disk  # the record is there...
        assert b"very-private-channel" not in on_disk  # ...with its label sealed
        assert result.password.reveal().encode() not in on_disk
        assert await metadata.expired(clock.now) == []
        clock.now += 30 * 86_400
        assert [r.export_id for r in await metadata.expired(clock.now)] == [result.record.export_id]
        assert await service.purge_expired() == 1
        with pytest.raises(RecordNotFoundError):
            await metadata.get(result.record.export_id)
    finally:
        await store.close()
    raw = _raw(tmp_path)
    assert b"very-private-channel" not in raw
    assert result.password.reveal().encode() not in raw


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("size", '"10\\r\\nSet-Cookie: x=1"'),
        ("size", "-1"),
        ("owner_id", '"77"'),
        ("owner_id", "true"),
        ("export_id", '"0123456789abcdef0123456789abcdef"'),  # another id than its key
        ("export_id", '"../../etc/passwd"'),
        ("_sealed.object_key", '"AdgWaw7IRaQ6vJ0o6D0kpmHmw/cgBqtEopT/xgKgISxkAnvj5rRl"'),
        ("_sealed.object_key", "5"),
        ("sha256", '"not-a-digest"'),
        ("store", '"../local"'),
        ("expires_at", '"never"'),
        ("guild_id", '"6"'),
    ],
)
async def test_a_tampered_record_reads_back_as_corrupt(tmp_path: Path, field, value) -> None:
    """Metadata read back from storage is checked before anyone (the gateway) acts on it."""
    import sqlite3

    from securebot.errors import CorruptRecordError

    db = tmp_path / "bot.sqlite3"
    store = Store(SqliteBackend(db), keyring=Keyring.generate())
    await store.open()
    try:
        metadata = StoreExportMetadata(store)
        service = ExportService(
            store=LocalExportStore(tmp_path / "objects"),
            metadata=metadata,
            signer=DownloadTokenSigner(Secret(os.urandom(32))),
            gateway_url="https://gw.example",
        )
        info = ExportInfo("#c", BASE, channel_id=3, guild_id=4)
        result = await service.export_messages(make_messages(2), info, owner_id=77)
        export_id = result.record.export_id
        assert await metadata.get(export_id) == result.record
        with sqlite3.connect(db) as con:
            changed = con.execute(
                f"UPDATE docs SET body = json_set(body, '$.{field}', json(?)) WHERE key = ?",
                (value, export_id),
            ).rowcount
        assert changed == 1
        with pytest.raises(CorruptRecordError, match=export_id):
            await metadata.get(export_id)
    finally:
        await store.close()


async def test_one_tampered_record_does_not_stop_the_purge(tmp_path: Path) -> None:
    import sqlite3

    clock = Clock()
    db = tmp_path / "bot.sqlite3"
    store = Store(SqliteBackend(db), keyring=Keyring.generate(), clock=clock)
    await store.open()
    try:
        metadata = StoreExportMetadata(store)
        service = ExportService(
            store=LocalExportStore(tmp_path / "objects", clock=clock),
            metadata=metadata,
            signer=DownloadTokenSigner(Secret(os.urandom(32)), clock=clock),
            gateway_url="https://gw.example",
            clock=clock,
        )
        info = ExportInfo("#c", BASE, channel_id=3, guild_id=4)
        bad = await service.export_messages(make_messages(2), info, owner_id=77)
        good = await service.export_messages(make_messages(2), info, owner_id=77)
        with sqlite3.connect(db) as con:
            con.execute(
                "UPDATE docs SET body = json_set(body, '$.size', -1) WHERE key = ?",
                (bad.record.export_id,),
            )
        assert [r.export_id for r in await metadata.owned_by(77)] == [good.record.export_id]
        clock.now += 30 * 86_400  # past retention, within the records' own grace day
        assert await service.purge_expired() == 1
        with pytest.raises(RecordNotFoundError):
            await metadata.get(good.record.export_id)
    finally:
        await store.close()


async def test_an_object_key_moved_to_another_record_does_not_open(tmp_path: Path) -> None:
    """Someone who can write the database but not the object store cannot point their own
    record at another export's archive: not to download it, not to have the purge delete it."""
    import json
    import sqlite3

    from securebot.errors import CorruptRecordError

    clock = Clock()
    db = tmp_path / "bot.sqlite3"
    store = Store(SqliteBackend(db), keyring=Keyring.generate(), clock=clock)
    await store.open()
    objects = LocalExportStore(tmp_path / "objects", clock=clock)
    try:
        metadata = StoreExportMetadata(store)
        service = ExportService(
            store=objects,
            metadata=metadata,
            signer=DownloadTokenSigner(Secret(os.urandom(32)), clock=clock),
            gateway_url="https://gw.example",
            clock=clock,
        )
        info = ExportInfo("#c", BASE, channel_id=3, guild_id=4)
        attacker = await service.export_messages(make_messages(2), info, owner_id=1)
        clock.now += 20 * 86_400
        victim = await service.export_messages(make_messages(2), info, owner_id=2)
        with sqlite3.connect(db) as con:
            bodies = {
                key: json.loads(body)
                for key, body in con.execute(
                    "SELECT key, body FROM docs WHERE key IN (?, ?)",
                    (attacker.record.export_id, victim.record.export_id),
                )
            }
            stolen, mine = bodies[victim.record.export_id], bodies[attacker.record.export_id]
            for holder, into in ((stolen, mine), (stolen.get("_sealed", {}), mine.get("_sealed"))):
                if "object_key" in holder and into is not None:
                    into["object_key"] = holder["object_key"]
            con.execute(
                "UPDATE docs SET body = ? WHERE key = ?",
                (json.dumps(mine), attacker.record.export_id),
            )
        try:
            got = (await metadata.get(attacker.record.export_id)).object_key
        except CorruptRecordError:
            got = None
        assert got != victim.record.object_key
        clock.now += 11 * 86_400  # the attacker's export is past retention, the victim's not
        await service.purge_expired()
        assert await objects.exists(victim.record.object_key)
        assert (await metadata.get(victim.record.export_id)).object_key == victim.record.object_key
    finally:
        await store.close()
