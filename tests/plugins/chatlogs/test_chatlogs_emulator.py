"""``savechat`` and ``deletedm`` through the real discord.py client against the local Discord
emulator, with downloads through the real gateway and archives checked by the real ``7z``."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import attrs
import pytest

from securebot.core.audit import AuditLog, MemoryAuditStore
from securebot.crypto import FieldCipher, Keyring, Secret, install_redaction
from securebot.exports import (
    DownloadTokenSigner,
    ExportFormat,
    ExportService,
    FormatRegistry,
    LocalExportStore,
    MemoryExportMetadataStore,
)
from securebot.gateway import ExportGateway, create_app
from securebot.gateway.server import start
from securebot.plugins.chatlogs import ChatLogs
from securebot.plugins.chatlogs.plugin import NO_LINKS
from securebot.plugins.core_commands import CoreCommands
from securebot.testing.emulator import permissions

pytestmark = pytest.mark.slow

LINK = re.compile(r"(http://127\.0\.0\.1:\d+/exports/[0-9a-f]{32}\?token=\S+)")
PASSWORD = re.compile(r"^Password: `([A-Za-z0-9_-]{24})`$")


@attrs.define
class Exports:
    service: ExportService
    audit: AuditLog
    root: Path


@pytest.fixture
async def exports(tmp_path: Path) -> AsyncIterator[Exports]:
    signer = DownloadTokenSigner(Secret(os.urandom(32)))
    store = LocalExportStore(tmp_path / "store")
    metadata = MemoryExportMetadataStore(FieldCipher(Keyring.generate(), "exports"))
    audit = AuditLog(MemoryAuditStore())
    gateway = ExportGateway(signer=signer, metadata=metadata, stores={"local": store}, audit=audit)
    runner, port = await start(create_app(gateway, hsts=False))
    service = ExportService(
        store=store, metadata=metadata, signer=signer, gateway_url=f"http://127.0.0.1:{port}"
    )
    try:
        yield Exports(service, audit, tmp_path)
    finally:
        await runner.cleanup()


#: What the bot is given: enough for chatlogs, not Administrator (so channel overwrites apply).
BOT_PERMISSIONS = (
    permissions.VIEW_CHANNEL
    | permissions.SEND_MESSAGES
    | permissions.READ_MESSAGE_HISTORY
    | permissions.MANAGE_MESSAGES
    | permissions.EMBED_LINKS
    | permissions.ATTACH_FILES
)


@pytest.fixture
def discord_guild(emulator, discord_bot_account):
    return emulator.standard_guild(discord_bot_account, bot_permissions=BOT_PERMISSIONS)


@pytest.fixture
def securebot_plugins(exports: Exports) -> list:
    return [ChatLogs(service=exports.service), CoreCommands()]


@pytest.fixture
def bot(securebot_bot):
    """The bot as shipped: ``chatlogs`` is open to everyone like the spec's ``util`` module, and
    Discord's Manage Messages (declared by ``savechat``) is the gate."""
    assert "chatlogs" in securebot_bot.permissions.everyone_modules
    return securebot_bot


@pytest.fixture
def redaction() -> Iterator[None]:
    undo = install_redaction()
    yield
    undo()


def _7z(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["7z", *args], capture_output=True, text=True, check=False, timeout=120)


def _seed(emulator, g, count: int) -> list:
    people = [g.member, g.admin, g.owner]
    texts = [
        "hello",
        "Grüße 🎉 日本語 — ✓",
        '=cmd|" /C calc"!A0',
        "a\nmulti-line\tmessage",
        "<b>x</b>",
    ]
    sent = []
    for i in range(count):
        options: dict = {}
        if i % 50 == 7:
            options["files"] = {f"file{i}.txt": f"attachment {i}".encode()}
        if i % 60 == 11:
            options["embeds"] = [
                {"type": "rich", "title": f"Embed {i}", "description": "summary ✨"}
            ]
        sent.append(emulator.send(people[i % 3], g.general, f"{texts[i % 5]} #{i}", **options))
    return sent


async def test_savechat_500_delivers_a_link_and_a_separate_password(
    emulator, discord_guild, bot, exports, redaction, tmp_path: Path, caplog
) -> None:
    g = discord_guild
    seeded = _seed(emulator, g, 500)
    await emulator.settle()
    caplog.set_level(logging.DEBUG)
    status = await emulator.ask(g.moderator, g.general, "!savechat 500", timeout=30)
    assert status.content.startswith("Exporting")
    dms = await emulator.wait_for(
        lambda: (d := emulator.dms(g.moderator)) and len(d) >= 2 and d, timeout=60
    )
    link_dm, password_dm = dms[:2]
    link = LINK.search(link_dm.content).group(1)
    password = PASSWORD.match(password_dm.content).group(1)
    assert password not in link_dm.content
    await emulator.wait_for(lambda: status.content.startswith("Done"), timeout=10)
    assert "500 messages" in status.content
    # Download through the gateway.
    async with aiohttp.ClientSession() as session, session.get(link) as response:
        assert response.status == 200
        body = await response.read()
    archive = tmp_path / "export.7z"
    archive.write_bytes(body)
    tested = _7z("t", f"-p{password}", str(archive))
    assert tested.returncode == 0, tested.stdout
    assert _7z("t", "-pwrong", str(archive)).returncode != 0
    listed = _7z("l", "-p", str(archive))
    assert listed.returncode != 0
    assert "messages.jsonl" not in listed.stdout
    out = tmp_path / "out"
    assert _7z("x", f"-p{password}", f"-o{out}", str(archive)).returncode == 0
    rows = [json.loads(x) for x in (out / "messages.jsonl").read_text("utf-8").splitlines()]
    # The transcript matches the channel exactly: same messages, order, authors, text, files.
    assert [r["id"] for r in rows] == [str(m.id) for m in seeded]
    assert [r["content"] for r in rows] == [m.content for m in seeded]
    assert [r["author_id"] for r in rows] == [str(m.author_id) for m in seeded]
    for row, message in zip(rows, seeded, strict=True):
        assert [a["filename"] for a in row["attachments"]] == [
            a.filename for a in message.attachments
        ]
        assert all(a["url"].startswith("http") for a in row["attachments"])
        assert [(e["title"], e["description"]) for e in row["embeds"]] == [
            (e.get("title", ""), e.get("description", "")) for e in message.embeds
        ]
    assert sum(1 for r in rows if r["attachments"]) == 10
    assert sum(1 for r in rows if r["embeds"]) == 9
    csv_text = (out / "messages.csv").read_text("utf-8-sig")
    assert "Grüße 🎉 日本語" in csv_text
    assert "'=cmd" in csv_text  # formula cells neutralised in the spreadsheet format
    # The history was read 100 messages per request.
    pages = [
        c
        for c in emulator.calls_to("GET /channels/{channel_id}/messages")
        if c.path.split("/")[2] == str(g.general.id)
    ]
    assert [c.query.get("limit") for c in pages] == ["100"] * 5
    # No password in any log line (discord.py's own DEBUG payload logs included) or audit entry.
    await bot.audit_log.flush()
    await exports.audit.flush()
    texts = [logging.Formatter().format(r) for r in caplog.records]
    for log in (bot.audit_log, exports.audit):
        for chain in await log.store.chains():
            texts += [repr(e) for e in await log.entries(chain)]
    haystack = "\n".join(texts)
    assert "savechat" in haystack
    assert password not in haystack


async def test_deletedm_removes_exactly_the_bots_dms_and_only_in_dms(
    emulator, discord_guild, bot, discord_bot_account
) -> None:
    g = discord_guild
    _seed(emulator, g, 5)
    await emulator.ask(g.moderator, g.general, "!savechat 5", timeout=30)
    await emulator.wait_for(lambda: len(emulator.dms(g.moderator)) >= 2, timeout=30)
    # Someone else's DMs with the bot are not touched.
    other = await emulator.ask(g.member, g.general, "!savechat 3")
    assert "manage" in other.content.lower() or "can't" in other.content.lower()
    emulator.dm(g.admin, discord_bot_account, "!ping")
    await emulator.wait_for(lambda: emulator.dms(g.admin), timeout=5)
    admin_before = [m.id for m in emulator.dms(g.admin)]
    # Outside DMs: refused, nothing deleted.
    refusal = await emulator.ask(g.moderator, g.general, "!deletedm")
    assert "private messages" in refusal.content.lower() or "dm" in refusal.content.lower()
    assert len(emulator.dms(g.moderator)) == 2
    # A single message by id: only the bot's own.
    user_msg = emulator.dm(g.moderator, discord_bot_account, "keep this")
    reply = await emulator.ask(
        g.moderator,
        user_msg_channel(emulator, g.moderator, discord_bot_account),
        f"!deletedm {user_msg.id}",
    )
    assert "isn't mine" in reply.content
    password_dm = emulator.dms(g.moderator)[1]
    reply = await emulator.ask(
        g.moderator,
        user_msg_channel(emulator, g.moderator, discord_bot_account),
        f"!deletedm {password_dm.id}",
    )
    assert reply.content == "Deleted 1 of my messages in this conversation."
    assert password_dm.id not in [m.id for m in emulator.dms(g.moderator)]
    # All of them.
    dm_channel = user_msg_channel(emulator, g.moderator, discord_bot_account)
    bot_count = len(emulator.dms(g.moderator))
    reply = await emulator.ask(g.moderator, dm_channel, "!deletedm")
    assert reply.content == f"Deleted {bot_count} of my messages in this conversation."
    assert [m.id for m in emulator.dms(g.moderator)] == [reply.id]
    users_left = [m for m in emulator.messages(dm_channel) if m.author_id == g.moderator.id]
    assert [m.content for m in users_left][:1] == ["keep this"]
    assert [m.id for m in emulator.dms(g.admin)] == admin_before


def user_msg_channel(emulator, user, bot):
    return emulator.world.dm_channel(user.id, bot.user.id)


async def test_refusals_missing_permissions_and_closed_dms(
    emulator, discord_guild, bot, discord_bot_account, exports
) -> None:
    g = discord_guild
    _seed(emulator, g, 3)
    refused = await emulator.ask(g.member, g.general, "!savechat")
    assert "Manage Messages" in refused.content or "manage_messages" in refused.content
    # Closed DMs: said in the channel, export deleted, nothing leaked.
    g.moderator.accepts_dms = False
    status = await emulator.ask(g.moderator, g.general, "!savechat 3", timeout=30)
    await emulator.wait_for(lambda: "couldn't send you" in status.content, timeout=30)
    assert "http" not in status.content
    assert exports.service.metadata.documents == {}
    assert list((exports.root / "store").rglob("*.7z")) == []
    # A renderer failing mid-export: the status says so, nothing is kept or sent.
    g.moderator.accepts_dms = True
    healthy = exports.service.formats

    def broken(messages, info):
        raise RuntimeError("renderer bug")

    exports.service.formats = FormatRegistry(
        [
            ExportFormat("csv", "csv", "text/csv", broken),
            *[f for f in healthy.values() if f.name != "csv"],
        ]
    )
    status = await emulator.ask(g.moderator, g.general, "!savechat 3", timeout=30)
    await emulator.wait_for(lambda: "export failed" in status.content, timeout=30)
    exports.service.formats = healthy
    assert emulator.dms(g.moderator) == []
    assert exports.service.metadata.documents == {}
    # The bot may not read the channel's history: a clear refusal, nothing exported.
    g.moderator.accepts_dms = True
    emulator.set_overwrite(g.general, g.bot_role, deny=permissions.READ_MESSAGE_HISTORY)
    refused = await emulator.ask(g.moderator, g.general, "!savechat 2")
    assert "Read Message History" in refused.content or "read_message_history" in refused.content
    assert emulator.dms(g.moderator) == []
    assert exports.service.metadata.documents == {}
    # No download gateway for the local store: said up front, nothing fetched or exported.
    emulator.set_overwrite(g.general, g.bot_role)
    await emulator.settle()
    exports.service.gateway_url = None
    fetched = len(emulator.calls_to("GET /channels/{channel_id}/messages"))
    refused = await emulator.ask(g.moderator, g.general, "!savechat 2")
    assert refused.content == NO_LINKS
    assert len(emulator.calls_to("GET /channels/{channel_id}/messages")) == fetched
    assert emulator.dms(g.moderator) == []
    assert exports.service.metadata.documents == {}
    await asyncio.sleep(0)


@pytest.mark.parametrize(
    "argument",
    ["0", "-5", "2001", "99999999999999999999999", "abc", "1e3", "12.5", "0x10"],
)
async def test_savechat_refuses_counts_outside_1_to_2000(
    emulator, discord_guild, bot, exports, argument: str
) -> None:
    g = discord_guild
    _seed(emulator, g, 3)
    await emulator.settle()
    fetched = len(emulator.calls_to("GET /channels/{channel_id}/messages"))
    refused = await emulator.ask(g.moderator, g.general, f"!savechat {argument}", timeout=30)
    await emulator.settle()
    assert not refused.content.startswith(("Exporting", "Done")), refused.content
    assert len(emulator.calls_to("GET /channels/{channel_id}/messages")) == fetched
    assert emulator.dms(g.moderator) == []
    assert exports.service.metadata.documents == {}
    assert list((exports.root / "store").rglob("*.7z")) == []


async def test_the_download_token_is_in_no_log_line(
    emulator, discord_guild, bot, exports, redaction, caplog
) -> None:
    """The link DM goes through discord.py, which logs request payloads at DEBUG: the token
    in it must come out redacted, like the password."""
    g = discord_guild
    _seed(emulator, g, 3)
    await emulator.settle()
    caplog.set_level(logging.DEBUG)
    await emulator.ask(g.moderator, g.general, "!savechat 3", timeout=30)
    dms = await emulator.wait_for(
        lambda: (d := emulator.dms(g.moderator)) and len(d) >= 2 and d, timeout=30
    )
    token = LINK.search(dms[0].content).group(1).split("token=", 1)[1]
    password = PASSWORD.match(dms[1].content).group(1)
    await emulator.settle()
    texts = [logging.Formatter().format(r) for r in caplog.records]
    haystack = "\n".join(texts)
    assert "/exports/" in haystack  # the link DM's payload was logged...
    assert password not in haystack
    assert token not in haystack  # ...without its token
    assert token.split(".")[2] not in haystack


async def test_deletedm_by_id_reaches_no_message_outside_that_dm(
    emulator, discord_guild, bot, discord_bot_account
) -> None:
    """An id of the bot's own message elsewhere (a guild channel, another user's DM) names
    no message of this conversation: nothing is deleted."""
    g = discord_guild
    in_guild = await emulator.ask(g.moderator, g.general, "!ping")
    emulator.dm(g.admin, discord_bot_account, "!ping")
    (admins,) = await emulator.wait_for(lambda: emulator.dms(g.admin), timeout=5)
    dm_channel = user_msg_channel(emulator, g.moderator, discord_bot_account)
    for foreign in (in_guild, admins):
        reply = await emulator.ask(g.moderator, dm_channel, f"!deletedm {foreign.id}")
        assert reply.content == "There is no message with that id in this conversation."
    assert in_guild.id in [m.id for m in emulator.messages(g.general)]
    assert [m.id for m in emulator.dms(g.admin)] == [admins.id]
