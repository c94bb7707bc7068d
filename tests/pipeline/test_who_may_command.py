"""Who may drive the bot: webhooks and other bots never run commands; ``help`` explains only
commands the asking user may run (no usage of owner-only or refused commands)."""

from __future__ import annotations

import pytest
from tests.pipeline.plugins_sample import Moderation, Util

import securebot
from securebot.core.audit import EventKind
from securebot.core.config import BotSettings, Config
from securebot.plugins.core_commands import CoreCommands
from securebot.testing.emulator import Emulator, StandardGuild


@pytest.fixture
def securebot_plugins() -> list[securebot.Plugin]:
    return [Moderation(), Util(), CoreCommands()]


@pytest.fixture
def securebot_config(emulator: Emulator, discord_guild: StandardGuild) -> Config:
    return Config(
        bot=BotSettings(api_base_url=emulator.base_url, owner_ids=(discord_guild.owner.id,))
    )


async def test_webhook_and_bot_messages_never_run_commands(
    securebot_bot: securebot.Bot, emulator: Emulator, discord_guild: StandardGuild
) -> None:
    g = discord_guild
    hook = emulator.world.add_webhook(g.general, "Announcer")
    emulator.actions.post_message(g.general, hook.id, webhook_id=hook.id, content="!ping")
    other = emulator.create_bot("otherbot", token="other-bot-token")
    emulator.add_member(g.guild, other.user)
    emulator.actions.post_message(g.general, other.user.id, content="!ping")
    await emulator.settle()
    assert securebot_bot.user is not None
    assert [m for m in emulator.bot_messages() if m.author_id == securebot_bot.user.id] == []
    await securebot_bot.audit_log.flush()
    assert [
        e
        for e in await securebot_bot.audit_log.entries(str(g.guild.id))
        if e.event.kind is EventKind.COMMAND
    ] == []


async def test_help_explains_only_commands_the_user_may_run(
    securebot_bot: securebot.Bot, emulator: Emulator, discord_guild: StandardGuild
) -> None:
    g = discord_guild
    for name in ("economy", "ban", "modping"):  # owner-only; a restricted module's
        reply = await emulator.ask(g.member, g.general, f"!help {name}")
        assert reply.content == f"No command named `{name}`. Try `!help`."
    assert (await emulator.ask(g.member, g.general, "!help wait")).content.startswith("`!wait")
    assert (await emulator.ask(g.owner, g.general, "!help economy")).content.startswith("`!economy")
