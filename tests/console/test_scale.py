"""The emulator holds 2,500 guilds of 50 members on one shard; the READY + GUILD_CREATE burst
completes and a real discord.py client caches every guild and member (bench/scale_burst.py
reports time and memory)."""

from __future__ import annotations

import asyncio
import contextlib

import discord
import pytest

from securebot.testing.emulator import ChannelType, Emulator, use_emulator

GUILDS = 2500
MEMBERS = 50


@pytest.mark.slow
async def test_2500_guilds_of_50_members_on_one_shard() -> None:
    async with Emulator() as emu:
        world = emu.world
        bot = world.add_bot("scale-bot", token="scale-bot-token")
        for index in range(GUILDS):
            owner = world.add_user(f"owner{index}")
            guild = world.add_guild(f"guild {index}", owner.id)
            world.add_member(guild, bot.user.id)
            for number in range(MEMBERS - 2):
                world.add_member(guild, world.add_user(f"m{index}-{number}").id)
            world.add_channel(guild, "general", ChannelType.TEXT)
        intents = discord.Intents.default()
        intents.members = True
        client = discord.Client(
            intents=intents, chunk_guilds_at_startup=False, guild_ready_timeout=2.0
        )
        with use_emulator(emu.base_url):
            task = asyncio.create_task(client.start(bot.token))
            try:
                async with asyncio.timeout(240):
                    while not client.is_ready():
                        assert not task.done(), task
                        await asyncio.sleep(0.05)
                identified = emu.gateway.sessions_of(bot)
                assert len(identified) == 1
                assert (identified[0].shard_id, identified[0].shard_count) == (0, 1)
                assert len(client.guilds) == GUILDS
                assert all(not g.unavailable for g in client.guilds)
                assert {len(g.members) for g in client.guilds} == {MEMBERS}
                assert sum(len(g.members) for g in client.guilds) == GUILDS * MEMBERS
                assert {g.name for g in client.guilds} == {f"guild {i}" for i in range(GUILDS)}
            finally:
                await client.close()
                with contextlib.suppress(BaseException):
                    await task
