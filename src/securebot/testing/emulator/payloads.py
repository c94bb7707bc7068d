"""Discord JSON for the emulator's records (shapes of discord/openapi.json and the gateway)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from securebot.testing.emulator.clock import iso, snowflake_time
from securebot.testing.emulator.model import (
    AppCommand,
    Attachment,
    AuditEntry,
    Ban,
    Channel,
    ChannelType,
    Guild,
    Invite,
    Member,
    Message,
    Role,
    User,
    VoiceState,
    Webhook,
)
from securebot.testing.emulator.state import World

Json = dict[str, Any]


def _ts(seconds: float) -> str:
    return iso(dt.datetime.fromtimestamp(seconds, dt.UTC))


def timestamp(seconds: float) -> str:
    """Unix seconds as Discord's ISO 8601 timestamp."""
    return _ts(seconds)


def user(record: User) -> Json:
    """A user object."""
    data: Json = {
        "id": str(record.id),
        "username": record.username,
        "discriminator": "0",
        "global_name": record.global_name,
        "avatar": record.avatar,
        "public_flags": 0,
        "flags": 0,
        "primary_guild": None,
    }
    if record.bot:
        data["bot"] = True
    return data


def role(record: Role) -> Json:
    """A role object."""
    return {
        "id": str(record.id),
        "name": record.name,
        "permissions": str(record.permissions),
        "position": record.position,
        "color": record.color,
        "colors": {"primary_color": record.color, "secondary_color": None, "tertiary_color": None},
        "hoist": record.hoist,
        "managed": record.managed,
        "mentionable": record.mentionable,
        "icon": None,
        "unicode_emoji": None,
        "flags": 0,
    }


def member(world: World, record: Member, *, with_user: bool = True) -> Json:
    """A guild member object (``user`` included unless ``with_user`` is False)."""
    now = world.clock.time()
    until = record.timed_out_until
    data: Json = {
        "roles": [str(r) for r in record.role_ids],
        "nick": record.nick,
        "avatar": None,
        "banner": None,
        "joined_at": _ts(record.joined_at),
        "premium_since": None,
        "communication_disabled_until": _ts(until) if until is not None and until > now else None,
        "flags": record.flags,
        "pending": record.pending,
        "mute": record.mute,
        "deaf": record.deaf,
    }
    if with_user:
        data["user"] = user(world.user(record.user_id))
    return data


def overwrites(channel: Channel) -> list[Json]:
    """A channel's permission overwrites."""
    return [
        {"id": str(o.id), "type": o.type, "allow": str(o.allow), "deny": str(o.deny)}
        for o in channel.overwrites.values()
    ]


def channel(world: World, record: Channel) -> Json:
    """A channel object (guild channel, thread or DM)."""
    data: Json = {"id": str(record.id), "type": int(record.type), "flags": 0}
    if record.type == ChannelType.DM:
        data["recipients"] = [user(world.user(uid)) for uid in record.recipient_ids]
        data["last_message_id"] = _opt(record.last_message_id)
        return data
    data.update(
        guild_id=str(record.guild_id),
        name=record.name or "",
        position=record.position,
        parent_id=_opt(record.parent_id),
        permission_overwrites=overwrites(record),
        nsfw=record.nsfw,
    )
    if record.type in (ChannelType.TEXT, ChannelType.NEWS, ChannelType.FORUM):
        data.update(
            topic=record.topic,
            rate_limit_per_user=record.rate_limit_per_user,
            last_message_id=_opt(record.last_message_id),
        )
    elif record.type in (ChannelType.VOICE, ChannelType.STAGE):
        data.update(
            bitrate=record.bitrate,
            user_limit=record.user_limit,
            rtc_region=None,
            rate_limit_per_user=record.rate_limit_per_user,
        )
    elif record.is_thread():
        created = snowflake_time(record.id)
        count = len(record.live_messages())
        data.update(
            owner_id=str(record.owner_id or 0),
            rate_limit_per_user=record.rate_limit_per_user,
            last_message_id=_opt(record.last_message_id),
            message_count=count,
            member_count=1,
            total_message_sent=count,
            thread_metadata={
                "archived": record.archived,
                "locked": record.locked,
                "auto_archive_duration": 1440,
                "archive_timestamp": iso(created),
                "create_timestamp": iso(created),
            },
        )
    return data


def _opt(value: int | None) -> str | None:
    return None if value is None else str(value)


def attachment(base_url: str, record: Attachment, channel_id: int) -> Json:
    """An attachment object (its URL serves the bytes from the emulator)."""
    url = f"{base_url}/attachments/{channel_id}/{record.id}/{record.filename}"
    data: Json = {
        "id": str(record.id),
        "filename": record.filename,
        "size": len(record.data),
        "url": url,
        "proxy_url": url,
    }
    if record.content_type:
        data["content_type"] = record.content_type
    if record.description:
        data["description"] = record.description
    return data


def message(
    world: World,
    record: Message,
    *,
    base_url: str = "",
    viewer_id: int | None = None,
    blank_content: bool = False,
) -> Json:
    """A message object; ``blank_content`` empties what MESSAGE_CONTENT would reveal."""
    author = world.user(record.author_id)
    data: Json = {
        "id": str(record.id),
        "channel_id": str(record.channel_id),
        "type": record.type,
        "author": user(author),
        "content": "" if blank_content else record.content,
        "timestamp": iso(snowflake_time(record.id)),
        "edited_timestamp": _ts(record.edited_at) if record.edited_at is not None else None,
        "tts": record.tts,
        "mention_everyone": record.mention_everyone,
        "mentions": [user(world.users[u]) for u in record.mention_ids if u in world.users],
        "mention_roles": [str(r) for r in record.mention_role_ids],
        "attachments": []
        if blank_content
        else [attachment(base_url, a, record.channel_id) for a in record.attachments],
        "embeds": [] if blank_content else [dict(e) for e in record.embeds],
        "components": [] if blank_content else [dict(c) for c in record.components],
        "pinned": record.pinned,
        "flags": record.flags,
    }
    if record.reactions:
        data["reactions"] = [
            {
                "emoji": {"id": _opt(r.emoji_id), "name": r.emoji_name},
                "count": len(r.user_ids),
                "count_details": {"burst": 0, "normal": len(r.user_ids)},
                "burst_colors": [],
                "me_burst": False,
                "me": viewer_id in r.user_ids,
            }
            for r in record.reactions
            if r.user_ids
        ]
    if record.nonce is not None:
        data["nonce"] = record.nonce
    if record.reference is not None:
        data["message_reference"] = dict(record.reference)
    if record.webhook_id is not None:
        data["webhook_id"] = str(record.webhook_id)
    if record.application_id is not None:
        data["application_id"] = str(record.application_id)
    if record.interaction is not None:
        info = record.interaction
        data["interaction"] = {
            "id": str(info["id"]),
            "type": info["type"],
            "name": info["name"],
            "user": user(world.user(info["user_id"])),
        }
    return data


def guild_fields(record: Guild) -> Json:
    """The guild object's own fields (no members, channels or voice states)."""
    return {
        "id": str(record.id),
        "name": record.name,
        "icon": None,
        "description": record.description,
        "home_header": None,
        "splash": None,
        "discovery_splash": None,
        "features": [],
        "banner": None,
        "owner_id": str(record.owner_id),
        "application_id": None,
        "region": "deprecated",
        "afk_channel_id": None,
        "afk_timeout": 300,
        "system_channel_id": _opt(record.system_channel_id),
        "system_channel_flags": 0,
        "widget_enabled": False,
        "widget_channel_id": None,
        "verification_level": 0,
        "roles": [role(r) for r in record.roles.values()],
        "default_message_notifications": 0,
        "mfa_level": 0,
        "explicit_content_filter": 0,
        "max_presences": None,
        "max_members": 500000,
        "max_stage_video_channel_users": 50,
        "max_video_channel_users": 25,
        "vanity_url_code": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": record.preferred_locale,
        "rules_channel_id": None,
        "safety_alerts_channel_id": None,
        "public_updates_channel_id": None,
        "premium_progress_bar_enabled": False,
        "nsfw": False,
        "nsfw_level": 0,
        "emojis": [],
        "stickers": [],
        "incidents_data": None,
    }


def voice_state(world: World, record: VoiceState, *, with_member: bool = True) -> Json:
    """A voice state object."""
    data: Json = {
        "guild_id": str(record.guild_id),
        "channel_id": _opt(record.channel_id),
        "user_id": str(record.user_id),
        "session_id": record.session_id,
        "deaf": record.deaf,
        "mute": record.mute,
        "self_deaf": record.self_deaf,
        "self_mute": record.self_mute,
        "self_video": False,
        "suppress": False,
        "request_to_speak_timestamp": None,
    }
    guild = world.guilds.get(record.guild_id)
    if with_member and guild is not None and record.user_id in guild.members:
        data["member"] = member(world, guild.members[record.user_id])
    return data


def guild_create(world: World, record: Guild, *, bot_id: int, members_intent: bool) -> Json:
    """The GUILD_CREATE payload: everything, members only with the GUILD_MEMBERS intent."""
    data = guild_fields(record)
    if members_intent:
        shown = list(record.members.values())
    else:
        keep = {bot_id, *record.voice_states}
        shown = [m for uid, m in record.members.items() if uid in keep]
    joined = record.members[bot_id].joined_at if bot_id in record.members else 0.0
    data.update(
        joined_at=_ts(joined),
        large=len(record.members) > 250,
        unavailable=False,
        member_count=len(record.members),
        members=[member(world, m) for m in shown],
        channels=[channel(world, c) for c in record.channels.values() if not c.is_thread()],
        threads=[channel(world, c) for c in record.channels.values() if c.is_thread()],
        voice_states=[
            voice_state(world, v, with_member=False) for v in record.voice_states.values()
        ],
        presences=[],
        stage_instances=[],
        guild_scheduled_events=[],
        soundboard_sounds=[],
    )
    return data


def audit_entry(guild_id: int, record: AuditEntry) -> Json:
    """An audit log entry object (with ``guild_id`` for the gateway event)."""
    data: Json = {
        "id": str(record.id),
        "guild_id": str(guild_id),
        "action_type": record.action_type,
        "user_id": _opt(record.user_id),
        "target_id": _opt(record.target_id),
        "changes": [dict(c) for c in record.changes],
    }
    if record.reason is not None:
        data["reason"] = record.reason
    if record.options is not None:
        data["options"] = dict(record.options)
    return data


def ban(world: World, record: Ban) -> Json:
    """A ban object."""
    return {"user": user(world.user(record.user_id)), "reason": record.reason}


def invite(world: World, record: Invite) -> Json:
    """An invite object with its metadata."""
    guild = world.guilds[record.guild_id]
    data: Json = {
        "type": 0,
        "code": record.code,
        "guild_id": str(guild.id),
        "guild": {
            k: v
            for k, v in guild_fields(guild).items()
            if k
            in {
                "id",
                "name",
                "icon",
                "description",
                "splash",
                "banner",
                "features",
                "verification_level",
                "vanity_url_code",
                "nsfw_level",
                "nsfw",
                "premium_subscription_count",
            }
        },
        "channel": {
            "id": str(record.channel_id),
            "type": int(world.channels[record.channel_id].type),
            "name": world.channels[record.channel_id].name or "",
        },
        "uses": record.uses,
        "max_uses": record.max_uses,
        "max_age": record.max_age,
        "temporary": record.temporary,
        "created_at": _ts(record.created_at),
        "expires_at": _ts(record.created_at + record.max_age) if record.max_age else None,
    }
    if record.inviter_id is not None:
        data["inviter"] = user(world.user(record.inviter_id))
    return data


def webhook(world: World, record: Webhook, *, with_token: bool = True) -> Json:
    """A webhook object."""
    data: Json = {
        "id": str(record.id),
        "type": record.type,
        "name": record.name,
        "avatar": record.avatar,
        "channel_id": _opt(record.channel_id),
        "guild_id": _opt(record.guild_id),
        "application_id": _opt(record.application_id),
    }
    if record.user_id is not None and record.user_id in world.users:
        data["user"] = user(world.users[record.user_id])
    if with_token and record.type == 1:
        data["token"] = record.token
    return data


def app_command(record: AppCommand) -> Json:
    """An application command object."""
    data: Json = {
        "id": str(record.id),
        "application_id": str(record.application_id),
        "version": str(record.version or record.id),
        "default_member_permissions": record.default_member_permissions,
        "type": record.type,
        "name": record.name,
        "name_localizations": record.name_localizations,
        "description": record.description,
        "description_localizations": record.description_localizations,
        "nsfw": record.nsfw,
        "integration_types": record.integration_types,
        "contexts": record.contexts,
        "dm_permission": True,
    }
    if record.guild_id is not None:
        data["guild_id"] = str(record.guild_id)
    if record.options:
        data["options"] = record.options
    return data
