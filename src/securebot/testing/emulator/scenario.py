"""The scenario API: build guilds, act as users, wait for and inspect what bots did.

Mixed into :class:`~securebot.testing.emulator.Emulator`; every method is documented in the
package docstring's guide.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from securebot.errors import SecurebotError
from securebot.testing.emulator import payloads
from securebot.testing.emulator import permissions as bits
from securebot.testing.emulator.clock import snowflake_time
from securebot.testing.emulator.model import (
    Attachment,
    BotAccount,
    Channel,
    ChannelType,
    Guild,
    Interaction,
    Member,
    Message,
    Overwrite,
    Role,
    User,
)
from securebot.testing.emulator.state import PRIVILEGED_INTENTS

if TYPE_CHECKING:
    from securebot.testing.emulator.actions import Actions
    from securebot.testing.emulator.api import Call
    from securebot.testing.emulator.calllog import CallLog
    from securebot.testing.emulator.clock import EmulatorClock
    from securebot.testing.emulator.gateway import Gateway
    from securebot.testing.emulator.state import World

T = TypeVar("T")
_MENTION = re.compile(r"<@!?(\d{15,21})>")
_ROLE_MENTION = re.compile(r"<@&(\d{15,21})>")


class ScenarioError(SecurebotError):
    """A scenario step Discord would refuse (e.g. a user sending where they cannot)."""


class WaitTimeoutError(ScenarioError, TimeoutError):
    """What a test waited for did not happen in time."""


@dataclass(frozen=True)
class StandardGuild:
    """A ready-made guild: owner, admin, moderator and member, a bot, two text channels.

    Roles (top to bottom): Bot (bot's role, Administrator unless ``bot_permissions`` says
    otherwise), Admin (Manage Server, Manage Roles, Manage Channels, Manage Messages, Ban,
    Kick, Moderate), Moderator (Kick, Ban, Manage Messages, Moderate Members), @everyone.
    ``staff`` is visible only to Admin and Moderator.
    """

    guild: Guild
    bot: BotAccount
    general: Channel
    staff: Channel
    voice: Channel
    owner: User
    admin: User
    moderator: User
    member: User
    bot_role: Role
    admin_role: Role
    moderator_role: Role


class Scenario:
    """Scenario methods; expects ``world``, ``gateway``, ``actions``, ``calls`` on self."""

    world: World
    gateway: Gateway
    actions: Actions
    calls: CallLog[Call]
    clock: EmulatorClock

    def __init__(self) -> None:
        """Prepare the change notification used by the ``wait_*`` methods."""
        self._waiters: list[asyncio.Future[None]] = []

    # --- building the world -------------------------------------------------------------------

    def create_user(self, username: str, *, user_id: int | None = None) -> User:
        """A new (human) user."""
        return self.world.add_user(username, user_id=user_id)

    def create_bot(
        self,
        username: str = "securebot",
        *,
        token: str = "test-token",  # noqa: S107 - a test fixture token, not a secret
        privileged_intents: int | None = None,
        user_id: int | None = None,
    ) -> BotAccount:
        """A bot account (user + application + token); all privileged intents allowed unless
        ``privileged_intents`` narrows them."""
        return self.world.add_bot(
            username,
            token=token,
            privileged_intents=PRIVILEGED_INTENTS
            if privileged_intents is None
            else privileged_intents,
            user_id=user_id,
        )

    def create_guild(
        self, name: str, *, owner: User | None = None, guild_id: int | None = None
    ) -> Guild:
        """A guild (its owner is created when not given). Bots see it once they are members."""
        owner = owner or self.create_user(f"{name}-owner")
        return self.world.add_guild(name, owner.id, guild_id=guild_id)

    def create_role(
        self,
        guild: Guild,
        name: str,
        *,
        permissions: int = 0,
        position: int | None = None,
        **fields: Any,
    ) -> Role:
        """A role (default: above all others); dispatches GUILD_ROLE_CREATE."""
        if position is not None:
            for role in guild.roles.values():
                if role.id != guild.id and role.position >= position:
                    role.position += 1
        role = self.world.add_role(
            guild, name, permissions=permissions, position=position, **fields
        )
        self.actions.role_event("GUILD_ROLE_CREATE", guild, role)
        return role

    def create_channel(
        self,
        guild: Guild,
        name: str,
        *,
        type: ChannelType = ChannelType.TEXT,
        parent: Channel | None = None,
        **fields: Any,
    ) -> Channel:
        """A guild channel (text by default); dispatches CHANNEL_CREATE."""
        channel = self.world.add_channel(
            guild, name, type, parent_id=parent.id if parent else None, **fields
        )
        self.actions.channel_event("CHANNEL_CREATE", channel)
        return channel

    def set_overwrite(
        self, channel: Channel, target: Role | User, *, allow: int = 0, deny: int = 0
    ) -> None:
        """Set a permission overwrite for a role or a member; dispatches CHANNEL_UPDATE."""
        kind = 0 if isinstance(target, Role) else 1
        channel.overwrites[target.id] = Overwrite(id=target.id, type=kind, allow=allow, deny=deny)
        self.actions.channel_event("CHANNEL_UPDATE", channel)

    def add_member(
        self, guild: Guild, user: User | BotAccount, *, roles: Iterable[Role] = ()
    ) -> Member:
        """``user`` joins ``guild`` (GUILD_MEMBER_ADD; a bot also gets GUILD_CREATE)."""
        uid = user.user.id if isinstance(user, BotAccount) else user.id
        return self.actions.member_join(guild, uid, [r.id for r in roles])

    join = add_member

    def leave(self, guild: Guild, user: User) -> None:
        """``user`` leaves ``guild`` (GUILD_MEMBER_REMOVE)."""
        self.world.member(guild, user.id)
        self.actions.member_leave(guild, user.id)

    def give_role(self, guild: Guild, user: User, role: Role) -> None:
        """Add a role to a member (GUILD_MEMBER_UPDATE), as another admin would."""
        member = self.world.member(guild, user.id)
        if role.id not in member.role_ids:
            member.role_ids.append(role.id)
        self.actions.member_updated(guild, member)

    def standard_guild(
        self,
        bot: BotAccount,
        *,
        name: str = "Test Guild",
        bot_permissions: int = bits.ADMINISTRATOR,
    ) -> StandardGuild:
        """A guild with owner, admin, moderator, member and ``bot`` (see :class:`StandardGuild`)."""
        owner = self.create_user("owner")
        guild = self.create_guild(name, owner=owner)
        moderator_role = self.create_role(
            guild,
            "Moderator",
            permissions=bits.KICK_MEMBERS
            | bits.BAN_MEMBERS
            | bits.MANAGE_MESSAGES
            | bits.MODERATE_MEMBERS,
        )
        admin_role = self.create_role(
            guild,
            "Admin",
            permissions=bits.MANAGE_GUILD
            | bits.MANAGE_ROLES
            | bits.MANAGE_CHANNELS
            | bits.MANAGE_MESSAGES
            | bits.BAN_MEMBERS
            | bits.KICK_MEMBERS
            | bits.MODERATE_MEMBERS,
        )
        bot_role = self.create_role(guild, bot.name, permissions=bot_permissions, managed=True)
        general = self.create_channel(guild, "general")
        staff = self.create_channel(guild, "staff")
        self.set_overwrite(staff, guild.everyone, deny=bits.VIEW_CHANNEL)
        self.set_overwrite(staff, moderator_role, allow=bits.VIEW_CHANNEL)
        self.set_overwrite(staff, admin_role, allow=bits.VIEW_CHANNEL)
        voice = self.create_channel(guild, "Voice", type=ChannelType.VOICE)
        guild.system_channel_id = general.id
        admin = self.create_user("admin")
        moderator = self.create_user("moderator")
        member = self.create_user("member")
        self.add_member(guild, admin, roles=[admin_role])
        self.add_member(guild, moderator, roles=[moderator_role])
        self.add_member(guild, member)
        self.add_member(guild, bot, roles=[bot_role])
        return StandardGuild(
            guild,
            bot,
            general,
            staff,
            voice,
            owner,
            admin,
            moderator,
            member,
            bot_role,
            admin_role,
            moderator_role,
        )

    # --- acting as a user ---------------------------------------------------------------------

    def _check_can_send(self, user: User, channel: Channel) -> None:
        guild = self.world.guild_of(channel)
        if guild is None:
            if user.id not in channel.recipient_ids:
                raise ScenarioError(f"{user.username} is not in this DM")
            return
        member = guild.members.get(user.id)
        if member is None:
            raise ScenarioError(f"{user.username} is not a member of {guild.name}")
        perms = bits.channel_permissions(guild, channel, member, now=self.clock.time())
        needed = bits.SEND_MESSAGES_IN_THREADS if channel.is_thread() else bits.SEND_MESSAGES
        if not perms & bits.VIEW_CHANNEL or not perms & needed:
            raise ScenarioError(f"{user.username} cannot send messages in #{channel.name}")
        if channel.rate_limit_per_user and not perms & (
            bits.MANAGE_MESSAGES | bits.MANAGE_CHANNELS
        ):
            mine = [m for m in channel.live_messages() if m.author_id == user.id]
            if mine:
                since = self.clock.time() - snowflake_time(mine[-1].id).timestamp()
                if since < channel.rate_limit_per_user:
                    raise ScenarioError(
                        f"slowmode: {user.username} must wait "
                        f"{channel.rate_limit_per_user - since:.0f}s in #{channel.name}"
                    )

    def send(
        self,
        user: User,
        channel: Channel,
        content: str = "",
        *,
        embeds: list[dict[str, Any]] | None = None,
        files: Mapping[str, bytes] | None = None,
        reply_to: Message | None = None,
    ) -> Message:
        """``user`` posts in ``channel`` (MESSAGE_CREATE); mentions are parsed from content."""
        self._check_can_send(user, channel)
        if len(content) > 2000:
            raise ScenarioError("content over 2000 characters")
        attachments = [
            Attachment(id=self.world.new_id(), filename=name, data=data)
            for name, data in (files or {}).items()
        ]
        reference = None
        if reply_to is not None:
            reference = {
                "message_id": str(reply_to.id),
                "channel_id": str(reply_to.channel_id),
                "type": 0,
            }
            if reply_to.guild_id:
                reference["guild_id"] = str(reply_to.guild_id)
        return self.actions.post_message(
            channel,
            user.id,
            content=content,
            embeds=list(embeds or []),
            attachments=attachments,
            mention_ids=[int(m) for m in _MENTION.findall(content) if int(m) in self.world.users],
            mention_role_ids=[int(r) for r in _ROLE_MENTION.findall(content)],
            mention_everyone="@everyone" in content,
            reference=reference,
            type=19 if reply_to is not None else 0,
        )

    def dm(self, user: User, bot: BotAccount | User, content: str, **options: Any) -> Message:
        """``user`` writes to ``bot`` in their DM channel."""
        target = bot.user if isinstance(bot, BotAccount) else bot
        channel = self.world.dm_channel(user.id, target.id)
        return self.send(user, channel, content, **options)

    def edit(self, message: Message, content: str) -> Message:
        """The author edits their message (MESSAGE_UPDATE)."""
        channel = self.world.channel(message.channel_id)
        return self.actions.edit_message(
            channel,
            message,
            content=content,
            mention_ids=[int(m) for m in _MENTION.findall(content) if int(m) in self.world.users],
        )

    def delete(self, message: Message) -> None:
        """The author deletes their message (MESSAGE_DELETE)."""
        self.actions.delete_message(self.world.channel(message.channel_id), message)

    def react(self, user: User, message: Message, emoji: str) -> None:
        """``user`` reacts with a unicode emoji or ``name:id`` (MESSAGE_REACTION_ADD)."""
        name, emoji_id = _split_emoji(emoji)
        self.actions.react(self.world.channel(message.channel_id), message, user.id, name, emoji_id)

    def unreact(self, user: User, message: Message, emoji: str) -> None:
        """``user`` removes a reaction (MESSAGE_REACTION_REMOVE)."""
        name, emoji_id = _split_emoji(emoji)
        self.actions.unreact(
            self.world.channel(message.channel_id), message, user.id, name, emoji_id
        )

    def join_voice(self, guild: Guild, user: User, channel: Channel | None) -> None:
        """``user`` joins (``None``: leaves) a voice channel (VOICE_STATE_UPDATE)."""
        state = self.world.set_voice(guild, user.id, channel.id if channel else None)
        self.gateway.dispatch_guild(
            "VOICE_STATE_UPDATE", guild, payloads.voice_state(self.world, state)
        )

    def ban_externally(
        self, guild: Guild, user: User, reason: str | None = None, *, by: User | None = None
    ) -> None:
        """Someone else (``by``, default the owner) bans ``user`` (GUILD_BAN_ADD,
        GUILD_MEMBER_REMOVE, an audit log entry)."""
        actor = by.id if by is not None else guild.owner_id
        self.actions.audit(guild, 22, actor, user.id, reason=reason)
        self.actions.ban(guild, user.id, reason, 0)

    def kick_externally(
        self, guild: Guild, user: User, reason: str | None = None, *, by: User | None = None
    ) -> None:
        """Someone else (``by``, default the owner) kicks ``user``: GUILD_MEMBER_REMOVE like a
        leave, but with an audit log entry (how bots tell a kick from a leave)."""
        self.world.member(guild, user.id)
        self.actions.member_leave(guild, user.id)
        actor = by.id if by is not None else guild.owner_id
        self.actions.audit(guild, 20, actor, user.id, reason=reason)

    # --- interactions -------------------------------------------------------------------------

    def _interaction(
        self,
        user: User,
        channel: Channel,
        kind: int,
        data: dict[str, Any],
        *,
        bot: BotAccount,
        message: Message | None = None,
    ) -> Interaction:
        guild = self.world.guild_of(channel)
        interaction = Interaction(
            id=self.world.new_id(),
            token=f"emulator.{secrets.token_urlsafe(48)}",
            application_id=bot.application_id,
            type=kind,
            user_id=user.id,
            channel_id=channel.id,
            guild_id=guild.id if guild else None,
            data=data,
            message_id=message.id if message else None,
            created_at=self.clock.time(),
        )
        self.world.add_interaction(interaction)
        body: dict[str, Any] = {
            "id": str(interaction.id),
            "application_id": str(bot.application_id),
            "type": kind,
            "data": data,
            "channel_id": str(channel.id),
            "channel": payloads.channel(self.world, channel),
            "token": interaction.token,
            "version": 1,
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": 26214400,
            "context": 0 if guild else 1,
        }
        now = self.clock.time()
        if guild is not None:
            member = self.world.member(guild, user.id)
            member_json = payloads.member(self.world, member)
            member_json["permissions"] = str(
                bits.channel_permissions(guild, channel, member, now=now)
            )
            body["member"] = member_json
            body["guild_id"] = str(guild.id)
            body["guild_locale"] = guild.preferred_locale
            body["guild"] = {"id": str(guild.id), "locale": guild.preferred_locale, "features": []}
            bot_member = guild.members.get(bot.user.id)
            body["app_permissions"] = str(
                bits.channel_permissions(guild, channel, bot_member, now=now) if bot_member else 0
            )
            body["authorizing_integration_owners"] = {"0": str(guild.id)}
        else:
            body["user"] = payloads.user(user)
            body["app_permissions"] = str(bits.ALL & ~bits.ADMINISTRATOR)
            body["authorizing_integration_owners"] = {"1": str(user.id)}
        if message is not None:
            body["message"] = self.actions.message_json(message, viewer_id=bot.user.id)
        self.gateway.dispatch_to_bot("INTERACTION_CREATE", bot.user.id, interaction.guild_id, body)
        return interaction

    def _default_bot(self, bot: BotAccount | None) -> BotAccount:
        if bot is not None:
            return bot
        if len(self.world.bots) != 1:
            raise ScenarioError("several bots exist: pass bot=")
        return next(iter(self.world.bots.values()))

    def slash(
        self,
        user: User,
        channel: Channel,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        bot: BotAccount | None = None,
    ) -> Interaction:
        """``user`` runs ``/name`` with ``options`` (INTERACTION_CREATE type 2).

        Option values: str, int, float, bool, or a User/Role/Channel (resolved like Discord).
        The command id is the synced command's when the bot synced it, else a fresh one.
        """
        bot = self._default_bot(bot)
        guild = self.world.guild_of(channel)
        parts = name.split()
        command = next(
            (
                c
                for c in self.world.commands.values()
                if c.application_id == bot.application_id
                and c.name == parts[0]
                and c.guild_id in (None, guild.id if guild else None)
            ),
            None,
        )
        resolved: dict[str, dict[str, Any]] = {}
        rendered = [
            self._option(key, value, resolved, guild) for key, value in (options or {}).items()
        ]
        for sub in reversed(parts[1:]):
            rendered = [{"name": sub, "type": 1, "options": rendered}]
        data: dict[str, Any] = {
            "id": str(command.id if command else self.world.new_id()),
            "name": parts[0],
            "type": 1,
            "options": rendered,
        }
        if resolved:
            data["resolved"] = resolved
        if guild is not None:
            data["guild_id"] = str(guild.id)
        return self._interaction(user, channel, 2, data, bot=bot)

    def _option(
        self, key: str, value: Any, resolved: dict[str, dict[str, Any]], guild: Guild | None
    ) -> dict[str, Any]:
        if isinstance(value, bool):
            return {"name": key, "type": 5, "value": value}
        if isinstance(value, int):
            return {"name": key, "type": 4, "value": value}
        if isinstance(value, float):
            return {"name": key, "type": 10, "value": value}
        if isinstance(value, User):
            resolved.setdefault("users", {})[str(value.id)] = payloads.user(value)
            if guild is not None and value.id in guild.members:
                member = payloads.member(self.world, guild.members[value.id], with_user=False)
                member["permissions"] = str(bits.base_permissions(guild, guild.members[value.id]))
                resolved.setdefault("members", {})[str(value.id)] = member
            return {"name": key, "type": 6, "value": str(value.id)}
        if isinstance(value, Role):
            resolved.setdefault("roles", {})[str(value.id)] = payloads.role(value)
            return {"name": key, "type": 8, "value": str(value.id)}
        if isinstance(value, Channel):
            channel = payloads.channel(self.world, value)
            channel["permissions"] = str(bits.ALL)
            resolved.setdefault("channels", {})[str(value.id)] = channel
            return {"name": key, "type": 7, "value": str(value.id)}
        return {"name": key, "type": 3, "value": str(value)}

    def click(
        self, user: User, message: Message, custom_id: str, *, bot: BotAccount | None = None
    ) -> Interaction:
        """``user`` clicks the button ``custom_id`` on ``message`` (INTERACTION_CREATE type 3)."""
        component = self._component(message, custom_id)
        if component.get("disabled"):
            raise ScenarioError(f"button {custom_id!r} is disabled")
        bot = bot or self.world.bots.get(message.author_id) or self._default_bot(None)
        data = {"custom_id": custom_id, "component_type": component.get("type", 2)}
        return self._interaction(
            user, self.world.channel(message.channel_id), 3, data, bot=bot, message=message
        )

    def select(
        self,
        user: User,
        message: Message,
        custom_id: str,
        values: list[str],
        *,
        bot: BotAccount | None = None,
    ) -> Interaction:
        """``user`` picks ``values`` in the select ``custom_id`` (INTERACTION_CREATE type 3)."""
        component = self._component(message, custom_id)
        bot = bot or self.world.bots.get(message.author_id) or self._default_bot(None)
        data = {
            "custom_id": custom_id,
            "component_type": component.get("type", 3),
            "values": list(values),
        }
        return self._interaction(
            user, self.world.channel(message.channel_id), 3, data, bot=bot, message=message
        )

    @staticmethod
    def _component(message: Message, custom_id: str) -> dict[str, Any]:
        for row in message.components:
            for child in row.get("components", []):
                if child.get("custom_id") == custom_id:
                    return dict(child)
        raise ScenarioError(f"message {message.id} has no component {custom_id!r}")

    def submit_modal(
        self, user: User, opened_by: Interaction, values: Mapping[str, str]
    ) -> Interaction:
        """``user`` submits the modal the bot opened in answer to ``opened_by`` (type 5)."""
        modal = opened_by.modal
        if modal is None:
            raise ScenarioError("the bot did not open a modal for this interaction")
        rows = []
        for row in modal.get("components", []):
            children = []
            for child in row.get("components", []):
                cid = child.get("custom_id")
                children.append({"type": 4, "custom_id": cid, "value": values.get(cid, "")})
            rows.append({"type": 1, "components": children})
        data = {"custom_id": modal.get("custom_id"), "components": rows}
        bot = next(
            b for b in self.world.bots.values() if b.application_id == opened_by.application_id
        )
        channel = self.world.channel(opened_by.channel_id)
        return self._interaction(user, channel, 5, data, bot=bot)

    # --- waiting and inspecting ---------------------------------------------------------------

    def _notify(self) -> None:
        waiters, self._waiters = self._waiters, []
        for future in waiters:
            if not future.done():
                future.set_result(None)

    async def wait_for(self, predicate: Callable[[], T | None], *, timeout: float = 5.0) -> T:  # noqa: ASYNC109 - a deadline is the API
        """Wait until ``predicate()`` returns something truthy (checked after every HTTP call)."""
        deadline = time.monotonic() + timeout
        while True:
            found = predicate()
            if found:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WaitTimeoutError(f"condition not met within {timeout}s")
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(future)
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(future, min(remaining, 0.05))
            finally:
                # Not notified (no HTTP call for a while): forget it, or a long wait would
                # pile up one dead future per poll.
                with contextlib.suppress(ValueError):
                    self._waiters.remove(future)

    def messages(
        self, channel: Channel, *, author: User | BotAccount | None = None
    ) -> list[Message]:
        """Live messages of ``channel``, oldest first (optionally by one author)."""
        found = channel.live_messages()
        if author is not None:
            uid = author.user.id if isinstance(author, BotAccount) else author.id
            found = [m for m in found if m.author_id == uid]
        return found

    def bot_messages(
        self, channel: Channel | None = None, *, after: Message | int | None = None
    ) -> list[Message]:
        """Messages written by bots (in ``channel``, or anywhere including DMs), oldest first."""
        floor = after.id if isinstance(after, Message) else (after or 0)
        channels = [channel] if channel is not None else list(self.world.channels.values())
        found = [
            m
            for c in channels
            for m in c.live_messages()
            if m.id > floor and (m.author_id in self.world.bots or m.webhook_id is not None)
        ]
        return sorted(found, key=lambda m: m.id)

    async def wait_for_message(
        self,
        channel: Channel | None = None,
        *,
        after: Message | int | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline is the API
    ) -> Message:
        """The first bot message (in ``channel``, else anywhere) newer than ``after``."""

        def first() -> Message | None:
            found = self.bot_messages(channel, after=after)
            return found[0] if found else None

        return await self.wait_for(first, timeout=timeout)

    async def ask(
        self,
        user: User,
        channel: Channel,
        content: str,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline is the API
    ) -> Message:
        """``user`` sends ``content``; returns the first bot message written after it."""
        sent = self.send(user, channel, content)
        return await self.wait_for_message(after=sent, timeout=timeout)

    def dms(self, user: User) -> list[Message]:
        """Messages bots sent to ``user`` by DM, oldest first."""
        found: list[Message] = []
        for channel in self.world.channels.values():
            if channel.type == ChannelType.DM and user.id in channel.recipient_ids:
                found.extend(m for m in channel.live_messages() if m.author_id in self.world.bots)
        return sorted(found, key=lambda m: m.id)

    def member_of(self, guild: Guild, user: User | BotAccount) -> Member | None:
        """``user``'s membership in ``guild`` (None once kicked, banned or gone)."""
        uid = user.user.id if isinstance(user, BotAccount) else user.id
        return guild.members.get(uid)

    def roles_of(self, guild: Guild, user: User | BotAccount) -> list[Role]:
        """``user``'s roles in ``guild``, highest first (empty when not a member)."""
        member = self.member_of(guild, user)
        if member is None:
            return []
        roles = [guild.roles[r] for r in member.role_ids if r in guild.roles]
        return sorted(roles, key=lambda r: r.position, reverse=True)

    def is_timed_out(self, guild: Guild, user: User) -> bool:
        """Whether ``user`` is timed out in ``guild`` right now (emulator clock)."""
        member = self.member_of(guild, user)
        until = member.timed_out_until if member is not None else None
        return until is not None and until > self.clock.time()

    def calls_to(self, route: str, *, status: int | None = None) -> list[Call]:
        """Kept HTTP calls to ``"METHOD /template"`` (optionally with that status)."""
        return [
            c for c in self.calls if c.route == route and (status is None or c.status == status)
        ]

    async def wait_for_call(
        self,
        route: str,
        *,
        status: int | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline is the API
        after: int = 0,
    ) -> Call:
        """The first call to ``route`` numbered ``after`` or later (``after=emu.calls.end``
        taken before acting waits for a call made after that point)."""

        def first() -> Call | None:
            return next(
                (
                    c
                    for c in self.calls.since(after)
                    if c.route == route and (status is None or c.status == status)
                ),
                None,
            )

        return await self.wait_for(first, timeout=timeout)

    async def wait_for_response(
        self,
        interaction: Interaction,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline is the API
    ) -> Interaction:
        """Wait until the bot answered ``interaction`` (any callback type)."""
        await self.wait_for(lambda: interaction.response_type is not None, timeout=timeout)
        return interaction

    async def settle(self, *, idle: float = 0.05, timeout: float = 5.0) -> None:  # noqa: ASYNC109 - a deadline is the API
        """Wait until no HTTP call arrived for ``idle`` seconds."""
        deadline = time.monotonic() + timeout
        count = -1
        while count != self.calls.end:
            if time.monotonic() > deadline:
                raise WaitTimeoutError(f"the bot kept calling the API for {timeout}s")
            count = self.calls.end
            await asyncio.sleep(idle)

    def response_message(self, interaction: Interaction) -> Message | None:
        """The message the bot posted as the interaction's response, if any."""
        if interaction.original_message_id is None:
            return None
        channel = self.world.channel(interaction.channel_id)
        return channel.messages.get(interaction.original_message_id)


def _split_emoji(emoji: str) -> tuple[str, int | None]:
    name, _, raw_id = emoji.partition(":")
    return name, int(raw_id) if raw_id.isdigit() else None
