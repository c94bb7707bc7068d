"""The emulator's world: every record, indexed, with lookups that raise Discord's errors."""

from __future__ import annotations

import secrets
from typing import Any

from securebot.testing.emulator import errors as err
from securebot.testing.emulator.clock import EmulatorClock, Snowflakes
from securebot.testing.emulator.model import (
    AppCommand,
    BotAccount,
    Channel,
    ChannelType,
    Guild,
    Interaction,
    Member,
    Message,
    Role,
    User,
    VoiceState,
    Webhook,
)
from securebot.testing.emulator.permissions import DEFAULT_EVERYONE

#: Privileged intents: GUILD_MEMBERS, GUILD_PRESENCES, MESSAGE_CONTENT.
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)
#: Seconds an interaction token stays valid (Discord: 15 minutes); older interactions are
#: forgotten when a new one is added, as nothing can use them any more.
INTERACTION_TOKEN_LIFETIME = 15 * 60


class World:
    """All records of one emulator; ids come from :attr:`snowflakes` on :attr:`clock`."""

    def __init__(self, clock: EmulatorClock | None = None) -> None:
        """An empty world."""
        self.clock = clock or EmulatorClock()
        self.snowflakes = Snowflakes(self.clock)
        self.users: dict[int, User] = {}
        self.bots: dict[int, BotAccount] = {}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.webhooks: dict[int, Webhook] = {}
        self.commands: dict[int, AppCommand] = {}
        self.interactions: dict[int, Interaction] = {}
        self._tokens: dict[str, BotAccount] = {}
        self._dm_channels: dict[frozenset[int], int] = {}

    # --- creation (no events: the Emulator dispatches them) ---------------------------------

    def new_id(self) -> int:
        """A fresh snowflake."""
        return self.snowflakes.next()

    def add_user(self, username: str, *, bot: bool = False, user_id: int | None = None) -> User:
        """Create a user account."""
        user = User(id=user_id or self.new_id(), username=username, global_name=username, bot=bot)
        self.users[user.id] = user
        return user

    def add_bot(
        self,
        username: str,
        *,
        token: str | None = None,
        privileged_intents: int = PRIVILEGED_INTENTS,
        owner_id: int | None = None,
        user_id: int | None = None,
    ) -> BotAccount:
        """Create a bot user, its application (same id, like Discord) and its token."""
        user = self.add_user(username, bot=True, user_id=user_id)
        if owner_id is None:
            owner_id = self.add_user(f"{username}-owner").id
        account = BotAccount(
            user=user,
            token=token or secrets.token_urlsafe(24),
            application_id=user.id,
            privileged_intents=privileged_intents,
            owner_id=owner_id,
            name=username,
        )
        if account.token in self._tokens:
            raise ValueError("two bots cannot share a token")
        self.bots[user.id] = account
        self._tokens[account.token] = account
        return account

    def add_guild(self, name: str, owner_id: int, *, guild_id: int | None = None) -> Guild:
        """Create a guild with its @everyone role and its owner as a member."""
        gid = guild_id or self.new_id()
        guild = Guild(id=gid, name=name, owner_id=owner_id)
        guild.roles[gid] = Role(
            id=gid, guild_id=gid, name="@everyone", permissions=DEFAULT_EVERYONE
        )
        self.guilds[gid] = guild
        self.add_member(guild, owner_id)
        return guild

    def add_member(self, guild: Guild, user_id: int, role_ids: list[int] | None = None) -> Member:
        """Make ``user_id`` a member of ``guild``."""
        self.user(user_id)
        member = Member(
            guild_id=guild.id,
            user_id=user_id,
            role_ids=list(role_ids or []),
            joined_at=self.clock.time(),
        )
        guild.members[user_id] = member
        return member

    def add_role(
        self,
        guild: Guild,
        name: str,
        *,
        permissions: int = 0,
        position: int | None = None,
        **fields: Any,
    ) -> Role:
        """Create a role; by default just above the current highest one."""
        if position is None:
            position = max(r.position for r in guild.roles.values()) + 1
        role = Role(
            id=self.new_id(),
            guild_id=guild.id,
            name=name,
            permissions=permissions,
            position=position,
            **fields,
        )
        guild.roles[role.id] = role
        return role

    def add_channel(
        self, guild: Guild | None, name: str | None, type: ChannelType, **fields: Any
    ) -> Channel:
        """Create a channel (in ``guild``; a DM when ``guild`` is None)."""
        channel = Channel(
            id=fields.pop("id", None) or self.new_id(),
            type=type,
            guild_id=guild.id if guild else None,
            name=name,
            **fields,
        )
        if guild is not None:
            if "position" not in fields:
                channel.position = len(guild.channels)
            guild.channels[channel.id] = channel
        self.channels[channel.id] = channel
        return channel

    def dm_channel(self, first: int, second: int) -> Channel:
        """The DM channel between two users (created on first use)."""
        key = frozenset({first, second})
        existing = self._dm_channels.get(key)
        if existing is not None:
            return self.channels[existing]
        channel = self.add_channel(None, None, ChannelType.DM, recipient_ids=sorted(key))
        self._dm_channels[key] = channel.id
        return channel

    def add_message(self, channel: Channel, author_id: int, **fields: Any) -> Message:
        """Store a new message (no checks: routes and the Emulator check first)."""
        message = Message(
            id=fields.pop("id", None) or self.new_id(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author_id=author_id,
            **fields,
        )
        channel.messages[message.id] = message
        channel.last_message_id = message.id
        return message

    def add_webhook(self, channel: Channel | None, name: str, **fields: Any) -> Webhook:
        """Create a webhook with a fresh token."""
        webhook = Webhook(
            id=fields.pop("id", None) or self.new_id(),
            type=fields.pop("type", 1),
            channel_id=channel.id if channel else None,
            guild_id=channel.guild_id if channel else None,
            name=name,
            token=secrets.token_urlsafe(32),
            **fields,
        )
        self.webhooks[webhook.id] = webhook
        if webhook.type == 1:
            self.users[webhook.id] = User(id=webhook.id, username=name, bot=True)
        return webhook

    def add_interaction(self, interaction: Interaction) -> Interaction:
        """Record ``interaction``, forgetting those whose token expired (emulator clock)."""
        horizon = self.clock.time() - INTERACTION_TOKEN_LIFETIME
        expired = [i for i, known in self.interactions.items() if known.created_at < horizon]
        for interaction_id in expired:
            del self.interactions[interaction_id]
        self.interactions[interaction.id] = interaction
        return interaction

    def set_voice(self, guild: Guild, user_id: int, channel_id: int | None) -> VoiceState:
        """Connect (or with ``None`` disconnect) a member's voice."""
        state = guild.voice_states.get(user_id)
        if state is None:
            state = VoiceState(guild.id, channel_id, user_id, secrets.token_hex(16))
        state.channel_id = channel_id
        if channel_id is None:
            guild.voice_states.pop(user_id, None)
        else:
            guild.voice_states[user_id] = state
        return state

    # --- lookups raising Discord's errors ---------------------------------------------------

    def bot_for_token(self, token: str) -> BotAccount | None:
        """The bot owning ``token``, if any."""
        return self._tokens.get(token)

    def user(self, user_id: int) -> User:
        """A user, or 404 Unknown User."""
        user = self.users.get(user_id)
        if user is None:
            raise err.not_found(err.UNKNOWN_USER, "User")
        return user

    def guild(self, guild_id: int) -> Guild:
        """A guild, or 404 Unknown Guild."""
        guild = self.guilds.get(guild_id)
        if guild is None:
            raise err.not_found(err.UNKNOWN_GUILD, "Guild")
        return guild

    def channel(self, channel_id: int) -> Channel:
        """A channel, or 404 Unknown Channel."""
        channel = self.channels.get(channel_id)
        if channel is None:
            raise err.not_found(err.UNKNOWN_CHANNEL, "Channel")
        return channel

    def message(self, channel: Channel, message_id: int) -> Message:
        """A live message of ``channel``, or 404 Unknown Message."""
        message = channel.messages.get(message_id)
        if message is None or message.deleted:
            raise err.not_found(err.UNKNOWN_MESSAGE, "Message")
        return message

    def member(self, guild: Guild, user_id: int) -> Member:
        """A member, or 404 Unknown Member."""
        member = guild.members.get(user_id)
        if member is None:
            raise err.not_found(err.UNKNOWN_MEMBER, "Member")
        return member

    def role(self, guild: Guild, role_id: int) -> Role:
        """A role, or 404 Unknown Role."""
        role = guild.roles.get(role_id)
        if role is None:
            raise err.not_found(err.UNKNOWN_ROLE, "Role")
        return role

    def guild_of(self, channel: Channel) -> Guild | None:
        """The guild holding ``channel`` (None for DMs)."""
        return self.guilds.get(channel.guild_id) if channel.guild_id is not None else None
