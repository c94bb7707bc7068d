"""The ``permissions`` plugin through a real discord.py bot: grants, revokes, module switch,
channel lists, effective permissions, hierarchy guards, bad input, audit of every change."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from tests.pipeline import stub
from tests.pipeline.harness import stub_bot
from tests.pipeline.plugins_sample import Moderation
from tests.pipeline.stub import ADMIN, ALICE, BOB, GENERAL, GUILD, MOD, OWNER, STAFF

import securebot
from securebot.core.audit import EventKind
from securebot.plugins.core_commands import CoreCommands
from securebot.plugins.permissions import Permissions


class Util(securebot.Plugin):
    """An everyone module."""

    manifest = securebot.PluginManifest(
        name="util", version="1.0", description="sample", user_data=securebot.UserData.none()
    )

    @securebot.command()
    async def echo(self, ctx: securebot.Context, *, text: str) -> None:
        await ctx.send(text)


@pytest.fixture
async def env() -> AsyncIterator[tuple[securebot.Bot, stub.StubDiscord]]:
    async with stub_bot([Permissions(), Moderation(), Util(), CoreCommands()]) as made:
        yield made


async def test_grant_a_restricted_module_to_a_role_then_revoke_it(env) -> None:
    _bot, d = env
    assert await d.say("!modping", author=BOB) == []
    assert await d.say("!peem moderation Helper", author=ADMIN) == [
        f"Granted **moderation** to <@&{stub.ROLE_HELPER}>."
    ]
    assert await d.say("!modping", author=BOB) == ["modpong"]
    assert await d.say("!modping", author=ALICE) == []
    await d.say(f"!pedm moderation <@&{stub.ROLE_HELPER}>", author=ADMIN)
    assert await d.say("!modping", author=BOB) == []


async def test_mixed_list_of_users_and_roles_and_deny_on_an_everyone_module(env) -> None:
    bot, d = env
    await d.say(f'!permenablemod moderation <@{ALICE}> "Helper"', author=ADMIN)
    assert await d.say("!modping", author=ALICE) == ["modpong"]
    assert await d.say("!modping", author=BOB) == ["modpong"]
    assert await d.say("!echo hi", author=ALICE) == ["hi"]
    await d.say(f"!pedm util {ALICE}", author=ADMIN)
    assert await d.say("!echo hi", author=ALICE) == []
    assert await d.say("!echo hi", author=BOB) == ["hi"]
    await d.say(f"!peem util {ALICE}", author=ADMIN)  # lifts the deny
    assert await d.say("!echo hi", author=ALICE) == ["hi"]
    policy = (await bot.permissions.policy(GUILD)).module("util")
    assert policy.denied_users == frozenset()
    assert policy.granted_users == frozenset()


async def test_a_disabled_module_blocks_everyone_and_permissions_cannot_be_disabled(env) -> None:
    _bot, d = env
    assert await d.say("!petm util", author=ADMIN) == ["**util** is now disabled."]
    assert await d.say("!echo hi", author=OWNER) == []
    assert await d.say("!echo hi", author=ADMIN) == []
    (reply,) = await d.say("!petm permissions", author=OWNER)
    assert "cannot be disabled" in reply
    assert await d.say("!petm util", author=OWNER) == ["**util** is now enabled."]
    assert await d.say("!echo hi", author=ALICE) == ["hi"]


async def test_channel_blacklist_and_whitelist_for_non_managers(env) -> None:
    _bot, d = env
    (reply,) = await d.say(f"!cpt util <#{GENERAL}>", author=ADMIN)
    assert reply == f"**util** channel blacklist: <#{GENERAL}>"
    assert await d.say("!echo hi", channel=GENERAL) == []
    assert await d.say("!echo hi", channel=STAFF) == ["hi"]
    assert await d.say("!echo boss", channel=GENERAL, author=ADMIN) == ["boss"]
    assert await d.say("!cptm util", author=ADMIN) == ["**util** channel list is now a whitelist."]
    assert await d.say("!echo hi", channel=GENERAL) == ["hi"]
    assert await d.say("!echo hi", channel=STAFF) == []
    await d.say(f"!cpt util {GENERAL}", author=ADMIN)  # toggled off: empty whitelist
    assert await d.say("!echo hi", channel=GENERAL) == []


async def test_show_settings_and_effective_permissions(env) -> None:
    _bot, d = env
    await d.say("!peem moderation Helper", author=ADMIN)
    await d.say(f"!cpt util {STAFF}", author=ADMIN)
    (summary,) = await d.say("!pes", author=ADMIN)
    assert "moderation: enabled, default managers, granted 1 role(s) 0 user(s)" in summary
    assert "util: enabled, default everyone" in summary
    assert "blacklist of 1 channel(s)" in summary
    (detail,) = await d.say("!pesm moderation", author=ADMIN)
    assert f"Granted roles: <@&{stub.ROLE_HELPER}>" in detail
    (effective,) = await d.say(f"!pef <@{BOB}> <#{STAFF}>", author=ADMIN)
    assert "✅ moderation: a role granted the moderation module (permissions:role-grant)" in (
        effective
    )
    assert "⛔ util: the util module is off in this channel (permissions:channel-blacklist)" in (
        effective
    )
    assert "⛔ permissions:" in effective


async def test_hierarchy_guards(env) -> None:
    bot, d = env
    (reply,) = await d.say(f"!pedm util <@{OWNER}>", author=ADMIN)
    assert reply == "You can't change that: nobody changes the server owner's access."
    (reply,) = await d.say(f"!peem moderation <@&{stub.ROLE_BOT}>", author=ADMIN)
    assert reply == "You can't change that: the role Bot is not below your top role."
    (reply,) = await d.say(f"!peem moderation <@&{stub.ROLE_ADMIN}>", author=ADMIN)
    assert "the role Admin is not below your top role" in reply
    assert (await bot.permissions.policy(GUILD)).module("moderation").granted_roles == frozenset()
    # a member ranked below may be changed; the server owner may change anyone
    await d.say(f"!pedm util <@{MOD}>", author=ADMIN)
    assert await d.say("!echo x", author=MOD) == []
    await d.say(f"!peem moderation <@&{stub.ROLE_ADMIN}>", author=OWNER)
    assert (
        stub.ROLE_ADMIN in (await bot.permissions.policy(GUILD)).module("moderation").granted_roles
    )


async def test_non_managers_cannot_manage_and_verbose_tells_them_why(env) -> None:
    _bot, d = env
    assert await d.say(f"!peem moderation <@{ALICE}>", author=ALICE) == []
    assert await d.say("!verbose") == [
        "Verbose mode is on: I will DM you why a command is refused."
    ]
    await d.say(f"!peem moderation <@{ALICE}>", author=ALICE)
    assert (
        stub.DM_CHANNEL,
        "`permenablemod` was refused: the permissions module has not been granted to you.",
    ) in d.http.sent
    assert await d.say("!verbose") == ["Verbose mode is off."]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("!peem nosuch Helper", "there is no module called `nosuch`"),
        ("!peem moderation nobody-here", "no member, user or role called `nobody-here`"),
        ("!peem moderation", "targets is a required argument"),
        ("!cpt util #nowhere", "no channel called `#nowhere`"),
        ("!pesm", "module is a required argument"),
        ("!pef nobody", "no member called `nobody` in this server"),
        ('!peem moderation "unclosed', 'no member, user or role called `"unclosed`'),
    ],
)
async def test_bad_input_is_a_user_message_with_usage(env, content: str, expected: str) -> None:
    _bot, d = env
    (reply,) = await d.say(content, author=ADMIN)
    assert expected in reply
    assert "Usage: `!" in reply
    assert "Traceback" not in reply


async def test_every_change_is_an_audited_configuration_change(env) -> None:
    bot, d = env
    await d.say(f"!peem moderation Helper <@{ALICE}>", author=ADMIN)
    await d.say("!petm util", author=ADMIN)
    await d.say(f"!cpt util {STAFF}", author=ADMIN)
    await d.say("!cptm util", author=ADMIN)
    await bot.audit_log.flush()
    changes = [
        e.event for e in await bot.audit_log.entries(str(GUILD)) if e.event.kind is EventKind.CONFIG
    ]
    assert [(c.action, c.actor_id) for c in changes] == [
        ("permissions.moderation.grant", ADMIN),
        ("permissions.util.enabled", ADMIN),
        ("permissions.util.channels", ADMIN),
        ("permissions.util.channel-mode", ADMIN),
    ]
    assert changes[0].detail == {"targets": [f"role:{stub.ROLE_HELPER}", f"user:{ALICE}"]}
    commands = [
        e.event.correlation_id
        for e in await bot.audit_log.entries(str(GUILD))
        if e.event.kind is EventKind.COMMAND and e.event.action == "permenablemod"
    ]
    assert changes[0].correlation_id == commands[0]


async def test_remembered_verdicts_follow_role_changes_and_policy_changes(
    env, monkeypatch: pytest.MonkeyPatch
) -> None:
    _bot, d = env
    await d.say("!pedm util Helper", author=ADMIN)
    assert await d.say("!echo hi", author=ALICE) == ["hi"]
    # alice is given the denied role (her next message carries it)
    monkeypatch.setitem(stub.MEMBERS, ALICE, ("alice", [stub.ROLE_HELPER]))
    assert await d.say("!echo hi", author=ALICE) == []
    monkeypatch.setitem(stub.MEMBERS, ALICE, ("alice", []))
    assert await d.say("!echo hi", author=ALICE) == ["hi"]
    await d.say(f"!pedm util <@{ALICE}>", author=ADMIN)  # a new policy
    assert await d.say("!echo hi", author=ALICE) == []
