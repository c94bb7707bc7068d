"""securebot.testing.redis: real processes on free ports, clean teardown, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
import redis.asyncio as aioredis
from redis.backoff import NoBackoff
from redis.retry import Retry

from securebot.testing.redis import (
    RedisProcessError,
    RedisServer,
    RedisTLSFiles,
    SentinelTopology,
    redis_command,
    start_redis_server,
)


def test_two_servers_get_different_free_ports_and_die_on_exit(tmp_path: Path) -> None:
    with start_redis_server(tmp_path / "a") as a, start_redis_server(tmp_path / "b") as b:
        assert a.port != b.port
        assert a.command("SET", "k", "a") == "OK"
        assert b.command("GET", "k") is None  # two separate servers
        assert a.command("GET", "k") == b"a"
        assert a.url == f"redis://127.0.0.1:{a.port}/0"
    assert not a.alive
    assert not b.alive
    with pytest.raises(ConnectionRefusedError):
        redis_command(a.port, "PING", timeout=0.2)


def test_the_server_keeps_nothing_on_disk(redis_server: RedisServer) -> None:
    assert redis_server.command("CONFIG", "GET", "save") == [b"save", b""]
    assert redis_server.command("CONFIG", "GET", "appendonly") == [b"appendonly", b"no"]


def test_an_error_reply_raises_a_clear_error(redis_server: RedisServer) -> None:
    with pytest.raises(RedisProcessError, match="unknown command"):
        redis_server.command("NOSUCHCOMMAND")


def test_missing_binaries_give_an_actionable_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with (
        pytest.raises(RedisProcessError, match=r"redis-server is not installed.*apt-get"),
        start_redis_server(tmp_path),
    ):
        pass


def test_a_server_that_cannot_start_reports_its_log(tmp_path: Path) -> None:
    with (
        pytest.raises(RedisProcessError, match="exited with"),
        start_redis_server(tmp_path, extra_args=["--no-such-option", "1"]),
    ):
        pass


async def test_mutual_tls_server_accepts_a_client_certificate_only(
    redis_tls_server: RedisServer, redis_tls_files: RedisTLSFiles
) -> None:
    assert redis_tls_server.url.startswith("rediss://")
    good = aioredis.Redis(
        port=redis_tls_server.port,
        host="127.0.0.1",
        ssl=True,
        ssl_ca_certs=str(redis_tls_files.ca),
        ssl_certfile=str(redis_tls_files.client_cert),
        ssl_keyfile=str(redis_tls_files.client_key),
    )
    try:
        assert await good.ping()
    finally:
        await good.aclose()
    no_cert = aioredis.Redis(
        port=redis_tls_server.port,
        host="127.0.0.1",
        ssl=True,
        ssl_ca_certs=str(redis_tls_files.ca),
        retry=Retry(NoBackoff(), 0),
    )
    try:
        with pytest.raises(redis.ConnectionError):
            await no_cert.ping()
    finally:
        await no_cert.aclose()
    plain = aioredis.Redis(port=redis_tls_server.port, retry=Retry(NoBackoff(), 0))
    try:
        with pytest.raises(redis.ConnectionError):
            await plain.ping()
    finally:
        await plain.aclose()


@pytest.mark.slow
def test_topology_replicates_and_fails_over_after_sigkill(
    sentinel_topology: SentinelTopology,
) -> None:
    topology = sentinel_topology
    assert topology.master_address() == topology.master.address
    assert topology.master.command("SET", "k", "v") == "OK"
    assert topology.master.command("WAIT", 1, 2000) == 1
    assert topology.replica.command("GET", "k") == b"v"
    killed = topology.kill_master()
    assert not killed.alive
    new = topology.wait_for_failover(killed.address)
    assert new == topology.replica.address
    assert topology.replica.command("SET", "after", "1") == "OK"
    assert topology.replica.command("GET", "k") == b"v"
