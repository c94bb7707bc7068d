"""Scenario files: a TOML description of a local Discord (users, bots, guilds, roles, channels).

``securebot emulator serve --scenario FILE`` and ``securebot console --scenario FILE`` seed the
emulator from one; without a file they use :data:`DEMO_SCENARIO`. Example::

    [[user]]
    name = "ada"                      # 2-32 characters, unique; id is optional

    [[bot]]
    name = "Giselle"
    token = "giselle-dev-token"       # what the bot logs in with (emulator-only, not a secret)

    [[guild]]
    name = "Giselle Demo"
    owner = "ada"
    members = ["ada", "Giselle"]      # users and bots (the owner is always a member)
    everyone = ["view_channel", "send_messages", "read_message_history"]

    [[guild.role]]
    name = "Moderator"
    permissions = ["kick_members", "ban_members"]   # discord.py permission names, or an integer
    members = ["ada"]

    [[guild.channel]]
    name = "general"
    type = "text"                     # text, voice, category, announcement, forum, stage
    category = "Chat"                 # name of a category channel of the same guild

Validation happens once, on load: an unknown key, a wrong type, a dangling name or a Discord
limit exceeded is one :class:`ScenarioFileError` line naming the place (``guild[1].role[0].name``).
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import discord

from securebot.core.settings import describe
from securebot.errors import ConfigError
from securebot.testing.emulator.model import ChannelType
from securebot.testing.emulator.state import World

__all__ = [
    "CHANNEL_TYPES",
    "DEMO_SCENARIO",
    "ChannelSpec",
    "GuildSpec",
    "RoleSpec",
    "Scenario",
    "ScenarioFileError",
    "Seeded",
    "UserSpec",
    "demo_scenario",
    "load_scenario",
    "parse_scenario",
    "seed",
]

#: Channel type names accepted in scenario files, with their Discord type numbers.
CHANNEL_TYPES: Mapping[str, int] = {
    "text": 0,
    "voice": 2,
    "category": 4,
    "announcement": 5,
    "stage": 13,
    "forum": 15,
}
_MAX_SNOWFLAKE = 2**63 - 1
_MAX_GUILD_CHANNELS = 500
_MAX_GUILD_ROLES = 250


class ScenarioFileError(ConfigError):
    """A scenario file is invalid; the message names the file and the offending key."""


@attrs.frozen
class UserSpec:
    """A user or bot account of the scenario."""

    name: str
    id: int | None = None
    bot: bool = False
    #: The token a bot logs in with (bots only).
    token: str | None = attrs.field(default=None, repr=False)


@attrs.frozen
class RoleSpec:
    """A role of a guild."""

    name: str
    permissions: int = 0
    color: int = 0
    hoist: bool = False
    mentionable: bool = False
    members: tuple[str, ...] = ()


@attrs.frozen
class ChannelSpec:
    """A channel of a guild."""

    name: str
    type: str = "text"
    category: str | None = None
    topic: str | None = None
    slowmode: int = 0
    nsfw: bool = False

    @property
    def type_number(self) -> int:
        """Discord's channel type number."""
        return CHANNEL_TYPES[self.type]


@attrs.frozen
class GuildSpec:
    """A guild with its members, roles and channels."""

    name: str
    owner: str
    members: tuple[str, ...]
    roles: tuple[RoleSpec, ...] = ()
    channels: tuple[ChannelSpec, ...] = ()
    #: Permissions of the ``@everyone`` role (``None``: Discord's defaults).
    everyone: int | None = None
    id: int | None = None


@attrs.frozen
class Scenario:
    """A validated scenario: every name it references exists."""

    users: tuple[UserSpec, ...]
    guilds: tuple[GuildSpec, ...]
    source: str = attrs.field(default="<scenario>", eq=False)

    @property
    def bots(self) -> tuple[UserSpec, ...]:
        """The bot accounts."""
        return tuple(user for user in self.users if user.bot)

    @property
    def humans(self) -> tuple[UserSpec, ...]:
        """The non-bot accounts."""
        return tuple(user for user in self.users if not user.bot)

    def user(self, name: str) -> UserSpec:
        """The account called ``name``."""
        for user in self.users:
            if user.name == name:
                return user
        raise ScenarioFileError(f"{self.source}: no user or bot named {name!r}")


# --- parsing -------------------------------------------------------------------------------


#: Marks a key without a default.
_REQUIRED = object()


class _Reader:
    """Typed access to one table, raising errors that name the key's full path."""

    def __init__(self, data: Any, where: str, source: str, known: Sequence[str]) -> None:
        self.source = source
        self.where = where
        if not isinstance(data, Mapping):
            self.fail(f"expected a table, got {describe(data)}")
        self.data: Mapping[str, Any] = data
        unknown = sorted(set(data) - set(known))
        if unknown:
            self.fail(f"unknown key {unknown[0]!r} (known keys: {', '.join(sorted(known))})")

    def fail(self, message: str, key: str | None = None) -> Any:
        place = f"{self.where}.{key}" if key and self.where else (key or self.where)
        raise ScenarioFileError(
            f"{self.source}: {place}: {message}" if place else f"{self.source}: {message}"
        )

    def _get(self, key: str, kinds: tuple[type, ...], label: str, default: Any) -> Any:
        if key not in self.data:
            if default is _REQUIRED:
                self.fail("is required", key)
            return default
        value = self.data[key]
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            self.fail(f"expected {label}, got {describe(value)}", key)
        return value

    def string(self, key: str, default: Any = _REQUIRED) -> Any:
        return self._get(key, (str,), "a string", default)

    def integer(self, key: str, default: Any = None) -> Any:
        return self._get(key, (int,), "an integer", default)

    def boolean(self, key: str, default: bool = False) -> bool:
        value: bool = self._get(key, (bool,), "true or false", default)
        return value

    def names(self, key: str) -> tuple[str, ...]:
        value = self._get(key, (list,), "a list of names", [])
        for index, item in enumerate(value):
            if not isinstance(item, str):
                self.fail(f"expected a list of names, item {index} is {describe(item)}", key)
        return tuple(value)

    def tables(self, key: str) -> list[Any]:
        value = self._get(key, (list,), "an array of tables", [])
        return list(value)


def _name(reader: _Reader, key: str, *, low: int, high: int) -> str:
    value: str = reader.string(key)
    if not low <= len(value) <= high:
        reader.fail(f"must be {low}-{high} characters (got {len(value)})", key)
    if value != value.strip() or any(not ch.isprintable() for ch in value):
        reader.fail("must not start or end with spaces or contain control characters", key)
    return value


def _snowflake(reader: _Reader) -> int | None:
    value: int | None = reader.integer("id")
    if value is not None and not 0 < value <= _MAX_SNOWFLAKE:
        reader.fail(f"must be a positive 64-bit integer (got {value})", "id")
    return value


def _permissions(reader: _Reader, key: str, default: Any) -> Any:
    if key not in reader.data:
        return default
    value = reader.data[key]
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value < 2**64:
            reader.fail(f"must be a permission bitfield from 0 to 2**64-1 (got {value})", key)
        return value
    if not isinstance(value, list):
        got = describe(value)
        reader.fail(f"expected a list of permission names or an integer, got {got}", key)
    flags = discord.Permissions.VALID_FLAGS
    total = 0
    for item in value:
        if not isinstance(item, str):
            reader.fail(f"expected permission names, got {describe(item)}", key)
        if item not in flags:
            close = _suggest(item, list(flags))
            hint = f" (did you mean {close!r}?)" if close else ""
            reader.fail(f"unknown permission {item!r}{hint}", key)
        total |= flags[item]
    return total


def _user(data: Any, where: str, source: str, *, bot: bool) -> UserSpec:
    reader = _Reader(data, where, source, ["name", "id", "token"] if bot else ["name", "id"])
    name = _name(reader, "name", low=2, high=32)
    ident = _snowflake(reader)
    token = None
    if bot:
        token = reader.string("token", None)
        if token is None:
            token = f"{name}-token"
        if not 8 <= len(token) <= 200 or any(ch.isspace() or not ch.isprintable() for ch in token):
            reader.fail("must be 8-200 printable characters without spaces", "token")
    return UserSpec(name=name, id=ident, bot=bot, token=token)


def _role(data: Any, where: str, source: str) -> RoleSpec:
    reader = _Reader(
        data, where, source, ["name", "permissions", "color", "hoist", "mentionable", "members"]
    )
    name = _name(reader, "name", low=1, high=100)
    if name == "@everyone":
        reader.fail("@everyone is every guild's default role; set the guild's `everyone` key")
    permissions = _permissions(reader, "permissions", 0)
    color = reader.integer("color", 0)
    if not 0 <= color <= 0xFFFFFF:
        reader.fail(f"must be an RGB integer from 0 to 0xFFFFFF (got {color})", "color")
    role = RoleSpec(
        name=name,
        permissions=permissions,
        color=color,
        hoist=reader.boolean("hoist"),
        mentionable=reader.boolean("mentionable"),
        members=reader.names("members"),
    )
    return role


def _channel(data: Any, where: str, source: str) -> ChannelSpec:
    reader = _Reader(data, where, source, ["name", "type", "category", "topic", "slowmode", "nsfw"])
    name = _name(reader, "name", low=1, high=100)
    kind = reader.string("type", "text")
    if kind not in CHANNEL_TYPES:
        reader.fail(f"unknown channel type {kind!r} (one of: {', '.join(CHANNEL_TYPES)})", "type")
    category = reader.string("category", None)
    topic = reader.string("topic", None)
    if topic is not None and len(topic) > 1024:
        reader.fail(f"must be at most 1024 characters (got {len(topic)})", "topic")
    slowmode = reader.integer("slowmode", 0)
    if not 0 <= slowmode <= 21600:
        reader.fail(f"must be 0-21600 seconds (got {slowmode})", "slowmode")
    channel = ChannelSpec(
        name=name,
        type=kind,
        category=category,
        topic=topic,
        slowmode=slowmode,
        nsfw=reader.boolean("nsfw"),
    )
    if kind == "category" and category is not None:
        reader.fail("a category cannot be inside another category", "category")
    return channel


def _guild(data: Any, where: str, source: str, accounts: Mapping[str, UserSpec]) -> GuildSpec:
    reader = _Reader(
        data, where, source, ["name", "id", "owner", "members", "everyone", "role", "channel"]
    )
    name = _name(reader, "name", low=2, high=100)
    ident = _snowflake(reader)
    owner = reader.string("owner")
    if owner not in accounts:
        reader.fail(f"unknown user {owner!r}{_did_you_mean(owner, accounts)}", "owner")
    members = reader.names("members")
    for member in members:
        if member not in accounts:
            reader.fail(f"unknown user {member!r}{_did_you_mean(member, accounts)}", "members")
    if len(set(members)) != len(members):
        reader.fail("a member is listed twice", "members")
    everyone = _permissions(reader, "everyone", None)
    all_members = (owner, *[m for m in members if m != owner])
    raw_roles = reader.tables("role")
    if len(raw_roles) > _MAX_GUILD_ROLES:
        reader.fail(f"at most {_MAX_GUILD_ROLES} roles per guild (got {len(raw_roles)})", "role")
    roles = tuple(_role(item, f"{where}.role[{i}]", source) for i, item in enumerate(raw_roles))
    _unique([role.name for role in roles], reader, "role", "role name")
    for index, role in enumerate(roles):
        for member in role.members:
            if member not in all_members:
                reader.fail(
                    f"{member!r} is not a member of this guild (add it to the guild's members)",
                    f"role[{index}].members",
                )
    raw_channels = reader.tables("channel")
    if len(raw_channels) > _MAX_GUILD_CHANNELS:
        reader.fail(f"at most {_MAX_GUILD_CHANNELS} channels per guild", "channel")
    channels = tuple(
        _channel(item, f"{where}.channel[{i}]", source) for i, item in enumerate(raw_channels)
    )
    _unique([(c.name, c.type == "category") for c in channels], reader, "channel", "channel name")
    categories = {c.name for c in channels if c.type == "category"}
    for index, channel in enumerate(channels):
        if channel.category is not None and channel.category not in categories:
            reader.fail(
                f"no category channel named {channel.category!r} in this guild",
                f"channel[{index}].category",
            )
    return GuildSpec(
        name=name,
        owner=owner,
        members=all_members,
        roles=roles,
        channels=channels,
        everyone=everyone,
        id=ident,
    )


def _suggest(name: str, choices: list[str]) -> str | None:
    close = difflib.get_close_matches(name, choices, n=1)
    if close:
        return close[0]
    containing = sorted(choice for choice in choices if name and name.lower() in choice.lower())
    return containing[0] if containing else None


def _did_you_mean(name: str, known: Mapping[str, Any]) -> str:
    close = _suggest(name, list(known))
    return f" (did you mean {close!r}?)" if close else " (declare it in a [[user]] or [[bot]])"


def _unique(values: Sequence[Any], reader: _Reader, key: str, label: str) -> None:
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            shown = value[0] if isinstance(value, tuple) else value
            reader.fail(f"duplicate {label} {shown!r}", key)
        seen.add(value)


def parse_scenario(text: str, *, source: str = "<scenario>") -> Scenario:
    """Parse and validate scenario TOML; raise :class:`ScenarioFileError` naming the bad key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioFileError(f"{source}: invalid TOML: {exc}") from None
    reader = _Reader(data, "", source, ["user", "bot", "guild"])
    users = [
        _user(item, f"user[{i}]", source, bot=False) for i, item in enumerate(reader.tables("user"))
    ]
    bots = [
        _user(item, f"bot[{i}]", source, bot=True) for i, item in enumerate(reader.tables("bot"))
    ]
    accounts: dict[str, UserSpec] = {}
    for account in (*users, *bots):
        if account.name in accounts:
            raise ScenarioFileError(f"{source}: two accounts are named {account.name!r}")
        accounts[account.name] = account
    if not bots:
        raise ScenarioFileError(f"{source}: declare at least one [[bot]] (the bot that logs in)")
    if len({bot.token for bot in bots}) != len(bots):
        raise ScenarioFileError(f"{source}: two bots have the same token")
    ids = [a.id for a in accounts.values() if a.id is not None]
    if len(set(ids)) != len(ids):
        raise ScenarioFileError(f"{source}: two accounts have the same id")
    guilds = tuple(
        _guild(item, f"guild[{i}]", source, accounts)
        for i, item in enumerate(reader.tables("guild"))
    )
    guild_ids = [g.id for g in guilds if g.id is not None]
    if len(set(guild_ids)) != len(guild_ids):
        raise ScenarioFileError(f"{source}: two guilds have the same id")
    return Scenario(users=(*users, *bots), guilds=guilds, source=source)


def load_scenario(path: Path | None = None) -> Scenario:
    """Read the scenario file at ``path``; the built-in demo scenario when ``path`` is ``None``."""
    if path is None:
        return demo_scenario()
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise ScenarioFileError(f"{path}: scenario file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioFileError(f"{path}: cannot read the scenario file: {exc}") from None
    return parse_scenario(text, source=str(path))


#: The built-in demo scenario: one guild with an owner, an admin, a moderator, a member and the
#: bot, a few channels, and the roles Giselle's permission examples use.
DEMO_SCENARIO = """\
[[user]]
name = "ada"

[[user]]
name = "grace"

[[user]]
name = "linus"

[[user]]
name = "demo"

[[bot]]
name = "Giselle"
token = "giselle-demo-token"

[[guild]]
name = "Giselle Demo"
owner = "ada"
members = ["ada", "grace", "linus", "demo", "Giselle"]
everyone = ["view_channel", "send_messages", "read_message_history", "add_reactions",
            "embed_links", "attach_files", "use_application_commands", "connect", "speak"]

[[guild.role]]
name = "Giselle"
permissions = ["administrator"]
members = ["Giselle"]

[[guild.role]]
name = "Admin"
permissions = ["administrator"]
color = 0xE74C3C
hoist = true
members = ["ada"]

[[guild.role]]
name = "Moderator"
permissions = ["kick_members", "ban_members", "manage_messages", "moderate_members",
               "manage_roles"]
color = 0x3498DB
hoist = true
members = ["grace"]

[[guild.role]]
name = "Member"
color = 0x2ECC71
members = ["linus", "demo"]

[[guild.channel]]
name = "Chat"
type = "category"

[[guild.channel]]
name = "general"
category = "Chat"
topic = "Say hello; try !help"

[[guild.channel]]
name = "bot-commands"
category = "Chat"

[[guild.channel]]
name = "mod-log"
category = "Chat"

[[guild.channel]]
name = "Lounge"
type = "voice"
category = "Chat"
"""


def demo_scenario() -> Scenario:
    """The built-in demo scenario, parsed."""
    return parse_scenario(DEMO_SCENARIO, source="<demo scenario>")


# --- seeding an emulator -----------------------------------------------------------------------


@attrs.frozen
class Seeded:
    """What :func:`seed` created: ids by scenario name."""

    #: Account name -> user id (bots included).
    accounts: Mapping[str, int]
    #: Guild name -> guild id.
    guilds: Mapping[str, int]
    #: Bot name -> token.
    tokens: Mapping[str, str] = attrs.field(repr=False)


def seed(world: World, scenario: Scenario) -> Seeded:
    """Create the scenario's accounts, guilds, roles, members and channels in ``world``.

    Roles are listed top-down, as Discord's role list shows them: the first role of a guild is
    the highest. Seed before bots connect (no gateway events are sent).
    """
    accounts: dict[str, int] = {}
    tokens: dict[str, str] = {}
    for spec in scenario.users:
        if spec.bot:
            assert spec.token is not None
            account = world.add_bot(spec.name, token=spec.token, user_id=spec.id)
            accounts[spec.name] = account.user.id
            tokens[spec.name] = account.token
        else:
            accounts[spec.name] = world.add_user(spec.name, user_id=spec.id).id
    guilds: dict[str, int] = {}
    for guild_spec in scenario.guilds:
        guild = world.add_guild(guild_spec.name, accounts[guild_spec.owner], guild_id=guild_spec.id)
        guilds[guild_spec.name] = guild.id
        if guild_spec.everyone is not None:
            guild.everyone.permissions = guild_spec.everyone
        for name in guild_spec.members:
            if accounts[name] not in guild.members:
                world.add_member(guild, accounts[name])
        count = len(guild_spec.roles)
        for index, role_spec in enumerate(guild_spec.roles):
            role = world.add_role(
                guild,
                role_spec.name,
                permissions=role_spec.permissions,
                position=count - index,
                color=role_spec.color,
                hoist=role_spec.hoist,
                mentionable=role_spec.mentionable,
            )
            for name in role_spec.members:
                guild.members[accounts[name]].role_ids.append(role.id)
        categories: dict[str, int] = {}
        for channel_spec in guild_spec.channels:
            fields: dict[str, Any] = {"nsfw": channel_spec.nsfw}
            if channel_spec.category is not None:
                fields["parent_id"] = categories[channel_spec.category]
            if channel_spec.topic is not None:
                fields["topic"] = channel_spec.topic
            if channel_spec.slowmode:
                fields["rate_limit_per_user"] = channel_spec.slowmode
            channel = world.add_channel(
                guild, channel_spec.name, ChannelType(channel_spec.type_number), **fields
            )
            if channel_spec.type == "category":
                categories[channel_spec.name] = channel.id
            elif guild.system_channel_id is None and channel_spec.type == "text":
                guild.system_channel_id = channel.id
    return Seeded(accounts=accounts, guilds=guilds, tokens=tokens)
