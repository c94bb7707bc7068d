"""``chatlogs`` wiring: settings are validated (fail closed), the purge runs at startup, data
rights list and erase a user's exports."""

from __future__ import annotations

import asyncio
import base64
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from tests.exports.conftest import BASE, make_messages

import securebot
from securebot.core.audit import AuditLog, MemoryAuditStore
from securebot.crypto import Secret
from securebot.errors import ConfigError, ExportError
from securebot.exports import (
    DownloadTokenSigner,
    ExportInfo,
    ExportService,
    LocalExportStore,
    MemoryExportMetadataStore,
    S3ExportStore,
)
from securebot.plugins.chatlogs import ChatLogs
from securebot.plugins.chatlogs.plugin import _service_from_settings


class Clock:
    now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


BOT = SimpleNamespace(
    audit_log=AuditLog(MemoryAuditStore()), plugin_manager=securebot.PluginManager()
)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"bogus": 1}, "unknown setting"),
        ({"s3_bucket": "exports-bucket"}, "kms_key_id"),
        ({"gateway_url": "http://gw.example"}, "https://"),
        ({"gateway_url": "http://127.0.0.1:8080"}, "https:// in production"),
        ({"gateway_url": 42}, "https://"),
        ({"gateway_url": "https://gw.example", "token_key_env": "NO_SUCH_VAR_X"}, "NO_SUCH_VAR_X"),
        ({"gateway_url": "https://gw.example", "token_key": "a" * 44}, "never in a configuration"),
        ({"token_key": "a" * 44}, "never in a configuration"),
    ],
)
def test_bad_settings_stop_the_start(settings, message) -> None:
    with pytest.raises(ConfigError, match=message):
        _service_from_settings(settings, BOT)  # type: ignore[arg-type]


def test_settings_build_a_gateway_linked_service(monkeypatch, tmp_path: Path) -> None:
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("SECUREBOT_EXPORT_TOKEN_KEY", key)
    service = _service_from_settings(
        {"gateway_url": "https://gw.example", "store_dir": str(tmp_path / "x")},
        BOT,  # type: ignore[arg-type]
    )
    assert service.gateway_url == "https://gw.example"
    assert service.signer is not None
    assert service.audit is BOT.audit_log
    assert isinstance(service.store, LocalExportStore)
    assert "csv" in service.formats
    s3 = _service_from_settings(
        {"s3_bucket": "exports-bucket", "kms_key_id": "arn:aws:kms:x"},
        BOT,  # type: ignore[arg-type]
    )
    assert isinstance(s3.store, S3ExportStore)
    assert s3.store.kms_key_id == "arn:aws:kms:x"


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9", "https://gw.example"]
)
def test_development_may_use_a_loopback_http_gateway(url: str, monkeypatch) -> None:
    monkeypatch.setenv(
        "SECUREBOT_EXPORT_TOKEN_KEY", base64.urlsafe_b64encode(os.urandom(32)).decode()
    )
    service = _service_from_settings({"gateway_url": url}, BOT, production=False)  # type: ignore[arg-type]
    assert service.gateway_url == url


@pytest.mark.parametrize("url", ["http://gw.example", "http://10.0.0.1", "ftp://127.0.0.1"])
def test_development_refuses_plain_http_off_loopback(url: str) -> None:
    with pytest.raises(ConfigError, match="127.0.0.1 in development"):
        _service_from_settings({"gateway_url": url}, BOT, production=False)  # type: ignore[arg-type]


def _service(tmp_path: Path, clock: Clock, **kw) -> ExportService:
    return ExportService(
        store=LocalExportStore(tmp_path, clock=clock),
        metadata=MemoryExportMetadataStore(),
        clock=clock,
        **kw,
    )


def _archives(root: Path) -> list[Path]:
    return list(root.rglob("*.7z"))


INFO = ExportInfo("#x", BASE, channel_id=1, guild_id=2)


async def test_without_a_gateway_local_exports_are_refused_and_undone(tmp_path: Path) -> None:
    service = _service(tmp_path, Clock())
    with pytest.raises(ExportError, match="configure the download gateway"):
        await service.export_messages(make_messages(2), INFO, owner_id=9)
    assert service.metadata.documents == {}
    assert _archives(tmp_path) == []


async def test_startup_purges_expired_exports_and_data_rights_work(tmp_path: Path) -> None:
    clock = Clock()
    signer = DownloadTokenSigner(Secret(os.urandom(32)), clock=clock)
    service = _service(tmp_path, clock, signer=signer, gateway_url="https://gw.example")
    plugin = ChatLogs(service=service)
    first = await service.export_messages(make_messages(2), INFO, owner_id=9)
    clock.now += 20 * 86_400
    second = await service.export_messages(make_messages(2), INFO, owner_id=9)
    other = await service.export_messages(make_messages(2), INFO, owner_id=10)
    exported = await plugin.securebot_export_user_data(9)
    assert sorted(e["export_id"] for e in exported["exports"]) == sorted(
        [first.record.export_id, second.record.export_id]
    )
    assert "password" not in str(exported).lower()
    clock.now += 11 * 86_400  # the first is 31 days old
    await plugin.securebot_startup(BOT)  # type: ignore[arg-type]
    for _ in range(50):
        await asyncio.sleep(0.01)
        if first.record.export_id not in service.metadata.documents:
            break
    await plugin.securebot_shutdown(BOT)  # type: ignore[arg-type]
    assert set(service.metadata.documents) == {second.record.export_id, other.record.export_id}
    assert await plugin.securebot_delete_user_data(9) == 1
    assert set(service.metadata.documents) == {other.record.export_id}
    assert len(_archives(tmp_path)) == 1
