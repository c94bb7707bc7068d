"""TLS fixtures of the Redis tests. ``redis_server``, ``redis_url`` and ``sentinel_topology``
come from securebot's pytest plugin (``securebot.testing.pytest_plugin``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from securebot.testing.redis import (
    RedisServer,
    RedisTLSFiles,
    start_redis_server,
)


@pytest.fixture(scope="session")
def redis_tls_files(tmp_path_factory: pytest.TempPathFactory) -> RedisTLSFiles:
    """A CA, a server certificate for 127.0.0.1 and a client certificate (trustme)."""
    root = tmp_path_factory.mktemp("redis-tls")
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    client = ca.issue_cert("securebot-client@example.invalid")
    ca.cert_pem.write_to_path(str(root / "ca.pem"))
    server.cert_chain_pems[0].write_to_path(str(root / "server.pem"))
    server.private_key_pem.write_to_path(str(root / "server.key"))
    client.cert_chain_pems[0].write_to_path(str(root / "client.pem"))
    client.private_key_pem.write_to_path(str(root / "client.key"))
    return RedisTLSFiles(
        ca=root / "ca.pem",
        cert=root / "server.pem",
        key=root / "server.key",
        client_cert=root / "client.pem",
        client_key=root / "client.key",
    )


@pytest.fixture
def redis_tls_server(tmp_path: Path, redis_tls_files: RedisTLSFiles) -> Iterator[RedisServer]:
    """A TLS-only redis-server that requires client certificates (mutual TLS)."""
    with start_redis_server(tmp_path / "tls", tls=redis_tls_files) as server:
        yield server
