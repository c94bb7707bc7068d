"""Channel routes: messages, history, bulk delete, reactions, pins, overwrites, invites,
typing, webhooks and threads."""

from __future__ import annotations

import secrets
import urllib.parse
from typing import Any

from securebot.testing.emulator import errors as err
from securebot.testing.emulator import payloads
from securebot.testing.emulator import permissions as bits
from securebot.testing.emulator.access import channel_for, require
from securebot.testing.emulator.api import Ctx, Result, route
from securebot.testing.emulator.clock import iso, snowflake_time
from securebot.testing.emulator.messages import message_fields
from securebot.testing.emulator.model import Channel, ChannelType, Guild, Invite, Message, Overwrite
from securebot.testing.emulator.validation import Form

FOURTEEN_DAYS = 14 * 24 * 3600


def _send_permission(channel: Channel) -> int:
    return bits.SEND_MESSAGES_IN_THREADS if channel.is_thread() else bits.SEND_MESSAGES


def _check_dm_allowed(ctx: Ctx, channel: Channel) -> None:
    other = [u for u in channel.recipient_ids if u != ctx.caller.user.id]
    for uid in other:
        user = ctx.world.user(uid)
        shares = any(
            uid in g.members and ctx.caller.user.id in g.members for g in ctx.world.guilds.values()
        )
        if not user.accepts_dms or not shares or user.bot:
            raise err.ApiError(403, err.CANNOT_DM, "Cannot send messages to this user")


def _check_slowmode(ctx: Ctx, channel: Channel, perms: int) -> None:
    """429 20016 while the channel's slowmode holds the bot (Manage Messages/Channel exempt)."""
    if not channel.rate_limit_per_user or perms & (bits.MANAGE_MESSAGES | bits.MANAGE_CHANNELS):
        return
    mine = [m for m in channel.live_messages() if m.author_id == ctx.caller.user.id]
    if not mine:
        return
    waited = ctx.world.clock.time() - snowflake_time(mine[-1].id).timestamp()
    remaining = channel.rate_limit_per_user - waited
    if remaining > 0:
        raise err.ApiError(
            429,
            err.SLOWMODE,
            "You are being rate limited.",
            extra={"retry_after": round(remaining, 3), "global": False},
            headers={"Retry-After": str(int(remaining + 0.999)), "X-RateLimit-Scope": "user"},
        )


# --- channels ------------------------------------------------------------------------------


@route("GET", "/channels/{channel_id}")
async def get_channel(ctx: Ctx) -> Result:
    """Serve ``GET /channels/{channel_id}``."""
    channel, _, _ = channel_for(ctx)
    return 200, payloads.channel(ctx.world, channel)


@route("PATCH", "/channels/{channel_id}")
async def modify_channel(ctx: Ctx) -> Result:
    """Serve ``PATCH /channels/{channel_id}``."""
    channel, guild, perms = channel_for(ctx)
    if guild is None:
        raise err.ApiError(403, 50003, "Cannot execute action on a DM channel")
    require(perms, bits.MANAGE_THREADS if channel.is_thread() else bits.MANAGE_CHANNELS)
    form = ctx.form()
    name = form.string("name", min_length=1, max_length=100)
    topic = form.string("topic", nullable=True, max_length=1024)
    slowmode = form.integer("rate_limit_per_user", nullable=True, minimum=0, maximum=21600)
    nsfw = form.boolean("nsfw")
    position = form.integer("position", nullable=True, minimum=0)
    parent = form.snowflake("parent_id", nullable=True)
    archived = form.boolean("archived")
    locked = form.boolean("locked")
    overwrites = _read_overwrites(form, guild)
    if overwrites is not None:
        require(perms, bits.MANAGE_ROLES)
    form.check()
    if name is not None:
        channel.name = name
    if form.has("topic"):
        channel.topic = topic
    if slowmode is not None:
        channel.rate_limit_per_user = slowmode
    if nsfw is not None:
        channel.nsfw = nsfw
    if position is not None:
        channel.position = position
    if form.has("parent_id"):
        if parent is not None and (
            parent not in guild.channels or guild.channels[parent].type != ChannelType.CATEGORY
        ):
            raise err.invalid_form(
                {"parent_id": err.field_error("CHANNEL_PARENT_INVALID", "Invalid parent")}
            )
        channel.parent_id = parent
    if archived is not None:
        channel.archived = archived
    if locked is not None:
        channel.locked = locked
    if overwrites is not None:
        channel.overwrites = overwrites
    ctx.emu.actions.channel_event("CHANNEL_UPDATE", channel)
    return 200, payloads.channel(ctx.world, channel)


def _read_overwrites(form: Form, guild: Guild) -> dict[int, Overwrite] | None:
    raw = form.array("permission_overwrites", nullable=True, max_items=100)
    if raw is None:
        return None
    result: dict[int, Overwrite] = {}
    for index, item in enumerate(raw):
        entry = form.child(("permission_overwrites", str(index)), item)
        target = entry.snowflake("id", required=True)
        kind = entry.integer("type", minimum=0, maximum=1, default=0)
        allow = entry.permissions("allow") or 0
        deny = entry.permissions("deny") or 0
        if target is not None:
            result[target] = Overwrite(id=target, type=kind or 0, allow=allow, deny=deny)
    return result


@route("DELETE", "/channels/{channel_id}")
async def delete_channel(ctx: Ctx) -> Result:
    """Serve ``DELETE /channels/{channel_id}``."""
    channel, guild, perms = channel_for(ctx)
    data = payloads.channel(ctx.world, channel)
    if guild is None:
        return 200, data
    require(perms, bits.MANAGE_THREADS if channel.is_thread() else bits.MANAGE_CHANNELS)
    ctx.emu.actions.delete_channel(channel)
    ctx.emu.actions.audit(guild, 12, ctx.caller.user.id, channel.id, reason=ctx.reason)
    return 200, data


@route("PUT", "/channels/{channel_id}/permissions/{overwrite_id}")
async def edit_overwrite(ctx: Ctx) -> Result:
    """Serve ``PUT /channels/{channel_id}/permissions/{overwrite_id}``."""
    channel, guild, perms = channel_for(ctx)
    if guild is None:
        raise err.ApiError(403, 50003, "Cannot execute action on a DM channel")
    require(perms, bits.MANAGE_ROLES)
    target = ctx.id("overwrite_id", code=err.UNKNOWN_OVERWRITE, what="Overwrite")
    form = ctx.form()
    kind = form.integer("type", required=True, minimum=0, maximum=1)
    allow = form.permissions("allow") or 0
    deny = form.permissions("deny") or 0
    form.check()
    if kind == 0 and target not in guild.roles:
        raise err.not_found(err.UNKNOWN_ROLE, "Role")
    if kind == 1 and target not in ctx.world.users:
        raise err.not_found(err.UNKNOWN_USER, "User")
    channel.overwrites[target] = Overwrite(id=target, type=kind or 0, allow=allow, deny=deny)
    ctx.emu.actions.channel_event("CHANNEL_UPDATE", channel)
    return 204, None


@route("DELETE", "/channels/{channel_id}/permissions/{overwrite_id}")
async def delete_overwrite(ctx: Ctx) -> Result:
    """Serve ``DELETE /channels/{channel_id}/permissions/{overwrite_id}``."""
    channel, guild, perms = channel_for(ctx)
    if guild is None:
        raise err.ApiError(403, 50003, "Cannot execute action on a DM channel")
    require(perms, bits.MANAGE_ROLES)
    channel.overwrites.pop(
        ctx.id("overwrite_id", code=err.UNKNOWN_OVERWRITE, what="Overwrite"), None
    )
    ctx.emu.actions.channel_event("CHANNEL_UPDATE", channel)
    return 204, None


@route("POST", "/channels/{channel_id}/typing")
async def typing(ctx: Ctx) -> Result:
    """Serve ``POST /channels/{channel_id}/typing``."""
    channel, _, perms = channel_for(ctx)
    require(perms, _send_permission(channel))
    return 204, None


# --- messages ------------------------------------------------------------------------------


def _visible(channel: Channel) -> list[Message]:
    return [m for m in channel.live_messages() if not m.flags & 64]


def _rest_json(ctx: Ctx, message: Message) -> dict[str, Any]:
    """A message as the calling bot may read it over REST: without the MESSAGE_CONTENT
    privilege, content is blanked as on the gateway (not in DMs, own or mentioning messages)."""
    bot = ctx.caller
    blank = (
        message.guild_id is not None
        and not bot.privileged_intents & (1 << 15)
        and message.author_id != bot.user.id
        and bot.user.id not in message.mention_ids
    )
    return ctx.emu.actions.message_json(message, viewer_id=bot.user.id, blank=blank)


@route("GET", "/channels/{channel_id}/messages")
async def list_messages(ctx: Ctx) -> Result:
    """Serve ``GET /channels/{channel_id}/messages``."""
    channel, _, perms = channel_for(ctx)
    require(perms, bits.READ_MESSAGE_HISTORY)
    limit = ctx.query_int("limit", default=50, minimum=1, maximum=100)
    before = ctx.query_snowflake("before")
    after = ctx.query_snowflake("after")
    around = ctx.query_snowflake("around")
    messages = _visible(channel)
    if around is not None:
        older = [m for m in messages if m.id <= around][-((limit + 1) // 2) :] if limit > 1 else []
        newer = [m for m in messages if m.id > around][: limit // 2]
        if limit == 1:
            older = [m for m in messages if m.id == around]
        chosen = older + newer
    elif after is not None:
        chosen = [m for m in messages if m.id > after][:limit]
    else:
        floor = before if before is not None else 1 << 64
        chosen = [m for m in messages if m.id < floor][-limit:]
    chosen.sort(key=lambda m: m.id, reverse=True)
    return 200, [_rest_json(ctx, m) for m in chosen]


@route("GET", "/channels/{channel_id}/messages/{message_id}")
async def get_message(ctx: Ctx) -> Result:
    """Serve ``GET /channels/{channel_id}/messages/{message_id}``."""
    channel, _, perms = channel_for(ctx)
    require(perms, bits.READ_MESSAGE_HISTORY)
    message = ctx.world.message(
        channel, ctx.id("message_id", code=err.UNKNOWN_MESSAGE, what="Message")
    )
    return 200, _rest_json(ctx, message)


@route("POST", "/channels/{channel_id}/messages")
async def create_message(ctx: Ctx) -> Result:
    """Serve ``POST /channels/{channel_id}/messages``."""
    channel, guild, perms = channel_for(ctx)
    if not channel.is_text() and channel.type != ChannelType.VOICE:
        raise err.ApiError(400, 50008, "Cannot send messages in a non-text channel")
    if guild is None:
        _check_dm_allowed(ctx, channel)
    require(perms, _send_permission(channel))
    _check_slowmode(ctx, channel, perms)
    fields = message_fields(ctx, creating=True)
    fields.pop("_keep_attachment_ids", None)
    if fields.get("attachments"):
        require(perms, bits.ATTACH_FILES)
    if fields.get("embeds") and not perms & bits.EMBED_LINKS:
        fields["embeds"] = []
    if channel.is_thread() and channel.locked and not perms & bits.MANAGE_THREADS:
        raise err.missing_permissions()
    reference = fields.get("reference")
    if reference is not None:
        require(perms, bits.READ_MESSAGE_HISTORY)
        target = channel.messages.get(int(reference["message_id"]))
        if target is None or target.deleted:
            raise err.invalid_form(
                {
                    "message_reference": err.field_error(
                        "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"
                    )
                }
            )
        reference["channel_id"] = str(channel.id)
        if guild is not None:
            reference["guild_id"] = str(guild.id)
        reference["type"] = 0
        fields["type"] = 19
    message = ctx.emu.actions.post_message(channel, ctx.caller.user.id, **fields)
    return 200, ctx.emu.actions.message_json(message, viewer_id=ctx.caller.user.id)


@route("PATCH", "/channels/{channel_id}/messages/{message_id}")
async def edit_message(ctx: Ctx) -> Result:
    """Serve ``PATCH /channels/{channel_id}/messages/{message_id}``."""
    channel, _, perms = channel_for(ctx)
    message = ctx.world.message(
        channel, ctx.id("message_id", code=err.UNKNOWN_MESSAGE, what="Message")
    )
    fields = message_fields(ctx, creating=False)
    keep = fields.pop("_keep_attachment_ids", None)
    if message.author_id != ctx.caller.user.id:
        if set(fields) - {"flags"}:
            raise err.ApiError(
                403,
                err.CANNOT_EDIT_OTHERS_MESSAGE,
                "Cannot edit a message authored by another user",
            )
        require(perms, bits.MANAGE_MESSAGES)
    if keep is not None:
        fields["attachments"] = [a for a in message.attachments if a.id in keep] + fields.get(
            "attachments", []
        )
    if "content" in fields and len(fields["content"]) > 2000:
        raise err.invalid_form(
            {"content": err.field_error("BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")}
        )
    ctx.emu.actions.edit_message(channel, message, **fields)
    return 200, ctx.emu.actions.message_json(message, viewer_id=ctx.caller.user.id)


@route("DELETE", "/channels/{channel_id}/messages/{message_id}")
async def delete_message(ctx: Ctx) -> Result:
    """Serve ``DELETE /channels/{channel_id}/messages/{message_id}``."""
    channel, guild, perms = channel_for(ctx)
    message = ctx.world.message(
        channel, ctx.id("message_id", code=err.UNKNOWN_MESSAGE, what="Message")
    )
    if message.author_id != ctx.caller.user.id:
        if guild is None:
            raise err.ApiError(403, 50003, "Cannot execute action on a DM channel")
        require(perms, bits.MANAGE_MESSAGES)
        ctx.emu.actions.audit(
            guild,
            72,
            ctx.caller.user.id,
            message.author_id,
            reason=ctx.reason,
            options={"channel_id": str(channel.id), "count": "1"},
        )
    ctx.emu.actions.delete_message(channel, message)
    return 204, None


@route("POST", "/channels/{channel_id}/messages/bulk-delete")
async def bulk_delete(ctx: Ctx) -> Result:
    """Serve ``POST /channels/{channel_id}/messages/bulk-delete``."""
    channel, guild, perms = channel_for(ctx)
    if guild is None:
        raise err.ApiError(403, 50003, "Cannot execute action on a DM channel")
    require(perms, bits.MANAGE_MESSAGES)
    form = ctx.form()
    ids = form.snowflakes("messages", required=True)
    form.check()
    unique = list(dict.fromkeys(ids or []))
    if not 2 <= len(unique) <= 100:
        raise err.ApiError(
            400, err.BULK_DELETE_COUNT, "You can only bulk delete messages between 2 and 100"
        )
    now = ctx.world.clock.time()
    doomed: list[Message] = []
    for message_id in unique:
        if now - snowflake_time(message_id).timestamp() > FOURTEEN_DAYS:
            raise err.ApiError(
                400,
                err.BULK_DELETE_TOO_OLD,
                "You can only bulk delete messages that are under 14 days old.",
            )
        found = channel.messages.get(message_id)
        if found is not None and not found.deleted:
            doomed.append(found)
    if doomed:
        ctx.emu.actions.bulk_delete(channel, doomed)
        ctx.emu.actions.audit(
            guild,
            73,
            ctx.caller.user.id,
            channel.id,
            reason=ctx.reason,
            options={"count": str(len(doomed))},
        )
    return 204, None


# --- reactions -----------------------------------------------------------------------------


def _emoji(ctx: Ctx) -> tuple[str, int | None]:
    raw = urllib.parse.unquote(ctx.params.get("emoji_name", ""))
    name, _, raw_id = raw.partition(":")
    if not name or len(name) > 32:
        raise err.ApiError(400, err.UNKNOWN_EMOJI, "Unknown Emoji")
    if raw_id:
        if not raw_id.isdigit() or len(raw_id) > 20:
            raise err.ApiError(400, err.UNKNOWN_EMOJI, "Unknown Emoji")
        return name, int(raw_id)
    return name, None


def _reaction_target(ctx: Ctx) -> tuple[Channel, Guild | None, int, Message]:
    channel, guild, perms = channel_for(ctx)
    require(perms, bits.READ_MESSAGE_HISTORY)
    message = ctx.world.message(
        channel, ctx.id("message_id", code=err.UNKNOWN_MESSAGE, what="Message")
    )
    return channel, guild, perms, message


@route("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me")
async def add_reaction(ctx: Ctx) -> Result:
    """Serve ``PUT /channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me``."""
    channel, _, perms, message = _reaction_target(ctx)
    name, emoji_id = _emoji(ctx)
    existing = any(r.emoji_name == name and r.emoji_id == emoji_id for r in message.reactions)
    if not existing:
        require(perms, bits.ADD_REACTIONS)
    if len(message.reactions) >= 20 and not existing:
        raise err.ApiError(400, 30010, "Maximum number of reactions reached (20)")
    ctx.emu.actions.react(channel, message, ctx.caller.user.id, name, emoji_id)
    return 204, None


@route("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me")
async def remove_own_reaction(ctx: Ctx) -> Result:
    """Serve ``DELETE /channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me``."""
    channel, _, _, message = _reaction_target(ctx)
    name, emoji_id = _emoji(ctx)
    ctx.emu.actions.unreact(channel, message, ctx.caller.user.id, name, emoji_id)
    return 204, None


@route("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/{user_id}")
async def remove_user_reaction(ctx: Ctx) -> Result:
    """Serve ``DELETE .../reactions/{emoji_name}/{user_id}`` (another user's reaction)."""
    channel, _, perms, message = _reaction_target(ctx)
    name, emoji_id = _emoji(ctx)
    user_id = ctx.id("user_id", code=err.UNKNOWN_USER, what="User")
    if user_id != ctx.caller.user.id:
        require(perms, bits.MANAGE_MESSAGES)
    ctx.emu.actions.unreact(channel, message, user_id, name, emoji_id)
    return 204, None


@route("GET", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}")
async def reaction_users(ctx: Ctx) -> Result:
    """Serve ``GET /channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}``."""
    _, _, _, message = _reaction_target(ctx)
    name, emoji_id = _emoji(ctx)
    limit = ctx.query_int("limit", default=25, minimum=1, maximum=100)
    after = ctx.query_snowflake("after") or 0
    reaction = next(
        (r for r in message.reactions if r.emoji_name == name and r.emoji_id == emoji_id), None
    )
    ids = sorted(u for u in (reaction.user_ids if reaction else []) if u > after)[:limit]
    return 200, [payloads.user(ctx.world.user(u)) for u in ids]


@route("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions")
async def clear_reactions(ctx: Ctx) -> Result:
    """Serve ``DELETE /channels/{channel_id}/messages/{message_id}/reactions``."""
    channel, _, perms, message = _reaction_target(ctx)
    require(perms, bits.MANAGE_MESSAGES)
    ctx.emu.actions.clear_reactions(channel, message)
    return 204, None


@route("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}")
async def clear_emoji(ctx: Ctx) -> Result:
    """Serve ``DELETE /channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}``."""
    channel, _, perms, message = _reaction_target(ctx)
    require(perms, bits.MANAGE_MESSAGES)
    name, emoji_id = _emoji(ctx)
    ctx.emu.actions.clear_reactions(channel, message, name, emoji_id)
    return 204, None


# --- pins ----------------------------------------------------------------------------------


def _pins(ctx: Ctx) -> list[Message]:
    channel, _, perms = channel_for(ctx)
    require(perms, bits.READ_MESSAGE_HISTORY)
    return [channel.messages[i] for i in reversed(channel.pins) if i in channel.messages]


@route("GET", "/channels/{channel_id}/pins")
async def list_pins_legacy(ctx: Ctx) -> Result:
    """Serve ``GET /channels/{channel_id}/pins``."""
    return 200, [_rest_json(ctx, m) for m in _pins(ctx)]


@route("GET", "/channels/{channel_id}/messages/pins")
async def list_pins(ctx: Ctx) -> Result:
    """Serve ``GET /channels/{channel_id}/messages/pins``."""
    limit = ctx.query_int("limit", default=50, minimum=1, maximum=50)
    items = [
        {
            "pinned_at": iso(snowflake_time(m.id)),
            "message": _rest_json(ctx, m),
        }
        for m in _pins(ctx)
    ]
    return 200, {"items": items[:limit], "has_more": len(items) > limit}


async def _pin(ctx: Ctx, pinned: bool) -> Result:
    channel, guild, perms = channel_for(ctx)
    if guild is not None:
        require(perms, bits.MANAGE_MESSAGES)
    message = ctx.world.message(
        channel, ctx.id("message_id", code=err.UNKNOWN_MESSAGE, what="Message")
    )
    if pinned and message.id not in channel.pins and len(channel.pins) >= 250:
        raise err.ApiError(400, err.MAX_PINS, "Maximum number of pins reached (250)")
    ctx.emu.actions.set_pinned(channel, message, pinned)
    return 204, None


@route("PUT", "/channels/{channel_id}/pins/{message_id}")
async def pin_legacy(ctx: Ctx) -> Result:
    """Serve ``PUT /channels/{channel_id}/pins/{message_id}``."""
    return await _pin(ctx, True)


@route("DELETE", "/channels/{channel_id}/pins/{message_id}")
async def unpin_legacy(ctx: Ctx) -> Result:
    """Serve ``DELETE /channels/{channel_id}/pins/{message_id}``."""
    return await _pin(ctx, False)


@route("PUT", "/channels/{channel_id}/messages/pins/{message_id}")
async def pin(ctx: Ctx) -> Result:
    """Serve ``PUT /channels/{channel_id}/messages/pins/{message_id}``."""
    return await _pin(ctx, True)


@route("DELETE", "/channels/{channel_id}/messages/pins/{message_id}")
async def unpin(ctx: Ctx) -> Result:
    """Serve ``DELETE /channels/{channel_id}/messages/pins/{message_id}``."""
    return await _pin(ctx, False)


# --- invites -------------------------------------------------------------------------------


@route("POST", "/channels/{channel_id}/invites")
async def create_invite(ctx: Ctx) -> Result:
    """Serve ``POST /channels/{channel_id}/invites``."""
    channel, guild, perms = channel_for(ctx)
    if guild is None:
        raise err.ApiError(403, 50003, "Cannot execute action on a DM channel")
    require(perms, bits.CREATE_INSTANT_INVITE)
    form = ctx.form()
    max_age = form.integer("max_age", nullable=True, minimum=0, maximum=604800, default=86400)
    max_uses = form.integer("max_uses", nullable=True, minimum=0, maximum=100, default=0)
    temporary = form.boolean("temporary", default=False)
    form.boolean("unique")
    form.check()
    invite = Invite(
        code=secrets.token_urlsafe(6).replace("-", "a").replace("_", "b")[:8],
        guild_id=guild.id,
        channel_id=channel.id,
        inviter_id=ctx.caller.user.id,
        created_at=ctx.world.clock.time(),
        max_age=max_age or 0,
        max_uses=max_uses or 0,
        temporary=bool(temporary),
    )
    guild.invites[invite.code] = invite
    data = payloads.invite(ctx.world, invite)
    event = {**data, "channel_id": str(channel.id), "guild_id": str(guild.id)}
    event.pop("channel", None)
    event.pop("guild", None)
    ctx.emu.gateway.dispatch_guild("INVITE_CREATE", guild, event)
    return 200, data


@route("GET", "/channels/{channel_id}/invites")
async def channel_invites(ctx: Ctx) -> Result:
    """Serve ``GET /channels/{channel_id}/invites``."""
    channel, guild, perms = channel_for(ctx)
    require(perms, bits.MANAGE_CHANNELS)
    invites = [i for i in (guild.invites.values() if guild else []) if i.channel_id == channel.id]
    return 200, [payloads.invite(ctx.world, i) for i in invites]


# --- webhooks ------------------------------------------------------------------------------


@route("POST", "/channels/{channel_id}/webhooks")
async def create_webhook(ctx: Ctx) -> Result:
    """Serve ``POST /channels/{channel_id}/webhooks``."""
    channel, guild, perms = channel_for(ctx)
    if guild is None:
        raise err.ApiError(403, 50003, "Cannot execute action on a DM channel")
    require(perms, bits.MANAGE_WEBHOOKS)
    form = ctx.form()
    name = form.string("name", required=True, min_length=1, max_length=80)
    form.string("avatar", nullable=True, max_length=10_000_000)
    form.check()
    if name is not None and "discord" in name.lower():
        raise err.invalid_form(
            {"name": err.field_error("WEBHOOK_INVALID_NAME", 'Name cannot contain "discord"')}
        )
    webhook = ctx.world.add_webhook(channel, name or "webhook", user_id=ctx.caller.user.id)
    ctx.emu.gateway.dispatch_guild(
        "WEBHOOKS_UPDATE", guild, {"guild_id": str(guild.id), "channel_id": str(channel.id)}
    )
    return 200, payloads.webhook(ctx.world, webhook)


@route("GET", "/channels/{channel_id}/webhooks")
async def channel_webhooks(ctx: Ctx) -> Result:
    """Serve ``GET /channels/{channel_id}/webhooks``."""
    channel, _, perms = channel_for(ctx)
    require(perms, bits.MANAGE_WEBHOOKS)
    found = [w for w in ctx.world.webhooks.values() if w.channel_id == channel.id and w.type == 1]
    return 200, [payloads.webhook(ctx.world, w) for w in found]


# --- threads -------------------------------------------------------------------------------


@route("POST", "/channels/{channel_id}/threads")
async def start_thread(ctx: Ctx) -> Result:
    """Serve ``POST /channels/{channel_id}/threads``."""
    return await _thread(ctx, None)


@route("POST", "/channels/{channel_id}/messages/{message_id}/threads")
async def start_thread_from_message(ctx: Ctx) -> Result:
    """Serve ``POST /channels/{channel_id}/messages/{message_id}/threads``."""
    channel, _, _ = channel_for(ctx)
    message = ctx.world.message(
        channel, ctx.id("message_id", code=err.UNKNOWN_MESSAGE, what="Message")
    )
    return await _thread(ctx, message)


async def _thread(ctx: Ctx, message: Message | None) -> Result:
    channel, guild, perms = channel_for(ctx)
    if guild is None or channel.type not in (ChannelType.TEXT, ChannelType.NEWS):
        raise err.ApiError(400, 50024, "Cannot execute action on this channel type")
    form = ctx.form()
    name = form.string("name", required=True, min_length=1, max_length=100)
    kind = form.integer("type", nullable=True, minimum=10, maximum=12, default=11)
    form.integer("auto_archive_duration", nullable=True)
    slowmode = form.integer(
        "rate_limit_per_user", nullable=True, minimum=0, maximum=21600, default=0
    )
    form.check()
    thread_type = (
        ChannelType.PRIVATE_THREAD if kind == 12 and message is None else ChannelType.PUBLIC_THREAD
    )
    require(
        perms,
        bits.CREATE_PRIVATE_THREADS
        if thread_type == ChannelType.PRIVATE_THREAD
        else bits.CREATE_PUBLIC_THREADS,
    )
    thread = ctx.world.add_channel(
        guild,
        name,
        thread_type,
        parent_id=channel.id,
        owner_id=ctx.caller.user.id,
        rate_limit_per_user=slowmode or 0,
        id=message.id if message is not None else ctx.world.new_id(),
    )
    if message is not None:
        ctx.world.channels[thread.id] = thread
    ctx.emu.actions.channel_event("CHANNEL_CREATE", thread)
    return 201, payloads.channel(ctx.world, thread)
