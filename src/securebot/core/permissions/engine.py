"""The permission engine: one pure function, Giselle's precedence (spec §2.4).

:func:`evaluate` decides for prefix commands, slash commands and components alike:

1. module disabled → denied for everyone, administrators included (``module-disabled``);
2. owner-only commands → bot owners only (``owner-only``; owners pass as ``bot-owner``);
   in direct messages (no server, so no managers) only modules open to everyone and
   always-available commands run (else ``guild-only``), without Discord permission needs;
3. always-available commands skip steps 4 and 5 (``always-available``);
4. channel list of the module, for non-managers only (``channel-blacklist`` /
   ``channel-whitelist``);
5. grants: a user deny refuses (``user-deny``, the guild owner excepted); a module role grants
   whatever the other settings (``module-role``); then a user grant (``user-grant``); a denied
   role refuses (``role-deny``); a granted role (``role-grant``); otherwise the default: modules
   open to everyone (``default-everyone``), others to managers (``default-manager``), anyone
   else is refused (``not-granted``);
6. Discord permissions the command needs, of the user (``missing-permissions``) and of the bot
   (``bot-missing-permissions``), always checked (Administrator implies all).

The :class:`~securebot.core.rules.Verdict` names the deciding rule in its ``source``
(``permissions:<rule>``) for the audit log.
"""

from __future__ import annotations

import functools

import discord

from securebot.core.permissions.model import (
    ChannelMode,
    GuildPolicy,
    ModulePolicy,
    PermissionQuery,
    Requirement,
    permission_names,
)
from securebot.core.rules import Verdict

#: Prefix of every verdict source the engine produces.
SOURCE = "permissions"


@functools.lru_cache(maxsize=4096)
def _deny(rule: str, reason: str) -> Verdict:
    return Verdict.deny(reason, source=f"{SOURCE}:{rule}")


@functools.lru_cache(maxsize=4096)
def _allow(rule: str, reason: str) -> Verdict:
    return Verdict.allow(reason, source=f"{SOURCE}:{rule}")


def rule_of(verdict: Verdict) -> str:
    """The engine rule named in ``verdict`` (``""`` when another component decided)."""
    prefix = f"{SOURCE}:"
    return verdict.source[len(prefix) :] if verdict.source.startswith(prefix) else ""


def _has(granted: int, needed: int) -> bool:
    if granted & discord.Permissions.administrator.flag:
        return True
    return granted & needed == needed


def _grants(module: ModulePolicy, query: PermissionQuery) -> Verdict:
    subject = query.subject
    if subject.user_id in module.denied_users and not subject.is_guild_owner:
        return _deny("user-deny", f"you are denied the {query.module} module here")
    if subject.role_ids & module.module_roles:
        return _allow("module-role", f"a {query.module} module role")
    if subject.user_id in module.granted_users:
        return _allow("user-grant", f"granted the {query.module} module")
    if subject.role_ids & module.denied_roles and not subject.is_guild_owner:
        return _deny("role-deny", f"one of your roles is denied the {query.module} module")
    if subject.role_ids & module.granted_roles:
        return _allow("role-grant", f"a role granted the {query.module} module")
    if query.everyone_by_default:
        return _allow("default-everyone", f"the {query.module} module is open to everyone")
    if subject.is_manager:
        return _allow("default-manager", "Manage Server holds restricted modules")
    return _deny("not-granted", f"the {query.module} module has not been granted to you")


def _discord_permissions(query: PermissionQuery) -> Verdict | None:
    need = query.requirement
    subject = query.subject
    if need.user_permissions and not _has(subject.permissions, need.user_permissions):
        missing = permission_names(need.user_permissions & ~subject.permissions)
        return _deny("missing-permissions", f"you need the {', '.join(missing)} permission(s)")
    if need.bot_permissions and not _has(subject.bot_permissions, need.bot_permissions):
        missing = permission_names(need.bot_permissions & ~subject.bot_permissions)
        return _deny("bot-missing-permissions", f"I need the {', '.join(missing)} permission(s)")
    return None


def needs_member_permissions(
    module: ModulePolicy, requirement: Requirement, *, everyone_by_default: bool
) -> bool:
    """Whether deciding can read the member's Discord permissions for this module and command.

    They are read for the command's own permission needs, for manager status in channel lists,
    and for the managers' default hold on restricted modules. When none of these can be
    reached, the verdict is the same whatever the permissions (a law the tests check), so the
    gate skips computing them.
    """
    return bool(
        requirement.user_permissions
        or not everyone_by_default
        or module.channels
        or module.channel_mode is ChannelMode.WHITELIST
    )


def evaluate(policy: GuildPolicy, query: PermissionQuery) -> Verdict:
    """Decide ``query`` against ``policy`` (see the module docstring for the order)."""
    module = policy.module(query.module)
    if query.guild_id is not None and not module.enabled:
        return _deny("module-disabled", f"the {query.module} module is disabled in this server")
    if query.requirement.owner_only:
        if not query.subject.is_bot_owner:
            return _deny("owner-only", "only the bot's owners can use this command")
        return _allow("bot-owner", "a bot owner")
    if query.guild_id is None:
        if query.requirement.user_permissions:
            return _deny("guild-only", "this command only works in a server")
        if not (query.everyone_by_default or query.requirement.always_available):
            # nobody holds Manage Server outside a server: restricted modules stay closed
            return _deny("guild-only", f"the {query.module} module only works in a server")
        return _allow("direct-message", "direct messages have no server settings")
    if query.requirement.always_available:
        verdict = _allow("always-available", "available to everyone")
    else:
        verdict = _channel(module, query) or _grants(module, query)
        if not verdict.allowed:
            return verdict
    return _discord_permissions(query) or verdict


def _channel(module: ModulePolicy, query: PermissionQuery) -> Verdict | None:
    if query.subject.is_manager:
        return None
    listed = query.channel_id in module.channels
    if module.channel_mode is ChannelMode.BLACKLIST and listed:
        return _deny("channel-blacklist", f"the {query.module} module is off in this channel")
    if module.channel_mode is ChannelMode.WHITELIST and not listed:
        return _deny("channel-whitelist", f"the {query.module} module is not on in this channel")
    return None
