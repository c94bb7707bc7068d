"""Export formats: renderers from :class:`ExportMessage` values to bytes, all in memory.

A format is an :class:`ExportFormat` value: a name, a file extension, a media type and a pure
``render(messages, info) -> bytes`` function. The built-in ones are ``csv``, ``jsonl``, ``html``
and ``txt``; plugins add more through the ``securebot_register_export_formats`` hook, collected
into a :class:`FormatRegistry` that rejects duplicate names.

Renderers never touch the disk: the bytes go straight into the encrypted archive.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import attrs

from securebot.errors import DuplicateRegistrationError, ExportError
from securebot.exports.model import ExportInfo, ExportMessage

if TYPE_CHECKING:
    from securebot.core.plugins import PluginManager

#: A renderer: messages (oldest first) and the export's description → the file's bytes.
Renderer = Callable[[Sequence[ExportMessage], ExportInfo], bytes]

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_EXTENSION = re.compile(r"^[a-z0-9]{1,10}$")


def _check_name(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ValueError(
            f"export format name {value!r} must be 1-32 lowercase letters, digits, '-' or '_'"
        )


def _check_extension(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not _EXTENSION.fullmatch(value):
        raise ValueError(f"export format extension {value!r} must be 1-10 lowercase letters/digits")


@attrs.frozen
class ExportFormat:
    """One output format of exports: ``render`` must be pure and must not write files."""

    name: str = attrs.field(validator=_check_name)
    extension: str = attrs.field(validator=_check_extension)
    media_type: str
    render: Renderer = attrs.field(eq=False, repr=False)
    description: str = ""

    def filename(self, stem: str = "messages") -> str:
        """The name of this format's file inside an archive."""
        return f"{stem}.{self.extension}"


# --- shared helpers --------------------------------------------------------------------------

#: A UTF-16 surrogate code point: Discord's JSON can carry one alone (``"\\ud800"``), and no
#: UTF-8 encoding of it exists.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _utf8(text: str) -> bytes:
    """``text`` as strict UTF-8; a lone surrogate becomes U+FFFD (a pair, its character), so
    every reader opens the file."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        joined = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
        return joined.encode("utf-8")


def _iso(message: ExportMessage) -> str:
    return message.timestamp


def _attachment_urls(message: ExportMessage) -> str:
    return " ".join(a.url for a in message.attachments)


def _embed_summaries(message: ExportMessage) -> str:
    return " | ".join(e.summary() for e in message.embeds)


def message_dict(message: ExportMessage) -> dict[str, Any]:
    """The JSON-able form of one message (what ``jsonl`` writes per line)."""
    return {
        "id": str(message.id),
        "timestamp": _iso(message),
        "edited": (
            message.edited_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            if message.edited_at
            else None
        ),
        "author_id": str(message.author_id),
        "author": message.author_name,
        "bot": message.author_bot,
        "content": message.content,
        "attachments": [
            {
                "id": str(a.id),
                "filename": a.filename,
                "url": a.url,
                "size": a.size,
                "content_type": a.content_type,
            }
            for a in message.attachments
        ],
        "embeds": [
            {
                "type": e.type,
                "title": e.title,
                "description": e.description,
                "url": e.url,
                "fields": [{"name": n, "value": v} for n, v in e.fields],
            }
            for e in message.embeds
        ],
        "reply_to": str(message.reply_to) if message.reply_to is not None else None,
    }


# --- csv -------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "id",
    "timestamp",
    "author_id",
    "author",
    "bot",
    "content",
    "attachments",
    "embeds",
    "reply_to",
    "edited",
)
#: Leading characters that make spreadsheets evaluate a cell as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_CHARS = frozenset(_FORMULA_START)
#: Rows or lines produced per C-level call (keeps each GIL-holding stretch short).
_BATCH = 256


def spreadsheet_safe(text: str) -> str:
    """``text`` with a leading ``'`` when a spreadsheet would run it as a formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_row(m: ExportMessage) -> tuple[object, ...]:
    content = m.content
    if content[:1] in _FORMULA_CHARS:
        content = "'" + content
    name = m.author_name
    if name[:1] in _FORMULA_CHARS:
        name = "'" + name
    return (
        m.id,
        m.timestamp,
        m.author_id,
        name,
        "yes" if m.author_bot else "",
        content,
        spreadsheet_safe(" ".join([a.url for a in m.attachments])) if m.attachments else "",
        spreadsheet_safe(_embed_summaries(m)) if m.embeds else "",
        m.reply_to if m.reply_to is not None else "",
        m.edited_at.isoformat() if m.edited_at else "",
    )


def render_csv(messages: Sequence[ExportMessage], info: ExportInfo) -> bytes:
    """CSV (RFC 4180, UTF-8 with BOM so spreadsheets pick the encoding).

    Text cells that would start a formula get a leading ``'`` (CSV injection); ``jsonl`` keeps
    the exact text.
    """
    out = io.StringIO(newline="")
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    # In batches: one writerows call holds the GIL throughout, and exports run next to the
    # event loop.
    for start in range(0, len(messages), _BATCH):
        writer.writerows([_csv_row(m) for m in messages[start : start + _BATCH]])
    return _utf8(out.getvalue())


# --- jsonl -----------------------------------------------------------------------------------

#: Characters some readers treat as line breaks: escaped so each record stays on one line.
_LINE_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


_json_string = json.JSONEncoder(ensure_ascii=False).encode


def _jsonl_line(m: ExportMessage) -> str:
    if m.attachments or m.embeds or m.edited_at is not None:
        return _dumps(message_dict(m))
    # The common case (text only), written directly: same output as ``_dumps(message_dict(m))``.
    reply = "null" if m.reply_to is None else f'"{m.reply_to}"'
    return (
        f'{{"id":"{m.id}","timestamp":"{m.timestamp}","edited":null,'
        f'"author_id":"{m.author_id}","author":{_json_string(m.author_name)},'
        f'"bot":{"true" if m.author_bot else "false"},"content":{_json_string(m.content)},'
        f'"attachments":[],"embeds":[],"reply_to":{reply}}}'
    )


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def render_jsonl(messages: Sequence[ExportMessage], info: ExportInfo) -> bytes:
    """JSON Lines: one object per message (:func:`message_dict`), exact text, UTF-8."""
    text = "\n".join([_jsonl_line(m) for m in messages])
    if messages:
        text += "\n"
    for char, escaped in _LINE_BREAKS.items():
        if char in text:  # rare: replace only when present (a full translate holds the GIL)
            text = text.replace(char, escaped)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # Surrogates occur only inside JSON strings: as escapes the text stays exact.
        return _SURROGATE.sub(lambda c: f"\\u{ord(c.group()):04x}", text).encode("utf-8")


# --- txt -------------------------------------------------------------------------------------


def _text_lines(m: ExportMessage) -> Iterator[str]:
    stamp = m.created_at.strftime("%Y-%m-%d %H:%M:%S")
    bot = " [bot]" if m.author_bot else ""
    edited = " (edited)" if m.edited_at else ""
    reply = f" (reply to {m.reply_to})" if m.reply_to is not None else ""
    yield f"[{stamp} UTC] {m.author_name}{bot} ({m.author_id}){reply}{edited}: {m.content}"
    for a in m.attachments:
        yield f"    attachment: {a.filename} <{a.url}>"
    for e in m.embeds:
        yield f"    embed: {e.summary()}"


def render_txt(messages: Sequence[ExportMessage], info: ExportInfo) -> bytes:
    """A plain-text transcript, one line per message plus indented attachments and embeds."""
    header = [
        f"Chat log: {info.title}",
        f"Generated: {info.generated_at.strftime('%Y-%m-%d %H:%M:%S')} UTC",
        f"Messages: {len(messages)}",
        "",
    ]
    lines = header + [line for m in messages for line in _text_lines(m)]
    return _utf8("\n".join(lines) + "\n")


# --- html ------------------------------------------------------------------------------------

_STYLE = (
    "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}"
    ".m{margin:.4em 0}.t{color:#888;font-size:12px}.a{font-weight:600}"
    ".c{white-space:pre-wrap}.x{margin-left:2em;color:#555}"
)
#: Only these URL schemes become links; anything else is shown as text.
_LINK_SCHEMES = ("https://", "http://")


def _link(url: str, text: str) -> str:
    if url.startswith(_LINK_SCHEMES):
        return (
            f'<a href="{html.escape(url, quote=True)}" rel="noopener noreferrer">'
            f"{html.escape(text)}</a>"
        )
    return html.escape(text)


def _text(value: str) -> str:
    """Escape element text (``&``, ``<``, ``>``; quotes need no escaping outside attributes)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _html_message(m: ExportMessage) -> str:
    bot = " [bot]" if m.author_bot else ""
    edited = " (edited)" if m.edited_at else ""
    head = (
        f'<div class="m" id="m{m.id}"><span class="t">{m.timestamp}</span> '
        f'<span class="a" title="{m.author_id}">{_text(m.author_name)}{bot}</span>{edited}'
    )
    body = f'<div class="c">{_text(m.content)}</div>'
    if m.reply_to is None and not m.attachments and not m.embeds:
        return f"{head}{body}</div>"
    parts = [head]
    if m.reply_to is not None:
        parts.append(f' <span class="t">↪ <a href="#m{m.reply_to}">{m.reply_to}</a></span>')
    parts.append(body)
    for a in m.attachments:
        parts.append(f'<div class="x">📎 {_link(a.url, a.filename)}</div>')
    for emb in m.embeds:
        parts.append(f'<div class="x">▤ {_text(emb.summary())}</div>')
    parts.append("</div>")
    return "".join(parts)


def render_html(messages: Sequence[ExportMessage], info: ExportInfo) -> bytes:
    """A self-contained HTML transcript: escaped text, attachments as links, embeds summarised.

    A Content-Security-Policy meta tag forbids scripts and remote loads, so opening the file
    fetches nothing (no tracking pixels from message content).
    """
    title = html.escape(info.title)
    generated = info.generated_at.strftime("%Y-%m-%d %H:%M:%S")
    head = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>{title}</title><style>{_STYLE}</style></head><body>"
        f'<h1>{title}</h1><p class="t">Generated {generated} UTC · {len(messages)} messages</p>\n'
    )
    body = "\n".join(_html_message(m) for m in messages)
    return _utf8(head + body + "\n</body></html>\n")


# --- registry --------------------------------------------------------------------------------

CSV = ExportFormat("csv", "csv", "text/csv", render_csv, "Spreadsheet (CSV, UTF-8)")
JSONL = ExportFormat(
    "jsonl", "jsonl", "application/jsonl", render_jsonl, "JSON Lines, exact text, one per message"
)
HTML = ExportFormat("html", "html", "text/html", render_html, "Readable HTML transcript")
TEXT = ExportFormat("txt", "txt", "text/plain", render_txt, "Plain-text transcript")

#: The formats securebot ships.
BUILTIN_FORMATS = (CSV, JSONL, HTML, TEXT)
#: What an export contains when the caller names no format.
DEFAULT_FORMATS = ("csv", "jsonl", "html")


class FormatRegistry(Mapping[str, ExportFormat]):
    """Export formats by name; registering a name twice is an error."""

    def __init__(self, formats: Iterable[ExportFormat] = BUILTIN_FORMATS) -> None:
        """Start with ``formats`` (the built-in ones by default)."""
        self._formats: dict[str, ExportFormat] = {}
        self._owners: dict[str, str] = {}
        for fmt in formats:
            self.register(fmt, owner="securebot")

    def register(self, fmt: ExportFormat, *, owner: str = "?") -> None:
        """Add ``fmt``.

        :raises DuplicateRegistrationError: a format of that name is already registered.
        :raises ExportError: ``fmt`` is not an :class:`ExportFormat`.
        """
        if not isinstance(fmt, ExportFormat):
            raise ExportError(
                f"{owner} registered {fmt!r} as an export format; "
                "securebot_register_export_formats must return ExportFormat values"
            )
        if fmt.name in self._formats:
            raise DuplicateRegistrationError(
                f"export format {fmt.name!r} is registered twice "
                f"(by {self._owners[fmt.name]} and by {owner}); rename one of them"
            )
        self._formats[fmt.name] = fmt
        self._owners[fmt.name] = owner

    def register_from_hook(self, results: Iterable[Iterable[ExportFormat] | None]) -> None:
        """Register what every ``securebot_register_export_formats`` implementation returned."""
        for result in results:
            for fmt in result or ():
                self.register(fmt, owner="a plugin")

    @classmethod
    def from_plugins(cls, plugin_manager: PluginManager) -> FormatRegistry:
        """The built-in formats plus every plugin's ``securebot_register_export_formats``.

        :raises DuplicateRegistrationError: two formats share a name (both owners named).
        """
        registry = cls()
        caller = plugin_manager.hook.securebot_register_export_formats
        for impl in caller.get_hookimpls():
            returned = cast("Iterable[ExportFormat] | None", impl.function())
            for fmt in returned or ():
                registry.register(fmt, owner=f"plugin {impl.plugin_name!r}")
        return registry

    def select(self, names: Iterable[str]) -> list[ExportFormat]:
        """The formats called ``names``, in order.

        :raises ExportError: a name is unknown (the message lists the known ones).
        """
        chosen: list[ExportFormat] = []
        for name in names:
            fmt = self._formats.get(name)
            if fmt is None:
                known = ", ".join(sorted(self._formats))
                raise ExportError(f"unknown export format {name!r}; known formats: {known}")
            if fmt not in chosen:
                chosen.append(fmt)
        if not chosen:
            raise ExportError("an export needs at least one format")
        return chosen

    def __getitem__(self, name: str) -> ExportFormat:
        return self._formats[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._formats)

    def __len__(self) -> int:
        return len(self._formats)


#: Name of the short description every export archive starts with.
README_NAME = "README.txt"


def readme_text(info: ExportInfo, count: int, formats: Sequence[ExportFormat]) -> bytes:
    """The archive's ``README.txt``: what was exported, when, and which file is which."""
    lines = [
        f"Chat log export: {info.title}",
        f"Generated: {info.generated_at.strftime('%Y-%m-%d %H:%M:%S')} UTC",
        f"Messages: {count}",
        "",
        "Files:",
        *(f"  {fmt.filename()}: {fmt.description or fmt.media_type}" for fmt in formats),
        "",
        "Attachments are links to Discord's servers; they stop working when deleted there.",
        "",
    ]
    return _utf8("\n".join(lines))


def render_one(fmt: ExportFormat, messages: Sequence[ExportMessage], info: ExportInfo) -> bytes:
    """Render ``messages`` in ``fmt``.

    :raises ExportError: the renderer failed or did not return bytes (the format is named; the
        renderer's own message is not repeated, it may quote message content).
    """
    try:
        data = fmt.render(messages, info)
    except Exception as exc:
        raise ExportError(
            f"export format {fmt.name!r} failed to render: {type(exc).__name__}"
        ) from exc
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ExportError(f"export format {fmt.name!r} returned {type(data).__name__}, not bytes")
    return bytes(data)


def render_files(
    formats: Sequence[ExportFormat],
    messages: Sequence[ExportMessage],
    info: ExportInfo,
    *,
    stem: str = "messages",
) -> list[tuple[str, bytes]]:
    """Render ``messages`` in each format: ``(file name in the archive, bytes)`` pairs.

    :raises ExportError: a renderer failed or did not return bytes (the format is named).
    """
    return [(fmt.filename(stem), render_one(fmt, messages, info)) for fmt in formats]
