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
import uuid
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
    S3ExportStore,
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


def _serve_config_over_tls(
    config_file: Path, port: int, tmp_path: Path, env: dict[str, str]
) -> subprocess.Popen:
    """``securebot gateway serve --config`` over TLS with :func:`_tls_files`' certificate."""
    return _securebot(
        "gateway",
        "serve",
        "--config",
        str(config_file),
        "--port",
        str(port),
        "--tls-cert",
        str(tmp_path / "cert.pem"),
        "--tls-key",
        str(tmp_path / "key.pem"),
        env=env,
        cwd=tmp_path,
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
        text = _stop(process)
    return body, text


def _stop(process: subprocess.Popen) -> str:
    """Interrupt the gateway as an operator would (Ctrl-C); its output."""
    process.send_signal(signal.SIGINT)
    try:
        output, _ = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output.decode("utf-8", "replace")


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


async def _wait_until_up(session: aiohttp.ClientSession, port: int, ctx: ssl.SSLContext) -> None:
    for _ in range(100):
        try:
            async with session.get(f"https://127.0.0.1:{port}/healthz", ssl=ctx) as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            await asyncio.sleep(0.1)
    pytest.fail("the gateway did not start")


async def _download(port: int, link: str, client_ctx: ssl.SSLContext) -> bytes:
    async with aiohttp.ClientSession() as session:
        await _wait_until_up(session, port, client_ctx)
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


@pytest.mark.parametrize("environment", ["development", "production"])
def test_serve_over_tls_end_to_end(
    environment: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a configuration file: the options and $SECUREBOT_ENV name everything."""
    kek = base64.b64encode(os.urandom(32)).decode()
    token_key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    keyring_file = tmp_path / "keyring.json"
    env = {
        **os.environ,
        "SECUREBOT_KEK": kek,
        "SECUREBOT_KEYRING": str(keyring_file),
        "SECUREBOT_EXPORT_TOKEN_KEY": token_key,
        "SECUREBOT_ENV": environment,  # the keyring is bound to it
    }
    made = CliRunner().invoke(
        cli, ["keys", "init", "--provider", "env"], env=env, catch_exceptions=False
    )
    assert made.exit_code == 0, made.output
    monkeypatch.setenv("SECUREBOT_KEK", kek)
    monkeypatch.setenv("SECUREBOT_ENV", environment)
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


MONGO_ENV = "SECUREBOT_TEST_MONGODB_URI"
MONGO_SKIP = f"gateway on a real MongoDB NOT run: {MONGO_ENV} unset"
KEY_VARIABLE = "GATEWAY_TEST_DOWNLOAD_KEY"  # the bot's [plugin.chatlogs] token_key_env


def _write_config(tmp_path: Path, port: int, storage: str, chatlogs: str = "") -> Path:
    """The bot's production configuration: the gateway reads the same file."""
    path = tmp_path / "securebot.toml"
    path.write_text(
        f"""
[bot]
environment = "production"

[storage]
{storage}

[keys]
keyring = "{tmp_path / "keyring.json"}"

[plugins]
enable = ["chatlogs"]

[plugin.chatlogs]
store_dir = "{tmp_path / "objects"}"
gateway_url = "https://127.0.0.1:{port}"
token_key_env = "{KEY_VARIABLE}"
{chatlogs}
""",
        encoding="utf-8",
    )
    return path


async def _export_as_the_bot(config_file: Path, token_key: str):
    """What ``savechat`` does in the bot: an export on the configured services and stores."""
    from securebot.core.config import load_config
    from securebot.exports import object_store_from_settings
    from securebot.runtime import open_services

    config = load_config(config_file)
    settings = config.plugin_settings("chatlogs")
    async with open_services(config) as services:
        service = ExportService(
            store=object_store_from_settings(settings),
            metadata=StoreExportMetadata(services.store),
            signer=DownloadTokenSigner(Secret(base64.urlsafe_b64decode(token_key))),
            gateway_url=settings["gateway_url"],
        )
        info = ExportInfo("#general", BASE, channel_id=1, guild_id=2)
        return await service.export_messages(make_messages(10), info, owner_id=5)


async def _gateway_audit(config_file: Path):
    """The HTTP events in the bot's audit log (opened with the keyring), and the chain reports."""
    from securebot.core.audit import EventKind
    from securebot.core.config import load_config
    from securebot.runtime import open_services

    async with open_services(load_config(config_file)) as services:
        log = services.audit_log()
        events = []
        for chain in await log.store.chains():
            events.extend(entry.event for entry in await log.entries(chain))
        reports = await log.verify_all()
    return [e for e in events if e.kind is EventKind.HTTP], reports


async def _drop_mongo_database(uri: str, name: str) -> None:
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(uri)
    try:
        await client.drop_database(name)
    finally:
        await client.close()


@pytest.mark.parametrize(
    "backend",
    [
        "sqlite",
        "sqlite+redis",
        pytest.param(
            "mongo", marks=pytest.mark.skipif(not os.environ.get(MONGO_ENV), reason=MONGO_SKIP)
        ),
    ],
)
def test_serve_with_the_bots_config_end_to_end(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """Only ``--config`` (+ TLS): store, keyring (env provider, production), object store and
    the signing key's variable all come from the bot's configuration."""
    kek = base64.b64encode(os.urandom(32)).decode()
    token_key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    port = _free_port()
    database = f"securebot_gateway_{uuid.uuid4().hex[:12]}"
    if backend == "mongo":
        monkeypatch.setenv("SB_GATEWAY_TEST_MONGO_URI", os.environ[MONGO_ENV])
        storage = (
            'backend = "mongo"\nmongo_uri = "env:SB_GATEWAY_TEST_MONGO_URI"\n'
            f'mongo_database = "{database}"\nmongo_timeout_ms = 5000'
        )
    else:
        storage = f'path = "{tmp_path / "bot.sqlite3"}"'
    if backend == "sqlite+redis":  # the read-through cache in front, as the bot runs it
        monkeypatch.setenv("SB_GATEWAY_TEST_REDIS_URL", request.getfixturevalue("redis_url"))
        storage += '\nredis_url = "env:SB_GATEWAY_TEST_REDIS_URL"'
    config_file = _write_config(tmp_path, port, storage)
    _init_keyring(tmp_path / "keyring.json", kek, "production")
    monkeypatch.setenv("SECUREBOT_KEK", kek)  # the env provider reads it once, then drops it
    try:
        result = asyncio.run(_export_as_the_bot(config_file, token_key))
        if backend == "sqlite+redis":
            request.getfixturevalue("redis_server").command("FLUSHALL")  # what the bot cached
        ca = _tls_files(tmp_path)[0]
        env = {**_clean_environ(), "SECUREBOT_KEK": kek, KEY_VARIABLE: token_key}
        env.update({k: v for k, v in os.environ.items() if k.startswith("SB_GATEWAY_TEST_")})
        process = _serve_config_over_tls(config_file, port, tmp_path, env)
        body, text = _download_from(process, port, result.link, ca)
        if backend == "sqlite+redis":  # the gateway went through the cache to the store
            assert int(request.getfixturevalue("redis_server").command("DBSIZE")) > 0
        _assert_archive_opens(tmp_path, body, result)
        assert token_key not in text
        assert kek not in text
        assert result.link.split("token=")[1] not in text
        monkeypatch.setenv("SECUREBOT_KEK", kek)
        events, reports = asyncio.run(_gateway_audit(config_file))
    finally:
        if backend == "mongo":
            asyncio.run(_drop_mongo_database(os.environ[MONGO_ENV], database))
    # both downloads were audited in the bot's own log, sealed and chained as the bot's are
    assert sorted(e.outcome for e in events) == ["200", "404"]
    assert {e.via for e in events} == {"gateway"}
    assert all(report.ok for report in reports), [r.line() for r in reports]
    if backend != "mongo":
        assert not (tmp_path / "securebot.sqlite3").exists()  # no stray default store


def test_serve_on_an_unreachable_mongodb_fails_closed_with_one_clear_error(
    tmp_path: Path,
) -> None:
    password = "gateway-mongo-password-0123"
    kek = base64.b64encode(os.urandom(32)).decode()
    port = _free_port()
    config_file = _write_config(
        tmp_path,
        port,
        'backend = "mongo"\nmongo_uri = "env:SB_GATEWAY_TEST_MONGO_URI"\nmongo_timeout_ms = 300',
    )
    _init_keyring(tmp_path / "keyring.json", kek, "production")
    uri = f"mongodb://bot:{password}@127.0.0.1:{_closed_port()}/?directConnection=true"
    env = {
        **_clean_environ(),
        "SECUREBOT_KEK": kek,
        KEY_VARIABLE: base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "SB_GATEWAY_TEST_MONGO_URI": uri,
    }
    process = _securebot(
        "gateway", "serve", "--config", str(config_file), "--port", str(port), env=env, cwd=tmp_path
    )
    output, _ = process.communicate(timeout=60)
    text = output.decode("utf-8", "replace")
    assert process.returncode == 1, text
    errors = [line for line in text.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, text
    assert "MongoDB is unreachable" in errors[0]
    assert "Traceback" not in text
    assert password not in text
    assert kek not in text
    assert not list(tmp_path.glob("*.sqlite3"))  # no silent fall-back to a SQLite store
    with socket.socket() as probe:  # and nothing was left listening
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def _invoke_with_config(tmp_path: Path, *args: str, storage: str = "", **env: str):
    config_file = _write_config(
        tmp_path, _free_port(), storage or f'path = "{tmp_path / "bot.sqlite3"}"'
    )
    return _invoke(
        "serve",
        "--config",
        str(config_file),
        *args,
        env={"SECUREBOT_KEYRING": "", "SECUREBOT_STORAGE": "", **env},
    )


def test_serve_with_config_never_creates_a_store_or_a_keyring(tmp_path: Path) -> None:
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    result = _invoke_with_config(tmp_path)
    assert result.exit_code != 0
    assert f"no store at {tmp_path / 'bot.sqlite3'}" in result.output
    (tmp_path / "bot.sqlite3").write_bytes(b"")
    result = _invoke_with_config(tmp_path, **{KEY_VARIABLE: key})
    assert result.exit_code != 0
    assert f"no keyring at {tmp_path / 'keyring.json'}" in result.output
    assert not (tmp_path / "keyring.json").exists()
    assert (tmp_path / "bot.sqlite3").read_bytes() == b""
    assert key not in result.output


def test_serve_reads_the_signing_key_from_the_bots_token_key_env(tmp_path: Path) -> None:
    (tmp_path / "bot.sqlite3").write_bytes(b"")
    result = _invoke_with_config(tmp_path, SECUREBOT_EXPORT_TOKEN_KEY="c2hvcnQ")
    assert result.exit_code != 0
    assert f"${KEY_VARIABLE} is not set" in result.output
    result = _invoke_with_config(tmp_path, "--key-env", "SECUREBOT_EXPORT_TOKEN_KEY")
    assert "$SECUREBOT_EXPORT_TOKEN_KEY is not set" in result.output


def test_serve_refuses_db_on_a_mongodb_config(tmp_path: Path) -> None:
    db = tmp_path / "other.sqlite3"
    db.write_bytes(b"")
    result = _invoke_with_config(
        tmp_path,
        "--db",
        str(db),
        storage='backend = "mongo"\nmongo_uri = "env:SB_GATEWAY_TEST_MONGO_URI"',
    )
    assert result.exit_code != 0
    assert "--db (or $SECUREBOT_STORAGE) names a SQLite file" in result.output
    assert 'backend = "mongo"' in result.output


def test_s3_bucket_option_takes_the_kms_key_from_the_config(tmp_path: Path) -> None:
    config_file = tmp_path / "gw.toml"
    config_file.write_text('[plugin.chatlogs]\nkms_key_id = "alias/exports"\n', encoding="utf-8")
    result = _invoke(
        "serve",
        "--config",
        str(config_file),
        "--s3-bucket",
        "b",
        "--db",
        str(tmp_path / "missing.sqlite3"),
    )
    assert "needs --kms-key-id" not in result.output
    assert "no store at" in result.output  # got past the store checks to the next one


def test_the_group_config_option_and_the_environment_name_the_config_too(tmp_path: Path) -> None:
    config_file = _write_config(tmp_path, _free_port(), f'path = "{tmp_path / "group.sqlite3"}"')
    clean = {"SECUREBOT_KEYRING": "", "SECUREBOT_STORAGE": ""}
    result = _invoke("--config", str(config_file), "serve", env=clean)
    assert f"no store at {tmp_path / 'group.sqlite3'}" in result.output
    result = _invoke("serve", env={**clean, "SECUREBOT_CONFIG": str(config_file)})
    assert f"no store at {tmp_path / 'group.sqlite3'}" in result.output
    result = _invoke("serve", "--config", str(tmp_path / "missing.toml"), env=clean)
    assert "configuration file not found" in result.output


def test_serve_with_a_config_naming_s3_redirects_to_the_bucket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, moto_endpoint: str
) -> None:
    """``s3_bucket`` + ``kms_key_id`` + ``s3_endpoint`` from the configuration (moto's server):
    the bot writes to the bucket, the gateway answers with a short presigned URL to it."""
    import boto3

    aws = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    for name, value in aws.items():
        monkeypatch.setenv(name, value)
    kms_key = boto3.client("kms", endpoint_url=moto_endpoint).create_key()["KeyMetadata"]["Arn"]
    bucket = f"gw-config-{uuid.uuid4().hex[:8]}"
    kek = base64.b64encode(os.urandom(32)).decode()
    token_key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    port = _free_port()
    config_file = _write_config(
        tmp_path,
        port,
        f'path = "{tmp_path / "bot.sqlite3"}"',
        f's3_bucket = "{bucket}"\nkms_key_id = "{kms_key}"\ns3_endpoint = "{moto_endpoint}"',
    )
    _init_keyring(tmp_path / "keyring.json", kek, "production")

    async def bot_side():
        from securebot.core.config import load_config
        from securebot.exports import object_store_from_settings

        store = object_store_from_settings(load_config(config_file).plugin_settings("chatlogs"))
        assert isinstance(store, S3ExportStore)
        await store.ensure_bucket()
        return await _export_as_the_bot(config_file, token_key)

    monkeypatch.setenv("SECUREBOT_KEK", kek)
    result = asyncio.run(bot_side())
    assert result.record.store == "s3"
    ca = _tls_files(tmp_path)[0]
    env = {**_clean_environ(), **aws, "SECUREBOT_KEK": kek, KEY_VARIABLE: token_key}
    process = _serve_config_over_tls(config_file, port, tmp_path, env)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)

    async def fetch() -> bytes:
        async with aiohttp.ClientSession() as session:
            await _wait_until_up(session, port, client_ctx)
            async with session.get(result.link, ssl=client_ctx, allow_redirects=False) as response:
                assert response.status == 302
                location = response.headers["Location"]
            assert location.startswith(f"{moto_endpoint}/{bucket}/exports/")
            async with session.get(location) as response:
                assert response.status == 200
                return await response.read()

    try:
        body = asyncio.run(fetch())
    finally:
        text = _stop(process)
    _assert_archive_opens(tmp_path, body, result)
    assert result.link.split("token=")[1] not in text
    assert token_key not in text
