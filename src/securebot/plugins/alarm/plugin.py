"""The ``alarm`` plugin: Giselle's reminders and repeating messages (spec §1.12).

* ``remind (me|here|#channel) (time code) (message)``: a one-off reminder by DM or in a channel;
  ``remindlist`` / ``reminddel (index)`` for the user's own reminders in the server.
* ``repeat (minutes) (message)`` or ``repeat (--m message) [--no-redundant] [--i tc] [--c
  channel]`` (Manage Messages): post a message every interval (default 1 day, first post after one
  interval), deleting the previous copy; ``--no-redundant`` skips the post when the channel's
  last message is already the repeat. ``repeatlist``, ``repeatremove``, ``repeatinvoke``.

Both run on the bot's durable scheduler (they survive restarts, run once across processes). At
run time the permissions are checked again: the user must still be in the server and allowed
the ``alarm`` module, and a channel post needs Send Messages for the user (reminders) and the bot.
Limits: 25 pending reminders per user per server; 5 repeats per server (unlimited from premium
tier 1, ``[plugin.alarm] premium_tiers = { "<guild id>" = <tier> }``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import discord
from discord.ext import commands

import securebot

#: Job kinds.
REMIND_KIND = "alarm.remind"
REPEAT_KIND = "alarm.repeat"
#: Pending reminders per user per server.
MAX_REMINDERS = 25
#: Repeating messages per server below premium tier 1.
MAX_REPEATS = 5
#: Longest reminder or repeat text.
MAX_TEXT = 1500
#: Default repeat interval.
DEFAULT_REPEAT = dt.timedelta(days=1)
_MODULE = "alarm"
_MINUTES = re.compile(r"\s*(\d{1,6})\s+(.+)", re.S | re.ASCII)


class RepeatFlags(securebot.Flags):
    """``repeat`` in its flag form."""

    m: str = securebot.flag(aliases=["message"])
    no_redundant: bool = securebot.flag(name="no-redundant", default=False)
    i: securebot.Duration = securebot.flag(aliases=["interval"], default=DEFAULT_REPEAT)
    c: discord.TextChannel | None = securebot.flag(aliases=["channel"], default=None)


def premium_tiers(settings: Mapping[str, Any]) -> dict[int, int]:
    """Parse ``premium_tiers = { "<guild id>" = 0..3 }`` from ``[plugin.alarm]``."""
    return securebot.premium_tiers(settings, plugin="alarm")


def _bot(ctx: securebot.Context) -> securebot.Bot:
    bot = ctx.bot
    if not isinstance(bot, securebot.Bot) or ctx.guild is None:
        raise commands.NoPrivateMessage("reminders and repeats belong to a server")
    return bot


def _text(message: str) -> str:
    text = message.strip()
    if not text:
        raise commands.BadArgument("the message is empty")
    if len(text) > MAX_TEXT:
        raise commands.BadArgument(f"the message is longer than {MAX_TEXT} characters")
    return text


def _may_repeat_in(channel: Any, member: Any) -> bool:
    """Whether ``member`` may keep a repeating message in ``channel``: see it, post in it and
    manage its messages (what ``repeat`` needs), so the bot never posts where they cannot."""
    if not isinstance(member, discord.Member) or not hasattr(channel, "permissions_for"):
        return False
    perms: discord.Permissions = channel.permissions_for(member)
    return perms.view_channel and perms.send_messages and perms.manage_messages


class Alarm(securebot.Plugin):
    """Reminders and repeating messages."""

    manifest = securebot.PluginManifest(
        name="alarm",
        version="1.0.0",
        description="Reminders by DM or in a channel, and repeating messages.",
        user_data=securebot.UserData.kept(
            "Pending reminders (text, where, when) of each user, kept until they fire or are "
            "deleted; repeating messages of a server name the manager who created them."
        ),
        intents={"guilds", "members", "guild_messages", "message_content"},
        permissions={"send_messages", "manage_messages", "read_message_history"},
    )

    def __init__(self) -> None:
        """No premium tiers until configured."""
        self.tiers: dict[int, int] = {}
        self._bot: securebot.Bot | None = None
        #: Last posted copy of each repeat (job id -> message id), to delete it next time.
        self.last_posts: dict[str, int] = {}

    # --- lifecycle and data rights ----------------------------------------------------------

    @securebot.hookimpl
    def securebot_configure(self, config: securebot.Config) -> None:
        """Read ``[plugin.alarm] premium_tiers``."""
        self.tiers = premium_tiers(config.plugin_settings("alarm"))

    @securebot.hookimpl
    async def securebot_startup(self, bot: securebot.Bot) -> None:
        """Register the reminder and repeat handlers with the durable scheduler."""
        self._bot = bot
        bot.scheduler.register(REMIND_KIND, self._remind)
        bot.scheduler.register(REPEAT_KIND, self._repeat)

    @securebot.hookimpl
    async def securebot_export_user_data(self, user_id: int) -> Mapping[str, Any] | None:
        """The user's pending reminders and the repeats they created."""
        if self._bot is None:
            return None
        store = self._bot.scheduler.store
        return {
            kind: [
                {
                    "guild_id": job.guild_id,
                    "channel_id": job.channel_id,
                    "due": job.due.isoformat(),
                    "message": job.payload.get("message", ""),
                }
                for job in await store.jobs(kind=kind, user_id=user_id)
            ]
            for kind in (REMIND_KIND, REPEAT_KIND)
        }

    @securebot.hookimpl
    async def securebot_delete_user_data(self, user_id: int) -> int:
        """Delete the user's reminders and the repeats they created."""
        if self._bot is None:
            return 0
        erased = 0
        for kind in (REMIND_KIND, REPEAT_KIND):
            for job in await self._bot.scheduler.store.jobs(kind=kind, user_id=user_id):
                erased += await self._bot.scheduler.cancel(job.id)
        return erased

    # --- running jobs -----------------------------------------------------------------------

    async def _handle(
        self,
        run: securebot.JobRun,
        kind: str,
        act: Callable[[securebot.Bot, Any], Awaitable[str]],
    ) -> None:
        """Run ``act`` for a due job of ``kind`` (once the bot started) and audit its outcome
        (``error:<Type>`` when it raised; the scheduler then logs the failure)."""
        bot = self._bot
        if bot is None:
            return
        try:
            outcome = await act(bot, run.job)
        except Exception as exc:
            securebot.audit_job_run(
                bot.auditor, run, kind=kind, outcome=f"error:{type(exc).__name__}"
            )
            raise
        securebot.audit_job_run(bot.auditor, run, kind=kind, outcome=outcome)

    # --- run-time checks --------------------------------------------------------------------

    async def _recheck(
        self, bot: securebot.Bot, job: Any
    ) -> tuple[str, discord.Member | None, discord.TextChannel | None]:
        """("", member, channel) when the job may run, else (why not, ...)."""
        problem, member, channel = securebot.job_place(bot, job)
        if problem or member is None or channel is None:
            return problem, member, channel
        verdict = await bot.permissions.check_member(
            bot, module=_MODULE, user=member, channel=channel, guild=channel.guild
        )
        if not verdict.allowed:
            return f"skipped:denied:{verdict.source}", member, channel
        return "", member, channel

    # --- reminders --------------------------------------------------------------------------

    async def _remind(self, run: securebot.JobRun) -> None:
        await self._handle(run, REMIND_KIND, self._deliver_reminder)

    async def _deliver_reminder(self, bot: securebot.Bot, job: Any) -> str:
        problem, member, channel = await self._recheck(bot, job)
        if problem or member is None or channel is None:
            return problem or "skipped"
        text = str(job.payload.get("message", ""))
        try:
            if job.payload.get("target") == "dm":
                await member.send(f"⏰ Reminder from {channel.guild.name}: {text}")
                return "sent:dm"
            if not channel.permissions_for(member).send_messages:
                return "skipped:member-cannot-send"
            await channel.send(
                f"⏰ {member.mention}, reminder: {text}",
                allowed_mentions=discord.AllowedMentions(
                    everyone=False, roles=False, users=[member]
                ),
            )
        except discord.HTTPException as exc:
            return f"failed:{exc.status}"
        return "sent:channel"

    @securebot.command(
        usage="(me|here|#channel) (time code) (message...)",
        help="Remind you (by DM, here, or in a channel) after a time code like 2h30m.",
    )
    async def remind(
        self, ctx: securebot.Context, where: str, after: securebot.Duration, *, message: str
    ) -> None:
        """Schedule a one-off reminder."""
        bot = _bot(ctx)
        assert ctx.guild is not None
        text = _text(message)
        target = where.lower()
        channel: Any = ctx.channel
        if target not in ("me", "here"):
            try:
                channel = await commands.TextChannelConverter().convert(ctx, where)
            except commands.BadArgument:
                raise commands.BadArgument(
                    f"`{where[:40]}` is not `me`, `here` or a channel of this server"
                ) from None
            if not channel.permissions_for(ctx.author).send_messages:  # never name it
                raise commands.CheckFailure("You can't send messages in that channel.")
        pending = await bot.scheduler.store.jobs(
            kind=REMIND_KIND, guild_id=ctx.guild.id, user_id=ctx.author.id
        )
        if len(pending) >= MAX_REMINDERS:
            raise commands.BadArgument(
                f"you already have {MAX_REMINDERS} reminders here; delete one first"
            )
        due = bot.clock.now() + after
        await bot.scheduler.schedule(
            REMIND_KIND,
            due,
            guild_id=ctx.guild.id,
            user_id=ctx.author.id,
            channel_id=channel.id,
            payload={"target": "dm" if target == "me" else "channel", "message": text},
        )
        shown = "by DM" if target == "me" else f"in #{channel.name}"
        await ctx.send(f"I will remind you {shown} <t:{int(due.timestamp())}:R>.")

    @securebot.command(aliases=["remindls"], help="Your pending reminders in this server.")
    async def remindlist(self, ctx: securebot.Context) -> None:
        """List the author's reminders."""
        jobs = await self._reminders(ctx)
        if not jobs:
            await ctx.send("You have no reminders here.")
            return
        lines = [
            f"{index}. <t:{int(job.due.timestamp())}:R> "
            f"{'by DM' if job.payload.get('target') == 'dm' else f'in <#{job.channel_id}>'}: "
            f"{str(job.payload.get('message', ''))[:80]}"
            for index, job in enumerate(jobs, 1)
        ]
        await ctx.send("\n".join(lines), allowed_mentions=discord.AllowedMentions.none())

    @securebot.command(aliases=["remindrm"], help="Delete one of your reminders by number.")
    async def reminddel(self, ctx: securebot.Context, index: int) -> None:
        """Delete a reminder by its list number."""
        jobs = await self._reminders(ctx)
        if not 1 <= index <= len(jobs):
            raise commands.BadArgument(
                f"`{index}` is not in your list (1 to {len(jobs)})" if jobs else "no reminders"
            )
        await _bot(ctx).scheduler.cancel(jobs[index - 1].id)
        await ctx.send(f"Deleted reminder {index}.")

    async def _reminders(self, ctx: securebot.Context) -> list[Any]:
        bot = _bot(ctx)
        assert ctx.guild is not None
        return await bot.scheduler.store.jobs(
            kind=REMIND_KIND, guild_id=ctx.guild.id, user_id=ctx.author.id
        )

    # --- repeats ----------------------------------------------------------------------------

    async def _repeat(self, run: securebot.JobRun) -> None:
        await self._handle(run, REPEAT_KIND, self._post_repeat)

    async def _post_repeat(self, bot: securebot.Bot, job: Any) -> str:
        problem, member, channel = await self._recheck(bot, job)
        if problem or channel is None or member is None:
            return problem or "skipped"
        if not _may_repeat_in(channel, member):
            return "skipped:member-cannot-send"
        if not channel.permissions_for(channel.guild.me).send_messages:
            return "skipped:bot-cannot-send"
        previous = self.last_posts.get(job.id)
        if job.payload.get("no_redundant") and previous and channel.last_message_id == previous:
            return "skipped:redundant"
        try:
            posted = await channel.send(
                str(job.payload.get("message", "")),
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except discord.HTTPException as exc:
            return f"failed:{exc.status}"
        self.last_posts[job.id] = posted.id
        if previous:
            # already gone, or no Manage Messages: the new copy is posted anyway
            with contextlib.suppress(discord.HTTPException):
                await channel.get_partial_message(previous).delete()
        return "posted"

    @securebot.requires(user={"manage_messages"})
    @securebot.command(
        usage="(minutes) (message...) | (--m message) [--no-redundant] [--i time code] "
        "[--c channel]",
        help="Post a message on an interval (default 1 day), deleting the previous copy.",
    )
    async def repeat(self, ctx: securebot.Context, *, arguments: str) -> None:
        """Create a repeating message (two syntaxes: minutes + text, or flags)."""
        bot = _bot(ctx)
        assert ctx.guild is not None
        channel: Any = ctx.channel
        no_redundant = False
        if arguments.lstrip().startswith("--"):
            flags = await RepeatFlags.convert(ctx, arguments)
            text, interval = _text(flags.m), flags.i
            channel = flags.c or ctx.channel
            no_redundant = flags.no_redundant
        else:
            found = _MINUTES.fullmatch(arguments)
            if found is None:
                raise commands.BadArgument("start with the minutes (`repeat 60 text`) or `--m`")
            minutes = int(found.group(1))
            if minutes < 1:
                raise commands.BadArgument("the interval is at least 1 minute")
            text, interval = _text(found.group(2)), dt.timedelta(minutes=minutes)
        if interval < dt.timedelta(minutes=1):
            raise commands.BadArgument("the interval is at least 1 minute")
        if not _may_repeat_in(channel, ctx.author):  # checked again before every post
            raise commands.CheckFailure(
                "You can't make repeating messages in that channel: you need to post and "
                "manage messages there."
            )
        if self.tiers.get(ctx.guild.id, 0) < 1:
            existing = await bot.scheduler.store.jobs(kind=REPEAT_KIND, guild_id=ctx.guild.id)
            if len(existing) >= MAX_REPEATS:
                raise commands.BadArgument(
                    f"this server already has {MAX_REPEATS} repeating messages (unlimited with "
                    "premium tier 1); remove one first"
                )
        due = bot.clock.now() + interval
        await bot.scheduler.schedule(
            REPEAT_KIND,
            due,
            guild_id=ctx.guild.id,
            user_id=ctx.author.id,
            channel_id=channel.id,
            payload={"message": text, "no_redundant": no_redundant},
            interval=int(interval.total_seconds()),
        )
        await ctx.send(
            f"Repeating in #{channel.name} every {int(interval.total_seconds()) // 60} "
            f"minute(s), first post <t:{int(due.timestamp())}:R>."
        )

    async def _repeats(self, ctx: securebot.Context) -> list[Any]:
        bot = _bot(ctx)
        assert ctx.guild is not None
        return await bot.scheduler.store.jobs(kind=REPEAT_KIND, guild_id=ctx.guild.id)

    async def _pick_repeat(self, ctx: securebot.Context, index: int) -> Any:
        jobs = await self._repeats(ctx)
        if not 1 <= index <= len(jobs):
            raise commands.BadArgument(
                f"`{index}` is not in the list (1 to {len(jobs)})" if jobs else "no repeats"
            )
        return jobs[index - 1]

    @securebot.command(aliases=["repls"], help="The server's repeating messages.")
    async def repeatlist(self, ctx: securebot.Context) -> None:
        """List repeating messages."""
        jobs = await self._repeats(ctx)
        if not jobs:
            await ctx.send("No repeating messages.")
            return
        lines = [
            f"{index}. <#{job.channel_id}> every {(job.interval or 0) // 60} minute(s), next "
            f"<t:{int(job.due.timestamp())}:R>: {str(job.payload.get('message', ''))[:80]}"
            for index, job in enumerate(jobs, 1)
        ]
        await ctx.send("\n".join(lines), allowed_mentions=discord.AllowedMentions.none())

    @securebot.requires(user={"manage_messages"})
    @securebot.command(aliases=["reprm"], help="Remove a repeating message by number.")
    async def repeatremove(self, ctx: securebot.Context, index: int) -> None:
        """Remove a repeating message."""
        job = await self._pick_repeat(ctx, index)
        await _bot(ctx).scheduler.cancel(job.id)
        self.last_posts.pop(job.id, None)
        await ctx.send(f"Removed repeating message {index}.")

    @securebot.requires(user={"manage_messages"})
    @securebot.command(
        aliases=["repinv"], help="Post a repeating message now; its timer restarts from now."
    )
    async def repeatinvoke(self, ctx: securebot.Context, index: int) -> None:
        """Post a repeating message at once."""
        job = await self._pick_repeat(ctx, index)
        await _bot(ctx).scheduler.run_now(job.id)
