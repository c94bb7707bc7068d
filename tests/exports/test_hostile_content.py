"""Renderers against hostile Discord data: any text in any field (lone surrogates, line
separators, markup, formula starts, huge or empty values). Every format renders, every file is
valid UTF-8, JSON Lines keeps one exact record per line, CSV neutralises every text cell, and
the HTML transcript can never run script, load anything or link outside http(s)."""

from __future__ import annotations

import csv
import datetime as dt
import html.parser
import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from securebot.exports import ExportAttachment, ExportEmbed, ExportInfo, ExportMessage
from securebot.exports.formats import (
    BUILTIN_FORMATS,
    CSV_COLUMNS,
    readme_text,
    render_csv,
    render_html,
    render_jsonl,
    render_one,
)

from .conftest import BASE

#: Anything a JSON string from Discord can hold: all of Unicode, lone surrogates included.
any_char = st.one_of(st.characters(codec=None), st.characters(categories=["Cs"]))
hostile_text = st.one_of(
    st.text(any_char, max_size=60),
    st.sampled_from(
        [
            "",
            "<script>alert(1)</script>",
            '"><img src=x onerror=alert(1)>',
            "javascript:alert(1)",
            " JaVaScRiPt:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "=cmd|' /C calc'!A0",
            "+1+1",
            "-2+3",
            "@SUM(1)",
            "\t=1",
            "\r=1",
            "a\u2028b\u2029c\x85d\x0be\x0cf\x1cg\x1dh\x1ei\nj\rk",
            "\ud800",
            "x\udfffy",
            "</div></span></body><style>*{background:url(//evil)}</style>",
            "https://ok.example/\"onmouseover='alert(1)'",
            "\x00\x01\x7f",
            "x" * 20_000,
        ]
    ),
)
ids = st.integers(min_value=0, max_value=2**64 - 1)
attachments = st.builds(
    ExportAttachment,
    id=ids,
    filename=hostile_text,
    url=hostile_text,
    size=st.integers(min_value=0, max_value=2**40),
    content_type=hostile_text,
)
embeds = st.builds(
    ExportEmbed,
    type=hostile_text,
    title=hostile_text,
    description=hostile_text,
    url=hostile_text,
    fields=st.lists(st.tuples(hostile_text, hostile_text), max_size=3).map(tuple),
)
times = st.datetimes(
    min_value=dt.datetime(2015, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)
)
messages = st.builds(
    ExportMessage,
    id=ids,
    created_at=times,
    author_id=ids,
    author_name=hostile_text,
    content=hostile_text,
    author_bot=st.booleans(),
    edited_at=st.none() | times,
    attachments=st.lists(attachments, max_size=2).map(tuple),
    embeds=st.lists(embeds, max_size=2).map(tuple),
    reply_to=st.none() | ids,
)
message_lists = st.lists(messages, max_size=4)
infos = st.builds(ExportInfo, title=hostile_text, generated_at=times)
hostile = settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow], deadline=None)


@hostile
@given(msgs=message_lists, info=infos)
def test_every_format_renders_valid_utf8(msgs: list[ExportMessage], info: ExportInfo) -> None:
    for fmt in BUILTIN_FORMATS:
        render_one(fmt, msgs, info).decode("utf-8")  # strict: no CESU-8 surrogate bytes
    readme_text(info, len(msgs), BUILTIN_FORMATS).decode("utf-8")


def _original(text: str) -> str:
    """What a reader gets back for ``text``: JSON joins a surrogate pair into one character."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


@hostile
@given(msgs=message_lists)
def test_jsonl_one_exact_record_per_line(msgs: list[ExportMessage]) -> None:
    text = render_jsonl(msgs, INFO).decode("utf-8")
    lines = text.splitlines()  # splits on every Unicode line boundary
    assert len(lines) == len(msgs)
    for line, message in zip(lines, msgs, strict=True):
        row = json.loads(line)
        assert row["content"] == _original(message.content)
        assert row["author"] == _original(message.author_name)
        assert [a["url"] for a in row["attachments"]] == [
            _original(a.url) for a in message.attachments
        ]


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@hostile
@given(msgs=message_lists)
def test_csv_neutralises_every_text_cell(msgs: list[ExportMessage]) -> None:
    data = render_csv(msgs, INFO).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(data, newline="")))
    assert rows[0] == list(CSV_COLUMNS)
    assert len(rows) == len(msgs) + 1
    for row in rows[1:]:
        for column, cell in zip(CSV_COLUMNS, row, strict=True):
            assert not cell.startswith(FORMULA_START), (column, cell)


class _Page(html.parser.HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


ALLOWED_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "p", "div", "span", "a"}
ALLOWED_ATTRIBUTES = {"charset", "http-equiv", "content", "class", "id", "title", "href", "rel"}


@hostile
@given(msgs=message_lists, info=infos)
def test_html_cannot_run_script_or_load_anything(
    msgs: list[ExportMessage], info: ExportInfo
) -> None:
    page = render_html(msgs, info).decode("utf-8")
    parser = _Page()
    parser.feed(page)
    parser.close()
    assert "<script" not in page.lower()
    counts = {tag: 0 for tag in ("meta", "style", "title")}
    for tag, attributes in parser.tags:
        assert tag in ALLOWED_TAGS, tag
        counts[tag] = counts.get(tag, 0) + 1
        for name, value in attributes:
            assert name in ALLOWED_ATTRIBUTES, (tag, name)
            assert not name.startswith("on")
            if name == "href":
                assert value is not None
                assert value.startswith(("https://", "http://", "#m")), value
                if value.startswith("#m"):
                    assert value[2:].isdigit()
            if name == "rel":
                assert value == "noopener noreferrer"
    # Only the renderer's own head: one CSP, one charset, one style sheet, one title.
    assert counts["meta"] == 2
    assert counts["style"] == 1
    assert counts["title"] == 1
    assert "content=\"default-src 'none'; style-src 'unsafe-inline'\"" in page


INFO = ExportInfo("#general", BASE)
