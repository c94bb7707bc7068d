"""The permission engine's inputs: plain values, no Discord objects.

A guild's :class:`GuildPolicy` holds one :class:`ModulePolicy` per module (plugin) that differs
from the defaults: enabled flag, grants and denies to roles and users, the channel list and its
mode, and module roles. A :class:`PermissionQuery` says who (a :class:`Subject` with Discord
permission bits and role ids) runs which command (its :class:`Requirement`) where.
"""

from __future__ import annotations

import enum
import types
from collections.abc import Iterable, Mapping

import attrs
import discord


def _ids(values: Iterable[int]) -> frozenset[int]:
    return frozenset(values)


class ChannelMode(enum.Enum):
    """How a module's channel list is read (for non-managers)."""

    #: The module cannot be used in the listed channels (the default).
    BLACKLIST = "blacklist"
    #: The module can be used only in the listed channels.
    WHITELIST = "whitelist"


@attrs.frozen
class ModulePolicy:
    """One module's stored permission settings in one guild."""

    #: ``False`` disables the module for everyone, administrators included.
    enabled: bool = True
    granted_roles: frozenset[int] = attrs.field(default=frozenset(), converter=_ids)
    granted_users: frozenset[int] = attrs.field(default=frozenset(), converter=_ids)
    denied_roles: frozenset[int] = attrs.field(default=frozenset(), converter=_ids)
    denied_users: frozenset[int] = attrs.field(default=frozenset(), converter=_ids)
    channel_mode: ChannelMode = ChannelMode.BLACKLIST
    channels: frozenset[int] = attrs.field(default=frozenset(), converter=_ids)
    #: Roles that use the module whatever their grants (e.g. moderation's mod roles).
    module_roles: frozenset[int] = attrs.field(default=frozenset(), converter=_ids)


def _frozen_modules(modules: Mapping[str, ModulePolicy]) -> Mapping[str, ModulePolicy]:
    return types.MappingProxyType(dict(modules))


#: The policy of a module nobody has configured.
DEFAULT_MODULE = ModulePolicy()


@attrs.frozen
class GuildPolicy:
    """All of a guild's module policies; modules not listed use :data:`DEFAULT_MODULE`."""

    modules: Mapping[str, ModulePolicy] = attrs.field(factory=dict, converter=_frozen_modules)

    def module(self, name: str) -> ModulePolicy:
        """The policy of module ``name``."""
        return self.modules.get(name, DEFAULT_MODULE)

    def with_module(self, name: str, policy: ModulePolicy) -> GuildPolicy:
        """A copy with module ``name`` set to ``policy``."""
        modules = dict(self.modules)
        modules[name] = policy
        return GuildPolicy(modules)


def permission_bits(names: Iterable[str]) -> int:
    """Discord permission names (``"ban_members"``) as a bit value; unknown names raise."""
    names = tuple(names)
    unknown = sorted(set(names) - set(discord.Permissions.VALID_FLAGS))
    if unknown:
        raise ValueError(f"unknown Discord permission(s): {', '.join(unknown)}")
    return discord.Permissions(**dict.fromkeys(names, True)).value


def permission_names(bits: int) -> list[str]:
    """The names of the permission bits set in ``bits``, sorted."""
    return sorted(name for name, value in discord.Permissions(bits) if value)


@attrs.frozen
class Requirement:
    """What a command itself demands, independent of any guild's settings."""

    #: Discord permissions the user needs in the channel.
    user_permissions: int = 0
    #: Discord permissions the bot needs in the channel.
    bot_permissions: int = 0
    #: Runs for everyone wherever its module is enabled (skips channel lists and grants).
    always_available: bool = False
    #: Only the bot's owners may run it.
    owner_only: bool = False


@attrs.frozen
class Subject:
    """The person running a command, as the engine sees them."""

    user_id: int
    role_ids: frozenset[int] = attrs.field(default=frozenset(), converter=_ids)
    #: The user's effective Discord permissions in the channel.
    permissions: int = 0
    #: The bot's effective Discord permissions in the channel.
    bot_permissions: int = 0
    is_guild_owner: bool = False
    is_bot_owner: bool = False

    @property
    def is_manager(self) -> bool:
        """Guild owner, Administrator or Manage Server: managers skip channel lists."""
        perms = discord.Permissions(self.permissions)
        return self.is_guild_owner or perms.administrator or perms.manage_guild


@attrs.frozen
class PermissionQuery:
    """Who runs which module's command where."""

    module: str
    command: str
    channel_id: int
    #: ``None`` in direct messages.
    guild_id: int | None
    subject: Subject
    requirement: Requirement = Requirement()
    #: Whether the module is open to everyone by default (else managers only).
    everyone_by_default: bool = False
