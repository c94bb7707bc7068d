"""Permissions computed the way Discord computes them.

Base permissions: the owner has all; otherwise ``@everyone`` OR every role of the member;
Administrator grants all. Channel permissions then apply the ``@everyone`` overwrite, the
member's role overwrites (denies, then allows), and the member overwrite; without View Channel
nothing remains; without Send Messages a text channel also denies TTS, Mention Everyone, Embed
Links and Attach Files; a timed-out member keeps only View Channel and Read Message History.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from securebot.testing.emulator.model import Channel, Guild, Member

CREATE_INSTANT_INVITE = 1 << 0
KICK_MEMBERS = 1 << 1
BAN_MEMBERS = 1 << 2
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_AUDIT_LOG = 1 << 7
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
SEND_TTS_MESSAGES = 1 << 12
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
CONNECT = 1 << 20
MUTE_MEMBERS = 1 << 22
DEAFEN_MEMBERS = 1 << 23
MOVE_MEMBERS = 1 << 24
CHANGE_NICKNAME = 1 << 26
MANAGE_NICKNAMES = 1 << 27
MANAGE_ROLES = 1 << 28
MANAGE_WEBHOOKS = 1 << 29
USE_APPLICATION_COMMANDS = 1 << 31
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
CREATE_PRIVATE_THREADS = 1 << 36
SEND_MESSAGES_IN_THREADS = 1 << 38
MODERATE_MEMBERS = 1 << 40
#: Every permission bit Discord defines today.
ALL = (1 << 53) - 1
#: What a new guild's @everyone role gets (Discord's default set).
DEFAULT_EVERYONE = (
    CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | CONNECT
    | CHANGE_NICKNAME
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | SEND_MESSAGES_IN_THREADS
)
#: What a timed-out member keeps in a channel.
TIMEOUT_ALLOWED = VIEW_CHANNEL | READ_MESSAGE_HISTORY


def base_permissions(guild: Guild, member: Member) -> int:
    """Guild-wide permissions of ``member``."""
    if member.user_id == guild.owner_id:
        return ALL
    value = guild.roles[guild.id].permissions if guild.id in guild.roles else 0
    for role_id in member.role_ids:
        role = guild.roles.get(role_id)
        if role is not None:
            value |= role.permissions
    if value & ADMINISTRATOR:
        return ALL
    return value


def channel_permissions(
    guild: Guild, channel: Channel | None, member: Member, *, now: float | None = None
) -> int:
    """Permissions of ``member`` in ``channel`` (guild-wide when ``channel`` is None).

    ``now`` (Unix seconds) lets a current timeout restrict the result.
    """
    base = base_permissions(guild, member)
    if base == ALL:
        return ALL
    value = base
    if channel is not None:
        source = channel
        if channel.is_thread() and channel.parent_id is not None:
            source = guild.channels.get(channel.parent_id, channel)
        overwrites = source.overwrites
        everyone = overwrites.get(guild.id)
        if everyone is not None:
            value = (value & ~everyone.deny) | everyone.allow
        deny = allow = 0
        for role_id in member.role_ids:
            overwrite = overwrites.get(role_id)
            if overwrite is not None and overwrite.type == 0:
                deny |= overwrite.deny
                allow |= overwrite.allow
        value = (value & ~deny) | allow
        own = overwrites.get(member.user_id)
        if own is not None and own.type == 1:
            value = (value & ~own.deny) | own.allow
        if not value & VIEW_CHANNEL:
            return 0
        if channel.is_text() and not value & SEND_MESSAGES:
            value &= ~(SEND_TTS_MESSAGES | MENTION_EVERYONE | EMBED_LINKS | ATTACH_FILES)
    if now is not None and member.timed_out_until is not None and member.timed_out_until > now:
        value &= TIMEOUT_ALLOWED
    return value


def top_position(guild: Guild, member: Member) -> int:
    """Position of the member's highest role (0 for @everyone only)."""
    positions = [guild.roles[r].position for r in member.role_ids if r in guild.roles]
    return max(positions, default=0)


def outranks(guild: Guild, actor: Member, target: Member) -> bool:
    """Whether ``actor`` may act on ``target`` under Discord's role hierarchy."""
    if target.user_id == guild.owner_id:
        return False
    if actor.user_id == guild.owner_id:
        return True
    return top_position(guild, actor) > top_position(guild, target)


def can_manage_role(guild: Guild, actor: Member, role_position: int) -> bool:
    """Whether ``actor`` may assign, edit or delete a role at ``role_position``."""
    if actor.user_id == guild.owner_id:
        return True
    return top_position(guild, actor) > role_position
