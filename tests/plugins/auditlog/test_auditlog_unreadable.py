"""An entry that no longer opens (a sealed field replaced or corrupted) does not stop admins
from reading their trail: ``auditlog`` reports the chain as BROKEN at that entry and still
lists every readable entry, instead of failing as a whole (which would hide the trail)."""

from __future__ import annotations

import attrs
from tests.pipeline.harness import stub_bot
from tests.pipeline.stub import BOB, GUILD, OWNER

from securebot.plugins.auditlog import AuditLogPlugin
from securebot.plugins.core_commands import CoreCommands
from securebot.plugins.permissions import Permissions


async def test_an_unreadable_entry_is_reported_and_the_rest_listed() -> None:
    async with stub_bot([AuditLogPlugin(), Permissions(), CoreCommands()]) as (bot, d):
        await d.say("!ping")
        await d.say("!ping", author=BOB)
        await bot.audit_log.flush()
        entries = bot.audit_log.store.entries[str(GUILD)]
        first = entries[0]
        entries[0] = attrs.evolve(first, record=dict(first.record, arguments="not a sealed value"))
        (reply,) = await d.say("!auditlog", author=OWNER)
        assert f"chain BROKEN at entry {first.seq}" in reply
        lines = reply.split("```")[1].strip().splitlines()
        assert f"#{first.seq} unreadable" in lines[-1]
        assert any(f"command ping by user {BOB}" in line for line in lines)
