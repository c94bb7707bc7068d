"""``securebot gateway``: new-key, option checks, and ``serve`` as a real process over TLS."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import signal
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from click.testing import CliRunner
from tests.exports.conftest import BASE, make_messages, run_7z

from securebot.cli import cli
from securebot.core.storage import Store
from securebot.crypto import Secret, open_keyring_file
from securebot.exports import (
    DownloadTokenSigner,
    ExportInfo,
    ExportService,
    LocalExportStore,
    StoreExportMetadata,
)
from securebot.gateway.app import HSTS_VALUE
from securebot.storage.sqlite import SqliteBackend

trustme = pytest.importorskip("trustme")


def _invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, ["gateway", *args], env=env or {}, catch_exceptions=False)


def test_new_key_prints_256_random_bits() -> None:
    first = _invoke("new-key").output.strip()
    second = _invoke("new-key").output.strip()
    assert first != second
    assert len(base64.urlsafe_b64decode(first + "=" * (-len(first) % 4))) == 32


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tls-cert", "c.pem"], "both --tls-cert and --tls-key"),
        (["--host", "0.0.0.0", "--store-dir", "x"], "refusing plain HTTP on 0.0.0.0"),
        ([], "--store-dir and/or --s3-bucket"),
        (["--s3-bucket", "b"], "--s3-bucket needs --kms-key-id"),
        (["--store-dir", "x", "--db", "/nonexistent/db"], "no store at /nonexistent/db"),
    ],
)
def test_serve_refuses_unsafe_or_incomplete_options(args, message, tmp_path: Path) -> None:
    result = _invoke("serve", "--keyring", str(tmp_path / "k.json"), *args)
    assert result.exit_code != 0
    assert message in result.output


def test_serve_needs_the_signing_key_and_never_prints_it(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    db.write_bytes(b"")
    base = ["serve", "--keyring", str(tmp_path / "k.json"), "--store-dir", "x", "--db", str(db)]
    result = _invoke(*base)
    assert "SECUREBOT_EXPORT_TOKEN_KEY is not set" in result.output
    result = _invoke(*base, env={"SECUREBOT_EXPORT_TOKEN_KEY": "c2hvcnQ"})
    assert "at least 32 random bytes" in result.output
    assert "c2hvcnQ" not in result.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_closed_port = _free_port  # bound, then closed again: nothing listens there


def _clean_environ() -> dict[str, str]:
    """This process's environment without any SECUREBOT* variable (the test names its own)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SECUREBOT")}


def _init_keyring(path: Path, kek: str, environment: str) -> None:
    """A sealed keyring at ``path`` under the ``env`` provider (as for production)."""
    made = CliRunner().invoke(
        cli,
        ["keys", "init", "--provider", "env", "--keyring", str(path)],
        env={"SECUREBOT_KEK": kek, "SECUREBOT_ENV": environment},
        catch_exceptions=False,
    )
    assert made.exit_code == 0, made.output


def _tls_files(tmp_path: Path) -> tuple[trustme.CA, Path, Path]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    return ca, cert_file, key_file


def _securebot(*args: str, env: dict[str, str], cwd: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "securebot"), *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _download_from(
    process: subprocess.Popen, port: int, link: str, ca: trustme.CA
) -> tuple[bytes, str]:
    """The archive behind ``link`` from the gateway ``process``; then stop it: (body, output)."""
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    try:
        body = asyncio.run(_download(port, link, client_ctx))
    finally:
        process.send_signal(signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    return body, output.decode("utf-8", "replace")


async def _make_export(db: Path, objects: Path, keyring, token_key: str, port: int):
    store = Store(SqliteBackend(db), keyring=keyring)
    await store.open()
    try:
        service = ExportService(
            store=LocalExportStore(objects),
            metadata=StoreExportMetadata(store),
            signer=DownloadTokenSigner(Secret(base64.urlsafe_b64decode(token_key))),
            gateway_url=f"https://127.0.0.1:{port}",
        )
        info = ExportInfo("#general", BASE, channel_id=1, guild_id=2)
        return await service.export_messages(make_messages(10), info, owner_id=5)
    finally:
        await store.close()


async def _download(port: int, link: str, client_ctx: ssl.SSLContext) -> bytes:
    async with aiohttp.ClientSession() as session:
        for _ in range(100):
            try:
                async with session.get(
                    f"https://127.0.0.1:{port}/healthz", ssl=client_ctx
                ) as response:
                    if response.status == 200:
                        break
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
        else:
            pytest.fail("the gateway did not start")
        async with session.get(link, ssl=client_ctx) as response:
            assert response.status == 200
            assert response.headers["Strict-Transport-Security"] == HSTS_VALUE
            body = await response.read()
        async with session.get(link + "A", ssl=client_ctx) as response:
            assert response.status == 404
        return body


def _assert_archive_opens(tmp_path: Path, body: bytes, result) -> None:
    assert hashlib.sha256(body).hexdigest() == result.record.sha256
    archive = tmp_path / "dl.7z"
    archive.write_bytes(body)
    tested = run_7z("t", f"-p{result.password.reveal()}", str(archive))
    assert tested.returncode == 0, tested.stdout


def test_serve_over_tls_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kek = base64.b64encode(os.urandom(32)).decode()
    token_key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    keyring_file = tmp_path / "keyring.json"
    env = {
        **os.environ,
        "SECUREBOT_KEK": kek,
        "SECUREBOT_KEYRING": str(keyring_file),
        "SECUREBOT_EXPORT_TOKEN_KEY": token_key,
        "SECUREBOT_ENV": "development",
    }
    made = CliRunner().invoke(
        cli, ["keys", "init", "--provider", "env"], env=env, catch_exceptions=False
    )
    assert made.exit_code == 0, made.output
    monkeypatch.setenv("SECUREBOT_KEK", kek)
    keyring = asyncio.run(open_keyring_file(keyring_file))
    ca, cert_file, key_file = _tls_files(tmp_path)
    port = _free_port()
    db, objects = tmp_path / "bot.sqlite3", tmp_path / "objects"
    result = asyncio.run(_make_export(db, objects, keyring, token_key, port))
    process = _securebot(
        "gateway",
        "serve",
        "--port",
        str(port),
        "--tls-cert",
        str(cert_file),
        "--tls-key",
        str(key_file),
        "--db",
        str(db),
        "--store-dir",
        str(objects),
        env=env,
    )
    body, text = _download_from(process, port, result.link, ca)
    _assert_archive_opens(tmp_path, body, result)
    assert token_key not in text
    assert result.link.split("token=")[1] not in text
