"""The hierarchy guard holds for members the bot has not cached.

Without the members intent the bot knows only members it has seen speak. A manager below the
Admin must not change the Admin's access just because the Admin never spoke: the guard asks
Discord for the member instead of waving an unknown one through.
"""

from __future__ import annotations

import pytest
from tests.plugins.permissions.test_permissions_emulator import Secret, Util, say

import securebot
from securebot.plugins.core_commands import CoreCommands
from securebot.plugins.permissions import Permissions
from securebot.testing.emulator import Emulator, StandardGuild
from securebot.testing.emulator import permissions as bits


@pytest.fixture
def securebot_plugins() -> list[securebot.Plugin]:
    return [Permissions(), Util(), Secret(), CoreCommands()]


async def test_a_manager_cannot_change_an_uncached_higher_member(
    securebot_bot: securebot.Bot, emulator: Emulator, discord_guild: StandardGuild
) -> None:
    g = discord_guild
    helper_role = emulator.create_role(
        g.guild, "Helper", permissions=bits.MANAGE_GUILD, position=1
    )  # below Admin
    helper = emulator.create_user("helper")
    emulator.add_member(g.guild, helper, roles=[helper_role])
    assert securebot_bot.get_guild(g.guild.id).get_member(g.admin.id) is None  # never spoke
    (reply,) = await say(emulator, helper, g.general, f"!pedm secret {g.admin.id}")
    assert reply == "You can't change that: admin's top role is not below yours."
    policy = await securebot_bot.permissions.policy(g.guild.id)
    assert g.admin.id not in policy.module("secret").denied_users
    # a member below the helper (also never seen) can still be changed
    (reply,) = await say(emulator, helper, g.general, f"!peem secret {g.member.id}")
    assert reply.startswith("Granted **secret** to")
