"""The pipeline through the local Discord emulator: real discord.py over real sockets.

The scenarios of ``test_pipeline_bot.py`` (which runs on the no-network stub, kept for the
benchmark) walked again with real gateway events and REST calls: grammar errors answered with
usage, every precedence rule of the permission engine with real commands, verbose refusals by
DM, cooldowns, audit records with correlation ids and redacted secrets.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from tests.pipeline.plugins_sample import Moderation, Util

import securebot
from securebot.core.audit import EventKind
from securebot.core.config import BotSettings, Config
from securebot.core.permissions import ChannelMode, ModulePolicy
from securebot.plugins.core_commands import CoreCommands
from securebot.testing.emulator import Emulator, StandardGuild


@pytest.fixture
def world(emulator: Emulator, discord_guild: StandardGuild) -> SimpleNamespace:
    """The standard guild plus a Helper role and its holder, a bot owner, a third channel."""
    g = discord_guild
    helper_role = emulator.create_role(g.guild, "Helper", position=1)
    helper = emulator.create_user("helper")
    emulator.add_member(g.guild, helper, roles=[helper_role])
    carol = emulator.create_user("carol")
    emulator.add_member(g.guild, carol)
    random = emulator.create_channel(g.guild, "random")
    return SimpleNamespace(g=g, helper_role=helper_role, helper=helper, carol=carol, random=random)


@pytest.fixture
def securebot_plugins() -> list[securebot.Plugin]:
    return [Moderation(), Util(), CoreCommands()]


@pytest.fixture
def securebot_config(emulator: Emulator, world: SimpleNamespace) -> Config:
    return Config(bot=BotSettings(api_base_url=emulator.base_url, owner_ids=(world.carol.id,)))


@pytest.fixture
def env(world: SimpleNamespace, securebot_bot: securebot.Bot, emulator: Emulator):  # type: ignore[no-untyped-def]
    return SimpleNamespace(**vars(world), bot=securebot_bot, emu=emulator)


async def say(env: SimpleNamespace, user, channel, text: str) -> list[str]:  # type: ignore[no-untyped-def]
    """``user`` sends ``text``; the bot's channel replies after it (DMs not included)."""
    sent = env.emu.send(user, channel, text)
    await env.emu.settle()
    return [m.content for m in env.emu.bot_messages(after=sent) if m.channel_id != 0 and m.guild_id]


async def policy(env: SimpleNamespace, module: str, value: ModulePolicy) -> None:
    await env.bot.permissions.update(env.g.guild.id, lambda p: p.with_module(module, value))


# --- grammar --------------------------------------------------------------------------------


async def test_converters_work_in_real_commands(env) -> None:
    g = env.g
    assert await say(env, g.member, g.general, "!wait 1h30m") == ["waiting 5400s"]
    assert await say(env, g.member, g.general, "!clock UTC+5:30") == ["17:30"]
    (who,) = await say(
        env, g.member, g.general, f"!who <@{env.helper.id}> Helper <@&{g.moderator_role.id}>"
    )
    # a member the bot has not cached (no member chunking here) resolves as the user
    assert who in (
        "Member:helper Role:Helper Role:Moderator",
        "User:helper Role:Helper Role:Moderator",
    )
    (reply,) = await say(
        env,
        g.member,
        g.general,
        f"!sched --i 2h --channel <#{env.random.id}> --silent --command !ping --x",
    )
    assert reply == "every 7200s in random silent=True: !ping --x"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("!wait 6h2mo", "`mo` must come before `h`"),
        ("!wait 30s", "seconds (`s`) are not allowed"),
        ("!wait <t:1>", "in the past"),
        ("!clock Mars/Base", "not a time zone"),
        ("!sched --command !ping", "the flag `--interval` is required"),
        ("!sched --i 1h --bogus 3 --command x", "unknown flag `--bogus`"),
        ("!whois nobody-here", "no member, user or role called `nobody-here`"),
    ],
)
async def test_every_grammar_error_is_a_user_message_with_usage(env, content, expected) -> None:
    (reply,) = await say(env, env.g.member, env.g.general, content)
    assert expected in reply
    assert "Usage: `!" in reply
    assert "Traceback" not in reply


# --- precedence, rule by rule ----------------------------------------------------------------


async def test_rule_1_a_disabled_module_blocks_everyone_even_the_owner(env) -> None:
    g = env.g
    assert await say(env, g.owner, g.general, "!modping") == ["modpong"]
    await policy(env, "moderation", ModulePolicy(enabled=False))
    assert await say(env, g.owner, g.general, "!modping") == []
    assert await say(env, g.admin, g.general, "!modping") == []


async def test_rule_2_always_available_skips_grants_and_channels(env) -> None:
    g = env.g
    await policy(env, "util", ModulePolicy(denied_users={g.member.id}, channels={g.general.id}))
    assert await say(env, g.member, g.general, "!verbose") == ["verbose on"]
    assert await say(env, g.member, env.random, "!wait 1m") == []


async def test_rule_3_channel_lists_apply_to_non_managers_only(env) -> None:
    g = env.g
    await policy(env, "util", ModulePolicy(channels={g.general.id}))
    assert await say(env, g.member, g.general, "!wait 1m") == []
    assert await say(env, g.member, env.random, "!wait 1m") == ["waiting 60s"]
    assert await say(env, g.admin, g.general, "!wait 1m") == ["waiting 60s"]
    await policy(
        env, "util", ModulePolicy(channel_mode=ChannelMode.WHITELIST, channels={env.random.id})
    )
    assert await say(env, g.member, g.general, "!wait 1m") == []
    assert await say(env, g.member, env.random, "!wait 1m") == ["waiting 60s"]


async def test_rule_4_grants(env) -> None:
    g = env.g
    assert await say(env, g.admin, g.general, "!modping") == ["modpong"]
    assert await say(env, env.helper, g.general, "!modping") == []
    await policy(env, "moderation", ModulePolicy(granted_roles={env.helper_role.id}))
    assert await say(env, env.helper, g.general, "!modping") == ["modpong"]
    assert await say(env, g.member, g.general, "!modping") == []
    await policy(env, "moderation", ModulePolicy(granted_users={g.member.id}))
    assert await say(env, g.member, g.general, "!modping") == ["modpong"]
    await policy(
        env, "moderation", ModulePolicy(granted_users={g.member.id}, denied_users={g.member.id})
    )
    assert await say(env, g.member, g.general, "!modping") == []


async def test_rule_5_discord_permissions_still_apply(env) -> None:
    g = env.g
    await policy(env, "moderation", ModulePolicy(granted_users={env.helper.id, g.moderator.id}))
    (reply,) = await say(env, env.helper, g.general, f"!warn <@{g.member.id}> --r 3")
    assert reply == "You can't use this command here: you need the kick_members permission(s)."
    (reply,) = await say(
        env, g.moderator, g.general, f"!warn <@{g.member.id}> --r 3 --rs spam --nodm"
    )
    assert reply == "warned member rule=3 reason=spam dm=False"


async def test_rule_6_module_roles(env) -> None:
    await policy(
        env,
        "moderation",
        ModulePolicy(denied_roles={env.helper_role.id}, module_roles={env.helper_role.id}),
    )
    assert await say(env, env.helper, env.g.general, "!modping") == ["modpong"]


async def test_rule_7_owner_tier(env) -> None:
    g = env.g
    (reply,) = await say(env, g.owner, g.general, "!economy")
    assert "only the bot's owners" in reply
    assert await say(env, env.carol, g.general, "!economy") == ["economy admin"]


async def test_rule_8_hierarchy_guards(env) -> None:
    g = env.g
    await policy(env, "moderation", ModulePolicy(module_roles={g.moderator_role.id}))
    (reply,) = await say(env, g.moderator, g.general, f"!ban <@{g.admin.id}>")
    assert reply == "You can't act on admin: their top role is not below yours."
    assert await say(env, g.moderator, g.general, f"!ban <@{g.member.id}>") == ["banned member"]
    (reply,) = await say(env, g.moderator, g.general, f"!ban <@{g.owner.id}>")
    assert "server owner" in reply


async def test_verbose_mode_dms_silent_refusals(env) -> None:
    g = env.g
    assert await say(env, g.member, g.general, "!modping") == []
    assert env.emu.dms(g.member) == []
    await say(env, g.member, g.general, "!verbose")
    await say(env, g.member, g.general, "!modping")
    assert [m.content for m in env.emu.dms(g.member)] == [
        "`modping` was refused: the moderation module has not been granted to you."
    ]


async def test_cooldowns(env) -> None:
    g = env.g
    assert await say(env, g.member, g.general, "!timely") == ["coins"]
    assert await say(env, g.member, g.general, "!timely") == ["coins"]
    (reply,) = await say(env, g.member, g.general, "!timely")
    assert "cooldown" in reply.lower()
    assert await say(env, env.helper, g.general, "!timely") == ["coins"]


# --- audit -----------------------------------------------------------------------------------


async def test_invocations_and_rest_calls_are_audited_and_correlated(env) -> None:
    g, bot = env.g, env.bot
    await say(env, g.member, g.general, "!wait 2h")
    await say(env, g.member, g.general, "!modping")
    await say(env, g.member, g.general, "!rrjoin 7 hunter2-secret")
    await bot.audit_log.flush()
    events = [e.event for e in await bot.audit_log.entries(str(g.guild.id))]
    commands = [e for e in events if e.kind is EventKind.COMMAND]
    assert [(e.action, e.outcome, e.rule) for e in commands] == [
        ("wait", "ok", "permissions:default-everyone"),
        ("modping", "denied", "permissions:not-granted"),
        ("rrjoin", "ok", "permissions:default-everyone"),
    ]
    assert commands[2].arguments == {"room": "7", "pin": "<redacted>"}
    http = [e for e in events if e.kind is EventKind.HTTP]
    assert [e.correlation_id for e in http] == [
        commands[0].correlation_id,
        commands[2].correlation_id,
    ]
    assert all(e.action == "POST /channels/{channel_id}/messages" for e in http)
    assert "hunter2" not in repr(bot.audit_log.store.entries)
    assert (await bot.audit_log.verify(str(g.guild.id))).ok
