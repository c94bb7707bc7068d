"""SQLite: the raw database, WAL and shared-memory bytes never hold a sensitive plaintext."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

from tests.storage.records import Case, Submission

from securebot.core.storage import Scope, Store
from securebot.crypto import Keyring
from securebot.storage.sqlite import SqliteBackend

SECRETS = [f"sensitive-plaintext-{n}-{os.urandom(4).hex()}" for n in range(6)]
VISIBLE = f"plain-visible-marker-{os.urandom(4).hex()}"


def _raw_bytes(path: Path) -> dict[str, bytes]:
    files = {}
    for suffix in ("", "-wal", "-shm"):
        file = Path(f"{path}{suffix}")
        if file.exists():
            files[file.name] = file.read_bytes()
    return files


def _leaks(files: dict[str, bytes]) -> list[str]:
    leaks = []
    for name, data in files.items():
        for secret in SECRETS:
            forms = [
                secret.encode(),
                secret.encode("utf-16-le"),
                base64.b64encode(secret.encode()),
                secret[:16].encode(),  # a prefix would show partial leaks too
            ]
            leaks += [f"{secret!r} in {name}" for form in forms if form in data]
    return leaks


async def test_no_sensitive_plaintext_in_the_database_files(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    store = Store(SqliteBackend(path), keyring=Keyring.generate())
    await store.open()
    await store.put(Case(guild_id=1, number=1, user_id=2, reason=SECRETS[0], nickname=SECRETS[1]))
    await store.put(Case(guild_id=1, number=2, user_id=2, reason=SECRETS[2], nickname=VISIBLE))
    await store.put(Submission(guild_id=1, form=VISIBLE, user_id=3, answers={"q": SECRETS[3]}))
    settings = store.settings("raw")
    settings.register(Scope.GUILD, sensitive=("token",), token="")
    settings.register(Scope.USER, sensitive=("note",), note="")
    await settings.guild(1).set("token", SECRETS[4])
    await settings.user(2).set("note", SECRETS[5])
    assert (await store.find(Case, scope=1, nickname=SECRETS[1])).items[0].number == 1

    live = _raw_bytes(path)
    assert any(name.endswith("-wal") for name in live)  # WAL mode: data sits in the WAL first
    assert _leaks(live) == []
    assert any(VISIBLE.encode() in data for data in live.values())  # the grep can find things
    await store.close()

    closed = _raw_bytes(path)
    assert _leaks(closed) == []
    assert VISIBLE.encode() in closed["store.sqlite3"]


async def test_the_database_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "store.sqlite3"
    backend = SqliteBackend(path)
    await backend.open()
    await backend.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_an_unwritable_location_is_a_clear_error(tmp_path: Path) -> None:
    import pytest

    from securebot.errors import BackendUnavailableError

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(BackendUnavailableError, match="cannot create SQLite store"):
        await SqliteBackend(blocker / "store.sqlite3").open()


async def test_a_closed_store_says_so(tmp_path: Path) -> None:
    import pytest

    from securebot.errors import BackendUnavailableError

    backend = SqliteBackend(tmp_path / "s.sqlite3")
    with pytest.raises(BackendUnavailableError, match="not open"):
        await backend.get("c", "global", "k", now=0.0)


async def test_a_damaged_row_fails_alone(tmp_path: Path) -> None:
    import pytest

    from securebot.errors import CorruptRecordError

    store = Store(SqliteBackend(tmp_path / "s.sqlite3"), keyring=Keyring.generate())
    await store.open()
    await store.put_many([Case(guild_id=1, number=n, user_id=2) for n in (1, 2, 3)])
    backend = store.backend
    assert isinstance(backend, SqliteBackend)
    backend.db.execute("UPDATE docs SET body='{not json' WHERE key='2'")
    with pytest.raises(CorruptRecordError, match=r"tests.cases/1/2: stored document is damaged"):
        await store.get(Case, 2, scope=1)
    page = await store.find(Case, scope=1, limit=2)
    assert [c.number for c in page.items] == [1]
    assert len(page.corrupt) == 1
    assert page.next is not None  # the damaged row still moves the cursor on
    rest = await store.find(Case, scope=1, after=page.next)
    assert [c.number for c in rest.items] == [3]
    exported = await store.export_guild(1)
    assert len(exported["records"]["tests.cases"]) == 2
    assert len(exported["unreadable"]) == 1
    await store.close()


def _modes(path: Path) -> dict[str, int]:
    files = {suffix: Path(f"{path}{suffix}") for suffix in ("", "-wal", "-shm")}
    return {suffix: stat.S_IMODE(f.stat().st_mode) for suffix, f in files.items() if f.exists()}


async def test_wal_and_shm_files_are_private_too(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    store = Store(SqliteBackend(path), keyring=Keyring.generate())
    await store.open()
    try:
        await store.put(Case(guild_id=1, number=1, user_id=2, reason="r"))
        assert _modes(path) == {"": 0o600, "-wal": 0o600, "-shm": 0o600}
    finally:
        await store.close()


async def test_erased_user_and_guild_data_is_gone_from_the_files_at_once(tmp_path: Path) -> None:
    """Plain (unsealed) fields are erased from the disk too, not only from the tables: the WAL
    kept the inserted pages, and freed cells kept their bytes, until a later checkpoint."""
    path = tmp_path / "store.sqlite3"
    user_mark = f"plain-user-marker-{os.urandom(4).hex()}"
    guild_mark = f"plain-guild-marker-{os.urandom(4).hex()}"
    store = Store(SqliteBackend(path), keyring=Keyring.generate())
    await store.open()
    try:
        settings = store.settings("raw-erase")
        settings.register(Scope.USER, tz="UTC")
        settings.register(Scope.GUILD, motto="")
        for number in range(1, 40):  # other data on the same pages
            await store.put(Case(guild_id=1, number=number, user_id=100 + number, tags=("x",)))
        await store.put(Case(guild_id=1, number=99, user_id=7, tags=(user_mark,)))
        await settings.user(7).set("tz", user_mark)
        await store.put(Case(guild_id=5, number=1, user_id=8, tags=(guild_mark,)))
        await settings.guild(5).set("motto", guild_mark)
        raw = b"".join(_raw_bytes(path).values())
        assert user_mark.encode() in raw  # the grep finds what is there
        assert guild_mark.encode() in raw

        assert await store.delete_user(7) == 2
        assert await store.delete_guild(5) == 2
        raw = b"".join(_raw_bytes(path).values())
        assert user_mark.encode() not in raw
        assert guild_mark.encode() not in raw
        assert await store.get(Case, 1, scope=1) is not None  # the others stay
    finally:
        await store.close()
    raw = b"".join(_raw_bytes(path).values())
    assert user_mark.encode() not in raw
    assert guild_mark.encode() not in raw
