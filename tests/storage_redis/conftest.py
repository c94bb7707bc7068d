"""Fixtures of the Redis tests: real ``redis-server`` / ``redis-sentinel`` processes on free ports.

They wrap :mod:`securebot.testing.redis`; the lead may expose the same fixtures to plugin authors
through ``securebot.testing.pytest_plugin``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from securebot.testing.redis import (
    RedisServer,
    RedisTLSFiles,
    SentinelTopology,
    start_redis_server,
    start_sentinel_topology,
)


@pytest.fixture(scope="session")
def redis_server_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One redis-server for the whole session (tests get it emptied by ``redis_server``)."""
    with start_redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis_server(redis_server_session: RedisServer) -> RedisServer:
    """A running redis-server with an empty keyspace."""
    assert redis_server_session.alive, "the session redis-server died"
    redis_server_session.command("FLUSHALL")
    return redis_server_session


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """``redis://127.0.0.1:<port>/0`` of an emptied redis-server."""
    return redis_server.url


@pytest.fixture
def sentinel_topology(tmp_path: Path) -> Iterator[SentinelTopology]:
    """A fresh master + replica + 3 converged sentinels (failover tests may kill any of them)."""
    with start_sentinel_topology(tmp_path / "topology") as topology:
        yield topology


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
