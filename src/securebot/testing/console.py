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

import asyncio
import contextlib
import datetime as dt
import json
import re
import signal
import time
import unicodedata
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol, TextIO, cast

import aiohttp
import attrs
from aiohttp import web

from securebot.core.config import Config
from securebot.errors import ConfigError, SecurebotError
from securebot.testing.scenario_file import Scenario, seed

__all__ = [
    "CONTROL_PATH",
    "DIRECTIVES",
    "Activity",
    "ChatOptions",
    "Console",
    "ConsoleChoiceError",
    "ConsoleLink",
    "ConsoleLinkError",
    "HttpLink",
    "LocalLink",
    "Where",
    "author_label",
    "chat_local",
    "chat_remote",
    "control_app",
    "render_attachment",
    "render_components",
    "render_embed",
    "render_message",
    "render_reactions",
    "sanitize",
    "serve_emulator",
    "start_emulator",
    "stop_emulator",
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
    text = _TIMESTAMP.sub(_timestamp, text)
    return _CUSTOM_EMOJI.sub(lambda m: f":{m.group(1)}:", text)


_NAMED = re.compile(r"(?<![<\w])([@#])([\w.-]{1,32})")
_TIMESTAMP = re.compile(r"<t:(-?\d{1,13})(?::([tTdDfFR]))?>")


def _timestamp(match: re.Match[str], *, now: float | None = None) -> str:
    """``<t:UNIX:STYLE>`` as Discord clients show it: a UTC date, or relative for ``R``."""
    seconds = int(match.group(1))
    try:
        moment = dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        return match.group(0)
    if match.group(2) == "R":
        delta = seconds - (time.time() if now is None else now)
        return _relative(delta)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _relative(delta: float) -> str:
    amount = abs(delta)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if amount >= size or unit == "second":
            count = round(amount / size)
            text = f"{count} {unit}{'' if count == 1 else 's'}"
            return f"in {text}" if delta >= 0 else f"{text} ago"
    return "now"  # pragma: no cover - the loop always returns


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


# --- the console -------------------------------------------------------------------------------


class ConsoleLink(Protocol):
    """How the console reaches an emulator: in-process or over HTTP. JSON-shaped values only.

    ``directory()`` returns ``{"guilds": [{"id", "name", "channels": [{"id", "name", "type",
    "parent_id"}], "members": [{"id", "name", "bot"}]}], "users": [{"id", "name", "bot"}]}``
    (ids as strings, like Discord). ``activity(cursor)`` returns what bots did after ``cursor``
    as ``{"kind": "message" | "edit" | "delete" | "reaction" | "action", "channel_id",
    "guild_id", "message", "text"}`` items, and the cursor to pass next time.
    """

    async def directory(self) -> dict[str, Any]:
        """Guilds with their channels and members, and every account."""
        ...

    async def cursor(self) -> int:
        """The current end of the activity log."""
        ...

    async def activity(self, cursor: int) -> tuple[list[dict[str, Any]], int]:
        """What bots did after ``cursor``, and the new cursor."""
        ...

    async def send(self, *, user_id: int, channel_id: int, content: str) -> dict[str, Any]:
        """Post ``content`` as ``user_id`` in ``channel_id``; the created message JSON."""
        ...

    async def open_dm(self, *, user_id: int, bot_id: int) -> int:
        """The id of the DM channel between a user and a bot."""
        ...

    async def react(self, *, user_id: int, channel_id: int, message_id: int, emoji: str) -> None:
        """Add ``emoji`` to a message as ``user_id``."""
        ...

    async def click(
        self, *, user_id: int, channel_id: int, message_id: int, custom_id: str
    ) -> None:
        """Click the component ``custom_id`` of a message as ``user_id``."""
        ...


@attrs.define
class Where:
    """Where the console speaks, and as whom."""

    user_id: int
    user_name: str
    channel_id: int
    label: str
    guild_id: int | None = None


class ConsoleChoiceError(ConfigError):
    """A guild, channel or user named on the command line (or by a directive) does not exist."""


def _by_name(items: Sequence[Mapping[str, Any]], name: str, what: str) -> Mapping[str, Any]:
    for item in items:
        if item.get("name") == name or str(item.get("id")) == name:
            return item
    lowered = [i for i in items if str(i.get("name", "")).lower() == name.lower().lstrip("#@")]
    if lowered:
        return lowered[0]
    known = ", ".join(sanitize(str(i.get("name")), keep_newlines=False) for i in items) or "none"
    raise ConsoleChoiceError(f"no {what} named {name!r} (known: {known})")


#: What the console answers to ``:help``.
DIRECTIVES = """\
Type a message and press Enter to send it. Console directives start with ':'
  :where                 where you are speaking, and as whom
  :guilds  :channels  :users   list what exists
  :guild NAME            switch guild (first text channel)
  :channel NAME          switch channel (#general, or a name)
  :user NAME             speak as another user
  :dm [BOT]              talk to a bot in private messages
  :react EMOJI           react to the bot's last message
  :click LABEL           click a button of the bot's last message
  :wait SECONDS          in scripts: show what the bot does in the next SECONDS
  :quit                  leave (Ctrl-D works too)
Lines starting with '#' in a script are comments."""


class Console:
    """A terminal chat client on a :class:`ConsoleLink`.

    ``out`` receives finished lines (``print`` by default). ``reply_timeout`` is how long the
    console waits for a first reaction of the bot after each scripted message; ``settle`` how
    long it keeps listening after the bot's last action.
    """

    def __init__(
        self,
        link: ConsoleLink,
        *,
        out: Callable[[str], None] = print,
        reply_timeout: float = 5.0,
        settle: float = 0.3,
        poll_interval: float = 0.02,
    ) -> None:
        """A console on ``link``; call :meth:`choose` before talking."""
        self.link = link
        self.out = out
        self.reply_timeout = reply_timeout
        self.settle = settle
        self.poll_interval = poll_interval
        self.where: Where | None = None
        self._directory: dict[str, Any] = {}
        self._cursor = 0
        self._last_bot_message: dict[str, Any] | None = None
        self._names: dict[tuple[str, int], str] = {}
        self._channel_labels: dict[int, str] = {}

    # --- places ----------------------------------------------------------------------------

    async def refresh(self) -> dict[str, Any]:
        """Read the emulator's guilds, channels and accounts again."""
        self._directory = await self.link.directory()
        names: dict[tuple[str, int], str] = {}
        labels: dict[int, str] = {}
        for user in self._directory.get("users", []):
            names["user", int(user["id"])] = str(user["name"])
        for guild in self._directory.get("guilds", []):
            for channel in guild.get("channels", []):
                names["channel", int(channel["id"])] = str(channel["name"])
                labels[int(channel["id"])] = f"#{channel['name']}"
            for role in guild.get("roles", []):
                names["role", int(role["id"])] = str(role["name"])
        self._names = names
        self._channel_labels = labels
        return self._directory

    async def wait_for_bot(self) -> bool:
        """Wait (up to the reply timeout) until a bot of the chosen guild is connected.

        A message sent before any bot has connected would never reach one, as on Discord; a
        bot started next to a standalone emulator may still be starting. Returns whether a bot
        is online (``False`` after saying so, and the script goes on).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.reply_timeout
        said = False
        while True:
            directory = await self.refresh()
            guild_members = {
                member["id"]
                for guild in directory.get("guilds", [])
                if self.where is None
                or self.where.guild_id is None
                or guild["id"] == str(self.where.guild_id)
                for member in guild.get("members", [])
            }
            if any(
                user.get("online") and user["id"] in guild_members
                for user in directory.get("users", [])
            ):
                return True
            if loop.time() >= deadline:
                self.out("  (no bot is connected to this guild)")
                return False
            if not said:
                self.out("  (waiting for the bot to connect...)")
                said = True
            await asyncio.sleep(self.poll_interval)

    def lookup(self, kind: str, ident: int) -> str | None:
        """Display name of a user, role or channel mention (for :func:`render_message`)."""
        return self._names.get((kind, ident))

    async def choose(
        self,
        *,
        guild: str | None = None,
        channel: str | None = None,
        user: str | None = None,
    ) -> Where:
        """Pick where to speak: a guild (default: the first), one of its text channels (default:
        ``general``, else the first), and a member who is not a bot (default: ``demo``, else the
        last member)."""
        directory = await self.refresh()
        guilds = directory.get("guilds", [])
        if not guilds:
            raise ConsoleChoiceError("the emulator has no guild: seed one with a scenario file")
        chosen_guild = _by_name(guilds, guild, "guild") if guild else guilds[0]
        texts = [c for c in chosen_guild.get("channels", []) if c.get("type") in _TEXT_TYPES]
        if not texts:
            raise ConsoleChoiceError(f"guild {chosen_guild['name']!r} has no text channel")
        if channel:
            chosen_channel = _by_name(texts, channel.lstrip("#"), "text channel")
        else:
            general = [c for c in texts if c.get("name") == "general"]
            chosen_channel = (general or texts)[0]
        humans = [m for m in chosen_guild.get("members", []) if not m.get("bot")]
        if user:
            chosen_user = _by_name(humans, user.lstrip("@"), "user in this guild")
        elif humans:
            demo = [m for m in humans if m.get("name") == "demo"]
            chosen_user = (demo or humans[-1:])[0]
        else:
            raise ConsoleChoiceError(f"guild {chosen_guild['name']!r} has no human member")
        self.where = Where(
            user_id=int(chosen_user["id"]),
            user_name=str(chosen_user["name"]),
            channel_id=int(chosen_channel["id"]),
            label=f"#{chosen_channel['name']}",
            guild_id=int(chosen_guild["id"]),
        )
        self._cursor = await self.link.cursor()
        return self.where

    def _guild(self) -> Mapping[str, Any]:
        assert self.where is not None
        for guild in self._directory.get("guilds", []):
            if int(guild["id"]) == self.where.guild_id:
                return cast(Mapping[str, Any], guild)
        return cast(Mapping[str, Any], self._directory.get("guilds", [{}])[0])

    def _guild_name(self, guild_id: object) -> str:
        if not guild_id:
            return "DM"
        for guild in self._directory.get("guilds", []):
            if str(guild.get("id")) == str(guild_id):
                return str(guild.get("name"))
        return f"guild {guild_id}"

    def where_line(self) -> str:
        """``as demo in #general (Giselle Demo)``."""
        if self.where is None:
            return "nowhere yet"
        guild = self._guild().get("name", "?") if self.where.guild_id else "private messages"
        return sanitize(
            f"as {self.where.user_name} in {self.where.label} ({guild})", keep_newlines=False
        )

    # --- talking ---------------------------------------------------------------------------

    def show(self, item: Mapping[str, Any]) -> None:
        """Print one activity item."""
        kind = item.get("kind")
        message = item.get("message")
        channel_id = int(item.get("channel_id") or 0)
        where = self._channel_labels.get(channel_id) or self._guild_name(item.get("guild_id"))
        if kind in {"message", "edit"} and isinstance(message, Mapping):
            author = message.get("author")
            if isinstance(author, Mapping) and author.get("bot"):
                self._last_bot_message = dict(message)
            self.out(render_message(message, where=where, names=self.lookup, edited=kind == "edit"))
        else:
            self.out(f"[{sanitize(where, keep_newlines=False)}] * {sanitize(item.get('text', ''))}")

    async def pump(self) -> int:
        """Print what happened since the last call; how many items were shown."""
        items, self._cursor = await self.link.activity(self._cursor)
        for item in items:
            self.show(item)
        return len(items)

    async def settle_output(self, *, within: float | None = None) -> bool:
        """Wait for the bot's first action (up to ``within`` seconds), then print everything
        until it has been quiet for :attr:`settle` seconds. Whether the bot did anything."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.reply_timeout if within is None else within)
        seen = False
        last = loop.time()
        while True:
            if await self.pump():
                seen = True
                last = loop.time()
            now = loop.time()
            if seen and now - last >= self.settle:
                return True
            if not seen and now >= deadline:
                return False
            await asyncio.sleep(self.poll_interval)

    async def say(self, content: str) -> dict[str, Any]:
        """Send ``content`` where the console is; the created message."""
        if self.where is None:
            await self.choose()
        assert self.where is not None
        return await self.link.send(
            user_id=self.where.user_id,
            channel_id=self.where.channel_id,
            content=self.mentionify(content),
        )

    def mentionify(self, content: str) -> str:
        """Turn ``@name`` (a member of the current guild) into ``<@id>`` and ``#name`` (one of
        its channels) into ``<#id>``, as a Discord client does when you pick from its list."""
        guild = self._guild() if self.where is not None and self.where.guild_id else {}
        people = {str(m["name"]): str(m["id"]) for m in guild.get("members", [])}
        places = {str(c["name"]): str(c["id"]) for c in guild.get("channels", [])}

        def replace(match: re.Match[str]) -> str:
            sigil, name = match.group(1), match.group(2)
            table = people if sigil == "@" else places
            ident = table.get(name)
            if ident is None:
                return match.group(0)
            return f"<@{ident}>" if sigil == "@" else f"<#{ident}>"

        return _NAMED.sub(replace, content)

    async def directive(self, line: str) -> bool:
        """Run a ``:directive``; ``False`` when it asks to quit."""
        name, _, argument = line[1:].strip().partition(" ")
        argument = argument.strip()
        if name in {"quit", "q", "exit"}:
            return False
        if name == "help":
            self.out(DIRECTIVES)
        elif name == "where":
            self.out(self.where_line())
        elif name in {"guild", "channel", "user"}:
            await self._switch(name, argument)
        elif name == "guilds":
            self.out(_listing(self._directory.get("guilds", [])))
        elif name == "channels":
            channels = self._guild().get("channels", [])
            self.out(_listing([c for c in channels if c.get("type") in _TEXT_TYPES], "#"))
        elif name == "users":
            self.out(_listing(self._guild().get("members", []), "@"))
        elif name == "dm":
            await self._dm(argument)
        elif name == "react":
            await self._react(argument)
        elif name == "click":
            await self._click(argument)
        elif name == "wait":
            await self.settle_output(within=_seconds(argument))
        else:
            self.out(f"unknown directive :{sanitize(name, keep_newlines=False)} (try :help)")
        return True

    async def _switch(self, what: str, name: str) -> None:
        if not name:
            self.out(f"usage: :{what} NAME")
            return
        assert self.where is not None
        current_guild = str(self._guild().get("name"))
        try:
            if what == "guild":
                await self.choose(guild=name, user=self.where.user_name)
            elif what == "channel":
                await self.choose(guild=current_guild, channel=name, user=self.where.user_name)
            else:
                await self.choose(guild=current_guild, channel=self.where.label, user=name)
        except ConsoleChoiceError as exc:
            self.out(str(exc))
            return
        self.out(f"now {self.where_line()}")

    async def _dm(self, name: str) -> None:
        assert self.where is not None
        bots = [u for u in self._directory.get("users", []) if u.get("bot")]
        try:
            bot = _by_name(bots, name, "bot") if name else bots[0]
        except (ConsoleChoiceError, IndexError) as exc:
            self.out(str(exc) or "no bot to talk to")
            return
        channel_id = await self.link.open_dm(user_id=self.where.user_id, bot_id=int(bot["id"]))
        self.where = Where(
            user_id=self.where.user_id,
            user_name=self.where.user_name,
            channel_id=channel_id,
            label="DM",
            guild_id=self.where.guild_id,
        )
        self._channel_labels[channel_id] = "DM"
        shown = sanitize(str(bot.get("name", "the bot")), keep_newlines=False)
        self.out(f"now talking to {shown} in private messages")

    async def _react(self, emoji: str) -> None:
        target = self._last_bot_message
        if target is None or not emoji or self.where is None:
            self.out("usage: :react EMOJI (reacts to the bot's last message)")
            return
        await self.link.react(
            user_id=self.where.user_id,
            channel_id=int(target["channel_id"]),
            message_id=int(target["id"]),
            emoji=emoji,
        )

    async def _click(self, label: str) -> None:
        target = self._last_bot_message
        if target is None or self.where is None:
            self.out("no bot message with buttons yet")
            return
        buttons = [
            child
            for row in _tables(target.get("components"))
            for child in _tables(row.get("components"))
            if child.get("type") == 2 and child.get("custom_id")
        ]
        chosen = [b for b in buttons if str(b.get("label", "")).lower() == label.lower()]
        if not chosen:
            names = ", ".join(f"[{b.get('label', '')}]" for b in buttons) or "none"
            self.out(f"no button labelled {label!r} (buttons: {sanitize(names)})")
            return
        await self.link.click(
            user_id=self.where.user_id,
            channel_id=int(target["channel_id"]),
            message_id=int(target["id"]),
            custom_id=str(chosen[0]["custom_id"]),
        )

    # --- modes -----------------------------------------------------------------------------

    async def run_script(self, lines: Iterable[str]) -> int:
        """Send each line (directives and ``#`` comments aside), printing what the bot did after
        each; returns 0, or 1 when the script named a guild/channel/user that does not exist.

        Lines are read in a worker thread: a script on a pipe that is still open (the next line
        not written yet) must not stop the event loop, where the emulator and the bot run.
        """
        if self.where is None:
            await self.choose()
        await self.wait_for_bot()
        remaining = iter(lines)
        while (raw := await asyncio.to_thread(next, remaining, None)) is not None:
            line = raw.rstrip("\r\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if line.startswith(":"):
                if not await self.directive(line):
                    break
                if line[1:].split(" ", 1)[0] in {"click", "react"} and not (
                    await self.settle_output()
                ):
                    self.out("  (no reply)")
                continue
            self.out(f"{self.where_line().removeprefix('as ')}> {sanitize(line)}")
            await self.say(line)
            if not await self.settle_output():
                self.out("  (no reply)")
        return 0

    async def interactive(self, read_line: Callable[[str], str] = input) -> int:
        """Chat until ``:quit`` or end of input; bot activity is printed as it happens."""
        if self.where is None:
            await self.choose()
        self.out(f"securebot console: {self.where_line()}. Type :help for directives.")
        watcher = asyncio.create_task(self._watch())
        try:
            while True:
                try:
                    line = await asyncio.to_thread(read_line, "")
                except EOFError:
                    break
                line = line.strip()
                if not line:
                    continue
                if line.startswith(":"):
                    if not await self.directive(line):
                        break
                    continue
                await self.say(line)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        await self.pump()
        return 0

    async def _watch(self) -> None:
        while True:
            await self.pump()
            await asyncio.sleep(self.poll_interval * 5)


_TEXT_TYPES = _TEXT_CHANNEL_TYPES | {1}


def _listing(items: Sequence[Mapping[str, Any]], sigil: str = "") -> str:
    shown = []
    for item in items:
        bot = " [bot]" if item.get("bot") else ""
        shown.append(f"  {sigil}{sanitize(str(item.get('name')), keep_newlines=False)}{bot}")
    return "\n".join(shown) or "  (none)"


def _seconds(text: str) -> float:
    try:
        value = float(text) if text else 1.0
    except ValueError:
        return 1.0
    return min(max(value, 0.0), 60.0)


# --- what the bot did, from the emulator's call log ------------------------------------------

_SILENT_ROUTES = frozenset(
    {
        "POST /channels/{channel_id}/typing",
        "POST /users/@me/channels",
        "PUT /applications/{application_id}/commands",
        "PUT /applications/{application_id}/guilds/{guild_id}/commands",
    }
)
_PHRASES = {
    "PUT /guilds/{guild_id}/bans/{user_id}": "banned @{user_id}",
    "DELETE /guilds/{guild_id}/bans/{user_id}": "unbanned @{user_id}",
    "DELETE /guilds/{guild_id}/members/{user_id}": "kicked @{user_id}",
    "PATCH /guilds/{guild_id}/members/{user_id}": "updated member @{user_id}",
    "PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}": "gave @{role_id} to @{user_id}",
    "DELETE /guilds/{guild_id}/members/{user_id}/roles/{role_id}": (
        "took @{role_id} from @{user_id}"
    ),
    "POST /channels/{channel_id}/messages/bulk-delete": "deleted {count} messages",
    "DELETE /channels/{channel_id}/messages/{message_id}": "deleted a message",
    "PUT /channels/{channel_id}/messages/pins/{message_id}": "pinned a message",
    "DELETE /channels/{channel_id}/messages/pins/{message_id}": "unpinned a message",
    "PUT /channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me": (
        "reacted {emoji_name}"
    ),
    "POST /guilds/{guild_id}/roles": "created a role",
    "POST /guilds/{guild_id}/channels": "created a channel",
    "PATCH /channels/{channel_id}": "edited #{channel_id}",
    "DELETE /channels/{channel_id}": "deleted a channel",
}
_MESSAGE_POSTS = frozenset(
    {
        "POST /channels/{channel_id}/messages",
        "POST /webhooks/{webhook_id}/{webhook_token}",
    }
)
_MESSAGE_EDITS = frozenset(
    {
        "PATCH /channels/{channel_id}/messages/{message_id}",
        "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original",
        "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
    }
)
_CALLBACK = "POST /interactions/{interaction_id}/{interaction_token}/callback"
#: Routes authenticated by a token in the path (no bot in the call log): interaction replies.
_TOKEN_ROUTES = frozenset(
    {
        _CALLBACK,
        "POST /webhooks/{webhook_id}/{webhook_token}",
        "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original",
        "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
    }
)


def _path_params(route: str, path: str) -> dict[str, str]:
    template = route.partition(" ")[2]
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    found = re.match(f"^{regex}$", path)
    return {k: urllib.parse.unquote(v) for k, v in found.groupdict().items()} if found else {}


class Activity:
    """Turns an emulator's call log into console activity items (see :class:`ConsoleLink`)."""

    def __init__(self, emulator: Any) -> None:
        """Read the calls of ``emulator`` (a :class:`securebot.testing.emulator.Emulator`)."""
        self.emulator = emulator

    def since(self, cursor: int) -> tuple[list[dict[str, Any]], int]:
        """Items for the bot calls after ``cursor``, and the new cursor."""
        calls = self.emulator.calls
        end = calls.end
        items = []
        for call in calls.since(cursor):
            if call.method == "GET" or call.route in _SILENT_ROUTES:
                continue
            if call.bot_id is None and call.route not in _TOKEN_ROUTES:
                continue
            item = self.describe(call)
            if item is not None:
                items.append(item)
        return items, end

    def _channel_item(
        self, kind: str, channel_id: Any, guild_id: Any = None, **fields: Any
    ) -> dict[str, Any]:
        world = self.emulator.world
        try:
            channel = world.channels.get(int(channel_id))
        except (TypeError, ValueError):
            channel = None
        guild_id = getattr(channel, "guild_id", None) or guild_id
        return {
            "kind": kind,
            "channel_id": str(channel_id or ""),
            "guild_id": str(guild_id) if guild_id else None,
            **fields,
        }

    def describe(self, call: Any) -> dict[str, Any] | None:
        """One call as an activity item (``None`` for calls a user would not notice)."""
        params = _path_params(call.route, call.path)
        response = call.response if isinstance(call.response, Mapping) else {}
        if call.status >= 400:
            code = response.get("code", call.status)
            text = f"Discord refused {call.method} {call.route.partition(' ')[2]}: {code} "
            text += str(response.get("message", ""))
            return self._channel_item(
                "action", params.get("channel_id"), params.get("guild_id"), text=text
            )
        if call.route in _MESSAGE_POSTS and response.get("id"):
            return self._channel_item("message", response.get("channel_id"), message=response)
        if call.route in _MESSAGE_EDITS and response.get("id"):
            return self._channel_item("edit", response.get("channel_id"), message=response)
        if call.route == _CALLBACK:
            return self._callback(call, params)
        phrase = _PHRASES.get(call.route)
        if phrase is None:
            text = f"{call.method} {call.route.partition(' ')[2]}"
        else:
            body = call.request if isinstance(call.request, Mapping) else {}
            messages = body.get("messages")
            count = len(messages) if isinstance(messages, list) else "?"
            text = phrase.format(count=count, **{k: self._name(k, v) for k, v in params.items()})
        bot = self.emulator.world.users.get(call.bot_id)
        who = bot.username if bot is not None else "the bot"
        return self._channel_item(
            "action", params.get("channel_id"), params.get("guild_id"), text=f"{who} {text}"
        )

    def _name(self, key: str, value: str) -> str:
        world = self.emulator.world
        try:
            ident = int(value)
        except ValueError:
            return value
        if key == "user_id" and ident in world.users:
            return str(world.users[ident].username)
        if key == "channel_id" and ident in world.channels:
            return str(world.channels[ident].name or ident)
        if key == "role_id":
            for guild in world.guilds.values():
                if ident in guild.roles:
                    return str(guild.roles[ident].name)
        return value

    def _callback(self, call: Any, params: Mapping[str, str]) -> dict[str, Any] | None:
        body = call.request if isinstance(call.request, Mapping) else {}
        kind = body.get("type")
        raw = body.get("data")
        data: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        world = self.emulator.world
        try:
            interaction = world.interactions.get(int(params.get("interaction_id", "0")))
        except ValueError:
            interaction = None
        channel_id = interaction.channel_id if interaction is not None else None
        if kind in {4, 7}:
            response = call.response if isinstance(call.response, Mapping) else {}
            resource = response.get("resource")
            stored = resource.get("message") if isinstance(resource, Mapping) else None
            if isinstance(stored, Mapping):
                message: Mapping[str, Any] = stored
            else:
                account = world.bots.get(interaction.application_id) if interaction else None
                author = {"username": account.user.username if account else "bot", "bot": True}
                fields = ("content", "embeds", "components", "flags")
                message = {"author": author, **{k: data[k] for k in fields if k in data}}
            kind_name = "message" if kind == 4 else "edit"
            return self._channel_item(kind_name, channel_id, message=message)
        if kind == 9:
            title = data.get("title", "")
            return self._channel_item("action", channel_id, text=f"opened a form: {title}")
        return None


# --- links ------------------------------------------------------------------------------------


class ConsoleLinkError(SecurebotError):
    """The console could not reach the emulator or the emulator refused an action."""


def _directory(world: Any, online: frozenset[int] = frozenset()) -> dict[str, Any]:
    guilds = []
    for guild in world.guilds.values():
        channels = sorted(guild.channels.values(), key=lambda c: (c.position, c.id))
        guilds.append(
            {
                "id": str(guild.id),
                "name": guild.name,
                "channels": [
                    {
                        "id": str(c.id),
                        "name": c.name,
                        "type": int(c.type),
                        "parent_id": str(c.parent_id) if c.parent_id else None,
                    }
                    for c in channels
                    if not c.is_thread()
                ],
                "members": [
                    {
                        "id": str(uid),
                        "name": world.users[uid].username,
                        "bot": world.users[uid].bot,
                    }
                    for uid in guild.members
                    if uid in world.users
                ],
                "roles": [
                    {"id": str(r.id), "name": r.name}
                    for r in sorted(guild.roles.values(), key=lambda r: -r.position)
                ],
            }
        )
    users = [
        {"id": str(u.id), "name": u.username, "bot": u.bot, "online": u.id in online}
        for u in world.users.values()
    ]
    return {"guilds": guilds, "users": users}


class LocalLink:
    """A :class:`ConsoleLink` to an emulator running in this process."""

    def __init__(self, emulator: Any) -> None:
        """Link to ``emulator`` (a started :class:`securebot.testing.emulator.Emulator`)."""
        self.emulator = emulator
        self._activity = Activity(emulator)

    async def directory(self) -> dict[str, Any]:
        """Guilds, channels, members and accounts of the emulator."""
        gateway = self.emulator.gateway
        online = frozenset(session.bot.user.id for session in gateway.sessions.values())
        return _directory(self.emulator.world, online)

    async def cursor(self) -> int:
        """The current end of the call log (the number the next call will get)."""
        return int(self.emulator.calls.end)

    async def activity(self, cursor: int) -> tuple[list[dict[str, Any]], int]:
        """What bots did after ``cursor``."""
        return self._activity.since(cursor)

    def _channel(self, channel_id: int) -> Any:
        channel = self.emulator.world.channels.get(channel_id)
        if channel is None or not channel.is_text():
            raise ConsoleLinkError(f"no text channel with id {channel_id}")
        return channel

    def _user(self, user_id: int) -> Any:
        user = self.emulator.world.users.get(user_id)
        if user is None:
            raise ConsoleLinkError(f"no user with id {user_id}")
        return user

    async def send(self, *, user_id: int, channel_id: int, content: str) -> dict[str, Any]:
        """Post ``content`` as a user (MESSAGE_CREATE reaches the bots)."""
        user = self._user(user_id)
        channel = self._channel(channel_id)
        if not content:
            raise ConsoleLinkError("a message cannot be empty")
        with self._refusals():
            message = self.emulator.send(user, channel, content)
        return cast(dict[str, Any], self.emulator.actions.message_json(message))

    @contextlib.contextmanager
    def _refusals(self) -> Iterator[None]:
        from securebot.testing.emulator.scenario import ScenarioError

        try:
            yield
        except ScenarioError as exc:
            raise ConsoleLinkError(str(exc)) from None

    async def open_dm(self, *, user_id: int, bot_id: int) -> int:
        """The DM channel between the user and the bot."""
        self._user(user_id)
        self._user(bot_id)
        return int(self.emulator.world.dm_channel(user_id, bot_id).id)

    def _message(self, channel_id: int, message_id: int) -> Any:
        channel = self._channel(channel_id)
        message = channel.messages.get(message_id)
        if message is None or message.deleted:
            raise ConsoleLinkError(f"no message {message_id} in that channel")
        return message

    async def react(self, *, user_id: int, channel_id: int, message_id: int, emoji: str) -> None:
        """React to a message as a user."""
        user = self._user(user_id)
        message = self._message(channel_id, message_id)
        found = _CUSTOM_EMOJI.fullmatch(emoji)
        if found:
            emoji = f"{found.group(1)}:{emoji.rsplit(':', 1)[1].rstrip('>')}"
        with self._refusals():
            self.emulator.react(user, message, emoji)

    async def click(
        self, *, user_id: int, channel_id: int, message_id: int, custom_id: str
    ) -> None:
        """Click a button as a user (an INTERACTION_CREATE for the message's bot)."""
        user = self._user(user_id)
        message = self._message(channel_id, message_id)
        with self._refusals():
            self.emulator.click(user, message, custom_id)


def control_app(link: LocalLink) -> web.Application:
    """The console's control API over HTTP (``/_console/v1``): what :class:`HttpLink` calls.

    It lets any caller act as any user, so the emulator only serves it on loopback unless told
    otherwise (``securebot emulator serve --allow-remote``).
    """
    app = web.Application(client_max_size=64 * 1024)

    def reply(body: Any, status: int = 200) -> web.Response:
        return web.Response(
            status=status,
            body=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )

    async def body(request: web.Request) -> dict[str, Any]:
        try:
            data = await request.json()
        except ValueError:
            raise ConsoleLinkError("the body must be a JSON object") from None
        if not isinstance(data, dict):
            raise ConsoleLinkError("the body must be a JSON object")
        return data

    def ident(data: Mapping[str, Any], key: str) -> int:
        value = data.get(key)
        try:
            number = int(value) if isinstance(value, str | int) else -1
        except ValueError:
            number = -1
        if not isinstance(value, str | int) or isinstance(value, bool) or number <= 0:
            raise ConsoleLinkError(f"{key}: expected a snowflake id")
        return number

    def text(data: Mapping[str, Any], key: str) -> str:
        value = data.get(key)
        if not isinstance(value, str):
            raise ConsoleLinkError(f"{key}: expected a string")
        return value

    @web.middleware
    async def errors(request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            response: web.StreamResponse = await handler(request)
        except ConsoleLinkError as exc:
            return reply({"error": str(exc)}, 400)
        return response

    async def directory(request: web.Request) -> web.Response:
        return reply(await link.directory())

    async def activity(request: web.Request) -> web.Response:
        try:
            after = int(request.query.get("after", "0"))
        except ValueError:
            raise ConsoleLinkError("after: expected an integer") from None
        items, cursor = await link.activity(after)
        return reply({"items": items, "cursor": cursor})

    async def cursor(request: web.Request) -> web.Response:
        return reply({"cursor": await link.cursor()})

    async def messages(request: web.Request) -> web.Response:
        data = await body(request)
        message = await link.send(
            user_id=ident(data, "user_id"),
            channel_id=ident(data, "channel_id"),
            content=text(data, "content"),
        )
        return reply(message)

    async def dm(request: web.Request) -> web.Response:
        data = await body(request)
        channel_id = await link.open_dm(
            user_id=ident(data, "user_id"), bot_id=ident(data, "bot_id")
        )
        return reply({"channel_id": str(channel_id)})

    async def reactions(request: web.Request) -> web.Response:
        data = await body(request)
        await link.react(
            user_id=ident(data, "user_id"),
            channel_id=ident(data, "channel_id"),
            message_id=ident(data, "message_id"),
            emoji=text(data, "emoji"),
        )
        return reply({})

    async def clicks(request: web.Request) -> web.Response:
        data = await body(request)
        await link.click(
            user_id=ident(data, "user_id"),
            channel_id=ident(data, "channel_id"),
            message_id=ident(data, "message_id"),
            custom_id=text(data, "custom_id"),
        )
        return reply({})

    app.middlewares.append(errors)
    app.router.add_get("/directory", directory)
    app.router.add_get("/activity", activity)
    app.router.add_get("/cursor", cursor)
    app.router.add_post("/messages", messages)
    app.router.add_post("/dm", dm)
    app.router.add_post("/reactions", reactions)
    app.router.add_post("/clicks", clicks)
    return app


#: Where the control API lives on a standalone emulator.
CONTROL_PATH = "/_console/v1"


class HttpLink:
    """A :class:`ConsoleLink` to a standalone ``securebot emulator serve`` over HTTP."""

    def __init__(self, base_url: str) -> None:
        """Link to the emulator at ``base_url`` (``http://127.0.0.1:PORT``)."""
        if not base_url.startswith(("http://", "https://")):
            raise ConsoleLinkError(f"--url {base_url}: must start with http:// or https://")
        self.base_url = base_url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    async def _call(self, method: str, path: str, payload: Any = None) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        url = f"{self.base_url}{CONTROL_PATH}{path}"
        try:
            async with self._session.request(method, url, json=payload) as response:
                data = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise ConsoleLinkError(
                f"cannot reach the emulator's console API at {self.base_url} "
                f"({exc.__class__.__name__}); is `securebot emulator serve` running there?"
            ) from None
        if response.status != 200:
            error = data.get("error") if isinstance(data, dict) else None
            raise ConsoleLinkError(f"the emulator refused: {error or response.status}")
        return data

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def directory(self) -> dict[str, Any]:
        """Guilds, channels, members and accounts of the emulator."""
        return cast(dict[str, Any], await self._call("GET", "/directory"))

    async def cursor(self) -> int:
        """The current end of the emulator's call log."""
        return int((await self._call("GET", "/cursor"))["cursor"])

    async def activity(self, cursor: int) -> tuple[list[dict[str, Any]], int]:
        """What bots did after ``cursor``."""
        data = await self._call("GET", f"/activity?after={int(cursor)}")
        return list(data["items"]), int(data["cursor"])

    async def send(self, *, user_id: int, channel_id: int, content: str) -> dict[str, Any]:
        """Post ``content`` as a user."""
        payload = {"user_id": str(user_id), "channel_id": str(channel_id), "content": content}
        return cast(dict[str, Any], await self._call("POST", "/messages", payload))

    async def open_dm(self, *, user_id: int, bot_id: int) -> int:
        """The DM channel between the user and the bot."""
        data = await self._call("POST", "/dm", {"user_id": str(user_id), "bot_id": str(bot_id)})
        return int(data["channel_id"])

    async def react(self, *, user_id: int, channel_id: int, message_id: int, emoji: str) -> None:
        """React to a message as a user."""
        await self._call(
            "POST",
            "/reactions",
            {
                "user_id": str(user_id),
                "channel_id": str(channel_id),
                "message_id": str(message_id),
                "emoji": emoji,
            },
        )

    async def click(
        self, *, user_id: int, channel_id: int, message_id: int, custom_id: str
    ) -> None:
        """Click a button as a user."""
        await self._call(
            "POST",
            "/clicks",
            {
                "user_id": str(user_id),
                "channel_id": str(channel_id),
                "message_id": str(message_id),
                "custom_id": custom_id,
            },
        )


# --- entry points of the CLI commands ---------------------------------------------------------


@attrs.frozen
class ChatOptions:
    """What ``securebot console`` / ``giselle demo`` were asked for."""

    script: TextIO | None = None
    guild: str | None = None
    channel: str | None = None
    user: str | None = None
    reply_timeout: float = 5.0


async def _chat(link: ConsoleLink, options: ChatOptions, out: Callable[[str], None]) -> int:
    console = Console(link, out=out, reply_timeout=options.reply_timeout)
    await console.choose(guild=options.guild, channel=options.channel, user=options.user)
    if options.script is not None:
        return await console.run_script(options.script)
    return await console.interactive()


async def chat_remote(url: str, options: ChatOptions, *, out: Callable[[str], None] = print) -> int:
    """Attach a console to the standalone emulator at ``url``; the exit status."""
    link = HttpLink(url)
    try:
        return await _chat(link, options, out)
    finally:
        await link.close()


async def start_emulator(scenario: Scenario, *, host: str = "127.0.0.1", port: int = 0) -> Any:
    """An emulator seeded with ``scenario``, listening (with the console's control API).

    Returns ``(emulator, seeded, runner)``; stop with :func:`stop_emulator`.
    """
    from securebot.testing.emulator.server import Emulator

    emulator = Emulator(host=host, port=port)
    seeded = seed(emulator.world, scenario)
    app = emulator.application()
    app.add_subapp(CONTROL_PATH, control_app(LocalLink(emulator)))
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise ConsoleLinkError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    server = getattr(site, "_server", None)
    sockets = getattr(server, "sockets", None) or []
    if sockets:
        emulator.port = sockets[0].getsockname()[1]
    emulator.gateway.url = emulator.gateway_url
    return emulator, seeded, runner


async def stop_emulator(emulator: Any, runner: web.AppRunner) -> None:
    """Close the emulator's websockets and stop listening."""
    await emulator.stop()
    await runner.cleanup()


async def serve_emulator(
    scenario: Scenario,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    out: Callable[[str], None] = print,
) -> None:
    """Run a seeded emulator until SIGINT/SIGTERM; the first line printed names its URL."""
    emulator, seeded, runner = await start_emulator(scenario, host=host, port=port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    try:
        out(f"securebot emulator listening on {emulator.base_url}")
        out(f"  scenario: {scenario.source}; guilds: {', '.join(seeded.guilds) or 'none'}")
        for name, token in seeded.tokens.items():
            out(f"  bot {name}: token {token} (emulator-only)")
        out(
            f"  run a bot against it: SECUREBOT__BOT__API_BASE_URL={emulator.base_url} "
            "(and SECUREBOT__BOT__TOKEN=env:NAME holding a bot token above)"
        )
        out(f"  chat: securebot console --url {emulator.base_url}")
        await stop.wait()
    finally:
        await stop_emulator(emulator, runner)


async def chat_local(
    config: Config,
    scenario: Scenario,
    options: ChatOptions,
    *,
    out: Callable[[str], None] = print,
    prepare: Callable[[Any], Awaitable[None]] | None = None,
) -> int:
    """Start an emulator seeded with ``scenario``, run the configured bot against it as the
    scenario's first bot, and chat with it; the exit status.

    ``prepare(bot)`` runs before the bot starts (a composition root wiring storage, keys...).
    """
    from securebot.core.app import build_bot

    emulator, seeded, runner = await start_emulator(scenario)
    bot_spec = scenario.bots[0]
    config = attrs.evolve(config, bot=attrs.evolve(config.bot, api_base_url=emulator.base_url))
    bot = build_bot(config, guild_ready_timeout=0.05)
    if prepare is not None:
        await prepare(bot)
    task = asyncio.create_task(bot.start(seeded.tokens[bot_spec.name]))
    try:
        await _until_ready(bot, task)
        return await _chat(LocalLink(emulator), options, out)
    finally:
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        await stop_emulator(emulator, runner)


#: Longest wait for a local bot to connect and receive its guilds.
READY_TIMEOUT = 30.0


async def _until_ready(bot: Any, task: asyncio.Task[None]) -> None:
    timeout = READY_TIMEOUT
    ready = asyncio.create_task(bot.wait_until_ready())
    done, _ = await asyncio.wait({ready, task}, timeout=timeout, return_when="FIRST_COMPLETED")
    if ready in done:
        return
    ready.cancel()
    if task in done:
        error = task.exception()
        raise ConsoleLinkError(f"the bot stopped before it was ready: {error!r}") from error
    raise ConsoleLinkError(f"the bot was not ready after {timeout:g} s")
