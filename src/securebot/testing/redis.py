"""Real Redis servers for tests: one ``redis-server``, or a master + replica + 3 sentinels.

Plugin authors (and securebot's own tests) get real processes, not fakes::

    with start_redis_server(tmp_path) as server:
        client = redis.asyncio.from_url(server.url)

    with start_sentinel_topology(tmp_path) as topology:
        sentinel = redis.asyncio.sentinel.Sentinel(topology.sentinel_addresses)
        topology.kill_master()                  # SIGKILL, then sentinels fail over
        new_master = topology.wait_for_failover()

Every process runs in the foreground (``daemonize no``) under :mod:`subprocess`, listens on
``127.0.0.1`` on a free port chosen at start (never a fixed port, so parallel test runs do not
collide), keeps no data on disk (``save ""``, no AOF) and is killed and reaped on exit. Sentinel
configuration files are written to the given directory, because sentinels rewrite them.

Measured pitfalls handled here (see the testing recipes): ``repl-diskless-sync-delay 0`` (else the
replica links only after 5 s), sentinels start *after* the replica is linked (else they learn of it
at the next 10 s INFO poll), and :meth:`SentinelTopology.wait_until_converged` waits until every
sentinel knows the other two and the replica before a failover test starts.

This module needs no Redis client library: it speaks the few RESP commands it needs itself.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs

from securebot.errors import SecurebotError

__all__ = [
    "RedisProcessError",
    "RedisServer",
    "RedisTLSFiles",
    "SentinelTopology",
    "free_port",
    "redis_command",
    "require_binary",
    "start_redis_server",
    "start_sentinel_topology",
]

_HOST = "127.0.0.1"
_START_ATTEMPTS = 3


class RedisProcessError(SecurebotError):
    """A test Redis process could not be found, started, or brought to the expected state."""


def require_binary(name: str) -> str:
    """The absolute path of ``name`` (``redis-server``/``redis-sentinel``), or a clear error."""
    path = shutil.which(name)
    if path is None:
        raise RedisProcessError(
            f"{name} is not installed: run ./dev test (it installs it), or "
            f"`apt-get install redis-server redis-sentinel` on Debian/Ubuntu"
        )
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picked it)."""
    with socket.socket() as sock:
        sock.bind((_HOST, 0))
        return int(sock.getsockname()[1])


@attrs.frozen
class RedisTLSFiles:
    """PEM files for a TLS-only Redis server that requires client certificates.

    ``cert``/``key`` are the server's; ``ca`` verifies clients. With ``client_cert``/``client_key``
    the fixtures PING the server over mutual TLS to know it is ready; without them they wait for
    the server's "Ready to accept connections" log line instead.
    """

    ca: Path
    cert: Path
    key: Path
    client_cert: Path | None = None
    client_key: Path | None = None

    def client_context(self) -> ssl.SSLContext:
        """An SSL context that trusts ``ca`` and presents the client certificate, if any."""
        context = ssl.create_default_context(cafile=str(self.ca))
        if self.client_cert is not None:
            key = str(self.client_key) if self.client_key is not None else None
            context.load_cert_chain(str(self.client_cert), key)
        return context


# --- a minimal RESP client -----------------------------------------------------------------


def _encode(args: Sequence[str | int | bytes]) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def _read_reply(stream: Any) -> Any:
    line = stream.readline()
    if not line.endswith(b"\r\n"):
        raise RedisProcessError("redis closed the connection mid-reply")
    kind, body = line[:1], line[1:-2]
    if kind == b"+":
        return body.decode()
    if kind == b"-":
        raise RedisProcessError(f"redis replied with an error: {body.decode(errors='replace')}")
    if kind == b":":
        return int(body)
    if kind == b"$":
        size = int(body)
        if size < 0:
            return None
        data = stream.read(size + 2)
        return bytes(data[:-2])
    if kind == b"*":
        count = int(body)
        return None if count < 0 else [_read_reply(stream) for _ in range(count)]
    raise RedisProcessError(f"unexpected RESP reply type {kind!r}")


def redis_command(
    port: int,
    *args: str | int | bytes,
    host: str = _HOST,
    timeout: float = 1.0,
    tls: ssl.SSLContext | None = None,
) -> Any:
    """Send one command to a Redis or Sentinel and return its decoded reply.

    Raises :class:`OSError` when nothing answers and :class:`RedisProcessError` on an error reply.
    """
    raw = socket.create_connection((host, port), timeout=timeout)
    sock: socket.socket = tls.wrap_socket(raw, server_hostname=host) if tls else raw
    with sock, sock.makefile("rb") as stream:
        sock.sendall(_encode(args))
        return _read_reply(stream)


def _info(server: RedisServer, section: str) -> dict[str, str]:
    text = server.command("INFO", section).decode()
    pairs = (line.split(":", 1) for line in text.splitlines() if ":" in line)
    return {key: value for key, value in pairs}


# --- processes -----------------------------------------------------------------------------


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)


@attrs.define
class RedisServer:
    """One running ``redis-server`` (or ``redis-sentinel``) process on ``127.0.0.1:port``."""

    port: int
    process: subprocess.Popen[bytes] = attrs.field(repr=False)
    log: Path
    tls: RedisTLSFiles | None = None
    host: str = _HOST

    @property
    def url(self) -> str:
        """``redis://`` (or ``rediss://`` with TLS) URL of database 0."""
        scheme = "rediss" if self.tls else "redis"
        return f"{scheme}://{self.host}:{self.port}/0"

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)``."""
        return (self.host, self.port)

    @property
    def alive(self) -> bool:
        """Whether the process is still running."""
        return self.process.poll() is None

    def command(self, *args: str | int | bytes) -> Any:
        """Send one command (see :func:`redis_command`)."""
        context = self.tls.client_context() if self.tls else None
        return redis_command(self.port, *args, host=self.host, tls=context)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` (SIGKILL by default) and reap the process."""
        if self.alive:
            self.process.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """Kill the process if it runs and wait for it."""
        _stop(self.process)


def _spawn(
    argv: list[str],
    *,
    port: int,
    log: Path,
    tls: RedisTLSFiles | None,
    timeout: float,
) -> RedisServer:
    process = subprocess.Popen(  # noqa: S603 (argv built from a resolved binary and our values)
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    server = RedisServer(port=port, process=process, log=log, tls=tls)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RedisProcessError(
                f"{Path(argv[0]).name} on port {port} exited with {process.returncode}:\n"
                + _tail(log)
            )
        if tls is not None and tls.client_cert is None:
            # no client certificate to PING with under tls-auth-clients: trust the log line
            if "Ready to accept connections" in _tail(log, 40):
                return server
        else:
            try:
                if server.command("PING") == "PONG":
                    return server
            except (OSError, RedisProcessError, ssl.SSLError):
                pass
        if time.monotonic() > deadline:
            _stop(process)
            raise RedisProcessError(
                f"{Path(argv[0]).name} did not answer PING on port {port} within {timeout} s:\n"
                + _tail(log)
            )
        time.sleep(0.01)


def _port_taken(log: Path) -> bool:
    return "Address already in use" in _tail(log, 40)


def _server_argv(
    binary: str, port: int, directory: Path, log: Path, tls: RedisTLSFiles | None
) -> list[str]:
    argv = [
        binary,
        "--bind",
        _HOST,
        "--daemonize",
        "no",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(directory),
        "--logfile",
        str(log),
        "--repl-diskless-sync-delay",
        "0",
    ]
    if tls is None:
        return [*argv, "--port", str(port)]
    return [
        *argv,
        "--port",
        "0",
        "--tls-port",
        str(port),
        "--tls-cert-file",
        str(tls.cert),
        "--tls-key-file",
        str(tls.key),
        "--tls-ca-cert-file",
        str(tls.ca),
        "--tls-auth-clients",
        "yes",
        "--tls-replication",
        "yes",
    ]


def _launch_server(
    directory: Path,
    name: str,
    *,
    extra: Sequence[str] = (),
    tls: RedisTLSFiles | None = None,
    timeout: float = 10.0,
) -> RedisServer:
    binary = require_binary("redis-server")
    directory.mkdir(parents=True, exist_ok=True)
    for attempt in range(_START_ATTEMPTS):
        port = free_port()
        log = directory / f"{name}-{port}.log"
        argv = [*_server_argv(binary, port, directory, log, tls), *extra]
        try:
            return _spawn(argv, port=port, log=log, tls=tls, timeout=timeout)
        except RedisProcessError:
            if attempt + 1 < _START_ATTEMPTS and _port_taken(log):
                continue  # another test grabbed the port between our probe and the bind
            raise
    raise RedisProcessError("could not find a free port for redis-server")  # pragma: no cover


@contextlib.contextmanager
def start_redis_server(
    directory: Path | str,
    *,
    tls: RedisTLSFiles | None = None,
    extra_args: Sequence[str] = (),
    timeout: float = 10.0,
) -> Iterator[RedisServer]:
    """Run one ``redis-server`` (no persistence) for the ``with`` block; kill it afterwards.

    With ``tls``, the server listens only on TLS and requires a client certificate signed by
    ``tls.ca`` (mutual TLS). ``extra_args`` are appended to the command line
    (e.g. ``["--requirepass", "s3cret"]``).
    """
    server = _launch_server(Path(directory), "redis", extra=extra_args, tls=tls, timeout=timeout)
    try:
        yield server
    finally:
        server.stop()


# --- master + replica + sentinels ----------------------------------------------------------


def _wait(predicate: Any, *, timeout: float, what: str, logs: Sequence[Path]) -> None:
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (OSError, RedisProcessError) as error:
            last = error
        time.sleep(0.02)
    detail = "\n".join(f"--- {log.name}\n{_tail(log, 8)}" for log in logs)
    raise RedisProcessError(f"timed out after {timeout} s waiting for {what} ({last!r})\n{detail}")


@attrs.define
class SentinelTopology:
    """A master, one replica and three sentinels monitoring them as ``service_name``."""

    service_name: str
    master: RedisServer
    replica: RedisServer
    sentinels: list[RedisServer]
    directory: Path

    @property
    def sentinel_addresses(self) -> list[tuple[str, int]]:
        """``[(host, port), ...]`` of the sentinels, for ``redis.asyncio.sentinel.Sentinel``."""
        return [s.address for s in self.sentinels]

    @property
    def servers(self) -> list[RedisServer]:
        """The two data servers (original master first)."""
        return [self.master, self.replica]

    def master_address(self) -> tuple[str, int]:
        """The master address as the first answering sentinel reports it."""
        for sentinel in self.sentinels:
            with contextlib.suppress(OSError, RedisProcessError):
                host, port = sentinel.command(
                    "SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.service_name
                )
                return (host.decode(), int(port))
        raise RedisProcessError("no sentinel answered GET-MASTER-ADDR-BY-NAME")

    def _server_at(self, port: int) -> RedisServer:
        for server in self.servers:
            if server.port == port:
                return server
        raise RedisProcessError(f"sentinels name an unknown master port {port}")

    def current_master(self) -> RedisServer:
        """The data server the sentinels currently name as master."""
        _, port = self.master_address()
        for server in self.servers:
            if server.port == port:
                return server
        raise RedisProcessError(f"sentinels name an unknown master port {port}")

    def _converged(self) -> bool:
        if self.replica.command("INFO", "replication").find(b"master_link_status:up") < 0:
            return False
        for sentinel in self.sentinels:
            flat = sentinel.command("SENTINEL", "MASTER", self.service_name)
            fields = {flat[i].decode(): flat[i + 1] for i in range(0, len(flat), 2)}
            if fields["num-other-sentinels"].decode() != str(len(self.sentinels) - 1):
                return False
            if fields["num-slaves"].decode() != "1":
                return False
        return True

    def wait_until_converged(self, timeout: float = 20.0) -> None:
        """Wait until the replica is linked and every sentinel sees the others and the replica."""
        _wait(
            self._converged,
            timeout=timeout,
            what="sentinels to converge",
            logs=[s.log for s in (*self.servers, *self.sentinels)],
        )

    def kill_master(self) -> RedisServer:
        """SIGKILL the current master (no graceful shutdown) and return it."""
        master = self.current_master()
        master.kill(signal.SIGKILL)
        return master

    def wait_for_failover(
        self, old: tuple[str, int] | None = None, timeout: float = 30.0
    ) -> tuple[str, int]:
        """Wait until the sentinels name a master other than ``old`` that accepts writes."""
        old = old or self.master.address
        result: list[tuple[str, int]] = []

        def promoted() -> bool:
            address = self.master_address()
            if address == old:
                return False
            role = _info(self._server_at(address[1]), "replication").get("role")
            if role != "master":
                return False
            result.append(address)
            return True

        _wait(
            promoted,
            timeout=timeout,
            what="a sentinel failover",
            logs=[s.log for s in (*self.servers, *self.sentinels)],
        )
        return result[-1]

    def stop(self) -> None:
        """Kill every process (sentinels first, so no failover races the teardown)."""
        for process in (*self.sentinels, self.replica, self.master):
            process.stop()


def _sentinel_conf(
    port: int,
    directory: Path,
    service: str,
    master_port: int,
    down_after_ms: int,
    tls: RedisTLSFiles | None = None,
) -> str:
    if tls is None:
        listen = [f"port {port}"]
    else:
        listen = [
            "port 0",
            f"tls-port {port}",
            f'tls-cert-file "{tls.cert}"',
            f'tls-key-file "{tls.key}"',
            f'tls-ca-cert-file "{tls.ca}"',
            "tls-auth-clients yes",
            "tls-replication yes",
        ]
    return "\n".join(
        [
            *listen,
            f"bind {_HOST}",
            "daemonize no",
            f'dir "{directory}"',
            f'logfile "{directory / f"sentinel-{port}.log"}"',
            f"sentinel monitor {service} {_HOST} {master_port} 2",
            f"sentinel down-after-milliseconds {service} {down_after_ms}",
            f"sentinel failover-timeout {service} 5000",
            f"sentinel parallel-syncs {service} 1",
            "",
        ]
    )


def _launch_sentinel(
    directory: Path,
    service: str,
    master_port: int,
    down_after_ms: int,
    tls: RedisTLSFiles | None = None,
) -> RedisServer:
    binary = require_binary("redis-sentinel")
    for attempt in range(_START_ATTEMPTS):
        port = free_port()
        conf = directory / f"sentinel-{port}.conf"
        conf.write_text(_sentinel_conf(port, directory, service, master_port, down_after_ms, tls))
        os.chmod(conf, 0o600)
        log = directory / f"sentinel-{port}.log"
        try:
            return _spawn([binary, str(conf)], port=port, log=log, tls=tls, timeout=10.0)
        except RedisProcessError:
            if attempt + 1 < _START_ATTEMPTS and _port_taken(log):
                continue
            raise
    raise RedisProcessError("could not find a free port for redis-sentinel")  # pragma: no cover


@contextlib.contextmanager
def start_sentinel_topology(
    directory: Path | str,
    *,
    service_name: str = "securebot",
    down_after_ms: int = 1000,
    converge_timeout: float = 20.0,
    tls: RedisTLSFiles | None = None,
) -> Iterator[SentinelTopology]:
    """Run a master, a linked replica and 3 converged sentinels; kill them all afterwards.

    ``down_after_ms`` is how long the sentinels wait before declaring a silent master down
    (failover after a SIGKILL then takes about that plus one second). With ``tls`` every process
    (data servers, replication, sentinels) speaks only mutual TLS; ``tls`` must then carry a
    client certificate (``client_cert``/``client_key``) for the readiness checks, and the server
    certificate is also the one servers and sentinels present to each other, so it needs the
    clientAuth usage too.
    """
    if tls is not None and tls.client_cert is None:
        raise RedisProcessError("a TLS sentinel topology needs RedisTLSFiles.client_cert")
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    started: list[RedisServer] = []
    try:
        master = _launch_server(root / "master", "master", tls=tls)
        started.append(master)
        replica = _launch_server(
            root / "replica", "replica", extra=["--replicaof", _HOST, str(master.port)], tls=tls
        )
        started.append(replica)
        _wait(
            lambda: _info(replica, "replication").get("master_link_status") == "up",
            timeout=converge_timeout,
            what="the replica to link to the master",
            logs=[master.log, replica.log],
        )
        sentinel_dir = root / "sentinels"
        sentinel_dir.mkdir(exist_ok=True)
        sentinels = []
        for _ in range(3):
            sentinel = _launch_sentinel(sentinel_dir, service_name, master.port, down_after_ms, tls)
            started.append(sentinel)
            sentinels.append(sentinel)
        topology = SentinelTopology(
            service_name=service_name,
            master=master,
            replica=replica,
            sentinels=sentinels,
            directory=root,
        )
        topology.wait_until_converged(converge_timeout)
        yield topology
    finally:
        for server in reversed(started):
            server.stop()
