"""discord.py converters for Giselle's argument grammar, for use in any plugin's signatures.

::

    @securebot.command()
    async def remind(self, ctx, where: str, after: securebot.Duration, *, message: str): ...

    class ScheduleFlags(securebot.Flags):
        interval: securebot.Duration = securebot.flag(aliases=["i"])
        channel: discord.TextChannel | None = None
        silent: bool = False
        command: str = securebot.flag(rest=True)

Every conversion failure raises :class:`discord.ext.commands.BadArgument` (a
``UserInputError``) whose text says what was wrong; the bot replies with it and the command's
usage. Users, members, roles, channels and messages use discord.py's own converters (id,
mention, name; messages by id or URL); :data:`UserOrRole` / :data:`UsersOrRoles` resolve
members and roles alike (mixed lists).
"""

from __future__ import annotations

import datetime as dt
import re
import weakref
from typing import Annotated, Any

import discord
from discord.ext import commands
from discord.utils import MISSING

from securebot.core.grammar.flags import FlagGrammar, FlagKind, FlagSpec, scan_flags
from securebot.core.grammar.timecode import TimeCode, parse_time_code
from securebot.core.grammar.timestamps import looks_like_timestamp, parse_timestamp
from securebot.core.grammar.timezones import parse_time_zone
from securebot.errors import CommandInputError

_REST_ATTRIBUTE = "_securebot_rest"
_ROLE_MENTION = re.compile(r"<@&(\d{15,21})>", re.ASCII)  # ids: 0-9 only
_USER_MENTION = re.compile(r"<@!?(\d{15,21})>", re.ASCII)
_ID = re.compile(r"\d{15,21}", re.ASCII)


def now_for(ctx: commands.Context[Any]) -> dt.datetime:
    """The current time for ``ctx``: the bot's ``clock`` if it has one, else the system's."""
    clock = getattr(ctx.bot, "clock", None)
    now = getattr(clock, "now", None)
    if callable(now):
        value = now()
        if isinstance(value, dt.datetime):
            return value
    return dt.datetime.now(dt.UTC)


class TimeCodeConverter(commands.Converter[TimeCode]):
    """Converts a time code (``2mo6h40m``) to a :class:`TimeCode`."""

    def __init__(self, *, allow_seconds: bool = False) -> None:
        """:param allow_seconds: accept the ``s`` unit."""
        self.allow_seconds = allow_seconds

    async def convert(self, ctx: commands.Context[Any], argument: str) -> TimeCode:
        """Parse ``argument`` or raise ``BadArgument`` saying what is wrong."""
        try:
            return parse_time_code(argument, allow_seconds=self.allow_seconds)
        except CommandInputError as exc:
            raise commands.BadArgument(str(exc)) from None


class DurationConverter(commands.Converter[dt.timedelta]):
    """Converts a time code or a future ``<t:UNIX>`` timestamp to a length of time from now."""

    def __init__(self, *, allow_seconds: bool = False) -> None:
        """:param allow_seconds: accept the ``s`` unit in time codes."""
        self.allow_seconds = allow_seconds

    async def convert(self, ctx: commands.Context[Any], argument: str) -> dt.timedelta:
        """Parse ``argument`` or raise ``BadArgument`` saying what is wrong."""
        try:
            if looks_like_timestamp(argument):
                now = now_for(ctx)
                return parse_timestamp(argument, now=now) - now
            return parse_time_code(argument, allow_seconds=self.allow_seconds).to_timedelta()
        except CommandInputError as exc:
            raise commands.BadArgument(str(exc)) from None


class TimeZoneConverter(commands.Converter[dt.tzinfo]):
    """Converts an IANA zone name or a ``UTC±h[:mm]`` offset to a :class:`datetime.tzinfo`."""

    async def convert(self, ctx: commands.Context[Any], argument: str) -> dt.tzinfo:
        """Parse ``argument`` or raise ``BadArgument`` saying what is wrong."""
        try:
            return parse_time_zone(argument)
        except CommandInputError as exc:
            raise commands.BadArgument(str(exc)) from None


class UserOrRoleConverter(commands.Converter[discord.Member | discord.User | discord.Role]):
    """Resolves a member (or user) or a role by mention, id or name; refuses ambiguous names."""

    async def convert(
        self, ctx: commands.Context[Any], argument: str
    ) -> discord.Member | discord.User | discord.Role:
        """Resolve ``argument`` or raise ``BadArgument`` saying why it could not be."""
        text = argument.strip()
        guild = ctx.guild
        if _ROLE_MENTION.fullmatch(text):
            return await commands.RoleConverter().convert(ctx, text)
        if _USER_MENTION.fullmatch(text):
            return await _user(ctx, text)
        if _ID.fullmatch(text) and guild is not None:
            snowflake = int(text)
            role = guild.get_role(snowflake)
            if role is not None:
                return role
            return await _user(ctx, text)
        member: discord.Member | discord.User | None = None
        try:
            member = await _user(ctx, text)
        except commands.BadArgument:
            member = None
        role = discord.utils.get(guild.roles, name=text) if guild is not None else None
        if member is not None and role is not None:
            raise commands.BadArgument(
                f"`{text[:40]}` names both a member and a role; use a mention or an id"
            )
        if member is not None:
            return member
        if role is not None:
            return role
        raise commands.BadArgument(f"no member, user or role called `{text[:40]}` was found")


async def _user(ctx: commands.Context[Any], text: str) -> discord.Member | discord.User:
    """A member from the guild's cache (never a gateway member query), else a known user."""
    guild = ctx.guild
    mention = _USER_MENTION.fullmatch(text)
    snowflake = int(mention.group(1)) if mention else int(text) if _ID.fullmatch(text) else None
    if guild is not None:
        member = (
            guild.get_member(snowflake) if snowflake is not None else guild.get_member_named(text)
        )
        if member is not None:
            return member
    if snowflake is not None:
        try:
            return await commands.UserConverter().convert(ctx, str(snowflake))
        except commands.BadArgument:
            pass
    raise commands.BadArgument(f"no member or user called `{text[:40]}` was found")


_TOKENS = re.compile(r'"([^"]*)"|(\S+)')


def split_names(text: str) -> list[str]:
    """Split a list argument into names: words, or ``"quoted names"`` with spaces."""
    return [
        match.group(1) if match.group(1) is not None else match.group(2)
        for match in _TOKENS.finditer(text)
    ]


class UserOrRoleListConverter(
    commands.Converter[list[discord.Member | discord.User | discord.Role]]
):
    """Resolves the rest of the line as a mixed list of members/users and roles.

    Unlike ``Greedy``, an entry that does not resolve is an error naming that entry, never
    silently left over.
    """

    async def convert(
        self, ctx: commands.Context[Any], argument: str
    ) -> list[discord.Member | discord.User | discord.Role]:
        """Resolve every entry or raise ``BadArgument`` naming the first that fails."""
        names = split_names(argument)
        if not names:
            raise commands.BadArgument("name at least one member or role")
        one = UserOrRoleConverter()
        return [await one.convert(ctx, name) for name in names]


class CachedMemberConverter(commands.Converter[discord.Member]):
    """Resolves a member of this server by mention, id or name: from the member cache, then
    (for a mention or an id) one REST lookup — never a gateway member query.

    discord.py's ``MemberConverter`` falls back to a gateway member query, which is rate
    limited to 2 sends per second per shard (performance-anchors.md §6).
    """

    async def convert(self, ctx: commands.Context[Any], argument: str) -> discord.Member:
        """Resolve ``argument`` or raise ``BadArgument`` saying who was not found."""
        guild = ctx.guild
        if guild is None:
            raise commands.NoPrivateMessage("this command only works in a server")
        text = argument.strip()
        mention = _USER_MENTION.fullmatch(text)
        snowflake = int(mention.group(1)) if mention else int(text) if _ID.fullmatch(text) else 0
        member = guild.get_member(snowflake) if snowflake else guild.get_member_named(text)
        if member is None and snowflake:
            try:
                member = await guild.fetch_member(snowflake)
            except discord.HTTPException:
                member = None
        if member is None:
            raise commands.BadArgument(f"no member called `{text[:40]}` in this server")
        return member


#: A time code (no seconds) or a future ``<t:UNIX>`` timestamp, as a timedelta from now.
Duration = Annotated[dt.timedelta, DurationConverter()]
#: Like :data:`Duration`, with the ``s`` unit allowed.
DurationWithSeconds = Annotated[dt.timedelta, DurationConverter(allow_seconds=True)]
#: An IANA zone name or a ``UTC±h[:mm]`` offset.
TimeZone = Annotated[dt.tzinfo, TimeZoneConverter()]
#: A member of this server, by mention, id or name, resolved from the cache only.
CachedMember = Annotated[discord.Member, CachedMemberConverter()]
#: A member/user or a role, by mention, id or name.
UserOrRole = Annotated[discord.Member | discord.User | discord.Role, UserOrRoleConverter()]
#: The rest of the line as a mixed list of members/users/roles (``*, targets: UserOrRoleList``);
#: an entry that does not resolve is reported.
UserOrRoleList = Annotated[
    list[discord.Member | discord.User | discord.Role], UserOrRoleListConverter()
]
#: One or more members/users/roles (a mixed list): ``targets: UsersOrRoles``.
UsersOrRoles = commands.Greedy[UserOrRoleConverter]


def flag(
    *,
    name: str = MISSING,
    aliases: list[str] = MISSING,
    default: Any = MISSING,
    description: str = MISSING,
    rest: bool = False,
) -> Any:
    """Declare a flag of a :class:`Flags` class (discord.py's ``flag`` plus ``rest``).

    :param rest: the flag takes the raw rest of the line (other ``--flags`` included); it must
        be written last, like the scheduler's ``--command``.
    """
    made = commands.flag(name=name, aliases=aliases, default=default, description=description)
    setattr(made, _REST_ATTRIBUTE, rest)
    return made


_GRAMMARS: weakref.WeakKeyDictionary[type[Any], FlagGrammar] = weakref.WeakKeyDictionary()


class Flags(commands.FlagConverter, prefix="", delimiter=" "):
    """Base class of ``--long`` flag sets (Giselle style), a discord.py ``FlagConverter``.

    Annotate attributes with any converter. ``bool`` attributes are switches written alone
    (``--silent``); declare them ``= False``. Names may contain ``-`` via
    ``flag(name="skip-dm")``. Scanning rules: :mod:`securebot.core.grammar.flags`.
    """

    @classmethod
    def grammar(cls) -> FlagGrammar:
        """The flag grammar of this class (built once)."""
        cached = _GRAMMARS.get(cls)
        if cached is not None:
            return cached
        specs = []
        for item in cls.get_flags().values():
            if getattr(item, _REST_ATTRIBUTE, False):
                kind = FlagKind.REST
            elif item.annotation is bool:
                kind = FlagKind.SWITCH
            else:
                kind = FlagKind.VALUE
            required = item.required and kind is not FlagKind.SWITCH
            specs.append(FlagSpec(item.name, kind, frozenset(item.aliases), required))
        grammar = FlagGrammar(tuple(specs))
        _GRAMMARS[cls] = grammar
        return grammar

    @classmethod
    def usage(cls) -> str:
        """The flags in usage notation: ``(--interval <interval>) [--silent]``."""
        return cls.grammar().usage()

    @classmethod
    def parse_flags(cls, argument: str, *, ignore_extra: bool = True) -> dict[str, list[str]]:
        """Scan ``argument`` with the Giselle rules; raise ``BadArgument`` on bad input."""
        try:
            scanned = scan_flags(argument, cls.grammar())
        except CommandInputError as exc:
            raise commands.BadArgument(str(exc)) from None
        if scanned.positional:
            raise commands.BadArgument(
                f"unexpected `{scanned.positional[:40]}` before the first flag"
            )
        names = {item.name.lower(): item.name for item in cls.get_flags().values()}
        return {names[key]: [value] for key, value in scanned.values.items()}

    @classmethod
    async def convert(cls, ctx: commands.Context[Any], argument: str) -> Any:
        """Convert every flag; a bad value names its flag and says what was wrong."""
        try:
            return await super().convert(ctx, argument)
        except commands.BadFlagArgument as exc:
            reason = exc.original if isinstance(exc.original, commands.CommandError) else None
            detail = str(reason) if reason is not None else f"`{exc.argument[:40]}` is not valid"
            raise commands.BadArgument(f"`--{exc.flag.name}`: {detail}") from None
        except commands.MissingRequiredFlag as exc:
            raise commands.BadArgument(f"the flag `--{exc.flag.name}` is required") from None
