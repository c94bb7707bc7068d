"""How securebot connects to Redis: one URL or a Sentinel group, optionally over (mutual) TLS.

:class:`RedisSettings` is plain configuration (safe to log: the password is never in its repr);
:func:`connect` turns it into a ``redis.asyncio.Redis`` client. With ``sentinels`` set, the client
follows the master that the sentinels name, re-discovering it after a failover. TLS takes either
file paths (``ssl_ca_certs``/``ssl_certfile``/``ssl_keyfile``, as redis-py does) or a ready
:class:`ssl.SSLContext`, e.g. one built by securebot's PKI helpers for client certificates.

``redis`` (the ``redis`` extra) is imported only when :func:`connect` runs.
"""

from __future__ import annotations

import ssl as _ssl
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from securebot.errors import ConfigError

__all__ = ["RedisSettings", "connect"]


def _addresses(value: Sequence[tuple[str, int] | str]) -> tuple[tuple[str, int], ...]:
    out: list[tuple[str, int]] = []
    for item in value:
        if isinstance(item, str):
            host, sep, port = item.rpartition(":")
            if not sep or not port.isdigit():
                raise ConfigError(f"sentinel address {item!r} must look like host:port")
            out.append((host, int(port)))
        else:
            out.append((str(item[0]), int(item[1])))
    return tuple(out)


def _redact(url: str | None) -> str:
    """The URL with any password replaced, for reprs and logs."""
    if url is None:
        return "None"
    url, question, query = url.partition("?")
    if question:  # redis-py also reads ``?password=`` (and ``ssl_password=``) from the query
        params = []
        for param in query.split("&"):
            name, equals, _ = param.partition("=")
            secret = any(word in name.lower() for word in _SECRET_PARAMS)
            params.append(f"{name}=***" if equals and secret else param)
        query = "&".join(params)
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if at:
        user = credentials.partition(":")[0]
        url = f"{scheme}{sep}{user}:***@{host}"
    return repr(f"{url}{question}{query}")


#: Query parameter names whose values are never shown (substrings, case-insensitive).
_SECRET_PARAMS = ("pass", "secret", "token", "auth")


@attrs.frozen
class RedisSettings:
    """Where the Redis cache lives and how to talk to it.

    Give either ``url`` (``redis://``, ``rediss://`` or ``unix://``) or ``sentinels`` plus
    ``service_name``. ``ssl=True`` (or a ``rediss://`` URL) turns on TLS; with ``ssl_certfile``
    and ``ssl_keyfile`` (or an ``ssl_context`` holding a client certificate) the client
    authenticates with a certificate. ``sentinel_ssl`` applies TLS to the sentinel connections as
    well (sentinels configured with ``tls-port``).
    """

    url: str | None = attrs.field(default=None, repr=lambda url: _redact(url))
    sentinels: tuple[tuple[str, int], ...] = attrs.field(default=(), converter=_addresses)
    service_name: str = "securebot"
    username: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    #: Password of the sentinels (``requirepass`` in sentinel.conf); defaults to ``password``.
    sentinel_password: str | None = attrs.field(default=None, repr=False)
    db: int = 0
    ssl: bool = False
    ssl_ca_certs: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    ssl_check_hostname: bool = True
    ssl_context: _ssl.SSLContext | None = attrs.field(default=None, repr=False, eq=False)
    #: redis-py TLS keyword arguments as built by ``securebot.crypto.tls.RedisTLS.kwargs()``
    #: (client certificate from memory); they win over the ``ssl_*`` fields.
    tls_kwargs: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)
    sentinel_ssl: bool = False
    socket_timeout: float = 0.5
    connect_timeout: float = 0.5

    def __attrs_post_init__(self) -> None:
        if bool(self.url) == bool(self.sentinels):
            raise ConfigError("Redis: set exactly one of `url` or `sentinels`")
        if self.ssl_keyfile and not self.ssl_certfile:
            raise ConfigError("Redis: `ssl_keyfile` needs `ssl_certfile` (the client certificate)")
        if self.socket_timeout <= 0 or self.connect_timeout <= 0:
            raise ConfigError("Redis: timeouts must be positive (seconds)")

    @property
    def uses_tls(self) -> bool:
        """Whether data connections use TLS."""
        return (
            self.ssl
            or self.ssl_context is not None
            or bool(self.tls_kwargs)
            or bool(self.url and self.url.startswith("rediss:"))
        )

    def connection_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for redis-py's data connections (no retries: the cache falls back)."""
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        kwargs: dict[str, Any] = {
            "socket_timeout": self.socket_timeout,
            "socket_connect_timeout": self.connect_timeout,
            "retry": Retry(NoBackoff(), 0),
            "db": self.db,
        }
        if self.username is not None:
            kwargs["username"] = self.username
        if self.password is not None:
            kwargs["password"] = self.password
        if self.uses_tls and self.ssl_context is None:
            kwargs.update(_ssl_kwargs(self))
            kwargs.update(self.tls_kwargs)
        return kwargs


def _ssl_kwargs(settings: RedisSettings) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"ssl_check_hostname": settings.ssl_check_hostname}
    if settings.ssl_ca_certs:
        kwargs["ssl_ca_certs"] = settings.ssl_ca_certs
    if settings.ssl_certfile:
        kwargs["ssl_certfile"] = settings.ssl_certfile
    if settings.ssl_keyfile:
        kwargs["ssl_keyfile"] = settings.ssl_keyfile
    return kwargs


def _context_connection(base: type[Any], context: _ssl.SSLContext) -> type[Any]:
    """A connection class of redis-py that wraps its socket with ``context``."""

    class ContextSSLConnection(base):  # type: ignore[misc]
        def _connection_arguments(self) -> Mapping[str, Any]:
            kwargs = dict(super()._connection_arguments())
            kwargs["ssl"] = context
            return kwargs

    return ContextSSLConnection


def connect(settings: RedisSettings) -> Any:
    """A ``redis.asyncio.Redis`` client for ``settings`` (lazy: connects on first use)."""
    try:
        import redis.asyncio as aioredis
        from redis.asyncio.connection import Connection
        from redis.asyncio.sentinel import Sentinel, SentinelManagedConnection
    except ImportError as error:  # pragma: no cover - exercised only without the extra
        raise ConfigError(
            "the Redis cache needs redis-py: pip install 'securebot[redis]'"
        ) from error
    kwargs = settings.connection_kwargs()
    if settings.url:
        if settings.ssl_context is not None:
            kwargs["connection_class"] = _context_connection(Connection, settings.ssl_context)
        url = settings.url
        if settings.ssl_context is None and settings.uses_tls and url.startswith("redis:"):
            url = "rediss:" + url.removeprefix("redis:")  # redis-py picks TLS by scheme
        elif settings.ssl_context is not None and url.startswith("rediss:"):
            url = "redis:" + url.removeprefix("rediss:")  # our context-wrapping class does TLS
        kwargs.pop("ssl", None)
        return aioredis.from_url(url, **kwargs)
    kwargs.pop("ssl", None)
    if settings.ssl_context is None and settings.uses_tls:
        kwargs["ssl"] = True
    sentinel_kwargs: dict[str, Any] = {
        "socket_timeout": settings.socket_timeout,
        "socket_connect_timeout": settings.connect_timeout,
    }
    sentinel_password = settings.sentinel_password or settings.password
    if sentinel_password is not None:
        sentinel_kwargs["password"] = sentinel_password
    if settings.username is not None:
        sentinel_kwargs["username"] = settings.username
    if settings.sentinel_ssl:
        if settings.ssl_context is not None:
            sentinel_kwargs["connection_class"] = _context_connection(
                Connection, settings.ssl_context
            )
        else:
            sentinel_kwargs.update({"ssl": True, **_ssl_kwargs(settings), **settings.tls_kwargs})
    if settings.ssl_context is not None:
        kwargs["connection_class"] = _context_connection(
            SentinelManagedConnection, settings.ssl_context
        )
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        list(settings.sentinels), sentinel_kwargs=sentinel_kwargs, **kwargs
    )
    return sentinel.master_for(settings.service_name)
