"""Scale: one shard receiving READY + a GUILD_CREATE burst for 2,500 guilds of 50 members.

``python -m bench.scale_burst [--guilds N] [--members M]`` builds the emulator's world (distinct
users in every guild: the owner, the bot and M-2 members, one text channel, @everyone), connects a
real discord.py client with the members intent on one shard, and reports:

* the time to build the world, and from ``client.start`` until every guild is cached and
  available with all its members (the burst), and until ``on_ready``;
* memory: the emulator world measured with ``tracemalloc`` while it is built, and the process's
  peak resident size (``ru_maxrss``, emulator + client in one process) after the burst.

Not part of ``python -m bench`` (there is no anchor to take a ratio against); its figures go into
the issue's closing note.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import resource
import sys
import time
import tracemalloc
from typing import Any

import discord

from securebot.testing.emulator import Emulator, use_emulator
from securebot.testing.emulator.model import ChannelType


def build_world(emu: Emulator, guilds: int, members: int) -> Any:
    """Seed ``guilds`` guilds of ``members`` members (bot included); the bot account."""
    world = emu.world
    bot = world.add_bot("scale-bot", token="scale-bot-token")
    for index in range(guilds):
        owner = world.add_user(f"owner{index}")
        guild = world.add_guild(f"guild {index}", owner.id)
        world.add_member(guild, bot.user.id)
        for number in range(members - 2):
            world.add_member(guild, world.add_user(f"m{index}-{number}").id)
        world.add_channel(guild, "general", ChannelType.TEXT)
    return bot


async def burst(guilds: int, members: int) -> dict[str, float]:
    """Build, connect, and measure; the figures by name."""
    emu = Emulator()
    await emu.start()
    tracemalloc.start()
    began = time.perf_counter()
    bot = build_world(emu, guilds, members)
    built = time.perf_counter() - began
    world_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    target = use_emulator(emu.base_url)
    intents = discord.Intents.default()
    intents.members = True
    client = discord.Client(
        intents=intents, chunk_guilds_at_startup=False, guild_ready_timeout=2.0, max_messages=None
    )
    ready_at: list[float] = []

    @client.event
    async def on_ready() -> None:
        ready_at.append(time.perf_counter())

    start = time.perf_counter()
    task = asyncio.create_task(client.start(bot.token))
    complete_at = None
    try:
        while complete_at is None:
            if task.done():
                raise RuntimeError(f"client stopped: {task.exception()!r}")
            cached = client.guilds
            if len(cached) == guilds and all(
                not g.unavailable and len(g.members) == members for g in cached
            ):
                complete_at = time.perf_counter()
            await asyncio.sleep(0.005)
        async with asyncio.timeout(60):
            await client.wait_until_ready()
        members_cached = sum(len(g.members) for g in client.guilds)
    finally:
        await client.close()
        with contextlib.suppress(BaseException):
            await task
        await emu.stop()
        target.restore()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "guilds": float(guilds),
        "members_cached": float(members_cached),
        "build_s": built,
        "burst_s": complete_at - start,
        "ready_s": ready_at[0] - start if ready_at else float("nan"),
        "world_mib": world_bytes / 2**20,
        "peak_rss_mib": peak_kib / 1024,
    }


def main(argv: list[str]) -> int:
    """Run the measurement and print one line per figure."""
    parser = argparse.ArgumentParser(prog="python -m bench.scale_burst")
    parser.add_argument("--guilds", type=int, default=2500)
    parser.add_argument("--members", type=int, default=50)
    args = parser.parse_args(argv)
    logging.getLogger("discord").setLevel(logging.ERROR)
    figures = asyncio.run(burst(args.guilds, args.members))
    print(
        f"scale.burst guilds={figures['guilds']:.0f} members/guild={args.members} "
        f"members_cached={figures['members_cached']:.0f}"
    )
    print(f"  build world     {figures['build_s']:.2f} s ({figures['world_mib']:.0f} MiB traced)")
    print(f"  READY+GUILD_CREATE burst complete {figures['burst_s']:.2f} s after client.start")
    print(f"  on_ready        {figures['ready_s']:.2f} s (includes guild_ready_timeout=2.0 s)")
    print(f"  peak RSS        {figures['peak_rss_mib']:.0f} MiB (emulator + client, one process)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
