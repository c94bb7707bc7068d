"""The bot's keyring file next to the ``securebot keys`` / ``storage`` commands.

The bot keeps its keyring in memory and saves it when sealing created a guild key. Meanwhile an
operator may shred a guild (``keys destroy --guild``, ``storage delete-guild``) or rotate keys
with the CLI, which rewrites the same file. The bot must never overwrite that file with its older
copy: that would bring a shredded guild's key back (the erased data readable again from
backups) or lose a rotation.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from securebot.core.config import parse_config
from securebot.crypto import open_keyring_file, save_keyring_file
from securebot.crypto.sealed import provider_of, read_sealed_file
from securebot.errors import KeyringError, UnknownKeyError
from securebot.runtime.keys import open_configured_keyring


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))  # the dev KEK lands here
    return parse_config(
        {"bot": {"environment": "development"}, "keys": {"keyring": str(tmp_path / "k.json")}}
    )


async def _operator_shreds(path: Path, guild: str) -> None:
    data = read_sealed_file(path)
    provider = provider_of(data, environment="development")
    keyring = await open_keyring_file(path, provider, environment="development")
    keyring.shred_guild(guild)
    await save_keyring_file(path, keyring, provider, environment="development")


async def test_the_bot_never_overwrites_a_keyring_changed_by_the_cli(config) -> None:  # type: ignore[no-untyped-def]
    keys = await open_configured_keyring(config)
    keys.keyring.add_guild("42")
    await keys.save()
    await _operator_shreds(keys.path, "42")

    keys.keyring.add_guild("43")  # the bot seals for a new guild: its keyring must be saved
    with pytest.raises(KeyringError, match="changed by another process"):
        await keys.save()

    on_disk = await open_keyring_file(keys.path, environment="development")
    with pytest.raises(UnknownKeyError, match="destroyed"):
        on_disk.guild_material("42", create=False)  # the shred held


async def test_saves_of_the_bot_follow_each_other(config) -> None:  # type: ignore[no-untyped-def]
    keys = await open_configured_keyring(config)
    for guild in ("1", "2", "3"):
        keys.keyring.add_guild(guild)
        await keys.save()
    on_disk = await open_keyring_file(keys.path, environment="development")
    assert on_disk.guilds == ["1", "2", "3"]
    reopened = await open_configured_keyring(config)
    reopened.keyring.add_guild("4")
    await reopened.save()


async def test_a_failed_save_is_retried_before_the_next_sealed_write(
    config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """Sealing a new guild's first value creates its key; if saving the keyring fails, nothing
    is written, and the next write must save the keyring again (it was still marked saved, so
    data sealed under a key that exists only in memory got committed)."""
    import errno
    import os

    import securebot.crypto.sealed as sealed_module
    from securebot.core.storage import Scope, Store
    from securebot.storage.sqlite import SqliteBackend

    keys = await open_configured_keyring(config)
    store = Store(
        SqliteBackend(tmp_path / "db.sqlite3"), keyring=keys.keyring, save_keyring=keys.save
    )
    settings = store.settings("kf")
    settings.register(Scope.GUILD, sensitive=("token",), token="")
    async with store:

        def full_disk(*args: object) -> None:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(sealed_module.os, "replace", full_disk)
        with pytest.raises(KeyringError, match="previous keyring file is unchanged"):
            await settings.guild(77).set("token", "first")
        with pytest.raises(KeyringError, match="previous keyring file is unchanged"):
            await settings.guild(77).set("token", "second")  # not written without its key
        monkeypatch.undo()
        assert await settings.guild(77).get("token") == ""  # nothing was stored
        await settings.guild(77).set("token", "third")
    on_disk = await open_keyring_file(keys.path, environment="development")
    assert "77" in on_disk.guilds
