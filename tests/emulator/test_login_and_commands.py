"""A real discord.py client logs in to the emulator and answers commands."""

from __future__ import annotations

import discord
import pytest
from discord.ext import commands

from securebot.testing.emulator import Emulator, StandardGuild
from securebot.testing.harness import BotStartError, running


def ping_bot(**options) -> commands.Bot:
    options.setdefault("intents", discord.Intents.all())
    bot = commands.Bot(command_prefix="!", guild_ready_timeout=0.05, **options)

    @bot.command()
    async def ping(ctx: commands.Context) -> None:
        await ctx.send("pong")

    return bot


async def test_commands_bot_logs_in_sees_the_guild_and_answers_ping(
    emulator: Emulator, discord_guild: StandardGuild
) -> None:
    async with running(ping_bot(), emulator, "test-token") as bot:
        guild = bot.get_guild(discord_guild.guild.id)
        assert guild is not None
        assert {c.name for c in guild.text_channels} == {"general", "staff"}
        assert guild.get_member(discord_guild.member.id) is not None
        assert guild.me.guild_permissions.administrator
        reply = await emulator.ask(discord_guild.member, discord_guild.general, "!ping")
        assert reply.content == "pong"
        assert reply.author_id == discord_guild.bot.user.id
    routes = [c.route for c in emulator.calls]
    assert routes[:2] == ["GET /users/@me", "GET /oauth2/applications/@me"]
    assert "POST /channels/{channel_id}/messages" in routes


async def test_a_wrong_token_is_a_login_failure(emulator: Emulator, discord_guild) -> None:
    with pytest.raises(BotStartError) as info:
        async with running(ping_bot(), emulator, "not-the-token"):
            pass
    assert isinstance(info.value.__cause__, discord.LoginFailure)
    assert emulator.calls[0].status == 401


async def test_securebot_bot_fixture_answers_ping(securebot_bot, emulator, discord_guild) -> None:
    reply = await emulator.ask(discord_guild.member, discord_guild.general, "!ping")
    assert reply.content.lower().startswith("pong")
    assert emulator.calls_to("GET /gateway/bot"), "an AutoShardedBot asks for the gateway"


async def test_a_parser_error_in_the_client_is_surfaced_not_hidden(
    emulator: Emulator, discord_guild: StandardGuild
) -> None:
    async def run_until_the_client_dies() -> None:
        async with running(ping_bot(), emulator, "test-token"):
            # a payload discord.py cannot parse kills its connection task
            emulator.gateway.dispatch_guild("MESSAGE_CREATE", discord_guild.guild, {"id": "1"})
            await emulator.wait_for(lambda: False, timeout=1)

    with pytest.raises(BotStartError) as info:
        await run_until_the_client_dies()
    assert isinstance(info.value.__cause__, KeyError)
