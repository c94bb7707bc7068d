"""HTTP plumbing: the route table, the request context, body parsing and the call log.

Routes are declared with :func:`route` using Discord's path templates (the same strings as
discord/openapi.json), so the call log, the rate-limit buckets and the conformance checker all
speak in those templates.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from securebot.testing.emulator import errors as err
from securebot.testing.emulator.model import BotAccount
from securebot.testing.emulator.state import World
from securebot.testing.emulator.validation import Form

if TYPE_CHECKING:
    from securebot.testing.emulator.server import Emulator

#: Largest request body accepted (Discord: 25 MiB of files per message for bots).
MAX_BODY = 26 * 1024 * 1024

Result = tuple[int, Any]
Handler = Callable[["Ctx"], Awaitable[Result]]


@dataclass(frozen=True)
class RouteSpec:
    """One declared route."""

    method: str
    template: str
    handler: Handler
    pattern: re.Pattern[str]
    auth: bool

    @property
    def key(self) -> str:
        """``"METHOD /template"``: how logs, buckets and conformance name the route."""
        return f"{self.method} {self.template}"


ROUTES: list[RouteSpec] = []


def route(method: str, template: str, *, auth: bool = True) -> Callable[[Handler], Handler]:
    """Declare a handler for ``METHOD template`` (``auth=False``: token in the path)."""
    regex = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(template))
    pattern = re.compile(f"^{regex}$")

    def register(handler: Handler) -> Handler:
        ROUTES.append(RouteSpec(method, template, handler, pattern, auth))
        return handler

    return register


def match(method: str, path: str) -> tuple[RouteSpec | None, dict[str, str], bool]:
    """The route for ``method path``, its parameters, and whether the path exists at all.

    When several templates match, the most literal one wins (``members/search`` over
    ``members/{user_id}``).
    """
    best: tuple[int, RouteSpec, dict[str, str]] | None = None
    path_known = False
    for spec in ROUTES:
        found = spec.pattern.match(path)
        if found is None:
            continue
        path_known = True
        if spec.method != method:
            continue
        params = found.groupdict()
        if best is None or len(params) < best[0]:
            best = (len(params), spec, params)
    if best is None:
        return None, {}, path_known
    return best[1], best[2], True


@dataclass
class UploadedFile:
    """A file part of a multipart request."""

    index: int
    filename: str
    content_type: str | None
    data: bytes


@dataclass
class Call:
    """One HTTP request the emulator answered (the bot's audit trail as Discord saw it)."""

    method: str
    path: str
    route: str
    status: int
    bot_id: int | None
    request: Any
    response: Any
    at: float
    reason: str | None = None
    files: list[str] = field(default_factory=list)
    query: dict[str, str] = field(default_factory=dict)


@dataclass
class Ctx:
    """What a handler gets: the emulator, the caller, path parameters and the body."""

    emu: Emulator
    request: web.Request
    spec: RouteSpec
    params: dict[str, str]
    bot: BotAccount | None
    body: Any = None
    files: list[UploadedFile] = field(default_factory=list)

    @property
    def world(self) -> World:
        """The emulator's :class:`~securebot.testing.emulator.state.World`."""
        return self.emu.world

    @property
    def caller(self) -> BotAccount:
        """The authenticated bot (routes with ``auth=True`` always have one)."""
        if self.bot is None:
            raise err.unauthorized()
        return self.bot

    def id(self, name: str, *, code: int = 10003, what: str = "Channel") -> int:
        """A snowflake path parameter; a malformed one is Discord's 404 for that resource."""
        raw = self.params.get(name, "")
        if raw.isascii() and raw.isdigit() and len(raw) <= 20 and int(raw) < 1 << 64:
            return int(raw)
        raise err.not_found(code, what)

    def form(self) -> Form:
        """The JSON body as a :class:`Form` (a non-object body is a 50035 at the root)."""
        return Form(self.body if self.body is not None else {})

    def array(self, *, missing_ok: bool = False) -> list[Any]:
        """The JSON body as an array (a missing body is ``[]`` with ``missing_ok``); anything
        else is a 50035 ``BASE_TYPE_LIST`` at the root."""
        body = [] if missing_ok and self.body is None else self.body
        if not isinstance(body, list):
            raise err.invalid_form(err.field_error("BASE_TYPE_LIST", "Must be an array."))
        return body

    def query_int(self, name: str, *, default: int, minimum: int, maximum: int) -> int:
        """An integer query parameter within bounds (else 50035)."""
        raw = self.request.query.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise err.invalid_form(
                {name: err.field_error("NUMBER_TYPE_COERCE", f'Value "{raw[:40]}" is not int.')}
            ) from None
        if not minimum <= value <= maximum:
            raise err.invalid_form(
                {
                    name: err.field_error(
                        "NUMBER_TYPE_MAX", f"int value should be between {minimum} and {maximum}."
                    )
                }
            )
        return value

    def query_snowflake(self, name: str) -> int | None:
        """A snowflake query parameter (else 50035)."""
        raw = self.request.query.get(name)
        if raw is None:
            return None
        if raw.isascii() and raw.isdigit() and len(raw) <= 20 and int(raw) < 1 << 64:
            return int(raw)
        raise err.invalid_form(
            {name: err.field_error("NUMBER_TYPE_COERCE", f'Value "{raw[:40]}" is not snowflake.')}
        )

    @property
    def reason(self) -> str | None:
        """The ``X-Audit-Log-Reason`` header, URL-decoded."""
        raw = self.request.headers.get("X-Audit-Log-Reason")
        return urllib.parse.unquote(raw) if raw is not None else None


async def read_body(request: web.Request) -> tuple[Any, list[UploadedFile]]:
    """Parse a JSON or multipart (``payload_json`` + ``files[n]``) body."""
    if not request.can_read_body:
        return None, []
    kind = request.content_type
    if kind == "multipart/form-data":
        return await _read_multipart(request)
    raw = await request.read()
    if not raw:
        return None, []
    if len(raw) > MAX_BODY:
        raise err.ApiError(413, 40005, "Request entity too large")
    try:
        return json.loads(raw), []
    except (ValueError, UnicodeDecodeError):
        raise err.ApiError(
            400, err.INVALID_JSON, "The request body contains invalid JSON."
        ) from None


async def _read_multipart(request: web.Request) -> tuple[Any, list[UploadedFile]]:
    payload: Any = None
    files: list[UploadedFile] = []
    total = 0
    try:
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                break
            name = getattr(part, "name", None) or ""
            data = await part.read()  # type: ignore[union-attr]
            total += len(data)
            if total > MAX_BODY:
                raise err.ApiError(413, 40005, "Request entity too large")
            if name == "payload_json":
                payload = json.loads(data)
                continue
            found = re.fullmatch(r"files\[(\d+)\]", name)
            if found is None:
                found = re.fullmatch(r"file(\d*)", name)
            if found is None:
                raise err.invalid_form(
                    {name[:50] or "_": err.field_error("UNKNOWN_FIELD", "Unknown multipart field")}
                )
            index = int(found.group(1) or 0)
            filename = getattr(part, "filename", None) or f"file{index}"
            content_type = part.headers.get("Content-Type")
            files.append(UploadedFile(index, filename, content_type, bytes(data)))
    except err.ApiError:
        raise
    except (ValueError, UnicodeDecodeError, AssertionError, RuntimeError, KeyError):
        raise err.ApiError(
            400, err.INVALID_JSON, "The request body contains invalid JSON."
        ) from None
    return payload, files


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    """A response with exactly ``Content-Type: application/json`` (discord.py compares it)."""
    all_headers = dict(headers or {})
    if status == 204 or body is None:
        return web.Response(status=204 if body is None else status, headers=all_headers)
    all_headers["Content-Type"] = "application/json"
    return web.Response(status=status, body=json.dumps(body).encode(), headers=all_headers)
