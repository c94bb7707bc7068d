"""The :class:`Emulator`: an aiohttp application serving Discord's HTTP API and gateway."""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import TracebackType
from typing import Any, ClassVar

from aiohttp import web

from securebot.testing.emulator import errors as err
from securebot.testing.emulator import routes_app, routes_channels, routes_guilds  # noqa: F401
from securebot.testing.emulator.actions import Actions
from securebot.testing.emulator.api import Call, Ctx, json_response, match, read_body
from securebot.testing.emulator.calllog import DEFAULT_CALL_LOG_LIMIT, CallLog
from securebot.testing.emulator.clock import EmulatorClock
from securebot.testing.emulator.conformance import Conformance
from securebot.testing.emulator.gateway import Gateway
from securebot.testing.emulator.ratelimit import RateLimiter, RateLimits
from securebot.testing.emulator.scenario import Scenario
from securebot.testing.emulator.state import World

logger = logging.getLogger("securebot.testing.emulator")

_MAJOR = ("channel_id", "guild_id", "webhook_id", "interaction_id", "application_id")


class Emulator(Scenario):
    """A local Discord: HTTP API v10 under ``/api/v10``, gateway at ``/gateway``.

    Use it as ``async with Emulator() as emu:`` (or ``await emu.start()`` / ``await emu.stop()``);
    it listens on ``127.0.0.1`` on a free port unless ``port`` is given.
    """

    #: Makes the checker of every emulator created without one (the pytest plugin sets it so
    #: that every emulator of a test run has its responses checked).
    default_conformance: ClassVar[Callable[[], Conformance | None] | None] = None
    #: How many internal errors :attr:`internal_errors` keeps (each holds a traceback).
    MAX_INTERNAL_ERRORS: ClassVar[int] = 100

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limits: RateLimits | None = None,
        clock: EmulatorClock | None = None,
        heartbeat_interval_ms: int = 41250,
        conformance: Conformance | None = None,
        call_log_limit: int | None = DEFAULT_CALL_LOG_LIMIT,
    ) -> None:
        """Configure; nothing listens until :meth:`start`.

        ``call_log_limit`` is how many HTTP calls :attr:`calls` keeps (the newest; ``None``
        keeps all of them, which a long-running emulator should not do).
        """
        self.host = host
        self.port = port
        self.world = World(clock)
        self.clock = self.world.clock
        self.gateway = Gateway(self.world, heartbeat_interval_ms=heartbeat_interval_ms)
        self.actions = Actions(self.world, self.gateway, lambda: self.base_url)
        self.rate_limiter = RateLimiter(rate_limits)
        #: When set, every response body is checked against discord/openapi.json.
        if conformance is None and Emulator.default_conformance is not None:
            conformance = Emulator.default_conformance()
        self.conformance = conformance
        #: The newest HTTP calls answered, in order, numbered from the first one ever.
        self.calls: CallLog[Call] = CallLog(call_log_limit)
        #: Unexpected exceptions inside the emulator (each one is a bug; fixtures fail on them):
        #: the first :attr:`MAX_INTERNAL_ERRORS` (all of them are logged).
        self.internal_errors: list[BaseException] = []
        #: What ``GET /gateway/bot`` recommends (None: one shard per 1,000 guilds).
        self.recommended_shards: int | None = None
        self._runner: web.AppRunner | None = None
        super().__init__()

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://host:port`` (the value for ``bot.api_base_url``)."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """The REST base discord.py uses (``discord.http.Route.BASE``)."""
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        """The websocket URL (``DiscordWebSocket.DEFAULT_GATEWAY``)."""
        return f"ws://{self.host}:{self.port}/gateway"

    def application(self) -> web.Application:
        """The aiohttp application (for embedding in another server)."""
        app = web.Application(client_max_size=26 * 1024 * 1024)
        app.router.add_route("*", r"/api/v{version}/{tail:[\s\S]*}", self._api)
        app.router.add_route("*", r"/api/{tail:[\s\S]*}", self._api)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._attachment)
        app.router.add_get("/", self._index)
        app.router.add_route("*", r"/{tail:[\s\S]*}", self._not_found)
        return app

    async def _not_found(self, request: web.Request) -> web.Response:
        return json_response(404, {"message": "404: Not Found", "code": 0})

    async def start(self) -> Emulator:
        """Listen on ``host:port`` (a free port when 0); returns self."""
        runner = web.AppRunner(self.application(), handle_signals=False, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = sockets[0].getsockname()[1]
        self._runner = runner
        self.gateway.url = self.gateway_url
        return self

    async def stop(self) -> None:
        """Close every websocket and stop listening."""
        for session in list(self.gateway.sessions.values()):
            if session.ws is not None and not session.ws.closed:
                await session.ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        """Start."""
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop."""
        await self.stop()

    # --- HTTP ---------------------------------------------------------------------------------

    async def _index(self, request: web.Request) -> web.Response:
        return json_response(
            200, {"emulator": "securebot", "api": self.api_url, "gateway": self.gateway_url}
        )

    async def _attachment(self, request: web.Request) -> web.Response:
        try:
            channel = self.world.channels.get(int(request.match_info["channel_id"]))
            wanted = int(request.match_info["attachment_id"])
        except ValueError:
            channel, wanted = None, 0
        for message in channel.messages.values() if channel else ():
            for attachment in message.attachments:
                if attachment.id == wanted and not message.deleted:
                    return web.Response(
                        body=attachment.data,
                        headers={
                            "Content-Type": attachment.content_type or "application/octet-stream"
                        },
                    )
        return json_response(404, {"message": "404: Not Found", "code": 0})

    async def _api(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"].rstrip("/")
        spec, params, known = match(request.method, path)
        if spec is None:
            status = 405 if known else 404
            text = "405: Method Not Allowed" if known else "404: Not Found"
            return json_response(status, {"message": text, "code": 0})
        bot = None
        if spec.auth:
            header = request.headers.get("Authorization", "")
            token = header[4:] if header.startswith("Bot ") else None
            bot = self.world.bot_for_token(token) if token else None
            if bot is None:
                return self._finish(
                    request, spec.key, path, None, 401, err.unauthorized().body(), {}, None
                )
        major = next((params[name] for name in _MAJOR if name in params), "")
        verdict = self.rate_limiter.check(bot.user.id if bot else 0, spec.key, major)
        if verdict.retry_after is not None:
            body = {
                "message": "You are being rate limited.",
                "retry_after": round(verdict.retry_after, 3),
                "global": verdict.is_global,
                "code": 0,
            }
            headers = {**verdict.headers, "Via": "1.1 google"}
            return self._finish(request, spec.key, path, bot, 429, body, headers, None)
        ctx = Ctx(self, request, spec, params, bot)
        try:
            ctx.body, ctx.files = await read_body(request)
            status, result = await spec.handler(ctx)
        except err.ApiError as exc:
            status, result = exc.status, exc.body()
            verdict.headers.update(exc.headers)
        except Exception as exc:
            logger.exception("emulator bug answering %s %s", request.method, path)
            if len(self.internal_errors) < self.MAX_INTERNAL_ERRORS:
                self.internal_errors.append(exc)
            status, result = 500, {"message": "500: Internal Server Error", "code": 0}
        return self._finish(request, spec.key, path, bot, status, result, verdict.headers, ctx)

    def _finish(
        self,
        request: web.Request,
        route_key: str,
        path: str,
        bot: Any,
        status: int,
        result: Any,
        headers: dict[str, str],
        ctx: Ctx | None,
    ) -> web.Response:
        call = Call(
            method=request.method,
            path=path,
            route=route_key,
            status=status,
            bot_id=bot.user.id if bot is not None else None,
            request=ctx.body if ctx is not None else None,
            response=result,
            at=self.clock.time(),
            reason=ctx.reason if ctx is not None else None,
            files=[f.filename for f in ctx.files] if ctx is not None else [],
            query=dict(request.query),
        )
        self.calls.append(call)
        if self.conformance is not None:
            self.conformance.check(route_key, status, result)
        self._notify()
        return json_response(status, result, {**headers, "Via": "1.1 google"})
