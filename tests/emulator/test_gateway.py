"""The gateway: sharding, resume with replay, reconnect, invalid sessions, intents, zlib."""

from __future__ import annotations

import asyncio
import json
import zlib

import aiohttp
import discord
from discord.ext import commands

from securebot.testing.emulator import Emulator, permissions
from securebot.testing.emulator.gateway import shard_of
from securebot.testing.harness import running

from .conftest import make_bot


async def _no_identify_delay(shard_id, *, initial=False) -> None:
    """discord.py waits 5 s between IDENTIFYs (Discord's concurrency rule); not needed here."""


def _guilds_on_both_shards(emulator: Emulator, bot_account, count: int = 6):
    """Guilds with the bot, at least one on each of 2 shards."""
    guilds = []
    while len({shard_of(t[0].id, 2) for t in guilds}) < 2 or len(guilds) < count:
        owner = emulator.create_user(f"owner{len(guilds)}")
        guild = emulator.create_guild(f"g{len(guilds)}", owner=owner)
        emulator.world.clock.advance(0.001)  # spread the snowflake timestamps
        channel = emulator.create_channel(guild, "general")
        emulator.add_member(guild, bot_account)
        guilds.append((guild, channel, owner))
    return guilds


async def test_auto_sharded_bot_with_two_shards_gets_only_its_guilds(
    emulator: Emulator, discord_bot_account
) -> None:
    guilds = _guilds_on_both_shards(emulator, discord_bot_account)
    emulator.recommended_shards = 2
    bot = commands.AutoShardedBot(
        command_prefix="!", intents=discord.Intents.all(), guild_ready_timeout=0.05
    )
    bot.before_identify_hook = _no_identify_delay
    seen: list[tuple[int, int]] = []

    @bot.listen()
    async def on_message(message: discord.Message) -> None:
        if message.guild is not None and not message.author.bot:
            seen.append((message.guild.id, message.guild.shard_id))
            await message.channel.send(f"shard {message.guild.shard_id}")

    async with running(bot, emulator, "test-token"):
        assert bot.shard_count == 2
        sessions = emulator.gateway.sessions_of(discord_bot_account)
        assert [(s.shard_id, s.shard_count) for s in sessions] == [(0, 2), (1, 2)]
        assert len(bot.guilds) == len(guilds)
        for guild, channel, owner in guilds:
            reply = await emulator.ask(owner, channel, "hello")
            assert reply.content == f"shard {shard_of(guild.id, 2)}"
    assert sorted(seen) == sorted((g.id, shard_of(g.id, 2)) for g, _, _ in guilds)
    for session in emulator.gateway.sessions_of(discord_bot_account):
        mine = {g.id for g, _, _ in guilds if shard_of(g.id, 2) == session.shard_id}
        assert session.events.count("GUILD_CREATE") == len(mine)
        assert session.events.count("MESSAGE_CREATE") == 2 * len(mine)  # the user's and the bot's


async def test_commands_bot_with_fixed_shard_count_uses_the_default_gateway(
    emulator: Emulator, discord_bot_account
) -> None:
    guilds = _guilds_on_both_shards(emulator, discord_bot_account, count=2)
    bot = commands.AutoShardedBot(
        command_prefix="!", intents=discord.Intents.all(), guild_ready_timeout=0.05, shard_count=2
    )
    bot.before_identify_hook = _no_identify_delay
    async with running(bot, emulator, "test-token"):
        assert {g.shard_id for g in bot.guilds} == {0, 1}
        assert len(bot.guilds) == len(guilds)


async def test_resume_after_a_dropped_connection_loses_no_event(
    emulator: Emulator, discord_guild
) -> None:
    g = discord_guild
    async with running(make_bot(), emulator, "test-token") as bot:
        session = emulator.gateway.sessions_of(g.bot)[0]
        await emulator.gateway.drop(session)
        sent = [emulator.send(g.member, g.general, f"while away {i}") for i in range(5)]
        emulator.join(g.guild, emulator.create_user("newcomer"))
        await emulator.wait_for(lambda: session.resumes == 1 and session.connected)
        await emulator.wait_for(lambda: any(e[0] == "join" for e in bot.seen))
        cached = [m.content for m in bot.cached_messages]
        assert cached[-5:] == [m.content for m in sent]
        assert (await emulator.ask(g.member, g.general, "!ping")).content == "pong"
        assert emulator.gateway.sessions_of(g.bot) == [session]  # resumed, not re-identified
        assert session.events.count("READY") == 1
        assert "RESUMED" in session.events


async def test_op7_reconnect_resumes(emulator: Emulator, discord_guild) -> None:
    g = discord_guild
    async with running(make_bot(), emulator, "test-token"):
        session = emulator.gateway.sessions_of(g.bot)[0]
        emulator.gateway.request_reconnect(session)
        await emulator.wait_for(lambda: session.resumes == 1)
        assert (await emulator.ask(g.member, g.general, "!ping")).content == "pong"


async def test_invalid_session_makes_the_client_identify_again(
    emulator: Emulator, discord_guild
) -> None:
    g = discord_guild
    bot = make_bot()
    bot.before_identify_hook = _no_identify_delay
    async with running(bot, emulator, "test-token"):
        first = emulator.gateway.sessions_of(g.bot)[0]
        emulator.gateway.invalidate(first, resumable=False)
        await emulator.wait_for(
            lambda: (
                emulator.gateway.sessions_of(g.bot)
                and emulator.gateway.sessions_of(g.bot)[0] is not first
            ),
            timeout=10,
        )
        assert (await emulator.ask(g.member, g.general, "!ping", timeout=10)).content == "pong"


async def test_without_message_content_intent_content_is_blanked(
    emulator: Emulator, discord_guild
) -> None:
    g = discord_guild
    intents = discord.Intents.default()  # no message_content
    bot = make_bot(intents=intents)
    contents: list[str] = []

    @bot.listen()
    async def on_message(message: discord.Message) -> None:
        contents.append(message.content)

    async with running(bot, emulator, "test-token"):
        emulator.send(g.member, g.general, "!ping")
        emulator.send(g.member, g.general, f"<@{g.bot.user.id}> hi")
        emulator.dm(g.member, g.bot, "in a dm")
        await emulator.wait_for(lambda: len(contents) == 3)
        await emulator.settle()
    assert contents == ["", f"<@{g.bot.user.id}> hi", "in a dm"]
    assert not emulator.bot_messages()  # !ping was invisible: no reply


async def test_members_intent_missing_means_no_member_list(
    emulator: Emulator, discord_guild
) -> None:
    g = discord_guild
    intents = discord.Intents.default()
    async with running(make_bot(intents=intents), emulator, "test-token") as bot:
        guild = bot.get_guild(g.guild.id)
        assert guild.member_count == 5
        assert [m.id for m in guild.members] == [g.bot.user.id]
        emulator.join(g.guild, emulator.create_user("late"))
        await emulator.settle()
        assert "GUILD_MEMBER_ADD" not in emulator.gateway.sessions_of(g.bot)[0].events
        assert not bot.seen


async def test_a_privileged_intent_not_allowed_closes_with_4014(emulator: Emulator) -> None:
    account = emulator.create_bot("limited", token="limited-token", privileged_intents=0)
    owner = emulator.create_user("o")
    guild = emulator.create_guild("g", owner=owner)
    emulator.add_member(guild, account)
    bot = make_bot()
    try:
        async with running(bot, emulator, "limited-token", timeout=5):
            raise AssertionError("should not get ready")
    except Exception as exc:
        cause = exc.__cause__
        assert isinstance(cause, discord.PrivilegedIntentsRequired)
    assert not emulator.gateway.sessions_of(account)


async def test_zlib_stream_and_raw_protocol(emulator: Emulator, discord_guild) -> None:
    g = discord_guild
    inflater = zlib.decompressobj()
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(emulator.gateway_url + "?v=10&encoding=json&compress=zlib-stream") as ws,
    ):

        async def receive() -> dict:
            frame = await asyncio.wait_for(ws.receive(), 5)
            assert frame.type == aiohttp.WSMsgType.BINARY
            return json.loads(inflater.decompress(frame.data))

        hello = await receive()
        assert hello["op"] == 10
        assert hello["d"]["heartbeat_interval"] == 41250
        await ws.send_str(json.dumps({"op": 1, "d": None}))
        assert (await receive())["op"] == 11
        await ws.send_str(
            json.dumps(
                {"op": 2, "d": {"token": "test-token", "intents": 1 | (1 << 9), "properties": {}}}
            )
        )
        ready = await receive()
        assert ready["t"] == "READY"
        assert ready["s"] == 1
        assert ready["d"]["guilds"] == [{"id": str(g.guild.id), "unavailable": True}]
        created = await receive()
        assert created["t"] == "GUILD_CREATE"
        assert created["d"]["name"] == "Test Guild"
        emulator.send(g.member, g.general, "hi")
        message = await receive()
        assert (message["t"], message["s"], message["d"]["content"]) == ("MESSAGE_CREATE", 3, "")
        await ws.send_str(json.dumps({"op": 99, "d": None}))
        closed = await asyncio.wait_for(ws.receive(), 5)
        assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert ws.close_code == 4001


async def test_a_bad_token_on_the_gateway_closes_4004(emulator: Emulator) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(emulator.gateway_url) as ws:
        await ws.receive()
        await ws.send_str(json.dumps({"op": 2, "d": {"token": "nope", "intents": 0}}))
        await asyncio.wait_for(ws.receive(), 5)
        assert ws.close_code == 4004


async def test_a_bot_removed_from_a_guild_stops_receiving_it(
    emulator: Emulator, discord_guild
) -> None:
    g = discord_guild
    async with running(make_bot(), emulator, "test-token") as bot:
        emulator.leave(g.guild, g.bot.user)
        await emulator.wait_for(lambda: bot.get_guild(g.guild.id) is None)
        session = emulator.gateway.sessions_of(g.bot)[0]
        before = len(session.events)
        emulator.world.add_member(g.guild, g.member.id)
        g.general.overwrites.clear()
        emulator.send(g.member, g.general, "nobody hears")
        await asyncio.sleep(0.05)
        assert len(session.events) == before
    assert permissions.ALL


async def test_rest_reads_are_blanked_for_a_bot_without_the_content_privilege(
    emulator: Emulator,
) -> None:
    account = emulator.create_bot("plain", token="plain-token", privileged_intents=0)
    g = emulator.standard_guild(account)
    secret = emulator.send(g.member, g.general, "secret words")
    mention = emulator.send(g.member, g.general, f"<@{account.user.id}> visible")
    async with running(make_bot(intents=discord.Intents.default()), emulator, "plain-token") as bot:
        channel = bot.get_channel(g.general.id)
        assert (await channel.fetch_message(secret.id)).content == ""
        assert (await channel.fetch_message(mention.id)).content.endswith("visible")
        own = await channel.send("mine")
        assert (await channel.fetch_message(own.id)).content == "mine"


async def test_a_restart_identifies_anew_and_replaces_the_old_session(
    emulator: Emulator, discord_guild
) -> None:
    g = discord_guild
    async with running(make_bot(), emulator, "test-token"):
        first = emulator.gateway.sessions_of(g.bot)
    await emulator.wait_for(lambda: not first[0].connected)
    async with running(make_bot(), emulator, "test-token"):
        second = emulator.gateway.sessions_of(g.bot)
        assert len(second) == 1
        assert second[0] is not first[0]
        assert (await emulator.ask(g.member, g.general, "!ping")).content == "pong"


async def test_a_zombie_gateway_is_noticed_and_the_session_resumed(
    emulator: Emulator, discord_guild
) -> None:
    g = discord_guild
    emulator.gateway.heartbeat_interval_ms = 100
    async with running(make_bot(heartbeat_timeout=0.5), emulator, "test-token"):
        session = emulator.gateway.sessions_of(g.bot)[0]
        await emulator.wait_for(lambda: session.heartbeats >= 2)
        emulator.gateway.ack_heartbeats = False
        missed = emulator.send(g.member, g.general, "sent while the link is a zombie")
        await emulator.wait_for(lambda: session.resumes >= 1, timeout=10)
        emulator.gateway.ack_heartbeats = True
        assert emulator.gateway.sessions_of(g.bot) == [session]
        reply = await emulator.ask(g.member, g.general, "!ping")
        assert reply.content == "pong"
        assert missed.id < reply.id
