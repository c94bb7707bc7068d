"""The gateway on the bot's services (:func:`securebot.runtime.gateway.export_gateway`).

Here on MongoDB-shaped services over mongomock (a MOCK of MongoDB's query semantics, NOT MongoDB
coverage: the CLI end-to-end test runs on a real server when SECUREBOT_TEST_MONGODB_URI is set),
so that the Mongo store of record, its audit store and the keyring's audit sealing all meet the
gateway in one process; plus the object stores named by ``[plugin.chatlogs]`` settings.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import time
from pathlib import Path

import aiohttp
import pytest
from tests.exports.conftest import BASE, make_messages, run_7z
from tests.storage_mongo.mock_adapter import MockDatabase

from securebot.core.audit import CipherSealer, EventKind
from securebot.core.storage import Store
from securebot.crypto import PURPOSES, FieldCipher, Keyring, Secret, make_provider
from securebot.errors import ConfigError
from securebot.exports import (
    DownloadTokenSigner,
    ExportInfo,
    ExportService,
    LocalExportStore,
    S3ExportStore,
    StoreExportMetadata,
    new_object_key,
    object_store_from_settings,
    object_stores_from_settings,
)
from securebot.gateway import create_app
from securebot.gateway.server import start
from securebot.runtime import KeyringFile, Services
from securebot.runtime.gateway import export_gateway
from securebot.storage.mongo import MongoBackend
from securebot.storage.mongo_audit import MongoAuditStore
from securebot.storage.mongo_jobs import MongoJobStore


async def _mongo_services(tmp_path: Path, database: MockDatabase) -> Services:
    keyring = Keyring.generate(PURPOSES)
    provider = make_provider("local", {}, environment="development", create=True)
    mongo = MongoBackend(database=database)
    store = Store(mongo, keyring=keyring)
    await store.open()
    return Services(
        keys=KeyringFile(keyring, tmp_path / "bot.keyring", provider, "development"),
        store=store,
        audit_store=MongoAuditStore(mongo),
        job_store=MongoJobStore(mongo, cipher=FieldCipher(keyring, "messages")),
    )


async def test_a_gateway_on_mongo_services_serves_the_bots_export_and_audits_it_sealed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    database = MockDatabase()
    services = await _mongo_services(tmp_path, database)
    signer = DownloadTokenSigner(Secret(os.urandom(32)))
    objects = LocalExportStore(tmp_path / "objects")
    try:
        async with export_gateway(services, signer=signer, stores={"local": objects}) as gateway:
            runner, port = await start(create_app(gateway, hsts=False), host="127.0.0.1", port=0)
            try:
                service = ExportService(  # the bot's side, on the same store of record
                    store=objects,
                    metadata=StoreExportMetadata(services.store),
                    signer=signer,
                    gateway_url=f"http://127.0.0.1:{port}",
                )
                info = ExportInfo("#general", BASE, channel_id=1, guild_id=2)
                result = await service.export_messages(make_messages(12), info, owner_id=7)
                async with aiohttp.ClientSession() as session:
                    async with session.get(result.link) as response:
                        assert response.status == 200
                        body = await response.read()
                    async with session.get(result.link + "A") as response:
                        assert response.status == 404
            finally:
                await runner.cleanup()
        assert hashlib.sha256(body).hexdigest() == result.record.sha256
        archive = tmp_path / "dl.7z"
        archive.write_bytes(body)
        assert run_7z("t", f"-p{result.password.reveal()}", str(archive)).returncode == 0
        # the audit log was flushed on exit, into the Mongo audit store, sealed and chained
        log = services.audit_log()
        assert isinstance(log.sealer, CipherSealer)
        events = []
        for chain in await log.store.chains():
            events.extend(entry.event for entry in await log.entries(chain))
        http = [e for e in events if e.kind is EventKind.HTTP]
        assert sorted(e.outcome for e in http) == ["200", "404"]
        assert {e.detail.get("export_id") for e in http} == {result.record.export_id}
        assert all(report.ok for report in await log.verify_all())
        raw = [
            doc
            for name in database._db.list_collection_names()
            if "audit" in name
            for doc in database.raw(name).find({})
        ]
        assert raw
        assert result.record.export_id not in repr(raw)  # detail is sealed under "audit"
    finally:
        await services.store.close()


def _aged_archive(root: Path, days: float) -> Path:
    path = root / new_object_key(dt.datetime.now(dt.UTC))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"7z")
    old = time.time() - days * 86400
    os.utime(path, (old, old))
    return path


@pytest.mark.parametrize("purge", [True, False])
async def test_local_stores_are_purged_while_the_gateway_runs(
    purge: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    services = await _mongo_services(tmp_path, MockDatabase())
    objects = LocalExportStore(tmp_path / "objects")
    expired, fresh = _aged_archive(objects.root, 31), _aged_archive(objects.root, 1)
    signer = DownloadTokenSigner(Secret(os.urandom(32)))
    try:
        async with export_gateway(services, signer=signer, stores={"local": objects}, purge=purge):
            for _ in range(100 if purge else 10):  # a purge would be its first step
                if not expired.exists():
                    break
                await asyncio.sleep(0.02)
        assert expired.exists() is not purge
        assert fresh.exists()
    finally:
        await services.store.close()


def test_object_stores_from_settings_name_every_store_the_bot_may_use(tmp_path: Path) -> None:
    (local,) = object_stores_from_settings({}).values()
    assert isinstance(local, LocalExportStore)
    assert local.root == Path("exports")  # the bot's default directory
    s3_only = {"s3_bucket": "b", "kms_key_id": "alias/x", "s3_endpoint": "http://127.0.0.1:1"}
    assert list(object_stores_from_settings(s3_only)) == ["s3"]
    both = object_stores_from_settings({**s3_only, "store_dir": str(tmp_path)})
    assert sorted(both) == ["local", "s3"]
    assert both["local"].root == tmp_path  # type: ignore[attr-defined]
    s3 = both["s3"]
    assert isinstance(s3, S3ExportStore)
    assert (s3.bucket, s3.kms_key_id) == ("b", "alias/x")
    # the bot writes new exports to one store: S3 when a bucket is named
    assert isinstance(object_store_from_settings({**s3_only, "store_dir": "x"}), S3ExportStore)
    assert isinstance(object_store_from_settings({"store_dir": "x"}), LocalExportStore)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"s3_bucket": "b"}, "s3_bucket needs kms_key_id"),
        ({"s3_bucket": "b", "kms_key_id": ""}, "kms_key_id: expected a non-empty string"),
        ({"s3_bucket": 3, "kms_key_id": "k"}, "s3_bucket: expected a non-empty string"),
        ({"store_dir": ["x"]}, "store_dir: expected a non-empty string"),
        ({"s3_bucket": "b", "kms_key_id": "k", "s3_endpoint": 1}, "s3_endpoint: expected"),
    ],
)
def test_bad_store_settings_are_refused_clearly(settings: dict, message: str) -> None:
    for build in (object_store_from_settings, object_stores_from_settings):
        with pytest.raises(ConfigError, match=message) as caught:
            build(settings, where="[plugin.chatlogs]")
        assert str(caught.value).startswith("[plugin.chatlogs] ")
