"""The composition root: a configured bot opens its keyring (fail closed) and store, and keeps
what users type sealed, with every new guild key on disk before data under it."""

from __future__ import annotations

import base64
import os
import socket
from pathlib import Path

import attrs
import pytest

from securebot.core.app import build_bot
from securebot.core.audit import CipherSealer
from securebot.core.config import Config, KeysSettings, StorageSettings, parse_config
from securebot.core.storage import Scope, Store
from securebot.crypto import make_provider, open_keyring_file
from securebot.errors import BackendUnavailableError, ConfigError, KeyringError
from securebot.runtime import open_services
from securebot.storage.sqlite import SqliteAuditStore, SqliteBackend, SqliteJobStore

SECRET = "hunter2-is-my-webhook-token"
MONGO_ENV = "SECUREBOT_TEST_MONGODB_URI"
MONGO_SKIP = f"MongoDB runtime wiring NOT run against a server: {MONGO_ENV} unset"


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
        assert bot.scheduler.store.cipher is not None  # payloads sealed
        assert services.sqlite is not None
        assert bot.audit_log.store.backend is services.sqlite is bot.scheduler.store.backend
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


def mongo_config(tmp_path: Path, **storage: object) -> Config:
    config = parse_config(
        {"storage": {"backend": "mongo", "mongo_uri": "env:SB_TEST_MONGO_URI", **storage}}
    )
    return attrs.evolve(config, keys=KeysSettings(keyring=str(tmp_path / "bot.keyring")))


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again on return: nothing listens there


def test_mongo_storage_puts_the_audit_log_and_jobs_on_the_same_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from securebot.crypto import Keyring
    from securebot.runtime.services import _backend, mongo_settings
    from securebot.storage.mongo import MongoBackend
    from securebot.storage.mongo_audit import MongoAuditStore
    from securebot.storage.mongo_jobs import MongoJobStore
    from securebot.storage.redis_cache import RedisCache

    monkeypatch.setenv("SB_TEST_MONGO_URI", "mongodb://bot:pw-0123456789@db.example/?tls=true")
    monkeypatch.setenv("SB_TEST_REDIS_URL", "redis://127.0.0.1:1/0")
    storage = parse_config(
        {
            "storage": {
                "backend": "mongo",
                "mongo_uri": "env:SB_TEST_MONGO_URI",
                "mongo_database": "prod",
                "mongo_tls_ca_file": "/etc/ssl/ca.pem",
                "mongo_tls_certificate_key_file": "/etc/ssl/bot.pem",
                "mongo_x509_auth": True,
                "mongo_timeout_ms": 2500,
                "redis_url": "env:SB_TEST_REDIS_URL",
            }
        }
    ).storage
    opened = _backend(storage, Keyring.generate())
    assert isinstance(opened.backend, RedisCache)  # the cache sits in front of MongoDB...
    assert isinstance(opened.audit_store, MongoAuditStore)  # ...never in front of the audit log
    assert isinstance(opened.job_store, MongoJobStore)
    assert opened.job_store.cipher is not None
    mongo = opened.audit_store.backend
    assert isinstance(mongo, MongoBackend)
    assert opened.job_store.backend is mongo  # one client for records, audit and jobs
    assert opened.sqlite is None
    settings = mongo_settings(storage)
    assert settings.database == "prod"
    kwargs = settings.client_kwargs()
    assert kwargs["tlsCAFile"] == "/etc/ssl/ca.pem"
    assert kwargs["tlsCertificateKeyFile"] == "/etc/ssl/bot.pem"
    assert kwargs["authMechanism"] == "MONGODB-X509"
    assert kwargs["serverSelectionTimeoutMS"] == 2500
    assert kwargs["w"] == "majority"
    assert "pw-0123456789" not in repr(settings) + repr(mongo) + repr(opened)


async def test_mongo_unreachable_stops_start_up_clearly_without_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    password = "s3cret-mongo-password"
    uri = f"mongodb://bot:{password}@127.0.0.1:{_closed_port()}/?directConnection=true"
    monkeypatch.setenv("SB_TEST_MONGO_URI", uri)
    monkeypatch.chdir(tmp_path)  # where a default SQLite file would appear
    config = mongo_config(tmp_path, mongo_timeout_ms=300)
    with pytest.raises(BackendUnavailableError, match="MongoDB is unreachable") as caught:
        async with open_services(config):
            pytest.fail("services opened without a server")
    assert password not in str(caught.value)
    assert caught.value.__cause__ is None
    assert password not in caplog.text
    assert config.storage.path == "securebot.sqlite3"
    assert not (tmp_path / "securebot.sqlite3").exists()  # no silent fall-back to SQLite


@pytest.mark.skipif(not os.environ.get(MONGO_ENV), reason=MONGO_SKIP)
async def test_mongo_services_open_wire_and_close_on_a_real_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt
    import uuid

    from pymongo import AsyncMongoClient

    from securebot.core.audit import AuditEvent, EventKind
    from securebot.core.scheduler import Job
    from securebot.storage.mongo_audit import MongoAuditStore
    from securebot.storage.mongo_jobs import MongoJobStore

    uri = os.environ[MONGO_ENV]
    monkeypatch.setenv("SB_TEST_MONGO_URI", uri)
    database = f"securebot_runtime_{uuid.uuid4().hex[:12]}"
    config = mongo_config(tmp_path, mongo_database=database)
    try:
        async with open_services(config) as services:
            register(services.store)
            await services.store.settings("webhooks").guild(4242).set("url", SECRET)
            bot = build_bot(config)
            await services.wire(bot)
            assert isinstance(bot.audit_log.store, MongoAuditStore)
            assert isinstance(bot.scheduler.store, MongoJobStore)
            due = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
            await bot.scheduler.store.add(
                Job(id="j1", kind="alarm.remind", due=due, guild_id=9, payload={"text": SECRET})
            )
            bot.audit_log.record(AuditEvent(EventKind.COMMAND, 1000.0, guild_id=9, action="x"))
            assert await bot.audit_log.flush() == 1
        async with open_services(config) as services:
            register(services.store)
            assert await services.store.settings("webhooks").guild(4242).get("url") == SECRET
            bot = build_bot(config)
            await services.wire(bot)
            (report,) = await bot.audit_log.verify_all()
            assert report.ok, report.line()
            job = await bot.scheduler.store.get("j1")
            assert job is not None
            assert job.payload == {"text": SECRET}
        client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(uri)
        try:
            raw = []
            for name in await client[database].list_collection_names():
                raw += await client[database][name].find({}).to_list(None)
            assert raw
            assert SECRET not in repr(raw)
        finally:
            await client.close()
    finally:
        client = AsyncMongoClient(uri)
        try:
            await client.drop_database(database)
        finally:
            await client.close()


def test_storage_and_keys_settings_are_validated() -> None:
    with pytest.raises(ConfigError, match="storage.mongo_uri: required"):
        parse_config({"storage": {"backend": "mongo"}})
    with pytest.raises(ConfigError, match="storage.backend: must be one of"):
        parse_config({"storage": {"backend": "postgres"}})
    with pytest.raises(ConfigError, match="secrets are given by reference"):
        parse_config({"storage": {"redis_url": "redis://:password@host"}})
    with pytest.raises(ConfigError, match="keys.keyring: the keyring file name must not be empty"):
        parse_config({"keys": {"keyring": " "}})
    with pytest.raises(ConfigError, match="mongo_x509_auth: needs storage.mongo_tls_certificate"):
        parse_config({"storage": {"mongo_x509_auth": True}})
    with pytest.raises(ConfigError, match="storage.mongo_timeout_ms: must be between"):
        parse_config({"storage": {"mongo_timeout_ms": 0}})
