"""The remaining routes through discord.py: threads, guild settings, command edits, webhook
tokens, leaving a guild, positions, DMs with interactions (each body is schema-checked)."""

from __future__ import annotations

import discord
import pytest
from discord import app_commands

from securebot.testing.emulator import Emulator
from securebot.testing.harness import running

from .conftest import make_bot


async def test_threads(emulator: Emulator, discord_guild) -> None:
    g = discord_guild
    seed = emulator.send(g.member, g.general, "discuss")
    async with running(make_bot(), emulator, "test-token") as bot:
        channel = bot.get_channel(g.general.id)
        thread = await channel.create_thread(
            name="side talk", type=discord.ChannelType.public_thread
        )
        await thread.send("in the thread")
        stored = emulator.world.channels[thread.id]
        assert stored.parent_id == g.general.id
        assert [m.content for m in emulator.messages(stored)] == ["in the thread"]
        message = await channel.fetch_message(seed.id)
        from_message = await message.create_thread(name="about this")
        assert from_message.id == seed.id
        await emulator.wait_for(lambda: bot.get_channel(thread.id) is not None)
        reply = await emulator.ask(g.member, stored, "!ping")
        assert reply.channel_id == thread.id
        await thread.edit(archived=True, locked=True)
        assert stored.archived
        assert stored.locked


async def test_guild_settings_positions_and_lists(emulator: Emulator, discord_guild) -> None:
    g = discord_guild
    async with running(make_bot(), emulator, "test-token") as bot:
        guild = bot.get_guild(g.guild.id)
        await guild.edit(name="Renamed", description="a guild")
        assert g.guild.name == "Renamed"
        fetched = await bot.fetch_guild(g.guild.id, with_counts=True)
        assert fetched.approximate_member_count == 5
        roles = await guild.fetch_roles()
        assert {r.name for r in roles} >= {"@everyone", "Admin", "Moderator"}
        await guild.get_role(g.moderator_role.id).edit(position=2)
        assert g.moderator_role.position == 2
        channels = await guild.fetch_channels()
        assert {c.name for c in channels} == {"general", "staff", "Voice"}
        await guild.get_channel(g.staff.id).edit(position=0)
        assert g.staff.position == 0
        partial = [p async for p in bot.fetch_guilds()]
        assert [p.id for p in partial] == [g.guild.id]
        user = await bot.fetch_user(g.member.id)
        assert user.name == "member"
        await guild.leave()
        assert g.bot.user.id not in g.guild.members
        await emulator.wait_for(lambda: bot.get_guild(g.guild.id) is None)


async def test_application_commands_edit_and_delete(emulator: Emulator, discord_guild) -> None:
    g = discord_guild
    async with running(make_bot(), emulator, "test-token") as bot:
        guild_obj = discord.Object(g.guild.id)
        bot.tree.copy_global_to(guild=guild_obj)
        synced = await bot.tree.sync(guild=guild_obj)
        assert all(emulator.world.commands[c.id].guild_id == g.guild.id for c in synced)
        hello = next(c for c in synced if c.name == "hello")
        edited = await hello.edit(description="Greet someone")
        assert edited.description == "Greet someone"
        assert emulator.world.commands[hello.id].description == "Greet someone"
        fetched = await bot.tree.fetch_command(hello.id, guild=guild_obj)
        assert fetched.name == "hello"
        await hello.delete()
        assert hello.id not in emulator.world.commands
        with pytest.raises(discord.NotFound) as info:
            await bot.tree.fetch_command(hello.id, guild=guild_obj)
        assert info.value.code == 10063
        with pytest.raises(discord.HTTPException) as info:
            await bot.http.upsert_global_command(
                bot.application_id, {"name": "Bad Name", "description": "x", "type": 1}
            )
        assert info.value.code == 50035


async def test_webhook_by_token_and_followup_edits(emulator: Emulator, discord_guild) -> None:
    g = discord_guild
    async with running(make_bot(), emulator, "test-token") as bot:
        channel = bot.get_channel(g.general.id)
        webhook = await channel.create_webhook(name="relay")
        partial = discord.Webhook.partial(webhook.id, webhook.token, client=bot)
        fetched = await partial.fetch()
        assert fetched.name == "relay"
        assert (await webhook.fetch()).id == webhook.id
        message = await partial.send("first", wait=True)
        await partial.edit_message(message.id, content="edited")
        assert g.general.messages[message.id].content == "edited"
        await partial.delete_message(message.id)
        assert g.general.messages[message.id].deleted
        interaction = emulator.slash(g.member, g.general, "slow")
        await emulator.wait_for(lambda: interaction.followup_ids)
        original = emulator.response_message(interaction)
        assert original.flags & 128  # still "thinking" until the original is edited
        route = discord.http.Route(
            "PATCH",
            "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
            webhook_id=bot.application_id,
            webhook_token=interaction.token,
        )
        await bot.http.request(route, json={"content": "final answer"})
        assert original.content == "final answer"
        assert not original.flags & 128


async def test_slash_command_in_a_dm(emulator: Emulator, discord_guild) -> None:
    g = discord_guild
    bot = make_bot()

    @bot.tree.command(description="Ping in DMs")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    async def dmping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("dm pong")

    async with running(bot, emulator, "test-token"):
        dm = emulator.world.dm_channel(g.member.id, g.bot.user.id)
        interaction = emulator.slash(g.member, dm, "dmping")
        await emulator.wait_for_response(interaction)
    assert emulator.response_message(interaction).content == "dm pong"
