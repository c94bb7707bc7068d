"""The plugin-facing face ``securebot.storage``: declare, open the default store, use it."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from securebot import storage
from securebot.crypto import Keyring
from securebot.errors import StorageError


@storage.record("face.things", key="name")
@attrs.frozen
class Thing:
    name: str
    secret: str = storage.field(sensitive=True, default="")


async def test_a_plugin_uses_the_default_store(tmp_path: Path) -> None:
    path = tmp_path / "data" / "bot.sqlite3"
    store = await storage.open_sqlite_store(path, keyring=Keyring.generate())
    await store.put(Thing("a", "hidden"))
    assert await store.get(Thing, "a") == Thing("a", "hidden")
    settings = store.settings("face")
    settings.register(storage.Scope.GUILD, on=True)
    assert await settings.guild(1).get("on") is True
    await store.close()
    assert path.is_file()


def test_reserved_field_names_are_refused() -> None:
    with pytest.raises(StorageError, match="reserved"):

        @storage.record("face.bad", key="name")
        @attrs.frozen
        class Bad:
            name: str
            _sealed: str = ""


@storage.record("face.guild_things", key="name", scope="guild_id")
@attrs.frozen
class GuildThing:
    guild_id: int
    name: str
    secret: str = storage.field(sensitive=True, default="")


async def test_a_new_guild_key_is_saved_before_data_sealed_under_it(tmp_path: Path) -> None:
    saved: list[int] = []
    keyring = Keyring.generate()

    async def save() -> None:
        saved.append(len(keyring))
        keyring.dirty = False  # what a keyring file's save does once written

    path = tmp_path / "s.sqlite3"
    store = await storage.open_sqlite_store(path, keyring=keyring, save_keyring=save)
    await store.put(GuildThing(7, "a", "hidden"))
    assert saved  # the guild's new data key was handed to save_keyring first
    await store.close()


async def test_without_save_keyring_a_volatile_guild_key_is_warned_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = await storage.open_sqlite_store(tmp_path / "s.sqlite3", keyring=Keyring.generate())
    with caplog.at_level("WARNING", logger="securebot.storage"):
        await store.put(GuildThing(7, "a", "hidden"))
        await store.put(GuildThing(8, "b", "hidden"))
    warnings = [r for r in caplog.records if "exists only in memory" in r.getMessage()]
    assert len(warnings) == 1
    await store.close()
