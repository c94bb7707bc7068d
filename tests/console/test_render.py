"""The console renders Discord message JSON as text, and never lets it drive the terminal."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from securebot.testing.console import (
    render_attachment,
    render_components,
    render_embed,
    render_message,
    render_reactions,
    sanitize,
)

BOT = {"id": "10", "username": "Giselle", "bot": True}
ADA = {"id": "11", "username": "ada", "global_name": "Ada L."}


def message(**fields: Any) -> dict[str, Any]:
    return {"id": "1", "channel_id": "2", "author": BOT, "content": "", **fields}


def test_plain_reply_shows_channel_author_and_content() -> None:
    text = render_message(message(content="pong (3 ms)"), where="#general")
    assert text == "[#general] Giselle [bot]: pong (3 ms)"


def test_user_shown_by_global_name_and_multiline_content_indented() -> None:
    text = render_message(message(author=ADA, content="line one\nline two"), where="DM")
    assert text.splitlines() == ["[DM] Ada L.: line one", "  line two"]


def test_embed_title_description_fields_footer() -> None:
    embed = {
        "title": "Case 12",
        "url": "https://example.test/case/12",
        "description": "Member warned",
        "fields": [
            {"name": "Reason", "value": "spam", "inline": True},
            {"name": "Points", "value": "3\n(total 7)"},
        ],
        "footer": {"text": "moderation"},
        "timestamp": "2026-11-23T22:00:00+00:00",
        "author": {"name": "grace"},
        "image": {"url": "https://example.test/i.png"},
    }
    assert render_embed(embed) == [
        "┌─ embed",
        "│ grace",
        "│ **Case 12** <https://example.test/case/12>",
        "│ Member warned",
        "│ Reason: spam",
        "│ Points:",
        "│   3",
        "│   (total 7)",
        "│ [image] https://example.test/i.png",
        "└─ moderation · 2026-11-23T22:00:00+00:00",
    ]


def test_empty_embed_is_still_visible() -> None:
    assert render_embed({}) == ["[embed]"]


def test_message_with_embed_attachment_reactions_and_buttons() -> None:
    msg = message(
        content="Giveaway!",
        embeds=[{"title": "Prize", "footer": {"text": "ends soon"}}],
        attachments=[
            {"id": "5", "filename": "rules.txt", "size": 2048, "url": "http://e/a/rules.txt"}
        ],
        reactions=[
            {"emoji": {"id": None, "name": "🎉"}, "count": 3, "me": True},
            {"emoji": {"id": "99", "name": "party"}, "count": 1, "me": False},
        ],
        components=[
            {
                "type": 1,
                "components": [
                    {"type": 2, "style": 1, "label": "Enter", "custom_id": "enter"},
                    {"type": 2, "style": 4, "label": "Leave", "custom_id": "x", "disabled": True},
                    {"type": 2, "style": 5, "label": "Docs", "url": "https://docs.test"},
                ],
            },
            {
                "type": 1,
                "components": [
                    {
                        "type": 3,
                        "custom_id": "pick",
                        "placeholder": "Pick a role",
                        "options": [
                            {"label": "red", "value": "r"},
                            {"label": "blue", "value": "b"},
                        ],
                    }
                ],
            },
        ],
    )
    assert render_message(msg, where="#giveaways").splitlines() == [
        "[#giveaways] Giselle [bot]: Giveaway!",
        "  ┌─ embed",
        "  │ **Prize**",
        "  └─ ends soon",
        "  [file] rules.txt (2.0 KiB) http://e/a/rules.txt",
        "  [Enter] [Leave (disabled)] [Docs ↗ https://docs.test]",
        "  <select: Pick a role red | blue>",
        "  reactions: 🎉 3 (bot) · :party: 1",
    ]


def test_ephemeral_flag_is_marked() -> None:
    assert render_message(message(content="secret", flags=64)).endswith("(only you can see this)")


def test_mentions_resolved_by_lookup_and_left_alone_when_unknown() -> None:
    names = {("user", 11): "ada", ("role", 7): "Moderator", ("channel", 3): "general"}

    def lookup(kind: str, ident: int) -> str | None:
        return names.get((kind, ident))

    text = render_message(
        message(content="<@11> <@!11> <@&7> <#3> <@404> <:blob:123>"), names=lookup
    )
    assert text.endswith(": @ada @ada @Moderator #general <@404> :blob:")


def test_attachment_sizes() -> None:
    assert render_attachment({"filename": "a", "size": 10}) == "[file] a (10 B)"
    assert render_attachment({"filename": "b", "size": 3 * 1024 * 1024}) == "[file] b (3.0 MiB)"


def test_no_reactions_no_line() -> None:
    assert render_reactions([]) == ""
    assert render_components([]) == []


def test_escape_sequences_are_neutralised() -> None:
    hostile = "hi\x1b[2J\x1b]0;pwned\x07\u202e\x00"
    text = render_message(message(content=hostile, author={"username": "x\x1b[31m"}))
    for raw in ("\x1b", "\x07", "\u202e", "\x00"):
        assert raw not in text
    assert "\\x1b[2J" in text
    assert "\\u202e" in text


@given(st.text())
def test_sanitize_output_has_no_control_characters(value: str) -> None:
    cleaned = sanitize(value)
    assert all(
        ch in "\n\t" or ch.isprintable() or ch == " " or not _is_control(ch) for ch in cleaned
    )
    assert not any(_is_control(ch) for ch in cleaned if ch not in "\n\t")


def _is_control(ch: str) -> bool:
    import unicodedata

    return unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


KEYS = [
    "type",
    "components",
    "label",
    "style",
    "url",
    "emoji",
    "name",
    "id",
    "options",
    "placeholder",
    "disabled",
    "count",
    "me",
    "title",
    "description",
    "fields",
    "value",
    "footer",
    "text",
    "timestamp",
    "author",
    "image",
    "filename",
    "size",
    "username",
    "bot",
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=5), inner, max_size=5)
    ),
    max_leaves=30,
)


@given(
    st.fixed_dictionaries(
        {},
        optional={
            "content": json_values,
            "author": json_values,
            "embeds": json_values,
            "attachments": json_values,
            "components": json_values,
            "reactions": json_values,
        },
    )
)
@settings(max_examples=300)
def test_render_message_never_raises_on_odd_payloads(payload: dict[str, Any]) -> None:
    try:
        text = render_message(payload)
    except (TypeError, AttributeError) as exc:  # pragma: no cover - shown by hypothesis
        raise AssertionError(f"render_message crashed on {payload!r}: {exc}") from exc
    assert isinstance(text, str)


def test_discord_timestamps_shown_as_dates_and_relative_times() -> None:
    import time

    soon = int(time.time()) + 2 * 3600 + 30
    text = render_message(message(content=f"at <t:0:F>, due <t:{soon}:R>, bad <t:99999999999999>"))
    assert text.endswith(": at 1970-01-01 00:00 UTC, due in 2 hours, bad <t:99999999999999>")
