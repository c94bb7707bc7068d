"""The value types exports render: :class:`ExportMessage` and its parts, built from discord.py.

Rendering works on these small frozen values, never on live ``discord.Message`` objects, so a
renderer is a pure function that tests can drive without Discord, and an export holds no
reference to the client's cache.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    import discord


def _utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _utc_or_none(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else _utc(value)


@attrs.frozen
class ExportAttachment:
    """A file attached to a message: rendered as a link, never downloaded."""

    id: int
    filename: str
    url: str
    size: int = 0
    content_type: str = ""

    @classmethod
    def from_discord(cls, attachment: discord.Attachment) -> ExportAttachment:
        """The attachment's values (the CDN URL, not the file)."""
        return cls(
            id=attachment.id,
            filename=attachment.filename,
            url=attachment.url,
            size=attachment.size,
            content_type=attachment.content_type or "",
        )


@attrs.frozen
class ExportEmbed:
    """An embed, reduced to what a transcript shows: type, title, description, url, fields."""

    type: str = "rich"
    title: str = ""
    description: str = ""
    url: str = ""
    #: ``(name, value)`` pairs.
    fields: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_discord(cls, embed: discord.Embed) -> ExportEmbed:
        """The embed's visible text."""
        return cls(
            type=str(embed.type) if embed.type else "rich",
            title=embed.title or "",
            description=embed.description or "",
            url=embed.url or "",
            fields=tuple((f.name or "", f.value or "") for f in embed.fields),
        )

    def summary(self, limit: int = 200) -> str:
        """One line: ``[type] title: description`` (cut at ``limit`` characters) and field count."""
        text = " ".join(part for part in (self.title, self.description) if part)
        text = " ".join(text.split())
        if len(text) > limit:
            text = text[: limit - 1] + "…"
        extra = f" (+{len(self.fields)} fields)" if self.fields else ""
        link = f" <{self.url}>" if self.url else ""
        return f"[{self.type}] {text}{link}{extra}".rstrip()


@attrs.frozen
class ExportMessage:
    """One message as exports see it."""

    id: int
    created_at: dt.datetime = attrs.field(converter=_utc)
    author_id: int
    author_name: str
    content: str = ""
    author_bot: bool = False
    edited_at: dt.datetime | None = attrs.field(default=None, converter=_utc_or_none)
    attachments: tuple[ExportAttachment, ...] = ()
    embeds: tuple[ExportEmbed, ...] = ()
    #: The id of the message this one replies to, if any.
    reply_to: int | None = None
    #: ``created_at`` as ISO 8601 UTC with milliseconds (``2026-11-01T12:00:00.000Z``), computed
    #: once: every format prints it.
    timestamp: str = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        stamp = self.created_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        object.__setattr__(self, "timestamp", stamp)

    @classmethod
    def from_discord(cls, message: discord.Message) -> ExportMessage:
        """The values of ``message`` (content as sent, author by id and display name)."""
        reference = message.reference
        return cls(
            id=message.id,
            created_at=message.created_at,
            author_id=message.author.id,
            author_name=message.author.display_name,
            content=message.content,
            author_bot=message.author.bot,
            edited_at=message.edited_at,
            attachments=tuple(ExportAttachment.from_discord(a) for a in message.attachments),
            embeds=tuple(ExportEmbed.from_discord(e) for e in message.embeds),
            reply_to=reference.message_id if reference is not None else None,
        )


@attrs.frozen
class ExportInfo:
    """What an export is of: shown in transcript headers, never in object keys or metadata."""

    #: Human title, e.g. ``#general (Guild name)``.
    title: str
    generated_at: dt.datetime = attrs.field(converter=_utc)
    channel_id: int | None = None
    guild_id: int | None = None


def chronological(messages: Sequence[ExportMessage]) -> list[ExportMessage]:
    """``messages`` oldest first (Discord's history API returns newest first)."""
    return sorted(messages, key=lambda m: (m.created_at, m.id))
