"""The download endpoint: ``GET /exports/{id}?token=...``.

A request is served only when its token is genuine, unexpired, minted for this export, and for
the user who owns it, and the export has not expired. Every refusal looks the same to the client
(``404``, one fixed text) so the endpoint does not tell which exports exist or whose they are; the
audit record keeps the real reason. Every request is audited (``EventKind.HTTP``, ``via
gateway``) without the token.

Served objects: the local store's file is streamed; an S3 object gets a ``302`` to a presigned
URL valid for a few minutes. Responses carry ``Cache-Control: no-store``, ``Referrer-Policy:
no-referrer`` (the token must not leak through a Referer) and, when TLS is on, HSTS. aiohttp's
access log is replaced by one that drops query strings.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
from aiohttp import web

from securebot.core.audit.model import AuditEvent, EventKind
from securebot.errors import CorruptRecordError, RecordNotFoundError, SecurebotError
from securebot.exports.archive import MEDIA_TYPE
from securebot.exports.metadata import ExportMetadataStore, is_export_id
from securebot.exports.service import PRESIGN_SECONDS, AuditSink
from securebot.exports.stores.base import ObjectStore
from securebot.exports.tokens import DownloadTokenError, DownloadTokenSigner

logger = logging.getLogger("securebot.gateway")

#: What every refused request gets, whatever the reason.
NOT_FOUND_TEXT = "This download link is invalid or has expired. Ask the bot for a new one.\n"
#: What a request gets when the store fails (nothing about the export).
UNAVAILABLE_TEXT = "Downloads are temporarily unavailable. Try again in a few minutes.\n"
#: HSTS header value when TLS is configured (one year, subdomains).
HSTS_VALUE = "max-age=31536000; includeSubDomains"
_SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}

#: Application key: whether HSTS is sent.
HSTS_KEY = web.AppKey("securebot_hsts", bool)

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@attrs.frozen
class _Attempt:
    """One download request as its audit record names it: what was asked for, since when,
    and (once known) by whom and for which server."""

    request: web.Request
    export_id: str
    started: float
    user_id: int | None = None
    guild_id: int | None = None


class ExportGateway:
    """Serves exports to their owners; one instance per application."""

    def __init__(
        self,
        *,
        signer: DownloadTokenSigner,
        metadata: ExportMetadataStore,
        stores: dict[str, ObjectStore],
        audit: AuditSink | None = None,
        clock: Callable[[], float] = time.time,
        presign_seconds: int = PRESIGN_SECONDS,
    ) -> None:
        """:param stores: object stores by name (``local``, ``s3``), as recorded in metadata.
        :param clock: unix time source (tests set it; the signer has its own).
        """
        self.signer = signer
        self.metadata = metadata
        self.stores = stores
        self.audit = audit
        self.clock = clock
        self.presign_seconds = presign_seconds

    def _record(self, attempt: _Attempt, *, outcome: str, reason: str = "") -> None:
        if self.audit is None:
            return
        detail: dict[str, Any] = {"remote": attempt.request.remote or "?"}
        if is_export_id(attempt.export_id):
            detail["export_id"] = attempt.export_id
        if reason:
            detail["reason"] = reason
        self.audit.record(
            AuditEvent(
                EventKind.HTTP,
                self.clock(),
                guild_id=attempt.guild_id,
                actor_id=attempt.user_id,
                action="GET /exports/{export_id}",
                via="gateway",
                outcome=outcome,
                duration_ms=(time.perf_counter() - attempt.started) * 1000,
                detail=detail,
            )
        )

    def _refuse(self, attempt: _Attempt, reason: str) -> web.Response:
        self._record(attempt, outcome="404", reason=reason)
        logger.info("gateway: refused an export download (%s)", reason)
        return web.Response(status=404, text=NOT_FOUND_TEXT)

    def _unavailable(
        self, attempt: _Attempt, exc: SecurebotError, *, what: str = "store"
    ) -> web.Response:
        self._record(attempt, outcome="503", reason=f"{what}-error:{type(exc).__name__}")
        logger.error("gateway: the export %s failed: %s", what, exc)
        return web.Response(status=503, text=UNAVAILABLE_TEXT)

    async def download(self, request: web.Request) -> web.StreamResponse:
        """``GET /exports/{id}?token=...``: check, audit, then stream or redirect."""
        attempt = _Attempt(request, request.match_info.get("export_id", ""), time.perf_counter())
        export_id = attempt.export_id
        token = request.query.get("token", "")
        if not is_export_id(export_id):
            return self._refuse(attrs.evolve(attempt, export_id=""), "bad-id")
        try:
            claims = self.signer.verify(token, export_id)
        except DownloadTokenError as exc:
            return self._refuse(attempt, exc.reason)
        attempt = attrs.evolve(attempt, user_id=claims.user_id)
        try:
            record = await self.metadata.get(export_id)
        except RecordNotFoundError:
            return self._refuse(attempt, "unknown-export")
        except CorruptRecordError:
            # Tampered or unreadable metadata is never trusted to name a file.
            return self._refuse(attempt, "corrupt-record")
        except SecurebotError as exc:
            return self._unavailable(attempt, exc, what="metadata")
        if record.export_id != export_id:
            # A store of record answering for one id with another's document.
            return self._refuse(attempt, "record-mismatch")
        attempt = attrs.evolve(attempt, guild_id=record.guild_id)
        refusal = ""
        if record.owner_id != claims.user_id:
            refusal = "not-owner"
        elif record.expired(self.clock()):
            refusal = "export-expired"
        elif record.store not in self.stores:
            refusal = "store-unavailable"
        if refusal:
            return self._refuse(attempt, refusal)
        store = self.stores[record.store]
        filename = record.download_name()
        try:
            url = await store.presign(
                record.object_key, expires_in=self.presign_seconds, filename=filename
            )
        except SecurebotError as exc:
            return self._unavailable(attempt, exc)
        if url is not None:
            self._record(attempt, outcome="302")
            return web.Response(status=302, headers={"Location": url})
        chunks = store.stream(record.object_key)
        try:
            first = await anext(chunks)
        except (StopAsyncIteration, RecordNotFoundError):
            return self._refuse(attempt, "object-missing")
        except SecurebotError as exc:
            return self._unavailable(attempt, exc)
        # Audited before the first byte: an interrupted download is still an access.
        self._record(attempt, outcome="200")
        response = web.StreamResponse(
            status=200,
            headers={
                "Content-Type": MEDIA_TYPE,
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Content-Length": str(record.size),
            },
        )
        _apply(response, request.app[HSTS_KEY])
        await response.prepare(request)
        await response.write(first)
        async for chunk in chunks:
            await response.write(chunk)
        await response.write_eof()
        return response


def _security_middleware(hsts: bool) -> Any:
    @web.middleware
    async def add_headers(request: web.Request, handler: _Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            response = exc
            _apply(response, hsts)
            raise
        _apply(response, hsts)
        return response

    return add_headers


def _apply(response: web.StreamResponse, hsts: bool) -> None:
    if response.prepared:
        return
    for name, value in _SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if hsts:
        response.headers["Strict-Transport-Security"] = HSTS_VALUE


def create_app(gateway: ExportGateway, *, hsts: bool) -> web.Application:
    """The aiohttp application serving ``gateway``.

    :param hsts: send ``Strict-Transport-Security`` (set when serving over TLS).
    """
    app = web.Application(middlewares=[_security_middleware(hsts)])
    app[HSTS_KEY] = hsts
    # GET only: a HEAD would be audited as a download and, with a streamed body, answered
    # with the archive's bytes where a keep-alive peer expects none (response desync).
    app.router.add_get("/exports/{export_id}", gateway.download, allow_head=False)

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    app.router.add_get("/healthz", health)
    return app
