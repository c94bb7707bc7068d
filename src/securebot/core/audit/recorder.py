"""Turning what the bot does into audit events: command invocations and REST calls.

Each command invocation gets a *correlation id* in a context variable; every REST call made
while it runs (including from tasks it starts) carries the same id, so the log ties the bot's
actions to the command that caused them. ``HTTPClient.request`` is the single place all of
discord.py's REST calls pass, so :meth:`Auditor.install_http` wraps it once.
"""

from __future__ import annotations

import contextvars
import itertools
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

import discord
from discord.ext import commands

from securebot.core.audit.log import AuditLog
from securebot.core.audit.model import AuditEvent, EventKind

#: The correlation id of the command being run ("" outside commands).
CORRELATION: contextvars.ContextVar[str] = contextvars.ContextVar(
    "securebot_correlation", default=""
)
#: The guild of the command being run, for REST calls whose route names no guild.
CORRELATION_GUILD: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "securebot_correlation_guild", default=None
)
_PROCESS = secrets.token_hex(4)
_IDS = map(f"{_PROCESS}-{{:x}}".format, itertools.count(1))


def new_correlation_id() -> str:
    """A correlation id unique across processes (random process part + counter)."""
    return next(_IDS)


def outcome_of(error: BaseException | None) -> str:
    """The recorded outcome: ``ok``, ``denied``, ``input-error``, ``error:<Type>`` (no text)."""
    if error is None:
        return "ok"
    if isinstance(error, commands.CheckFailure):
        return "denied"
    if isinstance(error, commands.UserInputError):
        return "input-error"
    if isinstance(error, commands.CommandOnCooldown | commands.MaxConcurrencyReached):
        return "rate-limited"
    original = getattr(error, "original", error)
    return f"error:{type(original).__name__}"


class Auditor:
    """Builds audit events for the bot and queues them on the :class:`AuditLog`."""

    def __init__(self, log: AuditLog, *, clock: Callable[[], float] = time.time) -> None:
        """:param clock: unix time source (tests set it)."""
        self.log = log
        self.clock = clock

    def command(
        self,
        *,
        via: str,
        action: str,
        guild_id: int | None,
        actor_id: int,
        channel_id: int | None,
        arguments: Mapping[str, str],
        rule: str,
        outcome: str,
        duration_ms: float,
        correlation_id: str,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """Record one command invocation (allowed or denied)."""
        self.log.record_fields(
            (
                EventKind.COMMAND,
                self.clock(),
                guild_id,
                actor_id,
                channel_id,
                action,
                via,
                dict(arguments),
                rule,
                outcome,
                duration_ms,
                correlation_id,
                dict(detail) if detail else {},
            )
        )

    def config(
        self,
        *,
        guild_id: int | None,
        actor_id: int | None,
        setting: str,
        detail: Mapping[str, Any],
        via: str = "command",
    ) -> None:
        """Record a configuration change (what changed; never secret values)."""
        self.log.record(
            AuditEvent(
                EventKind.CONFIG,
                self.clock(),
                guild_id=guild_id,
                actor_id=actor_id,
                action=setting,
                via=via,
                outcome="ok",
                correlation_id=CORRELATION.get(),
                detail=detail,
            )
        )

    def job(
        self,
        *,
        guild_id: int | None,
        actor_id: int | None,
        channel_id: int | None,
        kind: str,
        outcome: str,
        detail: Mapping[str, Any],
    ) -> None:
        """Record a scheduled run (or a run skipped at its re-check): ``kind`` is the job kind,
        ``detail`` says when it was due (never the job's secret payload)."""
        self.log.record(
            AuditEvent(
                EventKind.JOB,
                self.clock(),
                guild_id=guild_id,
                actor_id=actor_id,
                channel_id=channel_id,
                action=kind,
                via="scheduler",
                outcome=outcome,
                correlation_id=CORRELATION.get(),
                detail=detail,
            )
        )

    def install_http(self, http: discord.http.HTTPClient) -> None:
        """Wrap ``http.request`` so every REST call is recorded with the correlation id."""
        original = http.request
        log = self.log
        clock = self.clock

        async def request(route: discord.http.Route, **kwargs: Any) -> Any:
            started = time.perf_counter()
            outcome = "ok"
            try:
                return await original(route, **kwargs)
            except discord.HTTPException as exc:
                outcome = str(exc.status)
                raise
            except Exception as exc:
                outcome = f"error:{type(exc).__name__}"
                raise
            finally:
                log.record_fields(
                    (
                        EventKind.HTTP,
                        clock(),
                        _snowflake(route.guild_id) or CORRELATION_GUILD.get(),
                        None,
                        _snowflake(route.channel_id),
                        f"{route.method} {route.path}",
                        "http",
                        {},
                        "",
                        outcome,
                        (time.perf_counter() - started) * 1000,
                        CORRELATION.get(),
                        {},
                    )
                )

        http.request = request  # type: ignore[method-assign]


def _snowflake(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
