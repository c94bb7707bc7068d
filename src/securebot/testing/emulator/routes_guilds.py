"""Guild routes: the guild, members (list, search, modify, timeout, kick), bans, roles,
channels, invites and webhooks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from securebot.testing.emulator import errors as err
from securebot.testing.emulator import payloads
from securebot.testing.emulator import permissions as bits
from securebot.testing.emulator.access import (
    guild_for,
    guild_permissions,
    require,
    require_above,
    require_role_below,
)
from securebot.testing.emulator.api import Ctx, Result, route
from securebot.testing.emulator.model import ChannelType, Overwrite
from securebot.testing.emulator.validation import Form

MAX_TIMEOUT = 28 * 24 * 3600


@route("GET", "/guilds/{guild_id}")
async def get_guild(ctx: Ctx) -> Result:
    """Serve ``GET /guilds/{guild_id}``."""
    guild, _ = guild_for(ctx)
    data = payloads.guild_fields(guild)
    if ctx.request.query.get("with_counts") in ("true", "1"):
        data["approximate_member_count"] = len(guild.members)
        data["approximate_presence_count"] = 0
    return 200, data


@route("PATCH", "/guilds/{guild_id}")
async def modify_guild(ctx: Ctx) -> Result:
    """Serve ``PATCH /guilds/{guild_id}``."""
    guild, me = guild_for(ctx)
    require(guild_permissions(ctx, guild, me), bits.MANAGE_GUILD)
    form = ctx.form()
    name = form.string("name", min_length=2, max_length=100)
    description = form.string("description", nullable=True, max_length=120)
    system = form.snowflake("system_channel_id", nullable=True)
    form.check()
    if name is not None:
        guild.name = name
    if form.has("description"):
        guild.description = description
    if form.has("system_channel_id"):
        guild.system_channel_id = system
    data = payloads.guild_fields(guild)
    ctx.emu.gateway.dispatch_guild("GUILD_UPDATE", guild, data)
    return 200, data


# --- members -------------------------------------------------------------------------------


@route("GET", "/guilds/{guild_id}/members")
async def list_members(ctx: Ctx) -> Result:
    """Serve ``GET /guilds/{guild_id}/members``."""
    guild, _ = guild_for(ctx)
    limit = ctx.query_int("limit", default=1, minimum=1, maximum=1000)
    after = ctx.query_snowflake("after") or 0
    members = sorted(
        (m for m in guild.members.values() if m.user_id > after), key=lambda m: m.user_id
    )
    return 200, [payloads.member(ctx.world, m) for m in members[:limit]]


@route("GET", "/guilds/{guild_id}/members/search")
async def search_members(ctx: Ctx) -> Result:
    """Serve ``GET /guilds/{guild_id}/members/search``."""
    guild, _ = guild_for(ctx)
    query = ctx.request.query.get("query")
    if query is None:
        raise err.invalid_form(
            {"query": err.field_error("BASE_TYPE_REQUIRED", "This field is required")}
        )
    limit = ctx.query_int("limit", default=1, minimum=1, maximum=1000)
    needle = query.lower()
    found = []
    for member in guild.members.values():
        user = ctx.world.user(member.user_id)
        names = [user.username, user.global_name or "", member.nick or ""]
        if any(n.lower().startswith(needle) for n in names):
            found.append(member)
    return 200, [payloads.member(ctx.world, m) for m in found[:limit]]


@route("GET", "/guilds/{guild_id}/members/{user_id}")
async def get_member(ctx: Ctx) -> Result:
    """Serve ``GET /guilds/{guild_id}/members/{user_id}``."""
    guild, _ = guild_for(ctx)
    member = ctx.world.member(guild, ctx.id("user_id", code=err.UNKNOWN_MEMBER, what="Member"))
    return 200, payloads.member(ctx.world, member)


@route("PATCH", "/guilds/{guild_id}/members/{user_id}")
async def modify_member(ctx: Ctx) -> Result:
    """Serve ``PATCH /guilds/{guild_id}/members/{user_id}``."""
    guild, me = guild_for(ctx)
    target = ctx.world.member(guild, ctx.id("user_id", code=err.UNKNOWN_MEMBER, what="Member"))
    perms = guild_permissions(ctx, guild, me)
    form = ctx.form()
    nick = form.string("nick", nullable=True, max_length=32)
    roles = (
        form.snowflakes("roles", max_items=250)
        if form.has("roles") and form.data["roles"] is not None
        else None
    )
    until_raw = form.string("communication_disabled_until", nullable=True, max_length=64)
    mute = form.boolean("mute")
    deaf = form.boolean("deaf")
    channel_id = form.snowflake("channel_id", nullable=True)
    form.integer("flags", nullable=True, minimum=0)
    until: float | None = None
    if until_raw is not None:
        try:
            parsed = dt.datetime.fromisoformat(until_raw)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=dt.UTC)
            until = parsed.timestamp()
        except ValueError:
            form.fail(
                ("communication_disabled_until",), "DATE_TIME_TYPE_PARSE", "Could not parse date."
            )
    form.check()
    is_self = target.user_id == me.user_id
    if form.has("nick"):
        require(perms, bits.CHANGE_NICKNAME if is_self else bits.MANAGE_NICKNAMES)
        if not is_self:
            require_above(guild, me, target)
    if roles is not None:
        require(perms, bits.MANAGE_ROLES)
        for role_id in roles:
            if role_id not in guild.roles or role_id == guild.id:
                raise err.invalid_form(
                    {"roles": err.field_error("UNKNOWN_ROLE", f"Unknown role {role_id}")}
                )
        changed = set(roles) ^ set(target.role_ids)
        for role_id in changed:
            if guild.roles[role_id].managed and role_id not in target.role_ids:
                raise err.missing_permissions()
            require_role_below(guild, me, guild.roles[role_id].position)
    if form.has("communication_disabled_until"):
        require(perms, bits.MODERATE_MEMBERS)
        require_above(guild, me, target)
        if bits.base_permissions(guild, target) & bits.ADMINISTRATOR:
            raise err.missing_permissions()
        now = ctx.world.clock.time()
        if until is not None and until - now > MAX_TIMEOUT:
            raise err.invalid_form(
                {
                    "communication_disabled_until": err.field_error(
                        "COMMUNICATION_DISABLED_UNTIL_TOO_LONG", "Timeout can be at most 28 days."
                    )
                }
            )
    if mute is not None or deaf is not None:
        require(
            perms,
            (bits.MUTE_MEMBERS if mute is not None else 0)
            | (bits.DEAFEN_MEMBERS if deaf is not None else 0),
        )
    if form.has("channel_id"):
        require(perms, bits.MOVE_MEMBERS)
    changes: list[dict[str, Any]] = []
    role_changes: list[dict[str, Any]] = []
    if form.has("nick"):
        changes.append({"key": "nick", "old_value": target.nick, "new_value": nick or None})
        target.nick = nick or None
    if roles is not None:
        wanted = list(dict.fromkeys(roles))
        added = [r for r in wanted if r not in target.role_ids]
        removed = [r for r in target.role_ids if r not in wanted]
        for key, ids in (("$add", added), ("$remove", removed)):
            if ids:
                value = [
                    {"id": str(r), "name": guild.roles[r].name} for r in ids if r in guild.roles
                ]
                role_changes.append({"key": key, "new_value": value})
        target.role_ids = wanted
    if form.has("communication_disabled_until"):
        old = target.timed_out_until
        changes.append(
            {
                "key": "communication_disabled_until",
                "old_value": payloads.timestamp(old) if old else None,
                "new_value": payloads.timestamp(until) if until else None,
            }
        )
        target.timed_out_until = until
    if mute is not None:
        target.mute = mute
    if deaf is not None:
        target.deaf = deaf
    if form.has("channel_id"):
        state = ctx.world.set_voice(guild, target.user_id, channel_id)
        ctx.emu.gateway.dispatch_guild(
            "VOICE_STATE_UPDATE", guild, payloads.voice_state(ctx.world, state)
        )
    ctx.emu.actions.member_updated(guild, target)
    if changes:
        ctx.emu.actions.audit(
            guild, 24, me.user_id, target.user_id, reason=ctx.reason, changes=changes
        )
    if role_changes:
        ctx.emu.actions.audit(
            guild, 25, me.user_id, target.user_id, reason=ctx.reason, changes=role_changes
        )
    return 200, payloads.member(ctx.world, target)


@route("PATCH", "/guilds/{guild_id}/members/@me")
async def modify_me(ctx: Ctx) -> Result:
    """Serve ``PATCH /guilds/{guild_id}/members/@me``."""
    guild, me = guild_for(ctx)
    require(guild_permissions(ctx, guild, me), bits.CHANGE_NICKNAME)
    form = ctx.form()
    nick = form.string("nick", nullable=True, max_length=32)
    form.check()
    me.nick = nick or None
    ctx.emu.actions.member_updated(guild, me)
    return 200, payloads.member(ctx.world, me)


async def _member_role(ctx: Ctx, add: bool) -> Result:
    guild, me = guild_for(ctx)
    require(guild_permissions(ctx, guild, me), bits.MANAGE_ROLES)
    target = ctx.world.member(guild, ctx.id("user_id", code=err.UNKNOWN_MEMBER, what="Member"))
    role = ctx.world.role(guild, ctx.id("role_id", code=err.UNKNOWN_ROLE, what="Role"))
    if role.id == guild.id or role.managed:
        raise err.missing_permissions()
    require_role_below(guild, me, role.position)
    if add and role.id not in target.role_ids:
        target.role_ids.append(role.id)
    elif not add and role.id in target.role_ids:
        target.role_ids.remove(role.id)
    else:
        return 204, None
    ctx.emu.actions.member_updated(guild, target)
    change = {
        "key": "$add" if add else "$remove",
        "new_value": [{"id": str(role.id), "name": role.name}],
    }
    ctx.emu.actions.audit(
        guild, 25, me.user_id, target.user_id, reason=ctx.reason, changes=[change]
    )
    return 204, None


@route("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
async def add_member_role(ctx: Ctx) -> Result:
    """Serve ``PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}``."""
    return await _member_role(ctx, True)


@route("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
async def remove_member_role(ctx: Ctx) -> Result:
    """Serve ``DELETE /guilds/{guild_id}/members/{user_id}/roles/{role_id}``."""
    return await _member_role(ctx, False)


@route("DELETE", "/guilds/{guild_id}/members/{user_id}")
async def kick(ctx: Ctx) -> Result:
    """Serve ``DELETE /guilds/{guild_id}/members/{user_id}``."""
    guild, me = guild_for(ctx)
    require(guild_permissions(ctx, guild, me), bits.KICK_MEMBERS)
    target = ctx.world.member(guild, ctx.id("user_id", code=err.UNKNOWN_MEMBER, what="Member"))
    require_above(guild, me, target)
    ctx.emu.actions.member_leave(guild, target.user_id)
    ctx.emu.actions.audit(guild, 20, me.user_id, target.user_id, reason=ctx.reason)
    return 204, None


# --- bans ----------------------------------------------------------------------------------


@route("GET", "/guilds/{guild_id}/bans")
async def list_bans(ctx: Ctx) -> Result:
    """Serve ``GET /guilds/{guild_id}/bans``."""
    guild, me = guild_for(ctx)
    require(guild_permissions(ctx, guild, me), bits.BAN_MEMBERS)
    limit = ctx.query_int("limit", default=1000, minimum=1, maximum=1000)
    before = ctx.query_snowflake("before")
    after = ctx.query_snowflake("after")
    bans = sorted(guild.bans.values(), key=lambda b: b.user_id)
    if before is not None:
        bans = [b for b in bans if b.user_id < before][-limit:]
    else:
        bans = [b for b in bans if b.user_id > (after or 0)][:limit]
    return 200, [payloads.ban(ctx.world, b) for b in bans]


@route("GET", "/guilds/{guild_id}/bans/{user_id}")
async def get_ban(ctx: Ctx) -> Result:
    """Serve ``GET /guilds/{guild_id}/bans/{user_id}``."""
    guild, me = guild_for(ctx)
    require(guild_permissions(ctx, guild, me), bits.BAN_MEMBERS)
    ban = guild.bans.get(ctx.id("user_id", code=err.UNKNOWN_BAN, what="Ban"))
    if ban is None:
        raise err.not_found(err.UNKNOWN_BAN, "Ban")
    return 200, payloads.ban(ctx.world, ban)


@route("PUT", "/guilds/{guild_id}/bans/{user_id}")
async def ban(ctx: Ctx) -> Result:
    """Serve ``PUT /guilds/{guild_id}/bans/{user_id}``."""
    guild, me = guild_for(ctx)
    require(guild_permissions(ctx, guild, me), bits.BAN_MEMBERS)
    user = ctx.world.user(ctx.id("user_id", code=err.UNKNOWN_USER, what="User"))
    form = ctx.form()
    seconds = form.integer("delete_message_seconds", nullable=True, minimum=0, maximum=604800)
    days = form.integer("delete_message_days", nullable=True, minimum=0, maximum=7)
    form.check()
    if "delete_message_seconds" in ctx.request.query:
        seconds = ctx.query_int("delete_message_seconds", default=0, minimum=0, maximum=604800)
    if "delete_message_days" in ctx.request.query:
        days = ctx.query_int("delete_message_days", default=0, minimum=0, maximum=7)
    target = guild.members.get(user.id)
    if user.id == guild.owner_id:
        raise err.missing_permissions()
    if target is not None:
        require_above(guild, me, target)
    ctx.emu.actions.audit(guild, 22, me.user_id, user.id, reason=ctx.reason)
    ctx.emu.actions.ban(
        guild, user.id, ctx.reason, seconds if seconds is not None else (days or 0) * 86400
    )
    return 204, None


@route("DELETE", "/guilds/{guild_id}/bans/{user_id}")
async def unban(ctx: Ctx) -> Result:
    """Serve ``DELETE /guilds/{guild_id}/bans/{user_id}``."""
    guild, me = guild_for(ctx)
    require(guild_permissions(ctx, guild, me), bits.BAN_MEMBERS)
    user_id = ctx.id("user_id", code=err.UNKNOWN_BAN, what="Ban")
    if user_id not in guild.bans:
        raise err.not_found(err.UNKNOWN_BAN, "Ban")
    ctx.emu.actions.unban(guild, user_id)
    ctx.emu.actions.audit(guild, 23, me.user_id, user_id, reason=ctx.reason)
    return 204, None


# --- roles ---------------------------------------------------------------------------------


@route("GET", "/guilds/{guild_id}/roles")
async def list_roles(ctx: Ctx) -> Result:
    """Serve ``GET /guilds/{guild_id}/roles``."""
    guild, _ = guild_for(ctx)
    return 200, [payloads.role(r) for r in sorted(guild.roles.values(), key=lambda r: r.position)]


@route("GET", "/guilds/{guild_id}/roles/{role_id}")
async def get_role(ctx: Ctx) -> Result:
    """Serve ``GET /guilds/{guild_id}/roles/{role_id}``."""
    guild, _ = guild_for(ctx)
    return 200, payloads.role(
        ctx.world.role(guild, ctx.id("role_id", code=err.UNKNOWN_ROLE, what="Role"))
    )


def _role_fields(ctx: Ctx) -> dict[str, Any]:
    form = ctx.form()
    fields: dict[str, Any] = {}
    name = form.string("name", nullable=True, max_length=100)
    perms = form.permissions("permissions")
    color = form.integer("color", nullable=True, minimum=0, maximum=0xFFFFFF)
    colors = form.obj("colors")
    if colors is not None:
        primary = colors.integer("primary_color", nullable=True, minimum=0, maximum=0xFFFFFF)
        colors.integer("secondary_color", nullable=True, minimum=0, maximum=0xFFFFFF)
        colors.integer("tertiary_color", nullable=True, minimum=0, maximum=0xFFFFFF)
        color = primary if primary is not None else color
    hoist = form.boolean("hoist")
    mentionable = form.boolean("mentionable")
    form.check()
    if name is not None:
        fields["name"] = name
    if perms is not None:
        fields["permissions"] = perms
    if color is not None:
        fields["color"] = color
    if hoist is not None:
        fields["hoist"] = hoist
    if mentionable is not None:
        fields["mentionable"] = mentionable
    return fields


@route("POST", "/guilds/{guild_id}/roles")
async def create_role(ctx: Ctx) -> Result:
    """Serve ``POST /guilds/{guild_id}/roles``."""
    guild, me = guild_for(ctx)
    perms = guild_permissions(ctx, guild, me)
    require(perms, bits.MANAGE_ROLES)
    fields = _role_fields(ctx)
    wanted = int(fields.get("permissions", 0))
    if wanted & ~perms and not perms & bits.ADMINISTRATOR:
        raise err.missing_permissions()
    if len(guild.roles) >= 250:
        raise err.ApiError(400, 30005, "Maximum number of guild roles reached (250)")
    for role in guild.roles.values():
        if role.id != guild.id:
            role.position += 1
    role = ctx.world.add_role(guild, str(fields.pop("name", "new role")), position=1, **fields)
    ctx.emu.actions.role_event("GUILD_ROLE_CREATE", guild, role)
    ctx.emu.actions.audit(guild, 30, me.user_id, role.id, reason=ctx.reason)
    return 200, payloads.role(role)


@route("PATCH", "/guilds/{guild_id}/roles/{role_id}")
async def modify_role(ctx: Ctx) -> Result:
    """Serve ``PATCH /guilds/{guild_id}/roles/{role_id}``."""
    guild, me = guild_for(ctx)
    perms = guild_permissions(ctx, guild, me)
    require(perms, bits.MANAGE_ROLES)
    role = ctx.world.role(guild, ctx.id("role_id", code=err.UNKNOWN_ROLE, what="Role"))
    fields = _role_fields(ctx)
    require_role_below(guild, me, role.position)
    if "permissions" in fields:
        wanted = int(fields["permissions"])
        if wanted & ~perms and not perms & bits.ADMINISTRATOR:
            raise err.missing_permissions()
    changes = [
        {"key": key, "old_value": getattr(role, key), "new_value": value}
        for key, value in fields.items()
        if key in ("name", "color", "hoist", "mentionable")
    ]
    for key, value in fields.items():
        setattr(role, key, value)
    ctx.emu.actions.role_event("GUILD_ROLE_UPDATE", guild, role)
    ctx.emu.actions.audit(guild, 31, me.user_id, role.id, reason=ctx.reason, changes=changes)
    return 200, payloads.role(role)


@route("PATCH", "/guilds/{guild_id}/roles")
async def move_roles(ctx: Ctx) -> Result:
    """Serve ``PATCH /guilds/{guild_id}/roles``."""
    guild, me = guild_for(ctx)
    require(guild_permissions(ctx, guild, me), bits.MANAGE_ROLES)
    body = ctx.array()
    moves: list[tuple[int, int]] = []
    errors: dict[str, object] = {}
    for index, item in enumerate(body):
        if not isinstance(item, dict):
            errors[str(index)] = err.field_error(
                "DICT_TYPE_CONVERT", "Only dictionaries may be used"
            )
            continue
        raw_id, position = item.get("id"), item.get("position")
        if not (isinstance(raw_id, str | int) and str(raw_id).isdigit() and len(str(raw_id)) <= 20):
            errors[str(index)] = {
                "id": err.field_error("NUMBER_TYPE_COERCE", "Value is not snowflake.")
            }
            continue
        if isinstance(position, bool) or not isinstance(position, int) or not 0 < position < 1000:
            errors[str(index)] = {
                "position": err.field_error("NUMBER_TYPE_COERCE", "Value is not int.")
            }
            continue
        moves.append((int(raw_id), position))
    if errors:
        raise err.invalid_form(errors)
    for role_id, position in moves:
        role = ctx.world.role(guild, role_id)
        require_role_below(guild, me, max(role.position, position))
    for role_id, position in moves:
        guild.roles[role_id].position = position
        ctx.emu.actions.role_event("GUILD_ROLE_UPDATE", guild, guild.roles[role_id])
    return 200, [payloads.role(r) for r in sorted(guild.roles.values(), key=lambda r: r.position)]


@route("DELETE", "/guilds/{guild_id}/roles/{role_id}")
async def delete_role(ctx: Ctx) -> Result:
    """Serve ``DELETE /guilds/{guild_id}/roles/{role_id}``."""
    guild, me = guild_for(ctx)
    require(guild_permissions(ctx, guild, me), bits.MANAGE_ROLES)
    role = ctx.world.role(guild, ctx.id("role_id", code=err.UNKNOWN_ROLE, what="Role"))
    if role.id == guild.id or role.managed:
        raise err.ApiError(400, 50028, "Invalid role")
    require_role_below(guild, me, role.position)
    ctx.emu.actions.delete_role(guild, role)
    ctx.emu.actions.audit(guild, 32, me.user_id, role.id, reason=ctx.reason)
    return 204, None


# --- channels ------------------------------------------------------------------------------


@route("GET", "/guilds/{guild_id}/channels")
async def list_channels(ctx: Ctx) -> Result:
    """Serve ``GET /guilds/{guild_id}/channels``."""
    guild, _ = guild_for(ctx)
    return 200, [
        payloads.channel(ctx.world, c) for c in guild.channels.values() if not c.is_thread()
    ]


@route("POST", "/guilds/{guild_id}/channels")
async def create_channel(ctx: Ctx) -> Result:
    """Serve ``POST /guilds/{guild_id}/channels``."""
    guild, me = guild_for(ctx)
    perms = guild_permissions(ctx, guild, me)
    require(perms, bits.MANAGE_CHANNELS)
    form = ctx.form()
    name = form.string("name", required=True, min_length=1, max_length=100)
    kind = form.integer("type", nullable=True, default=0)
    topic = form.string("topic", nullable=True, max_length=1024)
    parent = form.snowflake("parent_id", nullable=True)
    slowmode = form.integer(
        "rate_limit_per_user", nullable=True, minimum=0, maximum=21600, default=0
    )
    nsfw = form.boolean("nsfw", default=False)
    position = form.integer("position", nullable=True, minimum=0)
    raw = form.array("permission_overwrites", nullable=True, max_items=100)
    overwrites: dict[int, Overwrite] = {}
    for index, item in enumerate(raw or []):
        entry = form.child(("permission_overwrites", str(index)), item)
        target = entry.snowflake("id", required=True)
        otype = entry.integer("type", minimum=0, maximum=1, default=0)
        allow = entry.permissions("allow") or 0
        deny = entry.permissions("deny") or 0
        if target is not None:
            overwrites[target] = Overwrite(id=target, type=otype or 0, allow=allow, deny=deny)
    allowed_types = {
        int(t)
        for t in (
            ChannelType.TEXT,
            ChannelType.VOICE,
            ChannelType.CATEGORY,
            ChannelType.NEWS,
            ChannelType.STAGE,
            ChannelType.FORUM,
        )
    }
    if kind is not None and kind not in allowed_types:
        form.fail(("type",), "BASE_TYPE_CHOICES", f"Value must be one of {sorted(allowed_types)}.")
    form.check()
    if overwrites:
        require(perms, bits.MANAGE_ROLES)
    if parent is not None and (
        parent not in guild.channels or guild.channels[parent].type != ChannelType.CATEGORY
    ):
        raise err.invalid_form(
            {"parent_id": err.field_error("CHANNEL_PARENT_INVALID", "Invalid parent")}
        )
    if len(guild.channels) >= 500:
        raise err.ApiError(400, 30013, "Maximum number of guild channels reached (500)")
    extra: dict[str, object] = {}
    if position is not None:
        extra["position"] = position
    channel = ctx.world.add_channel(
        guild,
        name,
        ChannelType(kind or 0),
        topic=topic,
        parent_id=parent,
        rate_limit_per_user=slowmode or 0,
        nsfw=bool(nsfw),
        overwrites=overwrites,
        **extra,
    )
    ctx.emu.actions.channel_event("CHANNEL_CREATE", channel)
    ctx.emu.actions.audit(guild, 10, me.user_id, channel.id, reason=ctx.reason)
    return 201, payloads.channel(ctx.world, channel)


@route("PATCH", "/guilds/{guild_id}/channels")
async def move_channels(ctx: Ctx) -> Result:
    """Serve ``PATCH /guilds/{guild_id}/channels``."""
    guild, me = guild_for(ctx)
    require(guild_permissions(ctx, guild, me), bits.MANAGE_CHANNELS)
    body = ctx.array()
    root = Form({})
    for index, item in enumerate(body):
        entry = root.child((str(index),), item)
        channel_id = entry.snowflake("id", required=True)
        position = entry.integer("position", nullable=True, minimum=0)
        if entry.errors:
            raise err.invalid_form(entry.errors)
        channel = guild.channels.get(channel_id or 0)
        if channel is None:
            raise err.not_found(err.UNKNOWN_CHANNEL, "Channel")
        if position is not None:
            channel.position = position
            ctx.emu.actions.channel_event("CHANNEL_UPDATE", channel)
    return 204, None


# --- invites and webhooks ------------------------------------------------------------------


@route("GET", "/guilds/{guild_id}/invites")
async def guild_invites(ctx: Ctx) -> Result:
    """Serve ``GET /guilds/{guild_id}/invites``."""
    guild, me = guild_for(ctx)
    require(guild_permissions(ctx, guild, me), bits.MANAGE_GUILD)
    return 200, [payloads.invite(ctx.world, i) for i in guild.invites.values()]


@route("GET", "/invites/{code}")
async def get_invite(ctx: Ctx) -> Result:
    """Serve ``GET /invites/{code}``."""
    code = ctx.params["code"]
    for guild in ctx.world.guilds.values():
        if code in guild.invites:
            return 200, payloads.invite(ctx.world, guild.invites[code])
    raise err.not_found(err.UNKNOWN_INVITE, "Invite")


@route("DELETE", "/invites/{code}")
async def delete_invite(ctx: Ctx) -> Result:
    """Serve ``DELETE /invites/{code}``."""
    code = ctx.params["code"]
    for guild in ctx.world.guilds.values():
        invite = guild.invites.get(code)
        if invite is None:
            continue
        me = guild.members.get(ctx.caller.user.id)
        if me is None:
            raise err.missing_access()
        channel = guild.channels.get(invite.channel_id)
        perms = bits.channel_permissions(guild, channel, me, now=ctx.world.clock.time())
        if not perms & (bits.MANAGE_CHANNELS | bits.MANAGE_GUILD):
            raise err.missing_permissions()
        data = payloads.invite(ctx.world, invite)
        del guild.invites[code]
        ctx.emu.gateway.dispatch_guild(
            "INVITE_DELETE",
            guild,
            {"channel_id": str(invite.channel_id), "guild_id": str(guild.id), "code": code},
        )
        return 200, data
    raise err.not_found(err.UNKNOWN_INVITE, "Invite")


@route("GET", "/guilds/{guild_id}/webhooks")
async def guild_webhooks(ctx: Ctx) -> Result:
    """Serve ``GET /guilds/{guild_id}/webhooks``."""
    guild, me = guild_for(ctx)
    require(guild_permissions(ctx, guild, me), bits.MANAGE_WEBHOOKS)
    found = [w for w in ctx.world.webhooks.values() if w.guild_id == guild.id and w.type == 1]
    return 200, [payloads.webhook(ctx.world, w) for w in found]


# --- audit log -----------------------------------------------------------------------------


@route("GET", "/guilds/{guild_id}/audit-logs")
async def audit_log(ctx: Ctx) -> Result:
    """Serve ``GET /guilds/{guild_id}/audit-logs``."""
    guild, me = guild_for(ctx)
    require(guild_permissions(ctx, guild, me), bits.VIEW_AUDIT_LOG)
    limit = ctx.query_int("limit", default=50, minimum=1, maximum=100)
    actor = ctx.query_snowflake("user_id")
    target = ctx.query_snowflake("target_id")
    before = ctx.query_snowflake("before")
    after = ctx.query_snowflake("after")
    action = ctx.query_int("action_type", default=0, minimum=0, maximum=1000)
    entries = [
        e
        for e in guild.audit_log
        if (actor is None or e.user_id == actor)
        and (target is None or e.target_id == target)
        and (not action or e.action_type == action)
    ]
    if after is not None:
        entries = [e for e in entries if e.id > after][:limit]
    else:
        entries = [e for e in entries if before is None or e.id < before][-limit:]
    entries.sort(key=lambda e: e.id, reverse=True)
    user_ids = {u for e in entries for u in (e.user_id, e.target_id) if u in ctx.world.users}
    return 200, {
        "audit_log_entries": [payloads.audit_entry(guild.id, e) for e in entries],
        "users": [payloads.user(ctx.world.users[u]) for u in sorted(user_ids)],
        "integrations": [],
        "webhooks": [],
        "guild_scheduled_events": [],
        "threads": [],
        "application_commands": [],
        "auto_moderation_rules": [],
    }
