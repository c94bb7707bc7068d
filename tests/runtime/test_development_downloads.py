"""The in-process download gateway of development runs: only when wanted, loopback only, a key
for this run that is gone afterwards."""

from __future__ import annotations

import os
from pathlib import Path

import aiohttp
import pytest

from securebot.core.config import parse_config
from securebot.core.storage import Store
from securebot.crypto import Keyring, Secret
from securebot.runtime.downloads import (
    development_downloads,
    wants_development_downloads,
)
from securebot.storage.sqlite import SqliteBackend


def _config(environment: str = "development", plugins=("chatlogs",), **chatlogs):
    return parse_config(
        {
            "bot": {"environment": environment},
            "plugins": {"enable": list(plugins)},
            "plugin": {"chatlogs": chatlogs},
        }
    )


@pytest.mark.parametrize(
    ("config", "wanted"),
    [
        (_config(), True),
        (_config(store_dir="x"), True),
        (_config(environment="production"), False),
        (_config(plugins=("core_commands",)), False),
        (_config(gateway_url="https://gw.example"), False),
        (_config(s3_bucket="b", kms_key_id="k"), False),
    ],
)
def test_only_development_chatlogs_without_a_gateway_or_bucket_wants_one(config, wanted) -> None:
    assert wants_development_downloads(config) is wanted


async def test_serves_on_loopback_with_a_key_for_this_run_only(tmp_path: Path) -> None:
    environment = dict(os.environ)
    store = Store(SqliteBackend(tmp_path / "s.sqlite3"), keyring=Keyring.generate())
    await store.open()
    config = _config(store_dir=str(tmp_path / "exports"))
    try:
        async with development_downloads(config, store) as downloads:
            assert downloads is not None
            assert downloads.url.startswith("http://127.0.0.1:")
            settings = downloads.config.plugin_settings("chatlogs")
            assert settings["gateway_url"] == downloads.url
            assert isinstance(settings["token_key"], Secret)
            assert settings["store_dir"] == str(tmp_path / "exports")
            assert len(settings["token_key"]) == 32  # random bytes, for this run
            assert dict(os.environ) == environment  # never through the environment
            assert config.plugin_settings("chatlogs").get("gateway_url") is None  # not mutated
            url = f"{downloads.url}/exports/{'0' * 32}?token=v1.forged.tag"
            async with aiohttp.ClientSession() as session, session.get(url) as response:
                assert response.status == 404  # a real gateway: forged links are refused
        assert dict(os.environ) == environment
        with pytest.raises(aiohttp.ClientConnectionError):
            async with aiohttp.ClientSession() as session, session.get(url) as response:
                pass
    finally:
        await store.close()


async def test_does_nothing_in_production(tmp_path: Path) -> None:
    store = Store(SqliteBackend(tmp_path / "s.sqlite3"), keyring=Keyring.generate())
    await store.open()
    try:
        async with development_downloads(_config(environment="production"), store) as downloads:
            assert downloads is None
    finally:
        await store.close()


async def test_the_run_key_reaches_the_plugin_but_no_child_process(tmp_path: Path) -> None:
    """The plugin gets this run's key through the configuration it is handed, as a Secret: no
    environment variable, so a process the bot starts (a hook, a converter, 7z) never sees it,
    and a link the plugin makes opens at the gateway."""
    import asyncio
    import base64
    import subprocess
    import sys
    from types import SimpleNamespace

    import securebot
    from securebot.core.audit import AuditLog, MemoryAuditStore
    from securebot.plugins.chatlogs.plugin import _service_from_settings

    store = Store(SqliteBackend(tmp_path / "s.sqlite3"), keyring=Keyring.generate())
    await store.open()
    config = _config(store_dir=str(tmp_path / "exports"))
    try:
        async with development_downloads(config, store) as downloads:
            assert downloads is not None
            child = await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-c", "import os, json; print(json.dumps(dict(os.environ)))"],
                capture_output=True,
                text=True,
                check=True,
                timeout=60,
            )
            bot = SimpleNamespace(
                audit_log=AuditLog(MemoryAuditStore()),
                plugin_manager=securebot.PluginManager(),
                store=store,
            )
            settings = downloads.config.plugin_settings("chatlogs")
            service = _service_from_settings(settings, bot, production=False)  # type: ignore[arg-type]
            assert service.signer is not None
            token = service.signer.mint("a" * 32, 7)
            assert downloads.gateway.signer.verify(token, "a" * 32).user_id == 7
            key = service.signer._key.reveal()
            encodings = {
                base64.urlsafe_b64encode(key).decode(),
                base64.b64encode(key).decode(),
                key.hex(),
            }
            values = "\n".join(os.environ.values()) + child.stdout
            assert not any(encoded.rstrip("=") in values for encoded in encodings)
            assert "**********" in repr(settings)  # a Secret in the settings, masked
    finally:
        await store.close()
