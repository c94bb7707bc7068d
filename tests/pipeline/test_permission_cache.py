"""Remembered engine verdicts never bypass plugin rules: a rules hook that starts denying (or
raising) takes effect on the very next command, cached verdict or not."""

from __future__ import annotations

from tests.pipeline.harness import stub_bot

import securebot
from securebot.core.rules import AccessRequest, Verdict
from securebot.plugins.core_commands import CoreCommands


class Switchable(securebot.Plugin):
    manifest = securebot.PluginManifest(
        name="switchable", version="1.0", description="rules", user_data=securebot.UserData.none()
    )

    def __init__(self) -> None:
        self.mode = "none"

    @securebot.hookimpl
    def securebot_permission_rules(self, request: AccessRequest) -> Verdict | None:
        if self.mode == "raise":
            raise RuntimeError("rule store unreachable")
        if self.mode == "deny":
            return Verdict.deny("maintenance", source="switchable")
        return None


async def test_rules_hooks_run_on_every_command_even_with_a_remembered_verdict() -> None:
    rules = Switchable()
    async with stub_bot([rules, CoreCommands()]) as (bot, d):
        assert (await d.say("!ping"))[0].startswith("pong")
        assert (await d.say("!ping"))[0].startswith("pong")
        assert bot.permissions._verdicts  # the engine's verdict is remembered
        rules.mode = "deny"
        assert await d.say("!ping") == ["You can't use this command here: maintenance."]
        rules.mode = "raise"
        (reply,) = await d.say("!ping")
        assert "a rule of plugin 'switchable' failed" in reply
        rules.mode = "none"
        assert (await d.say("!ping"))[0].startswith("pong")
