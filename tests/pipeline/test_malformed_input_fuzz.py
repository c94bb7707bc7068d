"""Done-means 2, end to end: whatever a user types after a command — broken time codes, stray
flags, unbalanced quotes, bad mentions, control characters — the bot answers with a user-facing
message (or stays silent), never a traceback and never an internal error."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.pipeline import stub
from tests.pipeline.harness import stub_bot

import securebot
from securebot.core.scheduler import ManualClock, MemoryJobStore, Scheduler
from securebot.plugins.alarm import Alarm
from securebot.plugins.auditlog import AuditLogPlugin
from securebot.plugins.core_commands import CoreCommands
from securebot.plugins.permissions import Permissions
from securebot.plugins.scheduler import SchedulerPlugin

COMMANDS = [
    "peem", "pedm", "petm", "pesm", "pef", "cpt", "cptm", "pes",
    "al", "auditlog",
    "schedule", "schedulerec", "schedrm", "schedrecinv", "schedls",
    "remind", "remindrm", "repeat", "reprm", "repinv",
    "help", "prefix",
]  # fmt: skip
# (The sample plugins' ``discord.Member`` arguments are left out: discord.py's MemberConverter
# falls back to a gateway member query, which this no-network stub cannot answer.)
TOKENS = st.sampled_from(
    [
        "--i", "--interval", "--c", "--channel", "--command", "--silent", "--m", "--no-redundant",
        "--page", "--user", "--kind", "--bogus", "--", "-", '"', '""', '"quoted name"',
        "2mo6h40m", "6h2mo", "1h", "30s", "0m", "99999999999mo", "<t:1>", "<t:99999999999>",
        "<t:abc:R>", "UTC+5:30", "Mars/Base", "me", "here", f"<#{stub.GENERAL}>", "<#1>",
        f"<@{stub.ALICE}>", "<@0>", f"<@&{stub.ROLE_HELPER}>", "Helper", "moderation", "util",
        "alarm", "permissions", "1", "0", "-1", "7", "x" * 300, "!ping", "\u0000", "\u202e",
        "@everyone", "`", "```", "\n",
    ]
)  # fmt: skip
ARGS = st.lists(st.one_of(TOKENS, st.text(max_size=12)), max_size=8).map(" ".join)


def test_no_input_escapes_as_an_internal_error(caplog: pytest.LogCaptureFixture) -> None:
    loop = asyncio.new_event_loop()
    clock = ManualClock(dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC))

    def setup(bot: securebot.Bot) -> None:
        bot.clock = clock
        bot.scheduler = Scheduler(MemoryJobStore(), clock=clock)

    plugins = [
        Permissions(),
        AuditLogPlugin(),
        SchedulerPlugin(),
        Alarm(),
        CoreCommands(),
    ]
    context = stub_bot(plugins, setup=setup)
    _bot, d = loop.run_until_complete(context.__aenter__())
    replies: list[str] = []

    @given(st.sampled_from(COMMANDS), ARGS, st.sampled_from([stub.OWNER, stub.ALICE]))
    @settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture])
    def attempt(command: str, args: str, author: int) -> None:
        got = loop.run_until_complete(d.say(f"!{command} {args}", author=author))
        replies.extend(got)
        for reply in got:
            assert "Something went wrong" not in reply, (command, args, reply)
            assert "Traceback" not in reply, (command, args, reply)

    try:
        with caplog.at_level(logging.ERROR, logger="securebot"):
            attempt()
    finally:
        loop.run_until_complete(context.__aexit__(None, None, None))
        loop.close()
    failures = [r for r in caplog.records if r.name == "securebot.bot"]
    assert failures == [], failures[0].getMessage() if failures else ""
    assert len(replies) > 200
    assert any("Usage: `!" in reply for reply in replies)
