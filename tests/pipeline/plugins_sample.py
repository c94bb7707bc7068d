"""Sample plugins for pipeline tests: a restricted module and an everyone module."""

from __future__ import annotations

import datetime as dt

import discord

import securebot
from securebot.core.cooldowns import rate_limit
from securebot.core.grammar import Duration, Flags, TimeZone, UserOrRole, UsersOrRoles, flag
from securebot.core.permissions import check_can_act_on, requires


class WarnFlags(Flags):
    rule: int = flag(aliases=["r"], default=0)
    reason: str = flag(aliases=["rs"], default="")
    skip_dm: bool = flag(name="skip-dm", aliases=["nodm"], default=False)


class ScheduleFlags(Flags):
    interval: Duration = flag(aliases=["i"])
    channel: discord.TextChannel | None = None
    silent: bool = False
    command: str = flag(rest=True)


class Moderation(securebot.Plugin):
    """A restricted module (manager-only by default)."""

    manifest = securebot.PluginManifest(
        name="moderation",
        version="1.0",
        description="sample moderation",
        user_data=securebot.UserData.none(),
    )

    @requires(user={"kick_members"})
    @securebot.command()
    async def warn(
        self, ctx: securebot.Context, target: discord.Member, *, flags: WarnFlags
    ) -> None:
        await ctx.send(
            f"warned {target.name} rule={flags.rule} reason={flags.reason} dm={not flags.skip_dm}"
        )

    @requires(user={"ban_members"}, bot={"ban_members"})
    @securebot.command()
    async def ban(self, ctx: securebot.Context, target: discord.Member) -> None:
        assert isinstance(ctx.author, discord.Member)
        check_can_act_on(ctx.author, target)
        await ctx.send(f"banned {target.name}")

    @securebot.command()
    async def modping(self, ctx: securebot.Context) -> None:
        await ctx.send("modpong")


class Util(securebot.Plugin):
    """An everyone module."""

    manifest = securebot.PluginManifest(
        name="util",
        version="1.0",
        description="sample util",
        user_data=securebot.UserData.none(),
    )

    @securebot.command(aliases=["sleep"])
    async def wait(self, ctx: securebot.Context, after: Duration) -> None:
        await ctx.send(f"waiting {int(after.total_seconds())}s")

    @securebot.command()
    async def clock(self, ctx: securebot.Context, zone: TimeZone) -> None:
        now = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC).astimezone(zone)
        await ctx.send(f"{now:%H:%M}")

    @securebot.command()
    async def who(self, ctx: securebot.Context, targets: UsersOrRoles) -> None:
        kinds = [f"{type(t).__name__}:{t.name}" for t in targets]
        await ctx.send(" ".join(kinds) or "nobody")

    @securebot.command()
    async def whois(self, ctx: securebot.Context, target: UserOrRole) -> None:
        await ctx.send(f"{type(target).__name__}:{target.name}")

    @securebot.command()
    async def sched(self, ctx: securebot.Context, *, flags: ScheduleFlags) -> None:
        where = flags.channel.name if flags.channel else "here"
        seconds = int(flags.interval.total_seconds())
        await ctx.send(f"every {seconds}s in {where} silent={flags.silent}: {flags.command}")

    @securebot.command(secret_params=["pin"])
    async def rrjoin(self, ctx: securebot.Context, room: int, pin: str) -> None:
        if pin == "fail":
            raise RuntimeError("room exploded")
        await ctx.send(f"joined room {room}")

    @securebot.command(always_available=True)
    async def verbose(self, ctx: securebot.Context) -> None:
        bot = ctx.bot
        assert isinstance(bot, securebot.Bot)
        guild_id = ctx.guild.id if ctx.guild else None
        on = not bot.permissions.is_verbose(guild_id, ctx.author.id)
        bot.permissions.set_verbose(guild_id, ctx.author.id, on)
        await ctx.send(f"verbose {'on' if on else 'off'}")

    @requires(owner_only=True)
    @securebot.command()
    async def economy(self, ctx: securebot.Context) -> None:
        await ctx.send("economy admin")

    @rate_limit(2, 60, per="user")
    @securebot.command()
    async def timely(self, ctx: securebot.Context) -> None:
        await ctx.send("coins")
