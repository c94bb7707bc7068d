"""The in-process download gateway of development runs: only when wanted, loopback only, a key
for this run that is gone afterwards."""

from __future__ import annotations

import os
from pathlib import Path

import aiohttp
import pytest

from securebot.core.config import parse_config
from securebot.core.storage import Store
from securebot.crypto import Keyring
from securebot.runtime.downloads import (
    DEVELOPMENT_KEY_ENV,
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
    assert DEVELOPMENT_KEY_ENV not in os.environ
    store = Store(SqliteBackend(tmp_path / "s.sqlite3"), keyring=Keyring.generate())
    await store.open()
    config = _config(store_dir=str(tmp_path / "exports"))
    try:
        async with development_downloads(config, store) as downloads:
            assert downloads is not None
            assert downloads.url.startswith("http://127.0.0.1:")
            settings = downloads.config.plugin_settings("chatlogs")
            assert settings["gateway_url"] == downloads.url
            assert settings["token_key_env"] == DEVELOPMENT_KEY_ENV
            assert settings["store_dir"] == str(tmp_path / "exports")
            assert len(os.environ[DEVELOPMENT_KEY_ENV]) >= 43  # 32 random bytes, base64
            assert config.plugin_settings("chatlogs").get("gateway_url") is None  # not mutated
            url = f"{downloads.url}/exports/{'0' * 32}?token=v1.forged.tag"
            async with aiohttp.ClientSession() as session, session.get(url) as response:
                assert response.status == 404  # a real gateway: forged links are refused
        assert DEVELOPMENT_KEY_ENV not in os.environ
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
            assert DEVELOPMENT_KEY_ENV not in os.environ
    finally:
        await store.close()
