"""Every event Giselle listens to reaches discord.py and parses (a parser error would kill the
bot's connection silently, so the harness would raise at the end of the test)."""

from __future__ import annotations

import discord

from securebot.testing.emulator import Emulator, permissions
from securebot.testing.harness import running

from .conftest import make_bot

EVENTS = [
    "message_edit",
    "raw_message_edit",
    "message_delete",
    "raw_bulk_message_delete",
    "member_join",
    "member_remove",
    "member_update",
    "member_ban",
    "member_unban",
    "guild_role_create",
    "guild_role_update",
    "guild_role_delete",
    "guild_channel_create",
    "guild_channel_update",
    "guild_channel_delete",
    "raw_reaction_add",
    "raw_reaction_remove",
    "raw_reaction_clear",
    "guild_channel_pins_update",
    "voice_state_update",
    "invite_create",
    "invite_delete",
    "interaction",
    "thread_create",
    "guild_update",
    "webhooks_update",
]


async def test_every_event_is_dispatched_and_parsed(emulator: Emulator, discord_guild) -> None:
    g = discord_guild
    bot = make_bot()
    seen: dict[str, int] = {}

    def recorder(name: str):
        async def listener(*args) -> None:
            seen[name] = seen.get(name, 0) + 1

        return listener

    for name in EVENTS:
        bot.add_listener(recorder(name), f"on_{name}")

    async with running(bot, emulator, "test-token") as client:
        guild = client.get_guild(g.guild.id)
        message = emulator.send(g.member, g.general, "hello")
        await emulator.wait_for(
            lambda: client.get_channel(g.general.id).last_message_id == message.id
        )
        emulator.edit(message, "hello again")
        emulator.react(g.member, message, "🎉")
        emulator.unreact(g.member, message, "🎉")
        newcomer = emulator.create_user("newcomer")
        emulator.join(g.guild, newcomer)
        emulator.give_role(g.guild, newcomer, g.moderator_role)
        emulator.leave(g.guild, newcomer)
        emulator.join_voice(g.guild, g.member, g.voice)
        emulator.delete(message)
        extra = emulator.create_channel(g.guild, "extra")
        emulator.create_role(g.guild, "Temp", permissions=permissions.SEND_MESSAGES, position=1)
        emulator.ban_externally(g.guild, emulator.create_user("raider"))
        emulator.slash(g.member, g.general, "hello", {"who": g.member})
        await emulator.settle()
        # the bot acting causes the rest
        channel = client.get_channel(g.general.id)
        note = await channel.send("note")
        await note.add_reaction("✅")
        await note.clear_reactions()
        await note.pin()
        first, second = await channel.send("a"), await channel.send("b")
        await channel.delete_messages([first, second])
        role = guild.get_role(next(r.id for r in g.guild.roles.values() if r.name == "Temp"))
        await role.edit(name="Temp2")
        await role.delete()
        await client.get_channel(extra.id).edit(name="extra2")
        await client.get_channel(extra.id).delete()
        invite = await channel.create_invite()
        await invite.delete()
        await guild.unban(discord.Object(next(iter(g.guild.bans))))
        await channel.create_thread(name="t", type=discord.ChannelType.public_thread)
        await channel.create_webhook(name="hook")
        await guild.edit(name="Edited")
        await emulator.wait_for(lambda: set(EVENTS) <= set(seen))
    assert set(EVENTS) <= set(seen), sorted(set(EVENTS) - set(seen))
