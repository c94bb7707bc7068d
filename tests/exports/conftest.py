"""Shared fixtures for export tests: synthetic messages and a real 7z runner."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest

from securebot.exports import ExportAttachment, ExportEmbed, ExportInfo, ExportMessage

BASE = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
SEVEN_ZIP = shutil.which("7z")


def make_messages(count: int = 20) -> list[ExportMessage]:
    """Varied messages: Unicode, formula-looking text, attachments, embeds, replies."""
    texts = [
        "hello world",
        "Grüße aus Köln — ✓ 日本語 🎉",
        '=HYPERLINK("http://evil")',
        'line one\nline two, with "quotes" and commas',
        "<script>alert(1)</script>",
        "",
    ]
    out = []
    for i in range(count):
        attachments = ()
        embeds = ()
        if i % 4 == 1:
            attachments = (
                ExportAttachment(
                    9000 + i,
                    f"pic{i}.png",
                    f"https://cdn.example/att/{i}/pic.png",
                    1234,
                    "image/png",
                ),
            )
        if i % 5 == 2:
            embeds = (ExportEmbed("rich", f"Title {i}", "Some description", "", (("f", "v"),)),)
        out.append(
            ExportMessage(
                id=1_000_000 + i,
                created_at=BASE + dt.timedelta(seconds=i),
                author_id=42 + i % 3,
                author_name=["alice", "bøb", "=carol"][i % 3],
                content=texts[i % len(texts)],
                author_bot=i % 7 == 0,
                attachments=attachments,
                embeds=embeds,
                reply_to=1_000_000 + i - 1 if i % 6 == 3 else None,
            )
        )
    return out


@pytest.fixture
def messages() -> list[ExportMessage]:
    return make_messages()


@pytest.fixture
def info() -> ExportInfo:
    return ExportInfo("#general (Test Guild)", BASE, channel_id=7, guild_id=8)


def run_7z(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real 7z binary (tests only: a password in argv is fine here, never in src)."""
    assert SEVEN_ZIP is not None, "7z is not installed: ./dev test installs p7zip-full"
    return subprocess.run(
        [SEVEN_ZIP, *args], capture_output=True, text=True, check=False, cwd=cwd, timeout=120
    )
