"""The pipeline's fast paths keep every guarantee of the slow ones: audit content and hashes,
remembered permission verdicts, prefixes and mentions, discord.py listeners and checks."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import attrs
from discord.ext import commands
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.pipeline import stub
from tests.pipeline.harness import stub_bot
from tests.pipeline.stub import ALICE, BOT_ID, GUILD

import securebot
from securebot.core.audit import AuditEvent, AuditLog, EventKind, MemoryAuditStore
from securebot.core.audit.chain import canonical, entry_hash, record_hash
from securebot.core.audit.log import EventFields, record_of
from securebot.core.audit.model import AuditEntry
from securebot.core.permissions import ModulePolicy
from securebot.plugins.core_commands import CoreCommands

_ids = st.none() | st.integers(min_value=0, max_value=2**63 - 1)
_text = st.text(max_size=12)
_maps = st.dictionaries(_text, _text, max_size=3)
_fields = st.tuples(
    st.sampled_from(EventKind),
    st.floats(allow_nan=False, allow_infinity=False),
    _ids,
    _ids,
    _ids,
    _text,
    _text,
    _maps,
    _text,
    _text,
    st.floats(min_value=0, max_value=1e6),
    _text,
    _maps,
)


@given(_fields)
def test_a_queued_field_tuple_hashes_and_records_like_its_event(fields: EventFields) -> None:
    event = AuditEvent(*fields)
    assert record_of(fields) == event.to_dict()
    assert record_hash("c", 3, "p", record_of(fields)) == entry_hash("c", 3, "p", event)


@given(st.dictionaries(_text, st.none() | st.integers() | st.floats(allow_nan=False) | _text))
def test_the_canonical_encoding_is_the_documented_json_dumps(record: dict[str, Any]) -> None:
    event = AuditEvent(EventKind.COMMAND, 1.0)
    expected = json.dumps(
        record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode()
    assert canonical(event, record) == expected


@settings(max_examples=30, deadline=None)
@given(st.lists(_fields, min_size=1, max_size=6))
def test_tuples_and_events_store_the_same_chain(items: list[EventFields]) -> None:
    async def stored(as_tuples: bool) -> dict[str, list[Any]]:
        store = MemoryAuditStore()
        log = AuditLog(store)
        for fields in items:
            if as_tuples:
                log.record_fields(fields)
            else:
                log.record(AuditEvent(*fields))
        assert await log.flush() == len(items)
        for chain in await store.chains():
            assert (await log.verify(chain)).ok
        return {c: [attrs.astuple(e) for e in store.entries[c]] for c in store.entries}

    async def both() -> None:
        assert await stored(True) == await stored(False)

    asyncio.run(both())


class Listening(securebot.Plugin):
    manifest = securebot.PluginManifest(
        name="listening", version="1.0", description="observer", user_data=securebot.UserData.none()
    )

    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    @securebot.hookimpl
    async def securebot_on_audit_event(self, entry: AuditEntry) -> None:
        self.entries.append(entry)


async def test_audit_observers_get_the_entries_that_were_stored() -> None:
    listening = Listening()
    async with stub_bot([listening, CoreCommands()]) as (bot, d):
        await d.say("!ping")
        await bot.audit_log.flush()
        stored = await bot.audit_log.entries(str(GUILD))
    assert [e.event.action for e in listening.entries if e.event.kind is EventKind.COMMAND] == [
        "ping"
    ]
    assert [attrs.astuple(e) for e in listening.entries] == [attrs.astuple(e) for e in stored]


async def test_without_observers_every_command_is_still_stored_and_verifies() -> None:
    async with stub_bot([CoreCommands()]) as (bot, d):
        await d.say("!ping")
        await d.say("!ping", author=stub.BOB)
        await bot.audit_log.flush()
        events = [e.event for e in await bot.audit_log.entries(str(GUILD))]
        assert (await bot.audit_log.verify(str(GUILD))).ok
    pings = [e for e in events if e.kind is EventKind.COMMAND]
    assert [(e.action, e.outcome, e.actor_id) for e in pings] == [
        ("ping", "ok", ALICE),
        ("ping", "ok", stub.BOB),
    ]
    assert all(e.rule.startswith("permissions:") and e.correlation_id for e in pings)
    http = [e for e in events if e.kind is EventKind.HTTP]
    assert [e.correlation_id for e in http] == [e.correlation_id for e in pings]


async def test_command_listeners_and_wait_for_still_hear_commands() -> None:
    async with stub_bot([CoreCommands()]) as (bot, d):
        heard: list[str] = []

        async def on_command(ctx: commands.Context[Any]) -> None:
            heard.append(f"start {ctx.command}")

        async def on_command_completion(ctx: commands.Context[Any]) -> None:
            heard.append(f"done {ctx.command}")

        bot.add_listener(on_command)
        bot.add_listener(on_command_completion)
        waiter = asyncio.ensure_future(bot.wait_for("command_completion", timeout=5))
        await asyncio.sleep(0)
        await d.say("!ping")
        ctx = await waiter
        assert ctx.command.name == "ping"
        assert heard == ["start ping", "done ping"]
        bot.remove_listener(on_command)
        bot.remove_listener(on_command_completion)
        await d.say("!ping")
        assert heard == ["start ping", "done ping"]


async def test_mentions_and_guild_prefixes_still_invoke() -> None:
    async with stub_bot([CoreCommands()]) as (bot, d):
        assert (await d.say(f"<@{BOT_ID}> ping"))[0].startswith("pong")
        assert (await d.say(f"<@!{BOT_ID}> ping"))[0].startswith("pong")
        bot.guild_prefixes[GUILD] = "<"  # could swallow a mention: mentions are tried first
        assert (await d.say(f"<@{BOT_ID}> ping"))[0].startswith("pong")
        assert (await d.say("<ping"))[0].startswith("pong")
        assert await d.say("!ping") == []
        assert sorted(await bot.get_prefix(d.message("x"))) == sorted(
            ["<", f"<@{BOT_ID}> ", f"<@!{BOT_ID}> "]
        )
        bot.guild_prefixes[GUILD] = "?"
        assert await bot.get_prefix(d.message("x")) == ["?", f"<@{BOT_ID}> ", f"<@!{BOT_ID}> "]
        assert (await d.say("?ping"))[0].startswith("pong")


async def test_checks_added_with_add_check_and_check_once_still_run() -> None:
    async with stub_bot([CoreCommands()]) as (bot, d):
        calls: list[str] = []

        def every(ctx: commands.Context[Any]) -> bool:
            calls.append("check")
            return ctx.author.id != stub.BOB

        def once(ctx: commands.Context[Any]) -> bool:
            calls.append("once")
            return True

        bot.add_check(every)
        bot.add_check(once, call_once=True)
        assert (await d.say("!ping"))[0].startswith("pong")
        assert await d.say("!ping", author=stub.BOB) != ["pong"]
        assert calls == ["once", "check", "once", "check"]
        await bot.permissions.update(
            GUILD, lambda p: p.with_module("core_commands", ModulePolicy(enabled=False))
        )
        calls.clear()
        await d.say("!ping")
        assert calls == ["once"]  # the permission engine refused before the added check
        await bot.audit_log.flush()
        last = [e.event for e in await bot.audit_log.entries(str(GUILD))][-1]
        assert (last.outcome, last.rule) == ("denied", "permissions:module-disabled")


async def test_remembered_verdicts_follow_policy_roles_and_everyone_modules() -> None:
    async with stub_bot([CoreCommands()]) as (bot, d):
        gate = bot.permissions
        ctx = await bot.get_context(d.message("!ping"))
        assert gate.remembered(ctx) is None
        first = await gate.check_context(ctx)
        assert first.allowed
        assert gate.remembered(ctx) is first  # the same key is built both ways
        await gate.update(
            GUILD, lambda p: p.with_module("core_commands", ModulePolicy(enabled=False))
        )
        assert gate.remembered(ctx) is None
        assert not (await gate.check_context(ctx)).allowed
        await gate.update(GUILD, lambda p: p.with_module("core_commands", ModulePolicy()))
        assert (await gate.check_context(ctx)).allowed
        assert gate.remembered(ctx) is not None
        gate.everyone_modules = gate.everyone_modules - {"core_commands"}
        assert gate.remembered(ctx) is None
        assert not (await gate.check_context(ctx)).allowed  # ALICE is no manager
        bob = await bot.get_context(d.message("!ping", author=stub.BOB))
        assert gate.remembered(bob) is None  # other member, other roles


async def test_a_failing_permission_gate_denies_and_is_audited() -> None:
    async with stub_bot([CoreCommands()]) as (bot, d):

        async def broken(ctx: commands.Context[Any]) -> Any:
            raise RuntimeError("store down")

        bot.permissions.remembered = lambda ctx: None  # type: ignore[method-assign]
        bot.permissions.check_context = broken  # type: ignore[method-assign]
        (reply,) = await d.say("!ping")
        assert "could not be read" in reply
        await bot.audit_log.flush()
        last = [e.event for e in await bot.audit_log.entries(str(GUILD))]
        command = [e for e in last if e.kind is EventKind.COMMAND][-1]
        assert (command.outcome, command.rule) == ("denied", "permissions:error")
