"""End-to-end command throughput through the emulator: user message -> bot -> reply observed.

Two bots connect to one in-process emulator over real sockets, in the same guild and run:
* ours: a securebot :class:`~securebot.Bot` (permission gate, cooldowns, audit, hooks) with a
  plugin whose ``!pong`` command replies "pong";
* anchor: a bare discord.py ``commands.Bot`` whose ``?pong`` command replies "pong".

A round is: a member posts the command (MESSAGE_CREATE over the gateway), the bot handles it and
POSTs its reply, and the emulator records that call. Rounds are timed in alternating batches;
the ratio is ours/anchor (target <= 1.5, performance-anchors.md) and each side's commands per
second are printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import statistics
import time
from typing import Any

import discord
from discord.ext import commands

import securebot
from bench.harness import Result
from securebot.core.config import parse_config
from securebot.testing.emulator import Emulator, RateLimits, use_emulator
from securebot.testing.emulator.api import Call
from securebot.testing.emulator.calllog import CallLog

#: Rounds per batch and batches per side.
ROUNDS = 40
BATCHES = 7


class PongPlugin(securebot.Plugin):
    """The benchmark's command."""

    manifest = securebot.PluginManifest(
        name="bench_pong",
        version="1.0",
        description="replies pong",
        user_data=securebot.UserData.none(),
        intents={"guild_messages", "message_content"},
    )

    @securebot.command(help="Reply pong.")
    async def pong(self, ctx: securebot.Context) -> None:
        """Reply pong."""
        await ctx.send("pong")


def _bare_bot() -> commands.Bot:
    intents = discord.Intents.default()
    intents.message_content = True
    bot = commands.Bot(command_prefix="?", intents=intents, help_command=None)

    @bot.command()
    async def pong(ctx: commands.Context[Any]) -> None:
        await ctx.send("pong")

    return bot


def _our_bot(base_url: str) -> securebot.Bot:
    config = parse_config(
        {"bot": {"prefix": "!", "api_base_url": base_url}, "plugins": {"enable": []}},
        source="bench",
    )
    manager = securebot.PluginManager()
    manager.register(PongPlugin())
    manager.hook.securebot_configure.call_historic(kwargs={"config": config})
    return securebot.Bot(config, manager, guild_ready_timeout=0.05)


async def _start(bot: Any, token: str) -> asyncio.Task[None]:
    task = asyncio.create_task(bot.start(token))
    ready = asyncio.create_task(bot.wait_until_ready())
    done, _ = await asyncio.wait({task, ready}, timeout=30, return_when="FIRST_COMPLETED")
    if ready not in done:
        ready.cancel()
        raise RuntimeError(f"bot did not get ready: {task.exception() if task.done() else ''}")
    return task


async def _measure() -> tuple[float, float]:
    # Rate limits off: both bots would be slowed by 429s that measure the emulator, not them.
    emu = Emulator(rate_limits=RateLimits(enabled=False))
    await emu.start()
    world = emu.world
    ours_account = world.add_bot("ours", token="bench-ours-token")
    bare_account = world.add_bot("bare", token="bench-bare-token")
    user = world.add_user("member")
    guild = world.add_guild("bench", user.id)
    for account in (ours_account, bare_account):
        world.add_member(guild, account.user.id)
    channel = world.add_channel(guild, "general", _text_type())
    target = use_emulator(emu.base_url)
    ours = _our_bot(emu.base_url)
    bare = _bare_bot()
    tasks = [await _start(ours, ours_account.token), await _start(bare, bare_account.token)]
    calls = _ReplyLog()
    emu.calls = calls

    async def round_trip(content: str, bot_id: int) -> None:
        calls.expect(bot_id)
        emu.send(user, channel, content)
        call = await asyncio.wait_for(calls.waiter, timeout=10)
        if call.status != 200:
            raise RuntimeError(f"reply refused: {call.status} {call.response}")

    async def batch(content: str, bot_id: int) -> float:
        gc_was = gc.isenabled()
        gc.disable()
        try:
            begin = time.perf_counter()
            for _ in range(ROUNDS):
                await round_trip(content, bot_id)
            return (time.perf_counter() - begin) / ROUNDS * 1e6
        finally:
            if gc_was:
                gc.enable()

    try:
        await batch("!pong", ours_account.user.id)
        await batch("?pong", bare_account.user.id)
        ours_samples, bare_samples = [], []
        for _ in range(BATCHES):
            ours_samples.append(await batch("!pong", ours_account.user.id))
            bare_samples.append(await batch("?pong", bare_account.user.id))
            calls.clear()
            for message in list(channel.messages):
                channel.messages.pop(message)
        return statistics.median(ours_samples), statistics.median(bare_samples)
    finally:
        await ours.close()
        await bare.close()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        await emu.stop()
        target.restore()


class _ReplyLog(CallLog[Call]):
    """The emulator's call log, resolving a future when the awaited bot's reply is logged (the
    moment the emulator answers the POST), so no polling sits in the measured path."""

    ROUTE = "POST /channels/{channel_id}/messages"

    def __init__(self) -> None:
        super().__init__()
        self.bot_id = 0
        self.waiter: asyncio.Future[Call] = asyncio.get_running_loop().create_future()

    def expect(self, bot_id: int) -> None:
        self.bot_id = bot_id
        self.waiter = asyncio.get_running_loop().create_future()

    def append(self, entry: Call) -> int:
        number = super().append(entry)
        if entry.route == self.ROUTE and entry.bot_id == self.bot_id and not self.waiter.done():
            self.waiter.set_result(entry)
        return number


def _text_type() -> Any:
    from securebot.testing.emulator.model import ChannelType

    return ChannelType.TEXT


def run() -> list[Result]:
    """Median microseconds per command round trip, ours against bare discord.py."""
    logging.getLogger("discord").setLevel(logging.ERROR)
    logging.getLogger("securebot").setLevel(logging.ERROR)
    ours_us, bare_us = asyncio.run(_measure())
    detail = f"ours={1e6 / ours_us:.0f}cmd/s anchor={1e6 / bare_us:.0f}cmd/s"
    return [Result("e2e.command", ours_us, bare_us, target=1.5, detail=detail)]
