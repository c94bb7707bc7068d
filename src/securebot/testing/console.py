"""``securebot console``: chat with a bot in a terminal, as a user of the local Discord emulator.

Two halves:

* **rendering** — pure functions turning Discord message JSON (the emulator stores exactly what
  the HTTP API returns) into terminal text: content, embeds (title, description, fields, footer),
  attachments as links, reactions, components as ``[buttons]``. Control characters sent by a bot
  or a user are neutralised, so a message cannot drive the terminal (ANSI escape injection).
* **the console** — a line-oriented chat client. :meth:`Console.run_script` sends one message per
  line and prints what the bot did in reply (for docs, demos and tests);
  :meth:`Console.interactive` reads lines from the terminal, with ``/guild``, ``/channel``,
  ``/user`` to choose where and as whom to speak.

The console talks to the emulator through a :class:`ConsoleLink`: in the same process
(:class:`LocalLink`, a scenario of :mod:`securebot.testing.emulator`) or over HTTP to a standalone
``securebot emulator serve`` (:class:`HttpLink`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "render_attachment",
    "render_components",
    "render_embed",
    "render_message",
    "render_reactions",
    "sanitize",
]

#: Discord channel types the console shows as places to talk.
_TEXT_CHANNEL_TYPES = frozenset({0, 5, 10, 11, 12, 15})
_MENTION = re.compile(r"<(@!?|@&|#)(\d{1,20})>")
_CUSTOM_EMOJI = re.compile(r"<a?:([A-Za-z0-9_~]{1,32}):\d{1,20}>")
_BUTTON_STYLES = {1: "primary", 2: "secondary", 3: "success", 4: "danger", 5: "link", 6: "premium"}
_SELECT_KINDS = {3: "select", 5: "user select", 6: "role select", 7: "mention select", 8: "channel"}

#: Turns a mention kind (``"user"``, ``"role"``, ``"channel"``) and an id into a display name,
#: or ``None`` when unknown.
NameLookup = Callable[[str, int], str | None]


def sanitize(text: object, *, keep_newlines: bool = True) -> str:
    """``text`` as a string safe to print: control and format characters (ANSI escapes,
    bidirectional overrides, NUL...) become visible ``\\xNN``/``\\uNNNN`` escapes.

    Tabs are kept; newlines too unless ``keep_newlines`` is false (then they show as ``\\n``).
    """
    value = text if isinstance(text, str) else str(text)
    out: list[str] = []
    for char in value:
        if char == "\t" or (char == "\n" and keep_newlines):
            out.append(char)
        elif unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}:
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def _mentions(text: str, names: NameLookup | None) -> str:
    def replace(match: re.Match[str]) -> str:
        sigil, raw = match.group(1), int(match.group(2))
        kind = {"@": "user", "@!": "user", "@&": "role", "#": "channel"}[sigil]
        name = names(kind, raw) if names else None
        if name is None:
            return match.group(0)
        return ("#" if kind == "channel" else "@") + name

    text = _mentions_plain(text)
    return _MENTION.sub(replace, text)


def _mentions_plain(text: str) -> str:
    return _CUSTOM_EMOJI.sub(lambda m: f":{m.group(1)}:", text)


def _text(value: object, names: NameLookup | None = None) -> str:
    return sanitize(_mentions(value if isinstance(value, str) else str(value), names))


def _tables(value: object) -> list[Mapping[str, Any]]:
    """The tables of a JSON array (anything else in it, or a non-array, is ignored)."""
    if not isinstance(value, Sequence) or isinstance(value, str | bytes):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def _indent(lines: Iterable[str], prefix: str) -> list[str]:
    out: list[str] = []
    for line in lines:
        out.extend(prefix + part for part in line.split("\n"))
    return out


def render_embed(embed: Mapping[str, Any], *, names: NameLookup | None = None) -> list[str]:
    """An embed as lines: a ``┌`` header with the author and title, the description, one line
    per field (``name: value``; inline fields too), the image as a link, a ``└`` footer."""
    body: list[str] = []
    author = embed.get("author")
    if isinstance(author, Mapping) and author.get("name"):
        body.append(_text(author["name"], names))
    title = embed.get("title")
    if title:
        url = embed.get("url")
        body.append(f"**{_text(title, names)}**" + (f" <{sanitize(url)}>" if url else ""))
    description = embed.get("description")
    if description:
        body.append(_text(description, names))
    for field in _tables(embed.get("fields")):
        name = _text(field.get("name", ""), names)
        value = _text(field.get("value", ""), names)
        if "\n" in value:
            body.append(f"{name}:")
            body.extend(_indent([value], "  "))
        else:
            body.append(f"{name}: {value}")
    for key in ("image", "thumbnail"):
        media = embed.get(key)
        if isinstance(media, Mapping) and media.get("url"):
            body.append(f"[{key}] {sanitize(media['url'])}")
    footer = embed.get("footer")
    footer_text = footer.get("text") if isinstance(footer, Mapping) else None
    timestamp = embed.get("timestamp")
    tail = " · ".join(_text(part, names) for part in (footer_text, timestamp) if part)
    if not body and not tail:
        return ["[embed]"]
    lines = _indent(body, "│ ")
    lines.insert(0, "┌─ embed")
    lines.append(f"└─ {tail}" if tail else "└─")
    return lines


def render_attachment(attachment: Mapping[str, Any]) -> str:
    """An attachment as one line: ``[file] name (size) url``."""
    name = sanitize(attachment.get("filename", "file"), keep_newlines=False)
    size = attachment.get("size")
    shown = f" ({_size(size)})" if isinstance(size, int) and not isinstance(size, bool) else ""
    url = attachment.get("url")
    return f"[file] {name}{shown}" + (f" {sanitize(url, keep_newlines=False)}" if url else "")


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / 1024 / 1024:.1f} MiB"


def _emoji(emoji: Mapping[str, Any]) -> str:
    name = emoji.get("name") or "?"
    return sanitize(f":{name}:" if emoji.get("id") else name, keep_newlines=False)


def render_reactions(reactions: Sequence[Mapping[str, Any]]) -> str:
    """Reactions on one line: ``reactions: 👍 2 · :party: 1 (bot)``; empty string when none.

    ``me`` (the viewer's own reaction, in API responses the bot's) is shown as ``(bot)``.
    """
    parts = []
    for reaction in _tables(reactions):
        emoji = reaction.get("emoji")
        if not isinstance(emoji, Mapping):
            continue
        count = reaction.get("count", 1)
        mine = " (bot)" if reaction.get("me") else ""
        parts.append(f"{_emoji(emoji)} {count}{mine}")
    return "reactions: " + " · ".join(parts) if parts else ""


def render_components(components: Sequence[Mapping[str, Any]]) -> list[str]:
    """Message components, one line per action row: buttons as ``[Label]`` (``[Label ↗ url]`` for
    link buttons, ``(disabled)`` marked), selects as ``<select: placeholder | a | b>``."""
    lines = []
    for row in _tables(components):
        children = _tables(row.get("components")) if row.get("type") == 1 else [row]
        shown = [_component(child) for child in children]
        shown = [part for part in shown if part]
        if shown:
            lines.append(" ".join(shown))
    return lines


def _component(component: Mapping[str, Any]) -> str:
    kind = component.get("type")
    disabled = " (disabled)" if component.get("disabled") else ""
    if kind == 2:
        label = component.get("label") or ""
        emoji = component.get("emoji")
        if isinstance(emoji, Mapping):
            label = f"{_emoji(emoji)} {label}".strip()
        label = sanitize(label, keep_newlines=False) or "button"
        if component.get("style") == 5 and component.get("url"):
            return f"[{label} ↗ {sanitize(component['url'], keep_newlines=False)}{disabled}]"
        return f"[{label}{disabled}]"
    if isinstance(kind, int) and kind in _SELECT_KINDS:
        parts = [_SELECT_KINDS[kind] + ":"]
        placeholder = component.get("placeholder")
        if placeholder:
            parts.append(sanitize(placeholder, keep_newlines=False))
        labels = [o.get("label", "?") for o in _tables(component.get("options"))]
        if labels:
            parts.append(" | ".join(sanitize(label, keep_newlines=False) for label in labels))
        return "<" + " ".join(parts) + disabled + ">"
    return ""


def author_label(author: Mapping[str, Any]) -> str:
    """A message author as shown: their global or user name, ``[bot]`` for bots."""
    name = author.get("global_name") or author.get("username") or "unknown"
    bot = " [bot]" if author.get("bot") else ""
    return sanitize(name, keep_newlines=False) + bot


def render_message(
    message: Mapping[str, Any],
    *,
    where: str = "",
    names: NameLookup | None = None,
    edited: bool = False,
) -> str:
    """One message as terminal text: ``[where] author: content`` then its embeds, attachments,
    components and reactions, indented under it.

    ``where`` is a label for the channel (``#general``, ``DM``); ``names`` resolves
    ``<@id>``/``<@&id>``/``<#id>`` mentions; ``edited`` marks an edit of a message already shown.
    """
    author = message.get("author")
    label = author_label(author) if isinstance(author, Mapping) else "unknown"
    head = f"[{sanitize(where, keep_newlines=False)}] " if where else ""
    mark = " (edited)" if edited else ""
    content = _text(message.get("content") or "", names)
    first, *rest = content.split("\n") if content else [""]
    lines = [f"{head}{label}{mark}: {first}".rstrip()]
    lines.extend("  " + line for line in rest)
    extra: list[str] = []
    for embed in _tables(message.get("embeds")):
        extra.extend(render_embed(embed, names=names))
    extra.extend(render_attachment(item) for item in _tables(message.get("attachments")))
    extra.extend(render_components(_tables(message.get("components"))))
    reactions = render_reactions(_tables(message.get("reactions")))
    if reactions:
        extra.append(reactions)
    flags = message.get("flags")
    if isinstance(flags, int) and flags & 64:
        extra.append("(only you can see this)")
    lines.extend("  " + line for line in extra)
    return "\n".join(lines)
