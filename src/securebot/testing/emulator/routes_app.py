"""Account, gateway, DM, application-command, interaction and webhook routes."""

from __future__ import annotations

import math
from typing import Any

from securebot.testing.emulator import errors as err
from securebot.testing.emulator import payloads
from securebot.testing.emulator import permissions as bits
from securebot.testing.emulator.access import channel_for
from securebot.testing.emulator.api import Ctx, Result, route
from securebot.testing.emulator.messages import message_fields
from securebot.testing.emulator.model import (
    AppCommand,
    Channel,
    Interaction,
    Message,
    User,
    Webhook,
)
from securebot.testing.emulator.state import INTERACTION_TOKEN_LIFETIME
from securebot.testing.emulator.validation import Form

#: Interaction tokens stay valid for 15 minutes; the first response must come within 3 s.
TOKEN_LIFETIME = INTERACTION_TOKEN_LIFETIME
INITIAL_RESPONSE_WINDOW = 3.0


# --- account and gateway -------------------------------------------------------------------


@route("GET", "/users/@me")
async def me(ctx: Ctx) -> Result:
    """Serve ``GET /users/@me``."""
    data = payloads.user(ctx.caller.user)
    data.update(mfa_enabled=False, locale="en-US", verified=True, email=None, premium_type=0)
    return 200, data


@route("GET", "/users/{user_id}")
async def get_user(ctx: Ctx) -> Result:
    """Serve ``GET /users/{user_id}``."""
    return 200, payloads.user(ctx.world.user(ctx.id("user_id", code=err.UNKNOWN_USER, what="User")))


def _application(ctx: Ctx) -> dict[str, Any]:
    bot = ctx.caller
    owner = payloads.user(ctx.world.user(bot.owner_id))
    flags = 0
    if bot.privileged_intents & (1 << 8):
        flags |= 1 << 12
    if bot.privileged_intents & (1 << 1):
        flags |= 1 << 14
    if bot.privileged_intents & (1 << 15):
        flags |= 1 << 18
    return {
        "id": str(bot.application_id),
        "name": bot.name,
        "icon": None,
        "description": "",
        "type": None,
        "bot": payloads.user(bot.user),
        "bot_public": True,
        "bot_require_code_grant": False,
        "verify_key": "0" * 64,
        "flags": flags,
        "flags_new": str(flags),
        "redirect_uris": [],
        "interactions_endpoint_url": None,
        "role_connections_verification_url": None,
        "owner": owner,
        "approximate_guild_count": sum(
            1 for g in ctx.world.guilds.values() if bot.user.id in g.members
        ),
        "approximate_user_install_count": 0,
        "approximate_user_authorization_count": 0,
        "explicit_content_filter": 0,
        "team": None,
        "eligible_oauth2_scopes": [],
        "summary": "",
        "tags": [],
    }


@route("GET", "/oauth2/applications/@me")
async def oauth_application(ctx: Ctx) -> Result:
    """Serve ``GET /oauth2/applications/@me``."""
    return 200, _application(ctx)


@route("GET", "/applications/@me")
async def application(ctx: Ctx) -> Result:
    """Serve ``GET /applications/@me``."""
    return 200, _application(ctx)


@route("GET", "/gateway", auth=False)
async def gateway(ctx: Ctx) -> Result:
    """Serve ``GET /gateway``."""
    return 200, {"url": ctx.emu.gateway_url}


@route("GET", "/gateway/bot")
async def gateway_bot(ctx: Ctx) -> Result:
    """Serve ``GET /gateway/bot``."""
    guilds = sum(1 for g in ctx.world.guilds.values() if ctx.caller.user.id in g.members)
    shards = ctx.emu.recommended_shards or max(1, math.ceil(guilds / 1000))
    return 200, {
        "url": ctx.emu.gateway_url,
        "shards": shards,
        "session_start_limit": {
            "total": 1000,
            "remaining": 999,
            "reset_after": 14_400_000,
            "max_concurrency": 1,
        },
    }


@route("GET", "/users/@me/guilds")
async def my_guilds(ctx: Ctx) -> Result:
    """Serve ``GET /users/@me/guilds``."""
    found = [g for g in ctx.world.guilds.values() if ctx.caller.user.id in g.members]
    limit = ctx.query_int("limit", default=200, minimum=1, maximum=200)
    result: list[dict[str, Any]] = []
    for guild in sorted(found, key=lambda g: g.id)[:limit]:
        member = guild.members[ctx.caller.user.id]
        result.append(
            {
                "id": str(guild.id),
                "name": guild.name,
                "icon": None,
                "banner": None,
                "owner": guild.owner_id == ctx.caller.user.id,
                "permissions": str(bits.base_permissions(guild, member)),
                "features": [],
            }
        )
    return 200, result


@route("DELETE", "/users/@me/guilds/{guild_id}")
async def leave_guild(ctx: Ctx) -> Result:
    """Serve ``DELETE /users/@me/guilds/{guild_id}``."""
    guild = ctx.world.guild(ctx.id("guild_id", code=err.UNKNOWN_GUILD, what="Guild"))
    if ctx.caller.user.id not in guild.members:
        raise err.not_found(err.UNKNOWN_GUILD, "Guild")
    ctx.emu.actions.member_leave(guild, ctx.caller.user.id)
    return 204, None


@route("POST", "/users/@me/channels")
async def open_dm(ctx: Ctx) -> Result:
    """Serve ``POST /users/@me/channels``."""
    form = ctx.form()
    recipient = form.snowflake("recipient_id", required=True)
    form.check()
    user = ctx.world.user(recipient or 0)
    channel = ctx.world.dm_channel(ctx.caller.user.id, user.id)
    return 200, payloads.channel(ctx.world, channel)


# --- application commands -------------------------------------------------------------------


def _app_id(ctx: Ctx) -> int:
    app_id = ctx.id("application_id", code=10002, what="Application")
    if app_id != ctx.caller.application_id:
        raise err.ApiError(
            403, 20012, "You are not authorized to perform this action on this application"
        )
    return app_id


def _scope(ctx: Ctx) -> int | None:
    if "guild_id" not in ctx.params:
        return None
    guild = ctx.world.guild(ctx.id("guild_id", code=err.UNKNOWN_GUILD, what="Guild"))
    if ctx.caller.user.id not in guild.members:
        raise err.missing_access()
    return guild.id


def _read_command(ctx: Ctx, form: Form, app_id: int, guild_id: int | None) -> AppCommand | None:
    kind = form.integer("type", nullable=True, minimum=1, maximum=4, default=1)
    name = form.string("name", required=True, min_length=1, max_length=32)
    description = form.string("description", nullable=True, max_length=100, default="")
    options = form.array("options", nullable=True, max_items=25)
    perms = form.permissions("default_member_permissions")
    nsfw = form.boolean("nsfw", default=False)
    contexts = form.array("contexts", nullable=True, max_items=3)
    integration_types = form.array("integration_types", nullable=True, max_items=2)
    for index, option in enumerate(options or []):
        entry = form.child(("options", str(index)), option)
        entry.integer("type", required=True, minimum=1, maximum=11)
        entry.string("name", required=True, min_length=1, max_length=32)
        entry.string("description", required=True, min_length=1, max_length=100)
    if kind == 1 and name is not None and (name != name.lower() or " " in name):
        form.fail(("name",), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
    if kind == 1 and not description:
        form.fail(("description",), "BASE_TYPE_REQUIRED", "This field is required")
    if name is None:
        return None
    return AppCommand(
        id=ctx.world.new_id(),
        application_id=app_id,
        guild_id=guild_id,
        name=name,
        description=description or "",
        type=kind or 1,
        options=[dict(o) for o in options or [] if isinstance(o, dict)],
        default_member_permissions=str(perms) if perms is not None else None,
        nsfw=bool(nsfw),
        contexts=[c for c in contexts if isinstance(c, int)] if contexts is not None else None,
        integration_types=[i for i in integration_types or [0] if isinstance(i, int)],
    )


def _commands(ctx: Ctx, app_id: int, guild_id: int | None) -> list[AppCommand]:
    return [
        c
        for c in ctx.world.commands.values()
        if c.application_id == app_id and c.guild_id == guild_id
    ]


async def _list_commands(ctx: Ctx) -> Result:
    app_id, guild_id = _app_id(ctx), _scope(ctx)
    return 200, [payloads.app_command(c) for c in _commands(ctx, app_id, guild_id)]


async def _overwrite_commands(ctx: Ctx) -> Result:
    app_id, guild_id = _app_id(ctx), _scope(ctx)
    body = ctx.array(missing_ok=True)
    if len(body) > 100:
        raise err.ApiError(400, 30032, "Maximum number of application commands reached (100)")
    root = Form({})
    created = [
        _read_command(ctx, root.child((str(i),), item), app_id, guild_id)
        for i, item in enumerate(body)
    ]
    root.check()
    keys = [(c.type, c.name) for c in created if c is not None]
    if len(set(keys)) != len(keys):
        raise err.invalid_form(
            {
                "_errors": [
                    {
                        "code": "APPLICATION_COMMANDS_DUPLICATE_NAME",
                        "message": "Application command names must be unique",
                    }
                ]
            }
        )
    existing = {(c.type, c.name): c for c in _commands(ctx, app_id, guild_id)}
    for old in existing.values():
        del ctx.world.commands[old.id]
    result: list[dict[str, Any]] = []
    for command in created:
        if command is None:
            continue
        previous = existing.get((command.type, command.name))
        if previous is not None:
            command.id = previous.id
        ctx.world.commands[command.id] = command
        result.append(payloads.app_command(command))
    return 200, result


async def _create_command(ctx: Ctx) -> Result:
    app_id, guild_id = _app_id(ctx), _scope(ctx)
    form = ctx.form()
    command = _read_command(ctx, form, app_id, guild_id)
    form.check()
    assert command is not None
    for previous in _commands(ctx, app_id, guild_id):
        if (previous.type, previous.name) == (command.type, command.name):
            command.id = previous.id
            ctx.world.commands[command.id] = command
            return 200, payloads.app_command(command)
    ctx.world.commands[command.id] = command
    return 201, payloads.app_command(command)


def _command(ctx: Ctx) -> AppCommand:
    app_id, guild_id = _app_id(ctx), _scope(ctx)
    command = ctx.world.commands.get(
        ctx.id("command_id", code=err.UNKNOWN_APPLICATION_COMMAND, what="application command")
    )
    if command is None or command.application_id != app_id or command.guild_id != guild_id:
        raise err.not_found(err.UNKNOWN_APPLICATION_COMMAND, "application command")
    return command


async def _get_command(ctx: Ctx) -> Result:
    return 200, payloads.app_command(_command(ctx))


async def _edit_command(ctx: Ctx) -> Result:
    command = _command(ctx)
    form = ctx.form()
    description = form.string("description", nullable=True, max_length=100)
    perms = form.permissions("default_member_permissions")
    options = form.array("options", nullable=True, max_items=25)
    form.check()
    if description is not None:
        command.description = description
    if form.has("default_member_permissions"):
        command.default_member_permissions = str(perms) if perms is not None else None
    if options is not None:
        command.options = [dict(o) for o in options if isinstance(o, dict)]
    return 200, payloads.app_command(command)


async def _delete_command(ctx: Ctx) -> Result:
    command = _command(ctx)
    del ctx.world.commands[command.id]
    return 204, None


for _base in (
    "/applications/{application_id}/commands",
    "/applications/{application_id}/guilds/{guild_id}/commands",
):
    route("GET", _base)(_list_commands)
    route("PUT", _base)(_overwrite_commands)
    route("POST", _base)(_create_command)
    route("GET", _base + "/{command_id}")(_get_command)
    route("PATCH", _base + "/{command_id}")(_edit_command)
    route("DELETE", _base + "/{command_id}")(_delete_command)


# --- interactions ---------------------------------------------------------------------------


def _interaction(ctx: Ctx, *, id_param: str | None, token_param: str) -> Interaction:
    token = ctx.params.get(token_param, "")
    if id_param is not None:
        interaction = ctx.world.interactions.get(
            ctx.id(id_param, code=err.UNKNOWN_INTERACTION, what="interaction")
        )
        if interaction is None or interaction.token != token:
            raise err.not_found(err.UNKNOWN_INTERACTION, "interaction")
    else:
        app_id = ctx.id("webhook_id", code=err.UNKNOWN_WEBHOOK, what="Webhook")
        interaction = next(
            (
                i
                for i in ctx.world.interactions.values()
                if i.token == token and i.application_id == app_id
            ),
            None,
        )
        if interaction is None:
            raise err.not_found(err.UNKNOWN_WEBHOOK, "Webhook")
    if ctx.world.clock.time() - interaction.created_at > TOKEN_LIFETIME:
        raise err.not_found(err.UNKNOWN_WEBHOOK, "Webhook")
    return interaction


def _app_bot_user(ctx: Ctx, interaction: Interaction) -> User:
    bot = next(b for b in ctx.world.bots.values() if b.application_id == interaction.application_id)
    return bot.user


def _interaction_message(
    ctx: Ctx, interaction: Interaction, fields: dict[str, Any], *, original: bool
) -> Message:
    channel = ctx.world.channel(interaction.channel_id)
    author = _app_bot_user(ctx, interaction)
    fields.pop("_keep_attachment_ids", None)
    fields.pop("reference", None)
    info = {
        "id": interaction.id,
        "type": interaction.type,
        "name": str(interaction.data.get("name", interaction.data.get("custom_id", ""))),
        "user_id": interaction.user_id,
    }
    fields.setdefault(
        "type", 20 if interaction.type == 2 and original else (19 if not original else 0)
    )
    fields["webhook_id"] = interaction.application_id
    fields["application_id"] = interaction.application_id
    fields["interaction"] = info
    if fields.get("flags", 0) & 64:
        return ctx.world.add_message(channel, author.id, **fields)
    return ctx.emu.actions.post_message(channel, author.id, **fields)


@route("POST", "/interactions/{interaction_id}/{interaction_token}/callback", auth=False)
async def interaction_callback(ctx: Ctx) -> Result:
    """Serve ``POST /interactions/{interaction_id}/{interaction_token}/callback``."""
    interaction = _interaction(ctx, id_param="interaction_id", token_param="interaction_token")  # noqa: S106 - a test fixture token, not a secret
    form = ctx.form()
    kind = form.integer("type", required=True, minimum=1, maximum=12)
    form.check()
    if interaction.response_type is not None:
        raise err.ApiError(
            400, err.INTERACTION_ACKNOWLEDGED, "Interaction has already been acknowledged."
        )
    if ctx.world.clock.time() - interaction.created_at > INITIAL_RESPONSE_WINDOW:
        raise err.not_found(err.UNKNOWN_INTERACTION, "interaction")
    allowed = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}.get(
        interaction.type, set()
    )
    if kind not in allowed:
        raise err.invalid_form(
            {
                "type": err.field_error(
                    "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid interaction response type"
                )
            }
        )
    data = form.data.get("data")
    message: Message | None = None
    if kind in (4, 7):
        sub = ctx
        sub_body = data if isinstance(data, dict) else {}
        saved = ctx.body
        sub.body = sub_body
        try:
            fields = message_fields(sub, creating=kind == 4)
        finally:
            ctx.body = saved
        if kind == 4:
            message = _interaction_message(ctx, interaction, fields, original=True)
            interaction.original_message_id = message.id
        else:
            channel = ctx.world.channel(interaction.channel_id)
            target = channel.messages.get(interaction.message_id or 0)
            if target is None or target.deleted:
                raise err.not_found(err.UNKNOWN_MESSAGE, "Message")
            fields.pop("_keep_attachment_ids", None)
            ctx.emu.actions.edit_message(channel, target, **fields)
            message = target
    elif kind == 5:
        flags = data.get("flags", 0) if isinstance(data, dict) else 0
        fields = {
            "content": "",
            "flags": (flags if isinstance(flags, int) and not isinstance(flags, bool) else 0) & 64
            | 128,
        }
        message = _interaction_message(ctx, interaction, fields, original=True)
        interaction.original_message_id = message.id
    elif kind == 9:
        modal = Form(data)
        modal.string("custom_id", required=True, min_length=1, max_length=100)
        modal.string("title", required=True, min_length=1, max_length=45)
        rows = modal.array("components", required=True, min_items=1, max_items=5)
        modal.check()
        interaction.modal = {
            "custom_id": modal.data["custom_id"],
            "title": modal.data["title"],
            "components": rows,
        }
    elif kind == 8:
        choices = Form(data)
        choices.array("choices", nullable=True, max_items=25)
        choices.check()
    interaction.response_type = kind
    if ctx.request.query.get("with_response") not in ("1", "true", "True"):
        return 204, None
    body: dict[str, Any] = {
        "interaction": {
            "id": str(interaction.id),
            "type": interaction.type,
            "activity_instance_id": None,
            "response_message_loading": kind == 5,
            "response_message_ephemeral": bool(message is not None and message.flags & 64),
        }
    }
    if message is not None:
        body["interaction"]["response_message_id"] = str(message.id)
    if message is not None and kind in (4, 7):
        body["resource"] = {
            "type": kind,
            "message": ctx.emu.actions.message_json(
                message, viewer_id=_app_bot_user(ctx, interaction).id
            ),
        }
    return 200, body


# --- webhooks (by id, and by token: channel webhooks and interaction follow-ups) -------------


def _webhook_by_token(ctx: Ctx) -> Webhook | None:
    webhook_id = ctx.id("webhook_id", code=err.UNKNOWN_WEBHOOK, what="Webhook")
    webhook = ctx.world.webhooks.get(webhook_id)
    if webhook is not None and webhook.token == ctx.params.get("webhook_token"):
        return webhook
    return None


@route("POST", "/webhooks/{webhook_id}/{webhook_token}", auth=False)
async def execute_webhook(ctx: Ctx) -> Result:
    """Serve ``POST /webhooks/{webhook_id}/{webhook_token}``."""
    webhook = _webhook_by_token(ctx)
    wait = ctx.request.query.get("wait") in ("1", "true", "True")
    if webhook is None:
        interaction = _interaction(ctx, id_param=None, token_param="webhook_token")  # noqa: S106 - a test fixture token, not a secret
        if interaction.response_type is None:
            raise err.not_found(err.UNKNOWN_WEBHOOK, "Webhook")
        fields = message_fields(ctx, creating=True)
        message = _interaction_message(ctx, interaction, fields, original=False)
        interaction.followup_ids.append(message.id)
        return 200, ctx.emu.actions.message_json(message)
    fields = message_fields(ctx, creating=True)
    fields.pop("_keep_attachment_ids", None)
    fields.pop("reference", None)
    if webhook.channel_id is None:
        raise err.not_found(err.UNKNOWN_CHANNEL, "Channel")
    channel = ctx.world.channel(webhook.channel_id)
    message = ctx.emu.actions.post_message(channel, webhook.id, webhook_id=webhook.id, **fields)
    return (200, ctx.emu.actions.message_json(message)) if wait else (204, None)


def _followup_target(
    ctx: Ctx, message_param: str | None
) -> tuple[Channel, Message, Interaction | None]:
    webhook = _webhook_by_token(ctx)
    if webhook is not None:
        if message_param is None or webhook.channel_id is None:
            raise err.not_found(err.UNKNOWN_MESSAGE, "Message")
        channel = ctx.world.channel(webhook.channel_id)
        found = ctx.world.message(
            channel, ctx.id(message_param, code=err.UNKNOWN_MESSAGE, what="Message")
        )
        if found.webhook_id != webhook.id:
            raise err.not_found(err.UNKNOWN_MESSAGE, "Message")
        return channel, found, None
    interaction = _interaction(ctx, id_param=None, token_param="webhook_token")  # noqa: S106 - a test fixture token, not a secret
    channel = ctx.world.channel(interaction.channel_id)
    if message_param is None:
        message_id = interaction.original_message_id
    else:
        message_id = ctx.id(message_param, code=err.UNKNOWN_MESSAGE, what="Message")
        if message_id not in (interaction.original_message_id, *interaction.followup_ids):
            raise err.not_found(err.UNKNOWN_MESSAGE, "Message")
    message = channel.messages.get(message_id or 0)
    if message is None or message.deleted:
        raise err.not_found(err.UNKNOWN_MESSAGE, "Message")
    return channel, message, interaction


async def _get_followup(ctx: Ctx, param: str | None) -> Result:
    _, message, _ = _followup_target(ctx, param)
    return 200, ctx.emu.actions.message_json(message)


async def _edit_followup(ctx: Ctx, param: str | None) -> Result:
    channel, message, _ = _followup_target(ctx, param)
    fields = message_fields(ctx, creating=False)
    keep = fields.pop("_keep_attachment_ids", None)
    if keep is not None:
        fields["attachments"] = [a for a in message.attachments if a.id in keep] + fields.get(
            "attachments", []
        )
    fields.pop("flags", None)
    if message.flags & 128:
        fields["flags"] = message.flags & ~128
    if message.flags & 64:
        for key, value in fields.items():
            setattr(message, key, value)
        message.edited_at = ctx.world.clock.time()
    else:
        ctx.emu.actions.edit_message(channel, message, **fields)
    return 200, ctx.emu.actions.message_json(message)


async def _delete_followup(ctx: Ctx, param: str | None) -> Result:
    channel, message, _ = _followup_target(ctx, param)
    if message.flags & 64:
        message.deleted = True
    else:
        ctx.emu.actions.delete_message(channel, message)
    return 204, None


@route("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", auth=False)
async def get_original(ctx: Ctx) -> Result:
    """Serve ``GET /webhooks/{webhook_id}/{webhook_token}/messages/@original``."""
    return await _get_followup(ctx, None)


@route("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", auth=False)
async def edit_original(ctx: Ctx) -> Result:
    """Serve ``PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original``."""
    return await _edit_followup(ctx, None)


@route("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", auth=False)
async def delete_original(ctx: Ctx) -> Result:
    """Serve ``DELETE /webhooks/{webhook_id}/{webhook_token}/messages/@original``."""
    return await _delete_followup(ctx, None)


@route("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", auth=False)
async def get_followup(ctx: Ctx) -> Result:
    """Serve ``GET /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}``."""
    return await _get_followup(ctx, "message_id")


@route("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", auth=False)
async def edit_followup(ctx: Ctx) -> Result:
    """Serve ``PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}``."""
    return await _edit_followup(ctx, "message_id")


@route("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", auth=False)
async def delete_followup(ctx: Ctx) -> Result:
    """Serve ``DELETE /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}``."""
    return await _delete_followup(ctx, "message_id")


@route("GET", "/webhooks/{webhook_id}")
async def get_webhook(ctx: Ctx) -> Result:
    """Serve ``GET /webhooks/{webhook_id}``."""
    webhook = ctx.world.webhooks.get(ctx.id("webhook_id", code=err.UNKNOWN_WEBHOOK, what="Webhook"))
    if webhook is None or webhook.type != 1:
        raise err.not_found(err.UNKNOWN_WEBHOOK, "Webhook")
    return 200, payloads.webhook(ctx.world, webhook)


@route("GET", "/webhooks/{webhook_id}/{webhook_token}", auth=False)
async def get_webhook_with_token(ctx: Ctx) -> Result:
    """Serve ``GET /webhooks/{webhook_id}/{webhook_token}``."""
    webhook = _webhook_by_token(ctx)
    if webhook is None:
        raise err.not_found(err.UNKNOWN_WEBHOOK, "Webhook")
    return 200, payloads.webhook(ctx.world, webhook, with_token=False)


@route("DELETE", "/webhooks/{webhook_id}")
async def delete_webhook(ctx: Ctx) -> Result:
    """Serve ``DELETE /webhooks/{webhook_id}``."""
    webhook = ctx.world.webhooks.get(ctx.id("webhook_id", code=err.UNKNOWN_WEBHOOK, what="Webhook"))
    if webhook is None or webhook.type != 1 or webhook.channel_id is None:
        raise err.not_found(err.UNKNOWN_WEBHOOK, "Webhook")
    ctx.params["channel_id"] = str(webhook.channel_id)
    _, _, perms = channel_for(ctx)
    if not perms & bits.MANAGE_WEBHOOKS:
        raise err.missing_permissions()
    del ctx.world.webhooks[webhook.id]
    return 204, None
