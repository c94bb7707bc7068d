"""Bot replies never ping @everyone, @here or roles because of what a user typed.

Discord parses every mention in a message unless the request says otherwise
(``allowed_mentions``), and the emulator renders mentions from the text alone, so these tests
read the requests the real discord.py client sent: each must carry ``allowed_mentions`` whose
``parse`` list has neither ``everyone`` nor ``roles``.
"""

from __future__ import annotations

from typing import Any

import discord
import pytest
from tests.pipeline.plugins_sample import Moderation

import securebot
from securebot.plugins.core_commands import CoreCommands
from securebot.testing.emulator import Emulator, StandardGuild

_SEND = "POST /channels/{channel_id}/messages"


class Echo(securebot.Plugin):
    """An everyone-module command that repeats what it was given (as plugins often do)."""

    manifest = securebot.PluginManifest(
        name="util",
        version="1.0",
        description="echo",
        user_data=securebot.UserData.none(),
    )

    @securebot.command()
    async def say(self, ctx: securebot.Context, *, text: str) -> None:
        await ctx.send(f"you said: {text}")


@pytest.fixture
def securebot_plugins() -> list[securebot.Plugin]:
    return [Moderation(), Echo(), CoreCommands()]


def _pings_mass_or_roles(request: Any) -> bool:
    """Whether Discord would parse @everyone/@here or role mentions in this message body."""
    allowed = request.get("allowed_mentions") if isinstance(request, dict) else None
    if allowed is None:
        return True  # Discord's default: parse everything in the content
    parse = allowed.get("parse", [])
    return "everyone" in parse or "roles" in parse or bool(allowed.get("roles"))


@pytest.mark.parametrize(
    "text",
    [
        "!say @everyone free nitro",
        "!say @here <@&{role}>",
        "!help @everyone",
        "!help `@here`",
        "!ban @everyone",  # an input error (or refusal) that quotes the argument
        "!say",  # missing argument: usage in the reply
    ],
)
async def test_replies_to_hostile_text_do_not_ping(
    emulator: Emulator, discord_guild: StandardGuild, securebot_bot: securebot.Bot, text: str
) -> None:
    g = discord_guild
    before = len(emulator.calls_to(_SEND))
    emulator.send(g.owner, g.general, text.format(role=g.moderator_role.id))
    await emulator.settle()
    sent = emulator.calls_to(_SEND)[before:]
    assert sent, "the bot answered"
    assert not [c.request for c in sent if _pings_mass_or_roles(c.request)]


async def test_default_allows_user_mentions_and_a_command_can_opt_in(
    securebot_bot: securebot.Bot,
) -> None:
    allowed = securebot_bot.allowed_mentions
    assert allowed is not None
    assert allowed.to_dict()["parse"] == ["users"]
    # an explicit allowed_mentions on a send still wins (intended pings stay possible)
    merged = allowed.merge(discord.AllowedMentions(everyone=True))
    assert "everyone" in merged.to_dict()["parse"]
