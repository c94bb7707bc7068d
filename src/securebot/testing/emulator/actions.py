"""State changes followed by their gateway events, shared by the HTTP routes (the bot acting)
and the scenario API (users acting). Checks (permissions, hierarchy) happen before, in the
caller; these functions only change the world and tell the gateway.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from securebot.testing.emulator import payloads
from securebot.testing.emulator import permissions as bits
from securebot.testing.emulator.clock import snowflake_time
from securebot.testing.emulator.gateway import (
    GUILD_MEMBERS,
    MESSAGE_CONTENT,
    Gateway,
    Session,
    shard_of,
)
from securebot.testing.emulator.model import (
    AuditEntry,
    Ban,
    Channel,
    Guild,
    Member,
    Message,
    Reaction,
    Role,
)
from securebot.testing.emulator.state import World

Json = dict[str, Any]


class Actions:
    """Mutations of a :class:`World` that dispatch the matching gateway events."""

    def __init__(self, world: World, gateway: Gateway, base_url: Callable[[], str]) -> None:
        """``base_url`` gives the emulator's current HTTP base (for attachment URLs)."""
        self.world = world
        self.gateway = gateway
        self._base_url = base_url

    # --- helpers ------------------------------------------------------------------------------

    def _send(self, event: str, channel: Channel, data: Any) -> None:
        guild = self.world.guild_of(channel)
        if guild is not None:
            self.gateway.dispatch_guild(event, guild, data)
        else:
            self.gateway.dispatch_private(event, channel.recipient_ids, data)

    def message_json(
        self, message: Message, *, viewer_id: int | None = None, blank: bool = False
    ) -> Json:
        """The REST shape of a message."""
        return payloads.message(
            self.world, message, base_url=self._base_url(), viewer_id=viewer_id, blank_content=blank
        )

    def _message_event(self, message: Message) -> Callable[[Session], Json]:
        """MESSAGE_CREATE/UPDATE data per session (content blanked without MESSAGE_CONTENT)."""
        cache: dict[tuple[bool, int], Json] = {}
        guild = self.world.guilds.get(message.guild_id) if message.guild_id else None

        def build(session: Session) -> Json:
            bot_id = session.bot.user.id
            blank = (
                guild is not None
                and not session.intents & MESSAGE_CONTENT
                and message.author_id != bot_id
                and bot_id not in message.mention_ids
            )
            key = (blank, bot_id)
            if key not in cache:
                data = self.message_json(message, viewer_id=bot_id, blank=blank)
                if guild is not None:
                    data["guild_id"] = str(guild.id)
                    member = guild.members.get(message.author_id)
                    if member is not None and message.webhook_id is None:
                        data["member"] = payloads.member(self.world, member, with_user=False)
                cache[key] = data
            return cache[key]

        return build

    # --- messages -----------------------------------------------------------------------------

    def post_message(self, channel: Channel, author_id: int, **fields: Any) -> Message:
        """Store a message and dispatch MESSAGE_CREATE."""
        message = self.world.add_message(channel, author_id, **fields)
        self._send("MESSAGE_CREATE", channel, self._message_event(message))
        return message

    def edit_message(self, channel: Channel, message: Message, **fields: Any) -> Message:
        """Change a message and dispatch MESSAGE_UPDATE."""
        for key, value in fields.items():
            setattr(message, key, value)
        message.edited_at = self.world.clock.time()
        self._send("MESSAGE_UPDATE", channel, self._message_event(message))
        return message

    def delete_message(self, channel: Channel, message: Message) -> None:
        """Delete a message and dispatch MESSAGE_DELETE."""
        _mark_deleted(channel, message)
        data = _with_guild(channel, {"id": str(message.id), "channel_id": str(channel.id)})
        self._send("MESSAGE_DELETE", channel, data)

    def bulk_delete(self, channel: Channel, messages: list[Message]) -> None:
        """Delete messages at once and dispatch MESSAGE_DELETE_BULK."""
        for message in messages:
            _mark_deleted(channel, message)
        data = _with_guild(
            channel, {"ids": [str(m.id) for m in messages], "channel_id": str(channel.id)}
        )
        self._send("MESSAGE_DELETE_BULK", channel, data)

    def react(
        self,
        channel: Channel,
        message: Message,
        user_id: int,
        name: str,
        emoji_id: int | None = None,
    ) -> bool:
        """Add a reaction (False when the user already reacted so)."""
        reaction = _find_reaction(message, name, emoji_id)
        if reaction is None:
            reaction = Reaction(emoji_name=name, emoji_id=emoji_id)
            message.reactions.append(reaction)
        if user_id in reaction.user_ids:
            return False
        reaction.user_ids.append(user_id)
        data = self._user_reaction_data(channel, message, user_id, name, emoji_id)
        guild = self.world.guild_of(channel)
        if guild is not None and user_id in guild.members:
            data["member"] = payloads.member(self.world, guild.members[user_id])
        data["message_author_id"] = str(message.author_id)
        self._send("MESSAGE_REACTION_ADD", channel, data)
        return True

    def unreact(
        self,
        channel: Channel,
        message: Message,
        user_id: int,
        name: str,
        emoji_id: int | None = None,
    ) -> bool:
        """Remove one user's reaction (False when there was none)."""
        reaction = _find_reaction(message, name, emoji_id)
        if reaction is None or user_id not in reaction.user_ids:
            return False
        reaction.user_ids.remove(user_id)
        if not reaction.user_ids:
            message.reactions.remove(reaction)
        data = self._user_reaction_data(channel, message, user_id, name, emoji_id)
        self._send("MESSAGE_REACTION_REMOVE", channel, data)
        return True

    def clear_reactions(
        self,
        channel: Channel,
        message: Message,
        name: str | None = None,
        emoji_id: int | None = None,
    ) -> None:
        """Remove all reactions, or all of one emoji."""
        if name is None:
            message.reactions.clear()
            data = self._reaction_data(channel, message, None, None)
            self._send("MESSAGE_REACTION_REMOVE_ALL", channel, data)
            return
        message.reactions = [
            r for r in message.reactions if not (r.emoji_name == name and r.emoji_id == emoji_id)
        ]
        self._send(
            "MESSAGE_REACTION_REMOVE_EMOJI",
            channel,
            self._reaction_data(channel, message, name, emoji_id),
        )

    @staticmethod
    def _reaction_data(
        channel: Channel, message: Message, name: str | None, emoji_id: int | None
    ) -> Json:
        data: Json = {"channel_id": str(channel.id), "message_id": str(message.id)}
        if name is not None:
            data["emoji"] = {"id": None if emoji_id is None else str(emoji_id), "name": name}
        return _with_guild(channel, data)

    @classmethod
    def _user_reaction_data(
        cls, channel: Channel, message: Message, user_id: int, name: str, emoji_id: int | None
    ) -> Json:
        data = cls._reaction_data(channel, message, name, emoji_id)
        data["user_id"] = str(user_id)
        data["burst"] = False
        data["type"] = 0
        return data

    def set_pinned(self, channel: Channel, message: Message, pinned: bool) -> None:
        """Pin or unpin and dispatch CHANNEL_PINS_UPDATE."""
        message.pinned = pinned
        if pinned and message.id not in channel.pins:
            channel.pins.append(message.id)
        elif not pinned and message.id in channel.pins:
            channel.pins.remove(message.id)
        data = _with_guild(channel, {"channel_id": str(channel.id), "last_pin_timestamp": None})
        self._send("CHANNEL_PINS_UPDATE", channel, data)

    # --- audit log ----------------------------------------------------------------------------

    def audit(
        self,
        guild: Guild,
        action_type: int,
        actor_id: int | None,
        target_id: int | None,
        *,
        reason: str | None = None,
        changes: list[dict[str, Any]] | None = None,
        options: dict[str, str] | None = None,
    ) -> AuditEntry:
        """Append an audit log entry; dispatch GUILD_AUDIT_LOG_ENTRY_CREATE to bots that may
        view the audit log."""
        entry = AuditEntry(
            id=self.world.new_id(),
            action_type=action_type,
            user_id=actor_id,
            target_id=target_id,
            reason=reason,
            changes=list(changes or []),
            options=options,
        )
        guild.audit_log.append(entry)
        data = payloads.audit_entry(guild.id, entry)

        def visible(session: Session) -> Json | None:
            member = guild.members.get(session.bot.user.id)
            if member is None:
                return None
            perms = bits.channel_permissions(guild, None, member, now=self.world.clock.time())
            return data if perms & bits.VIEW_AUDIT_LOG else None

        self.gateway.dispatch_guild("GUILD_AUDIT_LOG_ENTRY_CREATE", guild, visible)
        return entry

    # --- members ------------------------------------------------------------------------------

    def member_join(self, guild: Guild, user_id: int, role_ids: list[int] | None = None) -> Member:
        """Add a member; dispatch GUILD_MEMBER_ADD (GUILD_CREATE to a bot that joins)."""
        member = self.world.add_member(guild, user_id, role_ids)
        if user_id in self.world.bots:
            for session in self.gateway.sessions_of(user_id):
                if shard_of(guild.id, session.shard_count) == session.shard_id:
                    session.push(
                        "GUILD_CREATE",
                        payloads.guild_create(
                            self.world,
                            guild,
                            bot_id=user_id,
                            members_intent=bool(session.intents & GUILD_MEMBERS),
                        ),
                    )
        data = payloads.member(self.world, member)
        data["guild_id"] = str(guild.id)
        self.gateway.dispatch_guild("GUILD_MEMBER_ADD", guild, data)
        return member

    def member_leave(self, guild: Guild, user_id: int) -> None:
        """Remove a member (kick, leave, ban) and dispatch GUILD_MEMBER_REMOVE."""
        guild.members.pop(user_id, None)
        guild.voice_states.pop(user_id, None)
        data = {"guild_id": str(guild.id), "user": payloads.user(self.world.user(user_id))}
        self.gateway.dispatch_guild("GUILD_MEMBER_REMOVE", guild, data, include=[user_id])
        if user_id in self.world.bots:
            self.gateway.dispatch_guild(
                "GUILD_DELETE",
                guild,
                {"id": str(guild.id), "unavailable": False},
                include=[user_id],
            )

    def member_updated(self, guild: Guild, member: Member) -> None:
        """Dispatch GUILD_MEMBER_UPDATE for a changed member."""
        data = payloads.member(self.world, member)
        data["guild_id"] = str(guild.id)
        self.gateway.dispatch_guild("GUILD_MEMBER_UPDATE", guild, data)

    def ban(self, guild: Guild, user_id: int, reason: str | None, delete_seconds: int) -> None:
        """Ban a user: remove membership, delete their recent messages, dispatch events."""
        guild.bans[user_id] = Ban(user_id=user_id, reason=reason)
        was_member = user_id in guild.members
        if was_member:
            self.member_leave(guild, user_id)
        self.gateway.dispatch_guild(
            "GUILD_BAN_ADD",
            guild,
            {"guild_id": str(guild.id), "user": payloads.user(self.world.user(user_id))},
        )
        if delete_seconds > 0:
            cutoff = self.world.clock.time() - delete_seconds
            for channel in guild.channels.values():
                doomed = [
                    m
                    for m in channel.live_messages()
                    if m.author_id == user_id and snowflake_time(m.id).timestamp() >= cutoff
                ]
                if len(doomed) == 1:
                    self.delete_message(channel, doomed[0])
                elif doomed:
                    self.bulk_delete(channel, doomed)

    def unban(self, guild: Guild, user_id: int) -> None:
        """Lift a ban and dispatch GUILD_BAN_REMOVE."""
        guild.bans.pop(user_id, None)
        self.gateway.dispatch_guild(
            "GUILD_BAN_REMOVE",
            guild,
            {"guild_id": str(guild.id), "user": payloads.user(self.world.user(user_id))},
        )

    # --- roles and channels -------------------------------------------------------------------

    def role_event(self, event: str, guild: Guild, role: Role) -> None:
        """Dispatch GUILD_ROLE_CREATE/UPDATE/DELETE."""
        if event == "GUILD_ROLE_DELETE":
            data: Json = {"guild_id": str(guild.id), "role_id": str(role.id)}
        else:
            data = {"guild_id": str(guild.id), "role": payloads.role(role)}
        self.gateway.dispatch_guild(event, guild, data)

    def delete_role(self, guild: Guild, role: Role) -> None:
        """Delete a role, take it from every member, dispatch GUILD_ROLE_DELETE."""
        guild.roles.pop(role.id, None)
        for member in guild.members.values():
            if role.id in member.role_ids:
                member.role_ids.remove(role.id)
        for channel in guild.channels.values():
            channel.overwrites.pop(role.id, None)
        self.role_event("GUILD_ROLE_DELETE", guild, role)

    def channel_event(self, event: str, channel: Channel) -> None:
        """Dispatch CHANNEL_*/THREAD_* for a guild channel."""
        guild = self.world.guild_of(channel)
        if guild is None:
            return
        data = payloads.channel(self.world, channel)
        if channel.is_thread():
            event = event.replace("CHANNEL_", "THREAD_")
            if event == "THREAD_CREATE":
                data["newly_created"] = True
        self.gateway.dispatch_guild(event, guild, data)

    def delete_channel(self, channel: Channel) -> None:
        """Delete a guild channel and dispatch CHANNEL_DELETE."""
        guild = self.world.guild_of(channel)
        if guild is not None:
            guild.channels.pop(channel.id, None)
        self.world.channels.pop(channel.id, None)
        self.channel_event("CHANNEL_DELETE", channel)


def _mark_deleted(channel: Channel, message: Message) -> None:
    """Mark ``message`` deleted and take it off the channel's pins."""
    message.deleted = True
    if message.id in channel.pins:
        channel.pins.remove(message.id)


def _find_reaction(message: Message, name: str, emoji_id: int | None) -> Reaction | None:
    """The reaction of ``message`` with this emoji, if anyone reacted with it."""
    return next(
        (r for r in message.reactions if r.emoji_name == name and r.emoji_id == emoji_id), None
    )


def _with_guild(channel: Channel, data: Json) -> Json:
    """``data`` with the channel's ``guild_id`` added when it belongs to a guild (not a DM)."""
    if channel.guild_id is not None:
        data["guild_id"] = str(channel.guild_id)
    return data
