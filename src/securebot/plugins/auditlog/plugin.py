"""The ``auditlog`` plugin: server admins read their own server's audit trail.

``auditlog [--page n] [--user who] [--action name] [--kind kind] [--outcome outcome]`` shows
the server's hash chain, newest first, ten entries a page, and says whether the chain verifies.
Only the invoking server's chain is ever read (a server's admins never see another server's
trail), and arguments are shown as recorded: secret parameters were redacted before storing.

Retention: ``[plugin.auditlog] retention_days = N`` prunes entries older than N days once a day
(a recurring job of the durable scheduler); without it nothing is pruned.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

import discord
from discord.ext import commands

import securebot
from securebot.errors import ConfigError

#: Entries per page.
PAGE_SIZE = 10
#: The scheduler job kind of the daily retention pass.
PRUNE_KIND = "auditlog.prune"
_DAY = 86_400
_ID = re.compile(r"\d{15,21}", re.ASCII)
_KINDS = ("command", "http", "config", "job")


class AuditFlags(securebot.Flags):
    """Filters and page of ``auditlog``."""

    page: int = securebot.flag(aliases=["p"], default=1)
    user: str = securebot.flag(aliases=["u"], default="")
    action: str = securebot.flag(aliases=["a"], default="")
    kind: str = securebot.flag(aliases=["k"], default="")
    outcome: str = securebot.flag(aliases=["o"], default="")


def _safe(text: str, limit: int = 60) -> str:
    """Text shown inside a code block: no backticks, no newlines, cut to ``limit``."""
    flat = text.replace("`", "'").replace("\n", " ")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def format_entry(seq: int, event: Any) -> str:
    """One line of the listing."""
    when = dt.datetime.fromtimestamp(event.at, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    who = f"user {event.actor_id}" if event.actor_id else "the bot"
    line = f"#{seq} {when} {event.kind.value} {_safe(event.action, 50)} by {who} -> "
    line += _safe(event.outcome, 30)
    if event.rule:
        line += f" [{_safe(event.rule, 40)}]"
    if event.arguments:
        shown = " ".join(f"{k}={v}" for k, v in event.arguments.items())
        line += f" {_safe(shown)}"
    return line


def _matches(event: Any, flags: AuditFlags, user_id: int | None) -> bool:
    if user_id is not None and event.actor_id != user_id:
        return False
    if flags.action and event.action.lower() != flags.action.lower():
        return False
    if flags.kind and event.kind.value != flags.kind.lower():
        return False
    return not flags.outcome or event.outcome.lower().startswith(flags.outcome.lower())


def retention_days(settings: Mapping[str, Any]) -> int | None:
    """The configured retention in days (``None``: keep everything)."""
    value = settings.get("retention_days")
    unknown = sorted(set(settings) - {"retention_days"})
    if unknown:
        raise ConfigError(f"plugin.auditlog: unknown key {unknown[0]!r} (known: retention_days)")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError("plugin.auditlog.retention_days: expected a whole number of days >= 1")
    return value


class AuditLogPlugin(securebot.Plugin):
    """Read the server's audit trail; prune it after the configured retention."""

    manifest = securebot.PluginManifest(
        name="auditlog",
        version="1.0.0",
        description="Server admins read their server's audit trail; retention pruning.",
        user_data=securebot.UserData.none(
            "Shows the audit log kept by the securebot core; stores nothing itself."
        ),
        intents={"guilds", "guild_messages", "message_content"},
        permissions={"send_messages"},
    )

    def __init__(self) -> None:
        """No retention until configured."""
        self.retention: int | None = None
        self._bot: securebot.Bot | None = None

    @securebot.hookimpl
    def securebot_configure(self, config: securebot.Config) -> None:
        """Read ``[plugin.auditlog] retention_days``."""
        self.retention = retention_days(config.plugin_settings("auditlog"))

    @securebot.hookimpl
    async def securebot_startup(self, bot: securebot.Bot) -> None:
        """Register the retention job; schedule it once (it is stored, so restarts keep it)."""
        self._bot = bot
        bot.scheduler.register(PRUNE_KIND, self._prune)
        if self.retention is None:
            return
        if not await bot.scheduler.store.jobs(kind=PRUNE_KIND):
            await bot.scheduler.schedule(
                PRUNE_KIND, bot.clock.now() + dt.timedelta(seconds=_DAY), interval=_DAY
            )

    async def _prune(self, run: securebot.JobRun) -> None:
        bot = self._bot
        if bot is None or self.retention is None:
            return
        await bot.audit_log.flush()
        cutoff = run.now - dt.timedelta(days=self.retention)
        await bot.audit_log.prune(before=cutoff.timestamp())

    @securebot.requires(user={"manage_guild"})
    @securebot.command(
        aliases=["al"],
        help="This server's audit trail, newest first (filters: --user --action --kind "
        "--outcome; --page n).",
    )
    async def auditlog(self, ctx: securebot.Context, *, flags: AuditFlags) -> None:
        """Show one page of the server's audit chain."""
        bot = ctx.bot
        if not isinstance(bot, securebot.Bot) or ctx.guild is None:
            raise commands.NoPrivateMessage("the audit log belongs to a server")
        user_id: int | None = None
        if flags.user:
            found = _ID.search(flags.user)
            if found is None:
                raise commands.BadArgument(f"`--user`: `{_safe(flags.user, 40)}` is not an id")
            user_id = int(found.group())
        if flags.kind and flags.kind.lower() not in _KINDS:
            raise commands.BadArgument(f"`--kind` is one of {', '.join(_KINDS)}")
        if flags.page < 1:
            raise commands.BadArgument("`--page` starts at 1")
        await bot.audit_log.flush()
        chain = str(ctx.guild.id)
        report = await bot.audit_log.verify(chain)
        readable, unreadable = await bot.audit_log.readable_entries(chain)
        lines = [
            (entry.seq, format_entry(entry.seq, entry.event))
            for entry in readable
            if _matches(entry.event, flags, user_id)
        ]
        if not (flags.user or flags.action or flags.kind or flags.outcome):
            lines += [(seq, f"#{seq} unreadable: the entry does not open") for seq in unreadable]
        entries = [line for _seq, line in sorted(lines, reverse=True)]
        pages = max(1, -(-len(entries) // PAGE_SIZE))
        if flags.page > pages:
            raise commands.BadArgument(f"`--page`: there are {pages} page(s)")
        shown = entries[(flags.page - 1) * PAGE_SIZE : flags.page * PAGE_SIZE]
        state = "verified" if report.ok else f"BROKEN at entry {report.first_bad_seq}"
        header = (
            f"Audit log of {discord.utils.escape_markdown(ctx.guild.name)}: page {flags.page}/"
            f"{pages}, {len(entries)} entr{'y' if len(entries) == 1 else 'ies'}, chain {state}"
        )
        body = "\n".join(shown) or "(none)"
        await ctx.send(
            f"{header}\n```\n{body}\n```", allowed_mentions=discord.AllowedMentions.none()
        )
