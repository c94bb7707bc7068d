"""Reading a message body (create or edit) into record fields, with Discord's limits."""

from __future__ import annotations

import re
from typing import Any

from securebot.testing.emulator import errors as err
from securebot.testing.emulator import validation as val
from securebot.testing.emulator.api import Ctx
from securebot.testing.emulator.model import Attachment

_MENTION = re.compile(r"<@!?(\d{15,21})>")
_ROLE_MENTION = re.compile(r"<@&(\d{15,21})>")


def message_fields(ctx: Ctx, *, creating: bool) -> dict[str, Any]:
    """Validated fields for :class:`~securebot.testing.emulator.model.Message`.

    Raises 50035 for bad fields and 50006 for an empty new message.
    """
    form = ctx.form()
    fields: dict[str, Any] = {}
    content = form.string("content", nullable=True, max_length=2000)
    if form.has("content"):
        fields["content"] = content or ""
    embeds = val.embeds(form)
    if embeds is None and form.has("embed"):
        single = form.obj("embed")
        embeds = val.embeds(val.Form({"embeds": [single.data]})) if single is not None else []
    if embeds is not None:
        fields["embeds"] = embeds
    components = val.components(form)
    if components is not None:
        fields["components"] = components
    flags = form.integer("flags", nullable=True, minimum=0, maximum=1 << 30)
    if flags is not None:
        fields["flags"] = flags & ((1 << 2) | (1 << 6) | (1 << 12) | (1 << 15))
    if creating:
        nonce = form.data.get("nonce")
        if nonce is not None:
            if (
                isinstance(nonce, bool)
                or not isinstance(nonce, str | int)
                or (isinstance(nonce, str) and len(nonce) > 25)
            ):
                form.fail(("nonce",), "BASE_TYPE_BAD_LENGTH", "Must be 25 or fewer in length.")
            else:
                fields["nonce"] = nonce
        tts = form.boolean("tts", default=False)
        fields["tts"] = bool(tts)
        reference = form.obj("message_reference")
        if reference is not None:
            message_id = reference.snowflake("message_id", required=True)
            reference.snowflake("channel_id")
            reference.snowflake("guild_id")
            reference.boolean("fail_if_not_exists")
            if message_id is not None:
                fields["reference"] = {"message_id": str(message_id)}
        form.array("sticker_ids", nullable=True, max_items=3)
    allowed = form.obj("allowed_mentions")
    if allowed is not None:
        allowed.array("parse", nullable=True, max_items=3)
        allowed.snowflakes("users", max_items=100)
        allowed.snowflakes("roles", max_items=100)
        allowed.boolean("replied_user")
    metadata = form.array("attachments", nullable=True, max_items=10)
    form.check()
    descriptions: dict[int, str] = {}
    keep_ids: list[int] = []
    for index, item in enumerate(metadata or []):
        entry = val.Form(item)
        file_id = (
            entry.integer("id")
            if not isinstance(item, dict) or not isinstance(item.get("id"), str)
            else None
        )
        if isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"].isdigit():
            file_id = int(item["id"])
        description = entry.string("description", nullable=True, max_length=1024)
        if entry.errors:
            raise err.invalid_form({"attachments": {str(index): entry.errors}})
        if file_id is not None:
            keep_ids.append(file_id)
            if description:
                descriptions[file_id] = description
    if len(ctx.files) > 10:
        raise err.invalid_form(
            {"files": err.field_error("BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")}
        )
    attachments = [
        Attachment(
            id=ctx.world.new_id(),
            filename=_safe_filename(upload.filename),
            data=upload.data,
            content_type=upload.content_type,
            description=descriptions.get(upload.index),
        )
        for upload in ctx.files
    ]
    if attachments or (creating and metadata is not None):
        fields["attachments"] = attachments
    fields["_keep_attachment_ids"] = keep_ids if metadata is not None else None
    if "content" in fields:
        text = fields["content"]
        fields["mention_ids"] = [
            int(m) for m in _MENTION.findall(text) if int(m) in ctx.world.users
        ]
        fields["mention_role_ids"] = [int(r) for r in _ROLE_MENTION.findall(text)]
        fields["mention_everyone"] = "@everyone" in text or "@here" in text
    if (
        creating
        and not any(
            (
                fields.get("content"),
                fields.get("embeds"),
                fields.get("attachments"),
                fields.get("components"),
            )
        )
        and not form.data.get("sticker_ids")
        and not form.data.get("poll")
    ):
        raise err.ApiError(400, err.EMPTY_MESSAGE, "Cannot send an empty message")
    return fields


def _safe_filename(name: str) -> str:
    cleaned = re.sub(r"[^\w.\-]", "_", name.rsplit("/", 1)[-1])[:100]
    return cleaned or "file"
