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
