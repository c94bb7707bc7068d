"""Autocomplete goes through the permission engine too, and costs no memory.

Discord sends an autocomplete interaction per keystroke. Suggestions can reveal data (case
names, members...), so a user the command is refused to gets none; and since an autocomplete
never completes like a command, the tree must not keep a verdict for it (one per keystroke,
forever).
"""

from __future__ import annotations

from typing import Any

import discord
import pytest
from discord import app_commands

import securebot
from securebot.core.audit import EventKind
from securebot.core.bot import SecureCommandTree
from securebot.plugins.core_commands import CoreCommands
from securebot.testing.emulator import Emulator, StandardGuild

_CALLBACK = "POST /interactions/{interaction_id}/{interaction_token}/callback"


class Cases(securebot.Plugin):
    """A restricted module whose slash command suggests case titles."""

    manifest = securebot.PluginManifest(
        name="moderation", version="1.0", description="cases", user_data=securebot.UserData.none()
    )

    @app_commands.command(name="case", description="show a case")
    async def case(self, interaction: discord.Interaction, title: str) -> None:
        await interaction.response.send_message(f"case {title}")

    @case.autocomplete("title")
    async def _titles(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        titles = ["ban of alice for doxxing", "warn of bob"]
        return [app_commands.Choice(name=t, value=t) for t in titles if current in t]


@pytest.fixture
def securebot_plugins() -> list[securebot.Plugin]:
    return [Cases(), CoreCommands()]


def _autocomplete(emulator: Emulator, user: Any, channel: Any, typed: str) -> Any:
    data = {
        "id": str(emulator.world.new_id()),
        "name": "case",
        "type": 1,
        "options": [{"name": "title", "type": 3, "value": typed, "focused": True}],
    }
    return emulator._interaction(user, channel, 4, data, bot=emulator._default_bot(None))


async def test_autocomplete_is_gated_and_leaves_no_verdict_behind(
    securebot_bot: securebot.Bot, emulator: Emulator, discord_guild: StandardGuild
) -> None:
    g = discord_guild
    tree = securebot_bot.tree
    assert isinstance(tree, SecureCommandTree)
    refused = _autocomplete(emulator, g.member, g.general, "o")
    await emulator.settle()
    answers = [c.request for c in emulator.calls_to(_CALLBACK)]
    assert not any("doxxing" in str(body) for body in answers)  # no suggestion leaked
    assert refused.response_type in (None, 8)
    allowed = _autocomplete(emulator, g.admin, g.general, "o")
    await emulator.wait_for_response(allowed)
    assert any("doxxing" in str(c.request) for c in emulator.calls_to(_CALLBACK))
    for _ in range(20):  # keystrokes
        _autocomplete(emulator, g.admin, g.general, "b")
    await emulator.settle()
    assert tree._verdicts == {}
    await securebot_bot.audit_log.flush()  # keystrokes are not invocations
    assert [
        e
        for e in await securebot_bot.audit_log.entries(str(g.guild.id))
        if e.event.kind is EventKind.COMMAND
    ] == []
