"""The ``permissions`` plugin through the Discord emulator (real discord.py over sockets):
managers grant, revoke, disable and list with real commands; members feel it at once."""

from __future__ import annotations

import pytest

import securebot
from securebot.plugins.core_commands import CoreCommands
from securebot.plugins.permissions import Permissions
from securebot.testing.emulator import Emulator, StandardGuild


class Util(securebot.Plugin):
    manifest = securebot.PluginManifest(
        name="util", version="1.0", description="sample", user_data=securebot.UserData.none()
    )

    @securebot.command()
    async def echo(self, ctx: securebot.Context, *, text: str) -> None:
        await ctx.send(text)


class Secret(securebot.Plugin):
    manifest = securebot.PluginManifest(
        name="secret", version="1.0", description="sample", user_data=securebot.UserData.none()
    )

    @securebot.command()
    async def vault(self, ctx: securebot.Context) -> None:
        await ctx.send("vault open")


@pytest.fixture
def securebot_plugins() -> list[securebot.Plugin]:
    return [Permissions(), Util(), Secret(), CoreCommands()]


async def say(emulator: Emulator, user, channel, text: str) -> list[str]:  # type: ignore[no-untyped-def]
    sent = emulator.send(user, channel, text)
    await emulator.settle()
    return [m.content for m in emulator.bot_messages(channel, after=sent)]


async def test_grant_revoke_disable_and_channel_lists_with_real_commands(
    securebot_bot: securebot.Bot, emulator: Emulator, discord_guild: StandardGuild
) -> None:
    g = discord_guild
    assert await say(emulator, g.member, g.general, "!vault") == []
    (reply,) = await say(emulator, g.admin, g.general, f"!peem secret <@{g.member.id}>")
    assert reply.startswith("Granted **secret** to")
    assert await say(emulator, g.member, g.general, "!vault") == ["vault open"]
    await say(emulator, g.admin, g.general, f"!pedm secret {g.member.id}")
    assert await say(emulator, g.member, g.general, "!vault") == []
    assert await say(emulator, g.admin, g.general, "!petm util") == ["**util** is now disabled."]
    assert await say(emulator, g.owner, g.general, "!echo hi") == []
    await say(emulator, g.admin, g.general, "!petm util")
    await say(emulator, g.admin, g.general, f"!cpt util <#{g.general.id}>")
    assert await say(emulator, g.member, g.general, "!echo hi") == []
    assert await say(emulator, g.admin, g.general, "!echo boss") == ["boss"]
    (summary,) = await say(emulator, g.admin, g.general, "!pes")
    assert "secret: enabled, default managers, granted 0 role(s) 0 user(s)" in summary
    (effective,) = await say(emulator, g.admin, g.general, f"!pef <@{g.member.id}>")
    assert "⛔ util: the util module is off in this channel (permissions:channel-blacklist)" in (
        effective
    )


async def test_hierarchy_guard_and_a_bad_target(
    securebot_bot: securebot.Bot, emulator: Emulator, discord_guild: StandardGuild
) -> None:
    g = discord_guild
    (reply,) = await say(emulator, g.admin, g.general, f"!pedm util <@&{g.bot_role.id}>")
    assert reply == "You can't change that: the role securebot is not below your top role."
    (reply,) = await say(emulator, g.admin, g.general, "!peem secret nobody-at-all")
    assert "no member, user or role called `nobody-at-all`" in reply
    assert "Usage: `!permenablemod (module) (roles/users...)`" in reply
