"""Members, roles, channels, overwrites, pins, reactions, invites, webhooks and voice, driven
through discord.py's own methods."""

from __future__ import annotations

import datetime as dt

import discord
import pytest

from securebot.testing.emulator import ChannelType, Emulator, permissions
from securebot.testing.harness import running

from .conftest import make_bot


async def test_roles_crud_and_member_roles(emulator: Emulator, discord_guild) -> None:
    g = discord_guild
    async with running(make_bot(), emulator, "test-token") as bot:
        guild = bot.get_guild(g.guild.id)
        role = await guild.create_role(
            name="Helpers", permissions=discord.Permissions(manage_messages=True)
        )
        assert g.guild.roles[role.id].name == "Helpers"
        await role.edit(name="Helpers+", colour=discord.Colour(0x00FF00))
        assert g.guild.roles[role.id].color == 0x00FF00
        member = guild.get_member(g.member.id)
        await member.add_roles(role)
        assert role.id in g.guild.members[g.member.id].role_ids
        await emulator.wait_for(lambda: role in guild.get_member(g.member.id).roles)
        await member.remove_roles(role)
        assert role.id not in g.guild.members[g.member.id].role_ids
        await member.edit(nick="Membie")
        assert g.guild.members[g.member.id].nick == "Membie"
        await role.delete()
        assert role.id not in g.guild.roles
        await emulator.wait_for(lambda: guild.get_role(role.id) is None)


async def test_a_bot_cannot_assign_a_role_above_its_own(
    emulator: Emulator, discord_bot_account
) -> None:
    g = emulator.standard_guild(discord_bot_account, bot_permissions=permissions.MANAGE_ROLES)
    g.bot_role.position = 1
    g.moderator_role.position = 2
    async with running(make_bot(), emulator, "test-token") as bot:
        guild = bot.get_guild(g.guild.id)
        member = guild.get_member(g.member.id)
        with pytest.raises(discord.Forbidden) as info:
            await member.add_roles(guild.get_role(g.admin_role.id))
        assert info.value.code == 50013
        assert g.guild.members[g.member.id].role_ids == []


async def test_timeouts_are_stored_and_capped_at_28_days(emulator: Emulator, discord_guild) -> None:
    g = discord_guild
    async with running(make_bot(), emulator, "test-token") as bot:
        member = bot.get_guild(g.guild.id).get_member(g.member.id)
        await member.timeout(dt.timedelta(minutes=10), reason="spam")
        until = g.guild.members[g.member.id].timed_out_until
        assert until is not None
        assert 590 < until - emulator.clock.time() <= 600
        call = emulator.calls_to("PATCH /guilds/{guild_id}/members/{user_id}")[-1]
        assert call.reason == "spam"
        with pytest.raises(discord.HTTPException) as info:
            await bot.http.edit_member(
                g.guild.id,
                g.member.id,
                communication_disabled_until=(
                    discord.utils.utcnow() + dt.timedelta(days=29)
                ).isoformat(),
            )
        assert info.value.code == 50035
        owner = bot.get_guild(g.guild.id).get_member(g.owner.id)
        with pytest.raises(discord.Forbidden):
            await owner.timeout(dt.timedelta(minutes=1))
    with pytest.raises(Exception, match="cannot send"):
        emulator.send(g.member, g.general, "muted?")


async def test_channels_overwrites_slowmode(emulator: Emulator, discord_guild) -> None:
    g = discord_guild
    async with running(make_bot(), emulator, "test-token") as bot:
        guild = bot.get_guild(g.guild.id)
        category = await guild.create_category("Ops")
        channel = await guild.create_text_channel(
            "logs",
            category=category,
            overwrites={guild.default_role: discord.PermissionOverwrite(view_channel=False)},
        )
        stored = g.guild.channels[channel.id]
        assert stored.parent_id == category.id
        assert stored.overwrites[g.guild.id].deny == permissions.VIEW_CHANNEL
        await channel.edit(slowmode_delay=30, topic="audit")
        assert (stored.rate_limit_per_user, stored.topic) == (30, "audit")
        await channel.set_permissions(guild.get_member(g.member.id), view_channel=True)
        assert stored.overwrites[g.member.id].allow == permissions.VIEW_CHANNEL
        await channel.delete()
        assert channel.id not in g.guild.channels
        voice = await guild.create_voice_channel("talk")
        assert g.guild.channels[voice.id].type == ChannelType.VOICE


async def test_pins_and_reactions(emulator: Emulator, discord_guild) -> None:
    g = discord_guild
    note = emulator.send(g.member, g.general, "pin me")
    async with running(make_bot(), emulator, "test-token") as bot:
        channel = bot.get_channel(g.general.id)
        message = await channel.fetch_message(note.id)
        await message.pin()
        assert note.pinned
        assert g.general.pins == [note.id]
        pins = [m.id async for m in channel.pins()]
        assert pins == [note.id]
        await message.add_reaction("👍")
        emulator.react(g.member, note, "👍")
        await emulator.wait_for(lambda: ("react", "👍") in bot.seen)
        fetched = await channel.fetch_message(note.id)
        assert fetched.reactions[0].count == 2
        assert fetched.reactions[0].me
        users = [u.id async for u in fetched.reactions[0].users()]
        assert sorted(users) == sorted([g.member.id, g.bot.user.id])
        await fetched.clear_reactions()
        assert note.reactions == []
        await message.unpin()
        assert g.general.pins == []
        with pytest.raises(discord.NotFound) as info:
            await channel.fetch_message(12345)
        assert info.value.code == 10008


async def test_invites_and_webhooks(emulator: Emulator, discord_guild) -> None:
    g = discord_guild
    async with running(make_bot(), emulator, "test-token") as bot:
        channel = bot.get_channel(g.general.id)
        invite = await channel.create_invite(max_age=600, max_uses=3)
        assert invite.code in g.guild.invites
        assert invite.max_uses == 3
        assert [i.code for i in await bot.get_guild(g.guild.id).invites()] == [invite.code]
        await invite.delete()
        assert not g.guild.invites
        webhook = await channel.create_webhook(name="relay")
        sent = await webhook.send("via webhook", wait=True)
        assert sent.content == "via webhook"
        assert emulator.messages(g.general)[-1].webhook_id == webhook.id
        assert [w.id for w in await channel.webhooks()] == [webhook.id]
        await webhook.delete()
        assert webhook.id not in emulator.world.webhooks


async def test_members_list_search_and_voice(emulator: Emulator, discord_guild) -> None:
    g = discord_guild
    events: list[tuple[int, int | None]] = []
    bot = make_bot()

    @bot.listen()
    async def on_voice_state_update(member, before, after) -> None:
        events.append((member.id, after.channel.id if after.channel else None))

    async with running(bot, emulator, "test-token"):
        guild = bot.get_guild(g.guild.id)
        fetched = [m.id async for m in guild.fetch_members(limit=None)]
        assert sorted(fetched) == sorted(g.guild.members)
        found = await guild.query_members("mod")
        assert [m.id for m in found] == [g.moderator.id]
        route = discord.http.Route("GET", "/guilds/{guild_id}/members/search", guild_id=g.guild.id)
        searched = await bot.http.request(route, params={"query": "adm", "limit": 10})
        assert [m["user"]["id"] for m in searched] == [str(g.admin.id)]
        one = await guild.fetch_member(g.member.id)
        assert one.id == g.member.id
        with pytest.raises(discord.NotFound) as info:
            await guild.fetch_member(42)
        assert info.value.code == 10007
        emulator.join_voice(g.guild, g.member, g.voice)
        await emulator.wait_for(lambda: events == [(g.member.id, g.voice.id)])
        assert guild.get_member(g.member.id).voice.channel.id == g.voice.id


async def test_unban_and_ban_list(emulator: Emulator, discord_guild) -> None:
    g = discord_guild
    emulator.ban_externally(g.guild, g.member, reason="raid")
    async with running(make_bot(), emulator, "test-token") as bot:
        guild = bot.get_guild(g.guild.id)
        bans = [entry async for entry in guild.bans()]
        assert [(b.user.id, b.reason) for b in bans] == [(g.member.id, "raid")]
        await guild.unban(discord.Object(g.member.id))
        assert not g.guild.bans
        with pytest.raises(discord.NotFound) as info:
            await guild.unban(discord.Object(g.member.id))
        assert info.value.code == 10026


async def test_audit_log_tells_a_kick_from_a_leave(emulator: Emulator, discord_guild) -> None:
    g = discord_guild
    entries: list[discord.AuditLogEntry] = []
    bot = make_bot()

    @bot.listen()
    async def on_audit_log_entry_create(entry: discord.AuditLogEntry) -> None:
        entries.append(entry)

    leaver, kicked = emulator.create_user("leaver"), emulator.create_user("kicked")
    emulator.join(g.guild, leaver)
    emulator.join(g.guild, kicked)
    async with running(bot, emulator, "test-token") as client:
        emulator.leave(g.guild, leaver)
        emulator.kick_externally(g.guild, kicked, "rules", by=g.moderator)
        await emulator.wait_for(lambda: entries)
        assert entries[0].action == discord.AuditLogAction.kick
        assert entries[0].user_id == g.moderator.id
        assert entries[0].target.id == kicked.id
        guild = client.get_guild(g.guild.id)
        member = guild.get_member(g.member.id)
        await member.edit(nick="renamed", reason="tidy")
        await member.add_roles(guild.get_role(g.moderator_role.id))
        logged = [e async for e in guild.audit_logs(limit=10)]
        assert [e.action for e in logged] == [
            discord.AuditLogAction.member_role_update,
            discord.AuditLogAction.member_update,
            discord.AuditLogAction.kick,
        ]
        assert logged[1].reason == "tidy"
        assert logged[1].after.nick == "renamed"
        assert [r.id for r in logged[0].after.roles] == [g.moderator_role.id]
        only_kicks = [e async for e in guild.audit_logs(action=discord.AuditLogAction.kick)]
        assert [e.target.id for e in only_kicks] == [kicked.id]
        assert not any(e.target and e.target.id == leaver.id for e in logged)


async def test_audit_log_needs_view_audit_log(emulator: Emulator, discord_bot_account) -> None:
    g = emulator.standard_guild(discord_bot_account, bot_permissions=permissions.DEFAULT_EVERYONE)
    async with running(make_bot(), emulator, "test-token") as bot:
        emulator.kick_externally(g.guild, g.member)
        await emulator.settle()
        assert "GUILD_AUDIT_LOG_ENTRY_CREATE" not in emulator.gateway.sessions_of(g.bot)[0].events
        with pytest.raises(discord.Forbidden):
            [e async for e in bot.get_guild(g.guild.id).audit_logs()]
