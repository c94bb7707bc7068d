"""The composition root: a configured bot opens its keyring (fail closed) and store, and keeps
what users type sealed, with every new guild key on disk before data under it."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import attrs
import pytest

from securebot.core.app import build_bot
from securebot.core.audit import CipherSealer
from securebot.core.config import Config, KeysSettings, StorageSettings, parse_config
from securebot.core.storage import Scope, Store
from securebot.crypto import make_provider, open_keyring_file
from securebot.errors import ConfigError, KeyringError
from securebot.runtime import open_services
from securebot.storage.sqlite import SqliteAuditStore, SqliteBackend, SqliteJobStore

SECRET = "hunter2-is-my-webhook-token"


@pytest.fixture(autouse=True)
def _dev_key_outside_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The local dev provider keeps its key file under XDG_CONFIG_HOME: a private temp dir."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("SECUREBOT_ENV", raising=False)


def config_in(directory: Path, **bot: object) -> Config:
    return attrs.evolve(
        parse_config({"bot": dict(bot)} if bot else {}),
        storage=StorageSettings(path=str(directory / "bot.sqlite3")),
        keys=KeysSettings(keyring=str(directory / "bot.keyring")),
    )


def raw_files(directory: Path) -> dict[str, bytes]:
    """Every file the bot wrote (database, WAL, keyring), as bytes."""
    return {path.name: path.read_bytes() for path in directory.glob("bot.*")}


def register(store: Store) -> None:
    store.settings("webhooks").register(Scope.GUILD, sensitive=("url",), url="")


async def test_development_creates_a_sealed_keyring_and_wires_the_bot(tmp_path: Path) -> None:
    config = config_in(tmp_path)
    async with open_services(config) as services:
        bot = build_bot(config)
        await services.wire(bot)
        assert bot.store is services.store
        assert isinstance(bot.audit_log.store, SqliteAuditStore)
        assert isinstance(bot.audit_log.sealer, CipherSealer)
        assert isinstance(bot.scheduler.store, SqliteJobStore)
        assert "storage" in {p.manifest.name for p in bot.plugin_manager.plugins}
    keyring_file = tmp_path / "bot.keyring"
    assert keyring_file.stat().st_mode & 0o077 == 0
    assert (tmp_path / "xdg" / "securebot" / "dev-kek").exists()  # the KEK lives elsewhere
    assert b"material" not in keyring_file.read_bytes()


async def test_sealed_values_survive_a_restart_and_never_reach_the_file(tmp_path: Path) -> None:
    config = config_in(tmp_path)
    async with open_services(config) as services:
        register(services.store)
        await services.store.settings("webhooks").guild(4242).set("url", SECRET)
    async with open_services(config) as services:
        register(services.store)
        assert await services.store.settings("webhooks").guild(4242).get("url") == SECRET
    for name, raw in raw_files(tmp_path).items():
        assert SECRET.encode() not in raw, name
        assert base64.b64encode(SECRET.encode()) not in raw, name


async def test_a_new_guild_key_is_on_disk_before_data_sealed_under_it(tmp_path: Path) -> None:
    """A crash right after the write (no clean shutdown) must leave the value readable."""
    config = config_in(tmp_path)
    async with open_services(config) as services:
        register(services.store)
        await services.store.settings("webhooks").guild(77).set("url", SECRET)
        # Still running: open the keyring file and the database independently, as after a crash.
        keyring = await open_keyring_file(tmp_path / "bot.keyring", environment="development")
        other = Store(SqliteBackend(tmp_path / "bot.sqlite3"), keyring=keyring)
        await other.open()
        try:
            register(other)
            assert await other.settings("webhooks").guild(77).get("url") == SECRET
        finally:
            await other.close()


async def test_reminder_payloads_are_sealed_in_the_job_table(tmp_path: Path) -> None:
    import datetime as dt

    from securebot.core.scheduler import Job

    config = config_in(tmp_path)
    async with open_services(config) as services:
        bot = build_bot(config)
        await services.wire(bot)
        due = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
        job = Job(id="j1", kind="alarm.remind", due=due, guild_id=9, payload={"text": SECRET})
        await bot.scheduler.store.add(job)
        stored = await bot.scheduler.store.get("j1")
        assert stored is not None
        assert stored.payload == {"text": SECRET}
    for name, raw in raw_files(tmp_path).items():
        assert SECRET.encode() not in raw, name


async def test_production_never_creates_keys(tmp_path: Path) -> None:
    config = config_in(tmp_path, environment="production")
    with pytest.raises(KeyringError, match=r"does not exist; create it with `securebot keys init"):
        async with open_services(config):
            pass
    assert not (tmp_path / "bot.sqlite3").exists()  # nothing opened before the keyring


async def test_a_wrong_key_encryption_key_stops_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from securebot.crypto import Keyring, save_keyring_file

    monkeypatch.setenv("SECUREBOT_KEK", base64.b64encode(os.urandom(32)).decode())
    provider = make_provider("env", {}, environment="production")
    await save_keyring_file(
        tmp_path / "bot.keyring", Keyring.generate(), provider, environment="production"
    )
    wrong = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("SECUREBOT_KEK", wrong)
    config = config_in(tmp_path, environment="production")
    with pytest.raises(KeyringError, match="refusing to open the keyring") as caught:
        async with open_services(config):
            pass
    assert wrong not in str(caught.value)
    assert "SECUREBOT_KEK" not in os.environ  # read once, then removed from the environment


async def test_a_keyring_from_another_environment_is_refused(tmp_path: Path) -> None:
    async with open_services(config_in(tmp_path)):
        pass
    with pytest.raises(KeyringError, match="local key provider is for development only"):
        async with open_services(config_in(tmp_path, environment="production")):
            pass


async def test_mongo_is_refused_with_a_clear_reason_until_audit_and_jobs_live_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONGO_URI", "mongodb://127.0.0.1:1")
    config = parse_config({"storage": {"backend": "mongo", "mongo_uri": "env:MONGO_URI"}})
    config = attrs.evolve(config, keys=KeysSettings(keyring=str(tmp_path / "k")))
    with pytest.raises(ConfigError, match="audit log and the scheduler have no MongoDB store"):
        async with open_services(config):
            pass


def test_storage_and_keys_settings_are_validated() -> None:
    with pytest.raises(ConfigError, match="storage.mongo_uri: required"):
        parse_config({"storage": {"backend": "mongo"}})
    with pytest.raises(ConfigError, match="storage.backend: must be one of"):
        parse_config({"storage": {"backend": "postgres"}})
    with pytest.raises(ConfigError, match="secrets are given by reference"):
        parse_config({"storage": {"redis_url": "redis://:password@host"}})
    with pytest.raises(ConfigError, match="keys.keyring: the keyring file name must not be empty"):
        parse_config({"keys": {"keyring": " "}})
