"""Running the gateway: an aiohttp site, HTTPS when given a TLS context, query-free access log."""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from typing import Any
from urllib.parse import quote

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_runner import AppRunner

from securebot.crypto.redact import rewrite_record_text

logger = logging.getLogger("securebot.gateway")

#: A ``token`` query value (whole or cut short) and anything shaped like a download token.
_TOKEN = re.compile(r"(?i)(?<![a-z0-9_])(token=)[^&\s'\"\\]*|\bv1\.[\w-]{8,}(?:\.[\w-]*)?")


def _without_tokens(text: str) -> str:
    return _TOKEN.sub(lambda m: f"{m.group(1) or ''}[redacted]", text)


class _NoTokensFilter(logging.Filter):
    """Removes download tokens from what aiohttp's request handler logs: a request it cannot
    parse is logged with its request line, query string and all."""

    def filter(self, record: logging.LogRecord) -> bool:
        rewrite_record_text(record, _without_tokens)
        return True


#: Characters an access-log path keeps as they are (printable ASCII; the rest is encoded).
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"

#: The request handler's own logger (parse and handler errors), with tokens removed.
server_logger = logging.getLogger("securebot.gateway.http")
server_logger.addFilter(_NoTokensFilter())


class PathOnlyAccessLogger(AbstractAccessLogger):
    """Access log lines without query strings (download tokens live there)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        """One line: remote, method, path (as sent, no query), status, duration.

        The path is shown percent-encoded, never decoded: an encoded line break cannot start
        a forged line.
        """
        path = quote(request.raw_path.partition("?")[0], safe=_PATH_SAFE)
        self.logger.info(
            "%s %s %s %s %.1fms",
            request.remote,
            request.method,
            path,
            response.status,
            time * 1000,
        )


async def start(
    app: web.Application,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    ssl_context: ssl.SSLContext | None = None,
) -> tuple[AppRunner, int]:
    """Start serving ``app``; return the runner (call ``cleanup()`` to stop) and the bound port."""
    runner = web.AppRunner(
        app,
        access_log_class=PathOnlyAccessLogger,
        access_log=logging.getLogger("securebot.gateway.access"),
        logger=server_logger,
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=ssl_context)
    await site.start()
    server: Any = site._server  # the bound port (port=0) is only here
    bound: int = server.sockets[0].getsockname()[1] if server is not None else port
    return runner, bound


async def serve(
    app: web.Application,
    *,
    host: str = "127.0.0.1",
    port: int = 8443,
    ssl_context: ssl.SSLContext | None = None,
) -> None:
    """Serve ``app`` until cancelled."""
    runner, bound = await start(app, host=host, port=port, ssl_context=ssl_context)
    scheme = "https" if ssl_context is not None else "http"
    logger.info("gateway listening on %s://%s:%d", scheme, host, bound)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
