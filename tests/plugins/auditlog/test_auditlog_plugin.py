"""The ``auditlog`` plugin: admins page and filter their own server's trail; retention."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import attrs
import pytest
from tests.pipeline import stub
from tests.pipeline.harness import stub_bot
from tests.pipeline.stub import ADMIN, ALICE, BOB, GUILD, OWNER

import securebot
from securebot.core.audit import AuditEvent, EventKind
from securebot.core.scheduler import ManualClock, MemoryJobStore, Scheduler
from securebot.plugins.auditlog import AuditLogPlugin
from securebot.plugins.core_commands import CoreCommands
from securebot.plugins.permissions import Permissions


class Util(securebot.Plugin):
    manifest = securebot.PluginManifest(
        name="util", version="1.0", description="sample", user_data=securebot.UserData.none()
    )

    @securebot.command(secret_params=["pin"])
    async def join(self, ctx: securebot.Context, room: int, pin: str) -> None:
        await ctx.send(f"joined {room}")


@pytest.fixture
async def env() -> AsyncIterator[tuple[securebot.Bot, stub.StubDiscord]]:
    async with stub_bot([AuditLogPlugin(), Permissions(), Util(), CoreCommands()]) as made:
        yield made


async def test_admins_read_their_trail_newest_first_with_secrets_redacted(env) -> None:
    _bot, d = env
    await d.say("!join 7 hunter2")
    await d.say("!ping", author=BOB)
    (reply,) = await d.say("!auditlog", author=ADMIN)
    assert reply.startswith("Audit log of Test Guild: page 1/1, ")
    assert "chain verified" in reply
    lines = reply.split("```")[1].strip().splitlines()
    assert "command ping by user" in lines[1] or "command ping by user" in lines[0]
    join = next(line for line in lines if " join " in line)
    assert f"by user {ALICE} -> ok [permissions:default-everyone] pin=<redacted> room=7" in join
    assert "hunter2" not in reply
    sequence = [int(line.split()[0][1:]) for line in lines]
    assert sequence == sorted(sequence, reverse=True)


async def test_filters_and_pages(env) -> None:
    _bot, d = env
    for n in range(12):
        await d.say(f"!join {n} x")
    await d.say("!peem util Helper", author=ADMIN)
    await d.say("!pes")  # denied for alice
    (reply,) = await d.say(f"!al --user <@{ALICE}> --action join", author=ADMIN)
    assert "page 1/2, 12 entries" in reply
    (page2,) = await d.say(f"!al --u {ALICE} --a join --p 2", author=ADMIN)
    assert "page 2/2" in page2
    assert page2.count(" join ") == 2
    (config,) = await d.say("!al --kind config", author=ADMIN)
    assert "1 entry" in config
    assert "permissions.util.grant" in config
    (denied,) = await d.say("!al --outcome denied", author=ADMIN)
    assert " permshow " in denied
    assert " join " not in denied


async def test_only_this_servers_chain_is_shown(env) -> None:
    bot, d = env
    bot.audit_log.record(
        AuditEvent(EventKind.COMMAND, 1.7e9, guild_id=999, action="secretaction", actor_id=1)
    )
    await d.say("!ping")
    (reply,) = await d.say("!auditlog", author=ADMIN)
    assert "secretaction" not in reply


async def test_a_tampered_chain_is_reported(env) -> None:
    bot, d = env
    await d.say("!ping")
    await d.say("!ping")
    await bot.audit_log.flush()
    entries = bot.audit_log.store.entries[str(GUILD)]
    entries[0] = attrs.evolve(entries[0], record=dict(entries[0].record, outcome="denied"))
    (reply,) = await d.say("!auditlog", author=OWNER)
    assert "chain BROKEN at entry 1" in reply


async def test_members_without_manage_server_cannot_read(env) -> None:
    bot, d = env
    await bot.permissions.update(
        GUILD, lambda p: p.with_module("auditlog", securebot.ModulePolicy(granted_users={ALICE}))
    )
    (reply,) = await d.say("!auditlog", author=ALICE)
    assert reply == "You can't use this command here: you need the manage_guild permission(s)."


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("!al --page 0", "`--page` starts at 1"),
        ("!al --page 9", "there are 1 page(s)"),
        ("!al --page x", "`--page`:"),
        ("!al --kind nope", "`--kind` is one of command, http, config, job"),
        ("!al --user bob", "`--user`: `bob` is not an id"),
        ("!al --bogus", "unknown flag `--bogus`"),
    ],
)
async def test_bad_flags_are_user_errors(env, content: str, expected: str) -> None:
    _bot, d = env
    (reply,) = await d.say(content, author=ADMIN)
    assert expected in reply
    assert "Usage: `!auditlog" in reply


async def test_retention_prunes_old_entries_daily_and_the_rest_verifies() -> None:
    clock = ManualClock(dt.datetime.now(dt.UTC))

    def setup(bot: securebot.Bot) -> None:
        bot.clock = clock
        bot.scheduler = Scheduler(MemoryJobStore(), clock=clock)

    plugins = [AuditLogPlugin(), Util(), CoreCommands()]
    config = {"plugin": {"auditlog": {"retention_days": 1}}}
    async with stub_bot(plugins, setup=setup, **config) as (bot, d):
        await d.say("!ping")
        await d.say("!ping")
        await bot.audit_log.flush()
        before = len(await bot.audit_log.entries(str(GUILD)))
        assert before == 4  # two commands, two replies
        (job,) = await bot.scheduler.store.jobs(kind="auditlog.prune")
        assert job.interval == 86_400
        await clock.advance(dt.timedelta(days=1, seconds=1))
        for _ in range(50):
            await asyncio.sleep(0)
        assert await bot.audit_log.entries(str(GUILD)) == []
        assert (await bot.audit_log.verify(str(GUILD))).ok
        await d.say("!ping")
        await bot.audit_log.flush()
        report = await bot.audit_log.verify(str(GUILD))
        assert report.ok
        assert report.checked == 2


def test_retention_setting_is_validated() -> None:
    from securebot.errors import ConfigError
    from securebot.plugins.auditlog.plugin import retention_days

    assert retention_days({}) is None
    assert retention_days({"retention_days": 30}) == 30
    for bad in ({"retention_days": 0}, {"retention_days": "30"}, {"retention_days": True}):
        with pytest.raises(ConfigError, match="retention_days"):
            retention_days(bad)
    with pytest.raises(ConfigError, match="unknown key 'days'"):
        retention_days({"days": 3})
