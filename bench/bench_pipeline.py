"""The command pipeline: securebot's ``on_message`` against bare discord.py on the same message.

Method (performance-anchors.md §1, B1/B1b): both bots get the same guild in their own
``ConnectionState`` (the no-network stub of the pipeline tests), messages are built from the same
MESSAGE_CREATE payload, and a counter checks that each command really ran.

* ``pipeline.ping``: a plain ``!ping`` through securebot's whole pipeline — permission gate
  (engine + ``securebot_permission_rules``), cooldown stage (``ping`` declares no limit),
  handler, audit record (queued: the background flush seals and stores it, here between timed
  batches), ``securebot_on_message`` observers — against bare
  ``commands.Bot.process_commands``. Target <= 1.5.
* ``pipeline.ping+chain``: the same with the audit write's CPU inside the timed loop (hash
  chain, sealing, append to the in-memory store every 100 messages). Target <= 3.
* ``pipeline.ping+sqlite``: the same with the entries appended to the storage layer's SQLite
  audit store (WAL, synchronous NORMAL) every 100 messages. Target <= 3.
* ``pipeline.chat``: an ordinary chat message (no prefix), paid on every message. Target <= 3.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any

import discord
from discord.ext import commands

import securebot
from bench.harness import Result, compare_in_loop
from securebot.storage.sqlite import SqliteAuditStore, SqliteBackend

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.pipeline import stub

FLUSH_EVERY = 100
NUMBER = 2_000
BATCHES = 7


class _Counter:
    count = 0


class BenchCommands(securebot.Plugin):
    """A ``ping`` that counts (no REST call, as in the anchor)."""

    manifest = securebot.PluginManifest(
        name="core_commands",
        version="1.0",
        description="benchmark ping",
        user_data=securebot.UserData.none(),
    )

    @securebot.command()
    async def ping(self, ctx: securebot.Context) -> None:
        _Counter.count += 1


def _bare_bot() -> commands.Bot:
    bare = commands.Bot(command_prefix="!", intents=discord.Intents.all(), help_command=None)

    @bare.command()
    async def ping(ctx: commands.Context[Any]) -> None:
        _Counter.count += 1

    return bare


async def _sqlite_store(directory: Path) -> tuple[SqliteBackend, SqliteAuditStore]:
    """The storage layer's SQLite audit store in a fresh file."""
    backend = SqliteBackend(directory / "securebot.sqlite3")
    await backend.open()
    return backend, SqliteAuditStore(backend)


async def _measure(directory: Path) -> list[Result]:
    manager = securebot.PluginManager()
    manager.register(BenchCommands())
    ours = securebot.Bot(securebot.Config(), manager, intents=discord.Intents.all())
    bare = _bare_bot()
    results: list[Result] = []
    async with ours, bare:
        ours_discord = stub.StubDiscord(ours)
        bare_discord = stub.StubDiscord(bare)
        await ours.setup_hook()
        ping_ours = ours_discord.message("!ping")
        ping_bare = bare_discord.message("!ping")
        chat_ours = ours_discord.message("hello there, how is everyone today?")
        chat_bare = bare_discord.message("hello there, how is everyone today?")
        calls = 0

        async def hot_path() -> None:
            await ours.on_message(ping_ours)

        async def with_audit_write() -> None:
            nonlocal calls
            await ours.on_message(ping_ours)
            calls += 1
            if calls % FLUSH_EVERY == 0:
                await ours.audit_log.flush()

        async def through_bare() -> None:
            await bare.process_commands(ping_bare)

        before = _Counter.count
        results.append(
            await compare_in_loop(
                "pipeline.ping",
                hot_path,
                through_bare,
                target=1.5,
                number=NUMBER,
                batches=BATCHES,
                detail="audit record queued; sealed and stored between batches",
                between=ours.audit_log.flush,
            )
        )
        ran = _Counter.count - before
        expected = 2 * (BATCHES * NUMBER + 1)
        if ran != expected:
            raise RuntimeError(f"ping ran {ran} times, expected {expected}")
        results.append(
            await compare_in_loop(
                "pipeline.ping+chain",
                with_audit_write,
                through_bare,
                target=3.0,
                number=NUMBER,
                batches=BATCHES,
                detail="hash chain + sealing + in-memory append every 100 (no I/O)",
            )
        )
        await ours.audit_log.flush()
        if ours.audit_log.pending:
            raise RuntimeError("audit events were not stored")

        backend, sqlite = await _sqlite_store(directory)
        ours.audit_log.store = sqlite
        results.append(
            await compare_in_loop(
                "pipeline.ping+sqlite",
                with_audit_write,
                through_bare,
                target=3.0,
                number=NUMBER,
                batches=BATCHES,
                detail="audit entries appended to SQLite (WAL, synchronous=NORMAL) every 100",
            )
        )
        await ours.audit_log.flush()
        if not (await ours.audit_log.verify(str(stub.GUILD))).ok:
            raise RuntimeError("the SQLite audit chain does not verify")
        await backend.close()

        async def chat_ours_fn() -> None:
            await ours.on_message(chat_ours)

        async def chat_bare_fn() -> None:
            await bare.process_commands(chat_bare)

        results.append(
            await compare_in_loop(
                "pipeline.chat",
                chat_ours_fn,
                chat_bare_fn,
                target=3.0,
                number=NUMBER,
                batches=BATCHES,
            )
        )
        await ours.close()
    return results


def run() -> list[Result]:
    """Time ``!ping`` and a chat message through securebot and bare discord.py."""
    with tempfile.TemporaryDirectory() as directory:
        return asyncio.run(_measure(Path(directory)))
