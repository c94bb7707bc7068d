"""Our certificates secure a real redis-server with ``tls-auth-clients yes``.

The server is a separate process, so its own certificate and key are written to a temporary
directory for it; every client here gets its material from memory (:class:`securebot.crypto.tls.
RedisTLS`). Negative checks run with no retries (redis-py 8 retries by default, which would only
make them slow).
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio
from cryptography.hazmat.primitives.serialization import Encoding
from redis.backoff import NoBackoff
from redis.retry import Retry

from securebot.crypto import pki, tls
from securebot.errors import CertificateError

pytestmark = pytest.mark.slow


@dataclass
class TLSRedis:
    port: int
    log: Path
    root: pki.CertifiedKey
    intermediate: pki.CertifiedKey
    server: pki.CertifiedKey

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(binary: str, directory: Path, port: int) -> subprocess.Popen[bytes]:
    log = directory / "redis.log"
    return subprocess.Popen(
        [
            binary,
            "--port", "0",
            "--tls-port", str(port),
            "--bind", "127.0.0.1",
            "--tls-cert-file", str(directory / "server.pem"),
            "--tls-key-file", str(directory / "server.key"),
            "--tls-ca-cert-file", str(directory / "root.pem"),
            "--tls-auth-clients", "yes",
            "--tls-protocols", "TLSv1.2 TLSv1.3",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(directory),
            "--logfile", str(log),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.fixture(scope="module")
def tls_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TLSRedis]:
    binary = shutil.which("redis-server")
    assert binary, "redis-server is required (./dev test installs it: apt-get install redis-server)"
    directory = tmp_path_factory.mktemp("tls-redis")
    root = pki.create_root()
    intermediate = pki.create_intermediate(root)
    server = pki.issue_server(intermediate, "redis", dns=["localhost"], ips=["127.0.0.1"])
    # The server process reads files: only its own material goes to disk, in a private tmp dir.
    (directory / "server.pem").write_bytes(
        pki.bundle_pem(server.certificate, intermediate.certificate)
    )
    (directory / "server.key").write_bytes(server.private_key_pem())
    (directory / "server.key").chmod(0o600)
    (directory / "root.pem").write_bytes(root.certificate_pem())
    for _attempt in range(3):  # another process may grab the free port first
        port = _free_port()
        process = _start(binary, directory, port)
        log = directory / "redis.log"
        deadline = time.monotonic() + 10
        while process.poll() is None and time.monotonic() < deadline:
            if log.exists() and "Ready to accept connections" in log.read_text():
                break
            time.sleep(0.02)
        if process.poll() is None:
            break
    else:
        pytest.fail(f"redis-server did not start:\n{log.read_text(errors='replace')[-2000:]}")
    try:
        yield TLSRedis(port, log, root, intermediate, server)
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def no_retry() -> dict[str, Any]:
    return {"retry": Retry(NoBackoff(), 0), "socket_timeout": 5, "socket_connect_timeout": 5}


def client_material(
    env: TLSRedis, leaf: pki.CertifiedKey, issuer: pki.CertifiedKey
) -> tls.RedisTLS:
    return tls.RedisTLS(
        ca_pem=env.root.certificate_pem(),
        cert_chain_pem=pki.bundle_pem(leaf.certificate, issuer.certificate),
        key_pem=leaf.private_key_pem(),
    )


def test_mtls_client_from_memory_can_ping_and_write(tls_redis: TLSRedis) -> None:
    leaf = pki.issue_client(tls_redis.intermediate, "bot")
    with client_material(tls_redis, leaf, tls_redis.intermediate) as material:
        client = redis.Redis(host="127.0.0.1", port=tls_redis.port, **material.kwargs())
        try:
            assert client.ping() is True
            client.set("greeting", "hi")
            assert client.get("greeting") == b"hi"
            # the plaintext port is closed: only the TLS port listens
            assert client.config_get("port") == {"port": "0"}
            assert client.config_get("tls-auth-clients") == {"tls-auth-clients": "yes"}
        finally:
            client.close()


async def test_async_mtls_client_can_ping(tls_redis: TLSRedis) -> None:
    leaf = pki.issue_client(tls_redis.intermediate, "bot-async")
    with client_material(tls_redis, leaf, tls_redis.intermediate) as material:
        client = redis.asyncio.Redis(host="127.0.0.1", port=tls_redis.port, **material.kwargs())
        try:
            assert await client.ping() is True
        finally:
            await client.aclose()


def test_client_without_certificate_is_rejected(tls_redis: TLSRedis) -> None:
    mark = len(tls_redis.log_text())
    client = redis.Redis(
        host="127.0.0.1",
        port=tls_redis.port,
        ssl=True,
        ssl_ca_data=tls_redis.root.certificate_pem().decode(),
        **no_retry(),
    )
    with pytest.raises(redis.ConnectionError):
        client.ping()
    client.close()
    assert _eventually_logged(tls_redis, "peer did not return a certificate", since=mark)


def test_client_from_another_ca_is_rejected(tls_redis: TLSRedis) -> None:
    mark = len(tls_redis.log_text())
    rogue_root = pki.create_root("rogue root")
    rogue_intermediate = pki.create_intermediate(rogue_root)
    rogue = pki.issue_client(rogue_intermediate, "bot")
    material = tls.RedisTLS(
        ca_pem=tls_redis.root.certificate_pem(),  # trusts our server, presents a rogue cert
        cert_chain_pem=pki.bundle_pem(rogue.certificate, rogue_intermediate.certificate),
        key_pem=rogue.private_key_pem(),
    )
    with material:
        client = redis.Redis(
            host="127.0.0.1", port=tls_redis.port, **material.kwargs(), **no_retry()
        )
        with pytest.raises(redis.ConnectionError):
            client.ping()
        client.close()
    assert _eventually_logged(tls_redis, "certificate verify failed", since=mark)


def test_server_certificate_presented_as_client_is_rejected(tls_redis: TLSRedis) -> None:
    mark = len(tls_redis.log_text())
    wrong_purpose = pki.issue_server(tls_redis.intermediate, "not-a-client", dns=["bot.local"])
    with client_material(tls_redis, wrong_purpose, tls_redis.intermediate) as material:
        client = redis.Redis(
            host="127.0.0.1", port=tls_redis.port, **material.kwargs(), **no_retry()
        )
        with pytest.raises(redis.ConnectionError):
            client.ping()
        client.close()
    # redis-server logs only "certificate verify failed" (OpenSSL: unsuitable certificate purpose)
    assert _eventually_logged(tls_redis, "certificate verify failed", since=mark)


def test_plaintext_is_rejected(tls_redis: TLSRedis) -> None:
    mark = len(tls_redis.log_text())
    client = redis.Redis(
        host="127.0.0.1", port=tls_redis.port, **{**no_retry(), "socket_timeout": 1}
    )
    # the TLS port waits for the rest of what it takes for a TLS record, then drops the client
    with pytest.raises((redis.ConnectionError, redis.TimeoutError)):
        client.ping()
    client.close()
    assert _eventually_logged(tls_redis, "wrong version number", since=mark)


def test_client_trusting_another_root_refuses_the_server(tls_redis: TLSRedis) -> None:
    leaf = pki.issue_client(tls_redis.intermediate, "bot")
    other_root = pki.create_root("some other root")
    material = tls.RedisTLS(
        ca_pem=other_root.certificate_pem(),
        cert_chain_pem=pki.bundle_pem(leaf.certificate, tls_redis.intermediate.certificate),
        key_pem=leaf.private_key_pem(),
    )
    with material:
        client = redis.Redis(
            host="127.0.0.1", port=tls_redis.port, **material.kwargs(), **no_retry()
        )
        with pytest.raises(redis.ConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
            client.ping()
        client.close()


def test_client_with_crl_refuses_a_revoked_server_and_accepts_otherwise(
    tls_redis: TLSRedis,
) -> None:
    leaf = pki.issue_client(tls_redis.intermediate, "bot")
    chain = pki.bundle_pem(leaf.certificate, tls_redis.intermediate.certificate)
    results = {}
    for label, revoked in (
        ("current", [12345]),
        ("revoked", [tls_redis.server.certificate.serial_number]),
    ):
        crl = pki.create_crl(tls_redis.intermediate, revoked).public_bytes(Encoding.PEM)
        with tls.RedisTLS(
            ca_pem=tls_redis.root.certificate_pem(),
            cert_chain_pem=chain,
            key_pem=leaf.private_key_pem(),
            crl_pem=crl,
        ) as material:
            client = redis.Redis(
                host="127.0.0.1", port=tls_redis.port, **material.kwargs(), **no_retry()
            )
            try:
                results[label] = client.ping()
            except redis.ConnectionError as exc:
                results[label] = str(exc)
            finally:
                client.close()
    assert results["current"] is True
    assert "certificate revoked" in str(results["revoked"])


def test_strict_connection_class_trusts_the_root_only_sync(tls_redis: TLSRedis) -> None:
    leaf = pki.issue_client(tls_redis.intermediate, "bot")
    with client_material(tls_redis, leaf, tls_redis.intermediate) as material:
        strict = material.connection_class(redis.SSLConnection)
        pool = redis.ConnectionPool(
            connection_class=strict, host="127.0.0.1", port=tls_redis.port, **no_retry()
        )
        client = redis.Redis(connection_pool=pool)
        try:
            assert client.ping() is True
            connection = pool.get_connection()
            try:
                # our context, not one redis-py built: root only, no system CAs
                context = connection._sock.context
                assert [c["subject"] for c in context.get_ca_certs()] == [
                    ((("commonName", "securebot root CA"),),)
                ]
                assert context.verify_flags & ssl.VERIFY_X509_STRICT
            finally:
                pool.release(connection)
        finally:
            client.close()


async def test_strict_connection_class_trusts_the_root_only_async(tls_redis: TLSRedis) -> None:
    leaf = pki.issue_client(tls_redis.intermediate, "bot")
    with client_material(tls_redis, leaf, tls_redis.intermediate) as material:
        strict = material.connection_class(redis.asyncio.SSLConnection)
        pool = redis.asyncio.ConnectionPool(
            connection_class=strict, host="127.0.0.1", port=tls_redis.port, **no_retry()
        )
        client = redis.asyncio.Redis(connection_pool=pool)
        try:
            assert await client.ping() is True
        finally:
            await client.aclose()
            await pool.disconnect()


@pytest.mark.parametrize("flavour", ["sync", "async"])
async def test_strict_connection_class_uses_our_crl(tls_redis: TLSRedis, flavour: str) -> None:
    # No ssl_* keyword reaches redis-py here: the refusal can only come from our context.
    leaf = pki.issue_client(tls_redis.intermediate, "bot")
    crl = pki.create_crl(tls_redis.intermediate, [tls_redis.server.certificate.serial_number])
    material = tls.RedisTLS(
        ca_pem=tls_redis.root.certificate_pem(),
        cert_chain_pem=pki.bundle_pem(leaf.certificate, tls_redis.intermediate.certificate),
        key_pem=leaf.private_key_pem(),
        crl_pem=crl.public_bytes(Encoding.PEM),
    )
    with material:
        if flavour == "sync":
            pool = redis.ConnectionPool(
                connection_class=material.connection_class(redis.SSLConnection),
                host="127.0.0.1",
                port=tls_redis.port,
                **no_retry(),
            )
            with pytest.raises(redis.ConnectionError, match="certificate revoked"):
                redis.Redis(connection_pool=pool).ping()
            pool.disconnect()
        else:
            apool = redis.asyncio.ConnectionPool(
                connection_class=material.connection_class(redis.asyncio.SSLConnection),
                host="127.0.0.1",
                port=tls_redis.port,
                **no_retry(),
            )
            with pytest.raises(redis.ConnectionError, match="certificate revoked"):
                await redis.asyncio.Redis(connection_pool=apool).ping()
            await apool.disconnect()


def test_connection_class_refuses_what_it_cannot_configure(tls_redis: TLSRedis) -> None:
    leaf = pki.issue_client(tls_redis.intermediate, "bot")
    with client_material(tls_redis, leaf, tls_redis.intermediate) as material:
        for plain in (redis.Connection, redis.asyncio.Connection):
            with pytest.raises(CertificateError, match="use RedisTLS.kwargs"):
                material.connection_class(plain)


def test_closed_material_is_gone(tls_redis: TLSRedis) -> None:
    leaf = pki.issue_client(tls_redis.intermediate, "bot")
    material = client_material(tls_redis, leaf, tls_redis.intermediate)
    path = Path(material.kwargs()["ssl_certfile"])
    assert os.readlink(path) == "/memfd:securebot-redis-tls (deleted)"
    assert path.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    assert "PRIVATE" not in repr(material)
    material.close()
    assert repr(material) == "RedisTLS(closed)"
    # the descriptor number may be reused by anything else, but never for our key material
    assert not path.exists() or not os.readlink(path).startswith("/memfd:securebot-redis-tls")
    with pytest.raises(CertificateError, match="closed"):
        material.kwargs()


def _eventually_logged(env: TLSRedis, text: str, since: int) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if text in env.log_text()[since:]:
            return True
        time.sleep(0.02)
    return False
