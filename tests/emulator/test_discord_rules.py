"""Discord's rules, as a real discord.py bot meets them: permissions, hierarchy, bulk delete,
DMs, attachments, rate limits."""

from __future__ import annotations

import datetime as dt

import discord
import pytest

from securebot.testing.emulator import Emulator, RateLimits, StandardGuild, permissions
from securebot.testing.harness import running

from .conftest import make_bot


async def test_ban_deletes_recent_messages_and_reaches_discord(
    emulator: Emulator, discord_guild: StandardGuild
) -> None:
    g = discord_guild
    spam = emulator.send(g.member, g.general, "spam")
    async with running(make_bot(), emulator, "test-token"):
        reply = await emulator.ask(g.moderator, g.general, f"!ban <@{g.member.id}>")
        assert reply.content == "banned"
    assert g.member.id in g.guild.bans
    assert g.guild.bans[g.member.id].reason == "test ban"
    assert g.member.id not in g.guild.members
    assert spam.deleted
    call = emulator.calls_to("PUT /guilds/{guild_id}/bans/{user_id}")[0]
    assert call.status == 204
    assert call.query == {"delete_message_seconds": "3600"}


async def test_missing_permissions_is_50013(emulator: Emulator, discord_bot_account) -> None:
    g = emulator.standard_guild(discord_bot_account, bot_permissions=permissions.DEFAULT_EVERYONE)
    async with running(make_bot(), emulator, "test-token"):
        reply = await emulator.ask(g.admin, g.general, f"!kick <@{g.member.id}>")
    assert reply.content == "forbidden 50013"
    assert g.member.id in g.guild.members
    call = emulator.calls_to("DELETE /guilds/{guild_id}/members/{user_id}")[0]
    assert call.status == 403
    assert call.response == {"message": "Missing Permissions", "code": 50013}


async def test_the_bot_cannot_act_on_members_above_it(
    emulator: Emulator, discord_bot_account
) -> None:
    g = emulator.standard_guild(
        discord_bot_account,
        bot_permissions=permissions.BAN_MEMBERS
        | permissions.KICK_MEMBERS
        | permissions.DEFAULT_EVERYONE,
    )
    # the bot's role goes below Admin: it may ban the member but not the admin nor the owner
    g.bot_role.position = 1
    g.moderator_role.position = 2
    async with running(make_bot(), emulator, "test-token"):
        assert (
            await emulator.ask(g.owner, g.general, f"!ban <@{g.admin.id}>")
        ).content == "forbidden 50013"
        assert (
            await emulator.ask(g.admin, g.general, f"!kick <@{g.owner.id}>")
        ).content == "forbidden 50013"
        assert (
            await emulator.ask(g.admin, g.general, f"!kick <@{g.moderator.id}>")
        ).content == "forbidden 50013"
        assert (
            await emulator.ask(g.admin, g.general, f"!kick <@{g.member.id}>")
        ).content == "kicked"
    assert g.admin.id in g.guild.members
    assert g.owner.id in g.guild.members
    assert g.member.id not in g.guild.members


async def test_overwrites_hide_a_channel_from_the_bot(
    emulator: Emulator, discord_bot_account
) -> None:
    g = emulator.standard_guild(discord_bot_account, bot_permissions=permissions.DEFAULT_EVERYONE)
    async with running(make_bot(), emulator, "test-token") as bot:
        staff = bot.get_channel(g.staff.id)
        assert staff is not None
        assert not staff.permissions_for(staff.guild.me).view_channel
        with pytest.raises(discord.Forbidden) as info:
            await staff.send("hello")
        assert info.value.code == 50001
        general = bot.get_channel(g.general.id)
        emulator.set_overwrite(g.general, g.bot_role, deny=permissions.SEND_MESSAGES)
        await emulator.wait_for(lambda: not general.permissions_for(general.guild.me).send_messages)
        with pytest.raises(discord.Forbidden) as info:
            await general.send("hello")
        assert info.value.code == 50013


async def test_bulk_delete_limits(emulator: Emulator, discord_guild: StandardGuild) -> None:
    g = discord_guild
    old = emulator.send(g.member, g.general, "old")
    emulator.clock.advance(15 * 24 * 3600)
    fresh = [emulator.send(g.member, g.general, f"m{i}") for i in range(3)]
    async with running(make_bot(), emulator, "test-token") as bot:
        channel = bot.get_channel(g.general.id)
        with pytest.raises(discord.HTTPException) as info:
            await bot.http.delete_messages(channel.id, [old.id, fresh[0].id])
        assert info.value.code == 50034
        with pytest.raises(discord.HTTPException) as info:
            await bot.http.delete_messages(channel.id, [fresh[0].id])
        assert info.value.code == 50016
        with pytest.raises(discord.HTTPException) as info:
            await bot.http.delete_messages(
                channel.id, [str(fresh[0].id)] * 1 + [str(i) for i in range(1, 101)]
            )
        assert info.value.code == 50016
        assert not any(m.deleted for m in fresh)
        await bot.http.delete_messages(channel.id, [m.id for m in fresh[:2]])
        await emulator.wait_for(lambda: ("bulk", sorted(m.id for m in fresh[:2])) in bot.seen)
    assert [m.deleted for m in fresh] == [True, True, False]


async def test_purge_through_history_paging(
    emulator: Emulator, discord_guild: StandardGuild
) -> None:
    g = discord_guild
    sent = [emulator.send(g.member, g.general, f"m{i}") for i in range(120)]
    async with running(make_bot(), emulator, "test-token"):
        reply = await emulator.ask(g.admin, g.general, "!purge 110")
        assert reply.content == "purged 110"
    alive = [m for m in sent if not m.deleted]
    assert alive == sent[:11]  # 110 = the command itself + the 109 newest
    assert len(emulator.calls_to("POST /channels/{channel_id}/messages/bulk-delete")) == 2


async def test_history_before_after_around(
    emulator: Emulator, discord_guild: StandardGuild
) -> None:
    g = discord_guild
    sent = [emulator.send(g.member, g.general, f"m{i}") for i in range(30)]
    async with running(make_bot(), emulator, "test-token") as bot:
        channel = bot.get_channel(g.general.id)
        newest = [m.content async for m in channel.history(limit=5)]
        assert newest == [f"m{i}" for i in range(29, 24, -1)]
        after = [
            m.content
            async for m in channel.history(
                limit=3, after=discord.Object(sent[10].id), oldest_first=True
            )
        ]
        assert after == ["m11", "m12", "m13"]
        before = [
            m.content async for m in channel.history(limit=2, before=discord.Object(sent[10].id))
        ]
        assert before == ["m9", "m8"]
        around = [
            m.content async for m in channel.history(limit=5, around=discord.Object(sent[10].id))
        ]
        assert sorted(around) == sorted(["m8", "m9", "m10", "m11", "m12"])
        everything = [m async for m in channel.history(limit=None)]
        assert len(everything) == 30


async def test_dms_reach_the_user_and_a_bot_hears_dms(
    emulator: Emulator, discord_guild: StandardGuild
) -> None:
    g = discord_guild
    async with running(make_bot(), emulator, "test-token"):
        await emulator.ask(g.member, g.general, "!dmme")
        assert [m.content for m in emulator.dms(g.member)] == ["a secret"]
        reply = await emulator.wait_for_message(after=emulator.dm(g.member, g.bot, "!ping"))
        assert reply.content == "pong"
        assert reply.guild_id is None


async def test_a_user_who_refuses_dms_gets_50007(
    emulator: Emulator, discord_guild: StandardGuild
) -> None:
    g = discord_guild
    g.member.accepts_dms = False
    async with running(make_bot(), emulator, "test-token") as bot:
        user = bot.get_user(g.member.id)
        with pytest.raises(discord.Forbidden) as info:
            await user.send("hi")
        assert info.value.code == 50007


async def test_attachments_both_ways(emulator: Emulator, discord_guild: StandardGuild) -> None:
    g = discord_guild
    async with running(make_bot(), emulator, "test-token"):
        reply = await emulator.ask(g.member, g.general, "!file")
        assert reply.content == "here"
        assert [(a.filename, a.data) for a in reply.attachments] == [("hello.txt", b"hello file")]
        sent = emulator.send(
            g.member, g.general, "!size", files={"photo.png": b"\x89PNG" + b"0" * 100}
        )
        reply = await emulator.wait_for_message(after=sent)
        assert reply.content == "photo.png 104"


async def test_429_is_retried_after_retry_after(
    emulator: Emulator, discord_guild: StandardGuild
) -> None:
    g = discord_guild
    async with running(make_bot(), emulator, "test-token"):
        emulator.rate_limiter.inject(
            2, retry_after=0.05, route="POST /channels/{channel_id}/messages"
        )
        reply = await emulator.ask(g.member, g.general, "!ping")
        assert reply.content == "pong"
    statuses = [c.status for c in emulator.calls_to("POST /channels/{channel_id}/messages")]
    assert statuses == [429, 429, 200]
    limited = emulator.calls_to("POST /channels/{channel_id}/messages", status=429)[0]
    assert limited.response["retry_after"] == 0.05
    assert limited.response["global"] is False


async def test_bucket_limits_send_headers_and_discord_py_waits(
    discord_guild: StandardGuild, emulator: Emulator
) -> None:
    emulator.rate_limiter.config = RateLimits(limit=2, window=0.3)
    g = discord_guild
    async with running(make_bot(), emulator, "test-token") as bot:
        channel = bot.get_channel(g.general.id)
        for i in range(5):
            await channel.send(f"n{i}")
    sent = [m.content for m in emulator.messages(g.general, author=g.bot)]
    assert sent == [f"n{i}" for i in range(5)]
    assert len(emulator.rate_limiter.limited) <= 1  # discord.py waits on X-RateLimit-Remaining: 0


async def test_content_over_2000_and_11_embeds_are_50035(
    emulator: Emulator, discord_guild: StandardGuild
) -> None:
    async with running(make_bot(), emulator, "test-token") as bot:
        channel = bot.get_channel(discord_guild.general.id)
        with pytest.raises(discord.HTTPException) as info:
            await channel.send("x" * 2001)
        assert info.value.code == 50035
        assert "content" in str(info.value)
        route = discord.http.Route("POST", "/channels/{channel_id}/messages", channel_id=channel.id)
        with pytest.raises(discord.HTTPException) as info:
            await bot.http.request(route, json={"embeds": [{"title": "t"}] * 11})
        assert info.value.code == 50035
        with pytest.raises(discord.HTTPException) as info:
            await channel.send(embed=discord.Embed(title="t" * 257))
        assert info.value.code == 50035
        with pytest.raises(discord.HTTPException) as info:
            await bot.http.send_message(
                channel.id, params=discord.http.handle_message_parameters(content="")
            )
        assert info.value.code == 50006


async def test_slowmode_holds_a_bot_without_manage_messages(
    emulator: Emulator, discord_bot_account
) -> None:
    g = emulator.standard_guild(discord_bot_account, bot_permissions=permissions.DEFAULT_EVERYONE)
    g.general.rate_limit_per_user = 1
    async with running(make_bot(), emulator, "test-token") as bot:
        channel = bot.get_channel(g.general.id)
        await channel.send("one")
        await channel.send("two")  # discord.py waits out the 429 and retries
    assert [m.content for m in emulator.messages(g.general, author=g.bot)] == ["one", "two"]
    limited = emulator.calls_to("POST /channels/{channel_id}/messages", status=429)
    assert len(limited) == 1
    assert limited[0].response["code"] == 20016
    assert 0 < limited[0].response["retry_after"] <= 1


async def test_embeds_and_replies_are_stored_as_sent(
    emulator: Emulator, discord_guild: StandardGuild
) -> None:
    g = discord_guild
    question = emulator.send(g.member, g.general, "what time is it?")
    async with running(make_bot(), emulator, "test-token") as bot:
        channel = bot.get_channel(g.general.id)
        original = await channel.fetch_message(question.id)
        embed = discord.Embed(title="Case 12", description="warned", colour=0xFF0000)
        embed.add_field(name="Reason", value="spam", inline=False)
        embed.set_footer(text="mod: admin")
        embed.set_author(name="Giselle")
        embed.timestamp = discord.utils.utcnow()
        reply = await original.reply("see the case", embed=embed)
        assert reply.reference.message_id == question.id
        assert reply.embeds[0].fields[0].value == "spam"
    stored = g.general.messages[reply.id]
    assert stored.type == 19
    assert stored.reference["message_id"] == str(question.id)
    assert stored.embeds[0]["title"] == "Case 12"
    assert stored.embeds[0]["color"] == 0xFF0000
    assert stored.embeds[0]["fields"] == [{"name": "Reason", "value": "spam", "inline": False}]
    assert stored.embeds[0]["footer"]["text"] == "mod: admin"


async def test_inspection_helpers(emulator: Emulator, discord_guild: StandardGuild) -> None:
    g = discord_guild
    async with running(make_bot(), emulator, "test-token") as bot:
        member = bot.get_guild(g.guild.id).get_member(g.member.id)
        await member.add_roles(bot.get_guild(g.guild.id).get_role(g.moderator_role.id))
        await member.timeout(dt.timedelta(minutes=5))
    assert emulator.roles_of(g.guild, g.member) == [g.moderator_role]
    assert emulator.is_timed_out(g.guild, g.member)
    emulator.clock.advance(301)
    assert not emulator.is_timed_out(g.guild, g.member)
    emulator.kick_externally(g.guild, g.member)
    assert emulator.member_of(g.guild, g.member) is None
    assert emulator.roles_of(g.guild, g.member) == []


async def test_the_global_limit_answers_a_global_429_and_discord_py_waits(
    emulator: Emulator, discord_guild: StandardGuild
) -> None:
    emulator.rate_limiter.config = RateLimits(global_limit=3)
    g = discord_guild
    async with running(make_bot(), emulator, "test-token") as bot:
        channel = bot.get_channel(g.general.id)
        for i in range(4):
            await channel.send(f"g{i}")
    assert [m.content for m in emulator.messages(g.general, author=g.bot)] == [
        f"g{i}" for i in range(4)
    ]
    limited = [c for c in emulator.calls if c.status == 429]
    assert limited
    assert all(c.response["global"] is True for c in limited)
