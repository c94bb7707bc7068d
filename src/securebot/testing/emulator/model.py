"""The emulator's state: plain records for everything Discord stores.

Records hold ids, never payloads; :mod:`securebot.testing.emulator.payloads` renders them as
Discord JSON. Scenario code may read every field; change state through the
:class:`~securebot.testing.emulator.Emulator` methods so the gateway events follow.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class ChannelType(enum.IntEnum):
    """Discord's channel types the emulator models."""

    TEXT = 0
    DM = 1
    VOICE = 2
    CATEGORY = 4
    NEWS = 5
    NEWS_THREAD = 10
    PUBLIC_THREAD = 11
    PRIVATE_THREAD = 12
    STAGE = 13
    FORUM = 15


THREAD_TYPES = frozenset(
    {ChannelType.NEWS_THREAD, ChannelType.PUBLIC_THREAD, ChannelType.PRIVATE_THREAD}
)
TEXT_TYPES = frozenset({ChannelType.TEXT, ChannelType.NEWS, ChannelType.DM, *THREAD_TYPES})


@dataclass(slots=True)
class User:
    """A Discord account (a person or a bot)."""

    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    avatar: str | None = None
    #: Whether the user accepts DMs from bots sharing a guild with them.
    accepts_dms: bool = True


@dataclass(slots=True)
class BotAccount:
    """A bot: its user, its token, and its application."""

    user: User
    token: str
    application_id: int
    #: Privileged intents the application may request (bits of GUILD_MEMBERS 1<<1,
    #: GUILD_PRESENCES 1<<8, MESSAGE_CONTENT 1<<15); asking for another one closes with 4014.
    privileged_intents: int
    owner_id: int
    name: str = "securebot"


@dataclass(slots=True)
class Role:
    """A guild role; the @everyone role has the guild's id and position 0."""

    id: int
    guild_id: int
    name: str
    permissions: int = 0
    position: int = 0
    color: int = 0
    hoist: bool = False
    managed: bool = False
    mentionable: bool = False


@dataclass(slots=True)
class Overwrite:
    """A channel permission overwrite (type 0 = role, 1 = member)."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0


@dataclass(slots=True)
class Reaction:
    """One emoji on a message and who reacted with it."""

    emoji_name: str
    emoji_id: int | None = None
    user_ids: list[int] = field(default_factory=list)

    @property
    def key(self) -> str:
        """How routes name the emoji: ``name`` or ``name:id``."""
        return self.emoji_name if self.emoji_id is None else f"{self.emoji_name}:{self.emoji_id}"


@dataclass(slots=True)
class Attachment:
    """A file attached to a message (bytes kept so tests can read them back)."""

    id: int
    filename: str
    data: bytes
    content_type: str | None = None
    description: str | None = None


@dataclass(slots=True)
class Message:
    """A message in a channel."""

    id: int
    channel_id: int
    guild_id: int | None
    author_id: int
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    reactions: list[Reaction] = field(default_factory=list)
    pinned: bool = False
    edited_at: float | None = None
    type: int = 0
    flags: int = 0
    tts: bool = False
    nonce: str | int | None = None
    mention_ids: list[int] = field(default_factory=list)
    mention_role_ids: list[int] = field(default_factory=list)
    mention_everyone: bool = False
    reference: dict[str, Any] | None = None
    webhook_id: int | None = None
    application_id: int | None = None
    #: For a reply to an interaction: ``{"id", "type", "name", "user_id"}``.
    interaction: dict[str, Any] | None = None
    deleted: bool = False


@dataclass(slots=True)
class Channel:
    """A guild channel, a thread or a DM."""

    id: int
    type: ChannelType
    guild_id: int | None = None
    name: str | None = None
    position: int = 0
    parent_id: int | None = None
    topic: str | None = None
    nsfw: bool = False
    rate_limit_per_user: int = 0
    bitrate: int = 64000
    user_limit: int = 0
    overwrites: dict[int, Overwrite] = field(default_factory=dict)
    recipient_ids: list[int] = field(default_factory=list)
    messages: dict[int, Message] = field(default_factory=dict)
    pins: list[int] = field(default_factory=list)
    last_message_id: int | None = None
    owner_id: int | None = None
    archived: bool = False
    locked: bool = False

    def is_thread(self) -> bool:
        """Whether this channel is a thread."""
        return self.type in THREAD_TYPES

    def is_text(self) -> bool:
        """Whether messages can be sent here."""
        return self.type in TEXT_TYPES

    def live_messages(self) -> list[Message]:
        """Messages not deleted, oldest first."""
        return [m for m in self.messages.values() if not m.deleted]


@dataclass(slots=True)
class Member:
    """A user's membership in a guild."""

    guild_id: int
    user_id: int
    role_ids: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: float = 0.0
    #: Unix seconds until which the member is timed out (None: not timed out).
    timed_out_until: float | None = None
    flags: int = 0
    deaf: bool = False
    mute: bool = False
    pending: bool = False


@dataclass(slots=True)
class Ban:
    """A ban in a guild."""

    user_id: int
    reason: str | None = None


@dataclass(slots=True)
class Invite:
    """An invite to a guild channel."""

    code: str
    guild_id: int
    channel_id: int
    inviter_id: int | None
    created_at: float
    max_age: int = 86400
    max_uses: int = 0
    uses: int = 0
    temporary: bool = False


@dataclass(slots=True)
class Webhook:
    """A channel webhook (type 1) or an application's interaction webhook (type 3)."""

    id: int
    type: int
    channel_id: int | None
    guild_id: int | None
    name: str
    token: str
    user_id: int | None = None
    application_id: int | None = None
    avatar: str | None = None


@dataclass(slots=True)
class AppCommand:
    """A registered application command (global when ``guild_id`` is None)."""

    id: int
    application_id: int
    guild_id: int | None
    name: str
    description: str
    type: int = 1
    options: list[dict[str, Any]] = field(default_factory=list)
    default_member_permissions: str | None = None
    nsfw: bool = False
    contexts: list[int] | None = None
    integration_types: list[int] = field(default_factory=lambda: [0])
    name_localizations: dict[str, str] | None = None
    description_localizations: dict[str, str] | None = None
    version: int = 0


@dataclass(slots=True)
class VoiceState:
    """A member connected to a voice channel."""

    guild_id: int
    channel_id: int | None
    user_id: int
    session_id: str
    self_mute: bool = False
    self_deaf: bool = False
    mute: bool = False
    deaf: bool = False


@dataclass(slots=True)
class Interaction:
    """An interaction a user started (slash command, component click, modal submit)."""

    id: int
    token: str
    application_id: int
    type: int
    user_id: int
    channel_id: int
    guild_id: int | None
    data: dict[str, Any]
    message_id: int | None = None
    created_at: float = 0.0
    #: Callback type of the first response (None: not answered yet).
    response_type: int | None = None
    #: The modal the bot opened in answer (callback type 9), if any.
    modal: dict[str, Any] | None = None
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class AuditEntry:
    """An entry of a guild's audit log (who did what to whom, and why)."""

    id: int
    action_type: int
    user_id: int | None
    target_id: int | None
    reason: str | None = None
    changes: list[dict[str, Any]] = field(default_factory=list)
    options: dict[str, str] | None = None


@dataclass(slots=True)
class Guild:
    """A guild with its roles, channels, members, bans, invites and voice states."""

    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    bans: dict[int, Ban] = field(default_factory=dict)
    invites: dict[str, Invite] = field(default_factory=dict)
    voice_states: dict[int, VoiceState] = field(default_factory=dict)
    #: The audit log, oldest first.
    audit_log: list[AuditEntry] = field(default_factory=list)
    system_channel_id: int | None = None
    description: str | None = None
    preferred_locale: str = "en-US"

    @property
    def everyone(self) -> Role:
        """The @everyone role."""
        return self.roles[self.id]
