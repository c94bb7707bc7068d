"""The whole pipeline on a real discord.py bot (no network): grammar errors, every precedence
rule with real commands, verbose mode, cooldowns, audit records, correlation ids, redaction."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import discord
import pytest
from tests.pipeline import stub
from tests.pipeline.plugins_sample import Moderation, Util
from tests.pipeline.stub import ADMIN, ALICE, BOB, CAROL, GENERAL, GUILD, MOD, OWNER, STAFF

import securebot
from securebot.core.audit import EventKind
from securebot.core.config import BotSettings
from securebot.core.permissions import ChannelMode, ModulePolicy
from securebot.plugins.core_commands import CoreCommands


@pytest.fixture
async def bot() -> AsyncIterator[securebot.Bot]:
    manager = securebot.PluginManager()
    for plugin in (Moderation(), Util(), CoreCommands()):
        manager.register(plugin)
    made = securebot.Bot(
        securebot.Config(bot=BotSettings(owner_ids=(CAROL,))),
        manager,
        intents=discord.Intents.all(),
    )
    async with made:
        made.stub = stub.StubDiscord(made)  # type: ignore[attr-defined]
        made.auditor.install_http(made.http)  # audit the stub's REST calls too
        await made.setup_hook()
        yield made
        await made.close()


def _d(bot: securebot.Bot) -> stub.StubDiscord:
    return bot.stub  # type: ignore[attr-defined, no-any-return]


async def _policy(bot: securebot.Bot, module: str, policy: ModulePolicy) -> None:
    await bot.permissions.update(GUILD, lambda p: p.with_module(module, policy))


# --- grammar through real commands ---------------------------------------------------------


async def test_converters_work_in_real_commands(bot: securebot.Bot) -> None:
    d = _d(bot)
    assert await d.say("!wait 1h30m") == ["waiting 5400s"]
    assert await d.say("!sleep 2mo") == [f"waiting {60 * 86400}s"]
    assert await d.say("!clock UTC+5:30") == ["17:30"]
    assert await d.say("!clock Europe/Rome") == ["14:00"]
    assert await d.say(f"!who <@{BOB}> Helper {MOD} <@&{stub.ROLE_MOD}>") == [
        "Member:bob Role:Helper Member:mod Role:Mod"
    ]
    reply = await d.say(
        f"!sched --i 2h --channel <#{STAFF}> --silent --command !warn <@{BOB}> --rs x"
    )
    assert reply == [f"every 7200s in staff silent=True: !warn <@{BOB}> --rs x"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("!wait 6h2mo", "`mo` must come before `h`"),
        ("!wait 30s", "seconds (`s`) are not allowed"),
        ("!wait <t:1>", "in the past"),
        ("!wait", "after is a required argument"),
        ("!clock Mars/Base", "not a time zone"),
        ("!sched --command !ping", "the flag `--interval` is required"),
        ("!sched --i 1h --bogus 3 --command x", "unknown flag `--bogus`"),
        ("!sched --i 6h2mo --command x", "`--interval`: `6h2mo` is not a valid time code"),
        ("!sched --i 1h --silent yes --command x", "is a switch and takes no value"),
        ("!whois nobody-here", "no member, user or role called `nobody-here`"),
    ],
)
async def test_every_grammar_error_is_a_user_message_with_usage(
    bot: securebot.Bot, content: str, expected: str
) -> None:
    (reply,) = await _d(bot).say(content)
    assert expected in reply
    assert "Usage: `!" in reply
    assert "Traceback" not in reply


async def test_usage_shows_required_optional_and_flags(bot: securebot.Bot) -> None:
    (reply,) = await _d(bot).say("!sched --i 1h")
    assert (
        "Usage: `!sched (--interval <interval>) [--channel <channel>] [--silent] (--command <...>)`"
        in reply
    )


# --- every precedence rule with real commands ----------------------------------------------


async def test_rule_1_a_disabled_module_blocks_everyone_even_the_owner(bot: securebot.Bot) -> None:
    d = _d(bot)
    assert await d.say("!modping", author=OWNER) == ["modpong"]
    await _policy(bot, "moderation", ModulePolicy(enabled=False))
    assert await d.say("!modping", author=OWNER) == []
    assert await d.say("!modping", author=ADMIN) == []


async def test_rule_2_always_available_skips_grants_and_channels_but_not_disable(
    bot: securebot.Bot,
) -> None:
    d = _d(bot)
    await _policy(bot, "util", ModulePolicy(denied_users={ALICE}, channels={GENERAL}))
    assert await d.say("!verbose") == ["verbose on"]
    assert await d.say("!wait 1m") == []
    await _policy(bot, "util", ModulePolicy(enabled=False))
    assert await d.say("!verbose") == []


async def test_rule_3_channel_lists_apply_to_non_managers_only(bot: securebot.Bot) -> None:
    d = _d(bot)
    await _policy(bot, "util", ModulePolicy(channels={GENERAL}))
    assert await d.say("!wait 1m", channel=GENERAL) == []
    assert await d.say("!wait 1m", channel=STAFF) == ["waiting 60s"]
    assert await d.say("!wait 1m", channel=GENERAL, author=ADMIN) == ["waiting 60s"]
    await _policy(bot, "util", ModulePolicy(channel_mode=ChannelMode.WHITELIST, channels={STAFF}))
    assert await d.say("!wait 1m", channel=GENERAL) == []
    assert await d.say("!wait 1m", channel=STAFF) == ["waiting 60s"]


async def test_rule_4_grants_restricted_modules_to_managers_then_roles_and_users(
    bot: securebot.Bot,
) -> None:
    d = _d(bot)
    assert await d.say("!modping", author=ADMIN) == ["modpong"]
    assert await d.say("!modping", author=BOB) == []
    await _policy(bot, "moderation", ModulePolicy(granted_roles={stub.ROLE_HELPER}))
    assert await d.say("!modping", author=BOB) == ["modpong"]
    assert await d.say("!modping", author=ALICE) == []
    await _policy(bot, "moderation", ModulePolicy(granted_users={ALICE}))
    assert await d.say("!modping", author=ALICE) == ["modpong"]
    await _policy(bot, "moderation", ModulePolicy(granted_users={ALICE}, denied_users={ALICE}))
    assert await d.say("!modping", author=ALICE) == []
    await _policy(bot, "util", ModulePolicy(denied_roles={stub.ROLE_HELPER}))
    assert await d.say("!wait 1m", author=BOB) == []
    assert await d.say("!wait 1m", author=ALICE) == ["waiting 60s"]


async def test_rule_5_discord_permissions_of_user_and_bot_still_apply(bot: securebot.Bot) -> None:
    d = _d(bot)
    await _policy(bot, "moderation", ModulePolicy(granted_users={ALICE, MOD}))
    (reply,) = await d.say(f"!warn <@{BOB}> --r 3", author=ALICE)
    assert reply == "You can't use this command here: you need the kick_members permission(s)."
    assert await d.say(f"!warn <@{BOB}> --r 3 --rs spam --nodm", author=MOD) == [
        "warned bob rule=3 reason=spam dm=False"
    ]


async def test_rule_6_module_roles_use_the_module_whatever_their_grants(bot: securebot.Bot) -> None:
    d = _d(bot)
    await _policy(
        bot,
        "moderation",
        ModulePolicy(denied_roles={stub.ROLE_HELPER}, module_roles={stub.ROLE_HELPER}),
    )
    assert await d.say("!modping", author=BOB) == ["modpong"]


async def test_rule_7_owner_tier(bot: securebot.Bot) -> None:
    d = _d(bot)
    (reply,) = await d.say("!economy", author=OWNER)
    assert "only the bot's owners" in reply
    assert await d.say("!economy", author=CAROL) == ["economy admin"]


async def test_rule_8_hierarchy_guards(bot: securebot.Bot) -> None:
    d = _d(bot)
    await _policy(bot, "moderation", ModulePolicy(module_roles={stub.ROLE_MOD}))
    (reply,) = await d.say(f"!ban <@{ADMIN}>", author=MOD)
    assert reply == "You can't act on admin: their top role is not below yours."
    assert await d.say(f"!ban <@{ALICE}>", author=MOD) == ["banned alice"]
    (reply,) = await d.say(f"!ban <@{OWNER}>", author=MOD)
    assert "server owner" in reply


async def test_verbose_mode_dms_silent_refusals(bot: securebot.Bot) -> None:
    d = _d(bot)
    assert await d.say("!modping") == []
    assert not [c for c in d.http.calls if c[1] == "/users/@me/channels"]
    await d.say("!verbose")
    await d.say("!modping")
    assert (
        stub.DM_CHANNEL,
        "`modping` was refused: the moderation module has not been granted to you.",
    ) in d.http.sent


async def test_cooldowns(bot: securebot.Bot) -> None:
    d = _d(bot)
    assert await d.say("!timely") == ["coins"]
    assert await d.say("!timely") == ["coins"]
    (reply,) = await d.say("!timely")
    assert "cooldown" in reply.lower()
    assert await d.say("!timely", author=BOB) == ["coins"]


# --- audit -----------------------------------------------------------------------------------


async def test_every_invocation_and_rest_call_is_audited_and_correlated(bot: securebot.Bot) -> None:
    d = _d(bot)
    await d.say("!wait 2h")
    await d.say("!modping")
    await d.say("!wait 6h2mo")
    await bot.audit_log.flush()
    entries = [e.event for e in await bot.audit_log.entries(str(GUILD))]
    commands = [e for e in entries if e.kind is EventKind.COMMAND]
    assert [(e.action, e.outcome, e.rule) for e in commands] == [
        ("wait", "ok", "permissions:default-everyone"),
        ("modping", "denied", "permissions:not-granted"),
        ("wait", "input-error", "permissions:default-everyone"),
    ]
    assert commands[0].arguments == {"after": "7200s"}
    assert commands[1].arguments == {}
    assert all(e.actor_id == ALICE and e.via == "prefix" and e.duration_ms > 0 for e in commands)
    http = [e for e in entries if e.kind is EventKind.HTTP]
    assert [e.action for e in http] == ["POST /channels/{channel_id}/messages"] * 2
    assert http[0].correlation_id == commands[0].correlation_id
    assert http[1].correlation_id == commands[2].correlation_id
    assert (await bot.audit_log.verify(str(GUILD))).ok


async def test_no_secret_argument_reaches_the_audit_log_or_a_log_line(
    bot: securebot.Bot, caplog: pytest.LogCaptureFixture
) -> None:
    d = _d(bot)
    with caplog.at_level(logging.DEBUG):
        assert await d.say("!rrjoin 7 hunter2-secret") == ["joined room 7"]
        (reply,) = await d.say("!rrjoin 7 fail")
        await d.say("!rrjoin seven hunter2-secret")
        await bot.audit_log.flush()
    assert "Something went wrong" in reply
    stored = repr(bot.audit_log.store.entries)  # type: ignore[attr-defined]
    assert "hunter2" not in stored
    assert "hunter2" not in caplog.text
    events = [e.event for e in await bot.audit_log.entries(str(GUILD))]
    joined = [e for e in events if e.action == "rrjoin"]
    assert [e.arguments for e in joined] == [
        {"room": "7", "pin": "<redacted>"},
        {"room": "7", "pin": "<redacted>"},
        {},
    ]
    assert [e.outcome for e in joined] == ["ok", "error:RuntimeError", "input-error"]
