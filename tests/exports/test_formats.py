"""Renderers: exact text in JSON Lines, safe CSV and HTML, summaries; the format registry."""

from __future__ import annotations

import csv
import html
import io
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

import securebot
from securebot.errors import DuplicateRegistrationError, ExportError
from securebot.exports import (
    BUILTIN_FORMATS,
    ExportAttachment,
    ExportFormat,
    ExportInfo,
    ExportMessage,
    FormatRegistry,
    render_files,
)
from securebot.exports.formats import render_csv, render_html, render_jsonl, render_txt

from .conftest import BASE, make_messages

INFO = ExportInfo("#general", BASE)


def test_jsonl_keeps_every_message_exactly(messages) -> None:
    lines = render_jsonl(messages, INFO).decode("utf-8").splitlines()
    assert len(lines) == len(messages)
    for line, message in zip(lines, messages, strict=True):
        row = json.loads(line)
        assert row["id"] == str(message.id)
        assert row["content"] == message.content
        assert row["author"] == message.author_name
        assert [a["url"] for a in row["attachments"]] == [a.url for a in message.attachments]
        assert [e["title"] for e in row["embeds"]] == [e.title for e in message.embeds]


text_st = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80)


@given(contents=st.lists(text_st, min_size=1, max_size=8), name=text_st)
def test_jsonl_round_trips_any_text(contents: list[str], name: str) -> None:
    msgs = [
        ExportMessage(id=i + 1, created_at=BASE, author_id=1, author_name=name, content=c)
        for i, c in enumerate(contents)
    ]
    rows = [json.loads(x) for x in render_jsonl(msgs, INFO).decode("utf-8").splitlines()]
    assert len(rows) == len(contents)  # no character splits a record
    assert [r["content"] for r in rows] == contents
    assert {r["author"] for r in rows} == {name}


@given(contents=st.lists(text_st, min_size=1, max_size=8))
def test_csv_parses_back_with_formula_cells_neutralised(contents: list[str]) -> None:
    msgs = [
        ExportMessage(id=i + 1, created_at=BASE, author_id=1, author_name="a", content=c)
        for i, c in enumerate(contents)
    ]
    data = render_csv(msgs, INFO)
    assert data.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert len(rows) == len(contents)
    for row, content in zip(rows, contents, strict=True):
        if content.startswith(("=", "+", "-", "@", "\t", "\r")):
            assert row["content"] == "'" + content
        else:
            assert row["content"] == content


def test_csv_columns_and_attachment_links(messages) -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv(messages, INFO).decode("utf-8-sig"))))
    with_att = [r for r, m in zip(rows, messages, strict=True) if m.attachments]
    assert with_att
    assert all(r["attachments"].startswith("https://cdn.example/") for r in with_att)
    assert rows[2]["content"].startswith("'=HYPERLINK")
    assert rows[2]["author"] == "'=carol"


def test_html_escapes_content_and_links_only_http_urls() -> None:
    msgs = make_messages(12)
    page = render_html(msgs, INFO).decode("utf-8")
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="https://cdn.example/att/1/pic.png"' in page
    assert "default-src 'none'" in page  # opening the file loads nothing remote
    assert "[rich] Title 2 Some description (+1 fields)" in page
    bad = ExportMessage(
        id=1,
        created_at=BASE,
        author_id=1,
        author_name="x",
        attachments=(ExportAttachment(1, "evil", "javascript:alert(1)"),),
    )
    assert 'href="javascript' not in render_html([bad], INFO).decode()


def test_txt_transcript_lines(messages) -> None:
    text = render_txt(messages, INFO).decode("utf-8")
    assert text.startswith("Chat log: #general\n")
    assert "[2026-11-01 12:00:01 UTC] bøb (43): Grüße aus Köln — ✓ 日本語 🎉" in text
    assert "    attachment: pic1.png <https://cdn.example/att/1/pic.png>" in text
    assert "    embed: [rich] Title 2 Some description (+1 fields)" in text


def test_registry_rejects_duplicates_and_unknown_names() -> None:
    registry = FormatRegistry()
    assert set(registry) == {f.name for f in BUILTIN_FORMATS}
    dup = ExportFormat("csv", "csv", "text/csv", lambda m, i: b"")
    with pytest.raises(DuplicateRegistrationError, match="'csv' is registered twice"):
        registry.register(dup, owner="plugin 'x'")
    with pytest.raises(ExportError, match="unknown export format 'pdf'"):
        registry.select(["pdf"])
    with pytest.raises(ExportError):
        registry.register("csv")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="lowercase"):
        ExportFormat("Bad Name", "x", "text/plain", lambda m, i: b"")
    with pytest.raises(ValueError, match="lowercase"):
        ExportFormat("md\n", "md", "text/plain", lambda m, i: b"")
    with pytest.raises(ValueError, match="lowercase"):
        ExportFormat("md", "md\n", "text/plain", lambda m, i: b"")


def test_render_files_names_a_failing_or_lying_renderer(messages) -> None:
    def boom(m, i):
        raise RuntimeError("secret detail")

    broken = ExportFormat("boom", "bin", "application/octet-stream", boom)
    with pytest.raises(ExportError, match="'boom' failed to render: RuntimeError") as info:
        render_files([broken], messages, INFO)
    assert "secret detail" not in str(info.value)
    liar = ExportFormat("liar", "txt", "text/plain", lambda m, i: "text")  # type: ignore[arg-type,return-value]
    with pytest.raises(ExportError, match="returned str"):
        render_files([liar], messages, INFO)


class _Markdown(securebot.Plugin):
    manifest = securebot.PluginManifest(
        name="md_export",
        version="1",
        description="Adds a markdown export format.",
        user_data=securebot.UserData.none(),
    )

    @securebot.hookimpl
    def securebot_register_export_formats(self):
        return [ExportFormat("md", "md", "text/markdown", lambda m, i: b"# log\n")]


class _Clash(securebot.Plugin):
    manifest = securebot.PluginManifest(
        name="md_clash",
        version="1",
        description="Registers md again.",
        user_data=securebot.UserData.none(),
    )

    @securebot.hookimpl
    def securebot_register_export_formats(self):
        return [ExportFormat("md", "markdown", "text/markdown", lambda m, i: b"")]


def test_plugins_add_formats_through_the_hook_and_duplicates_are_refused(messages) -> None:
    manager = securebot.PluginManager()
    manager.register(_Markdown())
    registry = FormatRegistry.from_plugins(manager)
    assert "md" in registry
    assert render_files(registry.select(["md", "csv"]), messages, INFO)[0] == (
        "messages.md",
        b"# log\n",
    )
    manager.register(_Clash())
    with pytest.raises(DuplicateRegistrationError, match="md_clash|md_export"):
        FormatRegistry.from_plugins(manager)


@given(
    content=text_st,
    name=text_st,
    bot=st.booleans(),
    reply=st.none() | st.integers(min_value=1, max_value=2**63),
)
def test_jsonl_fast_path_equals_the_generic_encoding(content, name, bot, reply) -> None:
    from securebot.exports.formats import _dumps, _jsonl_line, message_dict

    m = ExportMessage(
        id=5,
        created_at=BASE,
        author_id=7,
        author_name=name,
        content=content,
        author_bot=bot,
        reply_to=reply,
    )
    assert _jsonl_line(m) == _dumps(message_dict(m))


@given(content=text_st, name=text_st)
def test_html_never_lets_message_text_open_a_tag(content: str, name: str) -> None:
    m = ExportMessage(id=1, created_at=BASE, author_id=2, author_name=name, content=content)
    page = render_html([m], INFO).decode("utf-8")
    body = page.split('<div class="m" id="m1">', 1)[1]
    # Every "<" in the message part is one of ours: the tags the renderer writes.
    tags = re.findall(r"<[^>]*>", body)
    allowed = {'<span class="t">', "</span>", '<span class="a" title="2">', '<div class="c">'}
    allowed |= {"</div>", "</body>", "</html>"}
    assert set(tags) <= allowed
    assert html.unescape(body.split('<div class="c">', 1)[1].split("</div>", 1)[0]) == content
