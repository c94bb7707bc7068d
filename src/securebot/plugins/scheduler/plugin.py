"""The ``scheduler`` plugin: Giselle's command scheduler (spec §1.11).

``schedule (--interval tc) [--channel c] [--silent] (--command <cmd...>)`` runs any bot command
later, once, "as if sent" by the scheduling user in the given channel; ``schedulerecurring``
(Manage Server) repeats it every interval. Jobs live in the bot's durable scheduler, so they
survive restarts and run once across processes.

Permissions are checked when scheduling (the command must be one the user may run there) and
again at run time: the user must still be in the server with Read and Send in the channel, the
bot must be able to post its "running now" notice (else the run is aborted), and the command
goes through the whole pipeline again (permission engine, cooldowns, audit with
``via="scheduled"``). Every run and every aborted run is audited as a job event.

Limits: an interval of at most 1 h (premium tier 1: 12 h, 2: 1 week, 3: 31 days), 5 one-off
schedulers per user per server, 5 recurring schedulers per server. Tiers come from
``[plugin.scheduler] premium_tiers = { "<guild id>" = <tier> }``.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from typing import Any

import discord
from discord.ext import commands

import securebot

#: The job kind of scheduled commands.
KIND = "scheduler.command"
#: Longest interval per premium tier.
TIER_CAPS = {
    0: dt.timedelta(hours=1),
    1: dt.timedelta(hours=12),
    2: dt.timedelta(weeks=1),
    3: dt.timedelta(days=31),
}
#: Pending one-off schedulers per user per server.
MAX_PER_USER = 5
#: Recurring schedulers per server.
MAX_RECURRING = 5
#: Longest scheduled command text.
MAX_COMMAND = 1000


class ScheduleFlags(securebot.Flags):
    """``schedule`` and ``schedulerecurring`` flags; ``--command`` must come last."""

    interval: securebot.Duration = securebot.flag(aliases=["i"])
    channel: discord.TextChannel | None = securebot.flag(aliases=["c"], default=None)
    silent: bool = securebot.flag(aliases=["s"], default=False)
    command: str = securebot.flag(rest=True)


#: Parse ``premium_tiers`` from a plugin's settings (kept here for this plugin's callers).
premium_tiers = securebot.premium_tiers


def _human(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("day", 86_400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0 and seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


def synthetic_message(
    bot: securebot.Bot, channel: discord.TextChannel, member: discord.Member, content: str
) -> discord.Message:
    """A message "as if sent" by ``member`` in ``channel`` (never sent to Discord)."""
    now = dt.datetime.now(dt.UTC)
    data: Any = {
        "id": str(discord.utils.time_snowflake(now) | secrets.randbits(22)),
        "channel_id": str(channel.id),
        "guild_id": str(channel.guild.id),
        "author": {
            "id": str(member.id),
            "username": member.name,
            "discriminator": member.discriminator,
            "avatar": None,
        },
        "content": content,
        "timestamp": now.isoformat(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "type": 0,
    }
    message = discord.Message(state=bot._connection, channel=channel, data=data)
    message.author = member
    return message


class SchedulerPlugin(securebot.Plugin):
    """Run bot commands later, once or repeatedly, as the user who scheduled them."""

    manifest = securebot.PluginManifest(
        name="scheduler",
        version="1.0.0",
        description="Schedule bot commands to run later, once or on an interval.",
        user_data=securebot.UserData.kept(
            "Pending scheduled commands (command text, channel, due time) of each user, so "
            "they can run later; deleted when they run or are removed."
        ),
        intents={"guilds", "members", "guild_messages", "message_content"},
        permissions={"send_messages", "view_channel"},
    )

    def __init__(self) -> None:
        """No premium tiers until configured."""
        self.tiers: dict[int, int] = {}
        self._bot: securebot.Bot | None = None

    # --- lifecycle and data rights ----------------------------------------------------------

    @securebot.hookimpl
    def securebot_configure(self, config: securebot.Config) -> None:
        """Read ``[plugin.scheduler] premium_tiers``."""
        self.tiers = premium_tiers(config.plugin_settings("scheduler"), plugin="scheduler")

    @securebot.hookimpl
    async def securebot_startup(self, bot: securebot.Bot) -> None:
        """Register the job handler with the bot's durable scheduler."""
        self._bot = bot
        bot.scheduler.register(KIND, self._run)

    @securebot.hookimpl
    async def securebot_export_user_data(self, user_id: int) -> Mapping[str, Any] | None:
        """The user's pending scheduled commands."""
        if self._bot is None:
            return None
        jobs = await self._bot.scheduler.store.jobs(kind=KIND, user_id=user_id)
        return {
            "scheduled_commands": [
                {
                    "guild_id": job.guild_id,
                    "channel_id": job.channel_id,
                    "due": job.due.isoformat(),
                    "interval_seconds": job.interval,
                    "command": job.payload.get("command", ""),
                }
                for job in jobs
            ]
        }

    @securebot.hookimpl
    async def securebot_delete_user_data(self, user_id: int) -> int:
        """Cancel every scheduled command of the user."""
        if self._bot is None:
            return 0
        jobs = await self._bot.scheduler.store.jobs(kind=KIND, user_id=user_id)
        return sum([await self._bot.scheduler.cancel(job.id) for job in jobs])

    # --- helpers ----------------------------------------------------------------------------

    def cap(self, guild_id: int) -> dt.timedelta:
        """The longest interval allowed in ``guild_id`` (by its premium tier)."""
        return TIER_CAPS[self.tiers.get(guild_id, 0)]

    async def _prepare(
        self, ctx: securebot.Context, flags: ScheduleFlags
    ) -> tuple[securebot.Bot, discord.TextChannel, str]:
        bot = ctx.bot
        if not isinstance(bot, securebot.Bot) or ctx.guild is None:
            raise commands.NoPrivateMessage("scheduling only works in a server")
        if not isinstance(ctx.author, discord.Member):
            raise commands.NoPrivateMessage("scheduling only works in a server")
        cap = self.cap(ctx.guild.id)
        if flags.interval > cap:
            raise commands.BadArgument(
                f"`--interval` is at most {_human(cap)} in this server (got "
                f"{_human(flags.interval)})"
            )
        if flags.interval <= dt.timedelta(0):
            raise commands.BadArgument("`--interval` must be in the future")
        channel = flags.channel or ctx.channel
        if not isinstance(channel, discord.TextChannel):
            raise commands.BadArgument("`--channel` must be a text channel")
        perms = channel.permissions_for(ctx.author)
        if not (perms.view_channel and perms.send_messages):  # checked again when due
            raise commands.CheckFailure(
                "You can't schedule commands in that channel: you cannot post there."
            )
        text = flags.command.strip()
        prefix = ctx.clean_prefix if ctx.prefix else ""
        if prefix and text.startswith(prefix):
            text = text[len(prefix) :]
        if not text or len(text) > MAX_COMMAND:
            raise commands.BadArgument(f"`--command` needs 1 to {MAX_COMMAND} characters")
        probe = await bot.get_context(
            synthetic_message(bot, channel, ctx.author, f"{ctx.prefix or ''}{text}")
        )
        if probe.command is None:
            name = text.split()[0][:40]
            raise commands.BadArgument(f"`--command`: there is no command called `{name}`")
        if probe.command.cog is self:
            raise commands.BadArgument("`--command`: scheduler commands cannot be scheduled")
        try:
            allowed = await probe.command.can_run(probe)
        except commands.CheckFailure as exc:
            raise commands.CheckFailure(
                f"You can't schedule `{probe.command.qualified_name}` in #{channel.name}: {exc}"
            ) from None
        if not allowed:
            raise commands.CheckFailure(
                f"You can't schedule `{probe.command.qualified_name}` in #{channel.name}."
            )
        return bot, channel, text

    async def _jobs(
        self, bot: securebot.Bot, guild_id: int, *, recurring: bool, user_id: int | None = None
    ) -> list[Any]:
        found = await bot.scheduler.store.jobs(kind=KIND, guild_id=guild_id, user_id=user_id)
        return [job for job in found if job.recurring is recurring]

    async def _add(self, ctx: securebot.Context, flags: ScheduleFlags, *, recurring: bool) -> None:
        bot, channel, text = await self._prepare(ctx, flags)
        assert ctx.guild is not None
        if recurring:
            if len(await self._jobs(bot, ctx.guild.id, recurring=True)) >= MAX_RECURRING:
                raise commands.BadArgument(
                    f"this server already has {MAX_RECURRING} recurring schedulers; remove one"
                )
        elif (
            len(await self._jobs(bot, ctx.guild.id, recurring=False, user_id=ctx.author.id))
            >= MAX_PER_USER
        ):
            raise commands.BadArgument(
                f"you already have {MAX_PER_USER} pending schedulers here; remove one first"
            )
        due = bot.clock.now() + flags.interval
        await bot.scheduler.schedule(
            KIND,
            due,
            guild_id=ctx.guild.id,
            user_id=ctx.author.id,
            channel_id=channel.id,
            payload={"command": text, "silent": flags.silent, "prefix": ctx.prefix or ""},
            interval=int(flags.interval.total_seconds()) if recurring else None,
        )
        every = f" every {_human(flags.interval)}" if recurring else ""
        await ctx.send(
            f"Scheduled `{text[:100]}` in #{channel.name}{every}, first run "
            f"<t:{int(due.timestamp())}:R>.",
            allowed_mentions=discord.AllowedMentions.none(),
        )

    async def _list(self, ctx: securebot.Context, *, recurring: bool) -> None:
        _bot, jobs = await self._visible(ctx, recurring=recurring)
        if not jobs:
            await ctx.send("No schedulers.")
            return
        lines = [
            f"{index}. `{job.payload.get('command', '')[:80]}` in <#{job.channel_id}> by "
            f"<@{job.user_id}>, next <t:{int(job.due.timestamp())}:R>"
            + (f", every {_human(dt.timedelta(seconds=job.interval))}" if job.interval else "")
            for index, job in enumerate(jobs, 1)
        ]
        await ctx.send("\n".join(lines), allowed_mentions=discord.AllowedMentions.none())

    async def _visible(
        self, ctx: securebot.Context, *, recurring: bool
    ) -> tuple[securebot.Bot, list[Any]]:
        bot = ctx.bot
        if not isinstance(bot, securebot.Bot) or ctx.guild is None:
            raise commands.NoPrivateMessage("schedulers belong to a server")
        manager = isinstance(ctx.author, discord.Member) and (
            ctx.author.guild_permissions.manage_guild or ctx.guild.owner_id == ctx.author.id
        )
        user_id = None if manager or recurring else ctx.author.id
        return bot, await self._jobs(bot, ctx.guild.id, recurring=recurring, user_id=user_id)

    async def _pick(self, ctx: securebot.Context, index: int, *, recurring: bool) -> Any:
        _bot, jobs = await self._visible(ctx, recurring=recurring)
        if not 1 <= index <= len(jobs):
            raise commands.BadArgument(
                f"`{index}` is not in the list (1 to {len(jobs)})" if jobs else "no schedulers"
            )
        return jobs[index - 1]

    # --- running ----------------------------------------------------------------------------

    async def _run(self, run: securebot.JobRun) -> None:
        bot = self._bot
        if bot is None:
            return
        try:
            outcome = await self._execute(bot, run)
        except Exception as exc:  # audited, then logged by the scheduler
            securebot.audit_job_run(
                bot.auditor, run, kind=KIND, outcome=f"error:{type(exc).__name__}"
            )
            raise
        securebot.audit_job_run(bot.auditor, run, kind=KIND, outcome=outcome)

    async def _execute(self, bot: securebot.Bot, run: securebot.JobRun) -> str:
        job = run.job
        problem, member, channel = securebot.job_place(bot, job)
        if problem or member is None or channel is None:
            return problem
        guild = channel.guild
        perms = channel.permissions_for(member)
        if not (perms.view_channel and perms.send_messages):
            return "skipped:member-cannot-send"
        text = str(job.payload.get("command", ""))
        if not job.payload.get("silent", False):
            try:
                await channel.send(
                    f"Running a scheduled command of {member.mention}: `{text[:100]}`",
                    allowed_mentions=discord.AllowedMentions.none(),
                )
            except discord.HTTPException:
                return "skipped:notice-failed"
        elif not channel.permissions_for(guild.me).send_messages:
            return "skipped:bot-cannot-send"
        prefix = str(job.payload.get("prefix", "")) or bot.config.bot.prefix
        message = synthetic_message(bot, channel, member, f"{prefix}{text}")
        ctx = await bot.get_context(message)
        if ctx.command is None:
            return "skipped:command-gone"
        ctx.securebot_via = "scheduled"
        await bot.invoke(ctx)
        return "ran"

    # --- commands ---------------------------------------------------------------------------

    @securebot.command(
        help="Run a command later, once, as if you sent it (--command must come last).",
    )
    async def schedule(self, ctx: securebot.Context, *, flags: ScheduleFlags) -> None:
        """Schedule a one-off command."""
        await self._add(ctx, flags, recurring=False)

    @securebot.command(
        aliases=["schedlist", "schedls"],
        help="Your pending schedulers (managers see everyone's).",
    )
    async def schedulelist(self, ctx: securebot.Context) -> None:
        """List pending one-off schedulers."""
        await self._list(ctx, recurring=False)

    @securebot.command(aliases=["schedrm"], help="Remove one of the listed schedulers.")
    async def scheduleremove(self, ctx: securebot.Context, index: int) -> None:
        """Remove a one-off scheduler by its list number."""
        job = await self._pick(ctx, index, recurring=False)
        assert isinstance(ctx.bot, securebot.Bot)
        await ctx.bot.scheduler.cancel(job.id)
        await ctx.send(f"Removed scheduler {index}.")

    @securebot.requires(user={"manage_guild"})
    @securebot.command(
        aliases=["schedulerec"],
        help="Run a command on a repeating interval (--command must come last).",
    )
    async def schedulerecurring(self, ctx: securebot.Context, *, flags: ScheduleFlags) -> None:
        """Schedule a recurring command."""
        await self._add(ctx, flags, recurring=True)

    @securebot.requires(user={"manage_guild"})
    @securebot.command(
        aliases=["schedulereclist", "schedreclist", "schedrecls"],
        help="The server's recurring schedulers.",
    )
    async def schedulerecurringlist(self, ctx: securebot.Context) -> None:
        """List recurring schedulers."""
        await self._list(ctx, recurring=True)

    @securebot.requires(user={"manage_guild"})
    @securebot.command(
        aliases=["schedulerecremove", "schedrecrm"], help="Remove a recurring scheduler."
    )
    async def schedulerecurringremove(self, ctx: securebot.Context, index: int) -> None:
        """Remove a recurring scheduler by its list number."""
        job = await self._pick(ctx, index, recurring=True)
        assert isinstance(ctx.bot, securebot.Bot)
        await ctx.bot.scheduler.cancel(job.id)
        await ctx.send(f"Removed recurring scheduler {index}.")

    @securebot.requires(user={"manage_guild"})
    @securebot.command(
        aliases=["schedulerecinvoke", "schedrecinv"],
        help="Run a recurring scheduler now; its timer restarts from now.",
    )
    async def schedulerecurringinvoke(self, ctx: securebot.Context, index: int) -> None:
        """Run a recurring scheduler at once."""
        job = await self._pick(ctx, index, recurring=True)
        assert isinstance(ctx.bot, securebot.Bot)
        await ctx.bot.scheduler.run_now(job.id)
