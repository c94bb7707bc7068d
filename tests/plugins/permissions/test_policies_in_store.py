"""Permission policies survive a restart when the bot has a Store (SQLite), round-trip every
field, and a damaged stored policy fails closed."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.pipeline.harness import stub_bot
from tests.pipeline.stub import ADMIN, ALICE, GUILD

import securebot
from securebot.errors import CorruptRecordError
from securebot.plugins.core_commands import CoreCommands
from securebot.plugins.permissions import Permissions
from securebot.plugins.permissions.policies import decode_policy, encode_policy
from securebot.storage import open_sqlite_store


class Util(securebot.Plugin):
    manifest = securebot.PluginManifest(
        name="util", version="1.0", description="sample", user_data=securebot.UserData.none()
    )

    @securebot.command()
    async def echo(self, ctx: securebot.Context, *, text: str) -> None:
        await ctx.send(text)


async def test_policies_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "securebot.sqlite3"

    async def with_store(store):  # type: ignore[no-untyped-def]
        def setup(bot: securebot.Bot) -> None:
            bot.store = store

        return stub_bot([Permissions(), Util(), CoreCommands()], setup=setup)

    store = await open_sqlite_store(path)
    async with await with_store(store) as (_bot, d):
        await d.say(f"!pedm util <@{ALICE}>", author=ADMIN)
        await d.say("!cptm util", author=ADMIN)
        assert await d.say("!echo hi") == []
    await store.close()
    store = await open_sqlite_store(path)
    async with await with_store(store) as (bot, d):
        assert await d.say("!echo hi", author=ADMIN) == ["hi"]  # managers skip channel lists
        assert await d.say("!echo hi") == []
        policy = (await bot.permissions.policy(GUILD)).module("util")
        assert policy.denied_users == frozenset({ALICE})
        assert policy.channel_mode is securebot.ChannelMode.WHITELIST
    await store.close()


IDS = st.frozensets(st.integers(1, 2**63 - 1), max_size=4)
POLICIES = st.builds(
    securebot.ModulePolicy,
    enabled=st.booleans(),
    granted_roles=IDS,
    granted_users=IDS,
    denied_roles=IDS,
    denied_users=IDS,
    channel_mode=st.sampled_from(securebot.ChannelMode),
    channels=IDS,
    module_roles=IDS,
)


@given(st.dictionaries(st.text(min_size=1, max_size=20), POLICIES, max_size=4))
def test_policy_json_round_trip(modules: dict[str, securebot.ModulePolicy]) -> None:
    assert decode_policy(encode_policy(modules), guild_id=1) == modules


@pytest.mark.parametrize(
    "damaged",
    [
        [],
        {"util": []},
        {"util": {"enabled": "yes"}},
        {"util": {"enabled": True, "channel_mode": "greylist"}},
        {"util": {"enabled": True, "channel_mode": "blacklist", "granted_roles": ["1"]}},
        {"util": {"enabled": True, "channel_mode": "blacklist", "granted_roles": [True]}},
    ],
)
def test_a_damaged_policy_is_refused(damaged: object) -> None:
    with pytest.raises(CorruptRecordError, match="permissions policy of guild 7"):
        decode_policy(damaged, guild_id=7)


async def test_a_damaged_stored_policy_fails_closed_with_a_message(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from securebot.core.audit import EventKind
    from securebot.storage import Scope

    store = await open_sqlite_store(tmp_path / "securebot.sqlite3")
    settings = store.settings("permissions")
    settings.register(Scope.GUILD, policy=None)
    await settings.guild(GUILD).set("policy", {"util": {"enabled": "maybe"}})

    def setup(bot: securebot.Bot) -> None:
        bot.store = store

    async with stub_bot([Permissions(), Util(), CoreCommands()], setup=setup) as (bot, d):
        (reply,) = await d.say("!echo hi")
        assert reply == (
            "You can't use this command here: the permission settings could not be read; "
            "try again later."
        )
        await bot.audit_log.flush()
        (event,) = [
            e.event
            for e in await bot.audit_log.entries(str(GUILD))
            if e.event.kind is EventKind.COMMAND
        ]
        assert (event.outcome, event.rule) == ("denied", "permissions:error")
    assert "permission check failed; denying" in caplog.text
    await store.close()
