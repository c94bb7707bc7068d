"""Hook fan-out: securebot's PluginManager against raw pluggy with the same implementations.

* observers: ``notify("securebot_on_message")`` (each implementation isolated, awaited in turn)
  against ``for c in pm.hook.securebot_on_message(...): await c`` on a bare pluggy manager;
* rules: ``decide("securebot_permission_rules")`` (verdicts combined, deny wins) against a raw
  pluggy call of the same hook.

Target ratio <= 1.2 (performance-anchors.md B2).
"""

from __future__ import annotations

from typing import Any

import pluggy

import securebot
from bench.harness import Result, compare, compare_async
from securebot.core import hookspecs
from securebot.core.rules import AccessRequest, Verdict

COUNTS = (1, 5, 20)
REQUEST = AccessRequest(plugin="p", command="c", user_id=1, channel_id=2, guild_id=3)
DEFAULT = Verdict.allow("default")
ALLOW = Verdict.allow("ok")


def _plugin(index: int) -> securebot.Plugin:
    async def securebot_on_message(self: Any, message: object) -> None:
        return None

    def securebot_permission_rules(self: Any, request: AccessRequest) -> Verdict:
        return ALLOW

    namespace = {
        "manifest": securebot.PluginManifest(
            name=f"bench{index}",
            version="1.0",
            description="benchmark plugin",
            user_data=securebot.UserData.none(),
        ),
        "securebot_on_message": securebot.hookimpl(securebot_on_message),
        "securebot_permission_rules": securebot.hookimpl(securebot_permission_rules),
    }
    plugin: securebot.Plugin = type(f"Bench{index}", (securebot.Plugin,), namespace)()
    return plugin


def run() -> list[Result]:
    """Time observer and rules fan-out for 1, 5 and 20 implementations."""
    results = []
    for count in COUNTS:
        ours = securebot.PluginManager()
        raw = pluggy.PluginManager("securebot")
        raw.add_hookspecs(hookspecs)
        for index in range(count):
            ours.register(_plugin(index))
            raw.register(_plugin(index), name=f"bench{index}")
        relay = raw.hook

        async def through_ours(manager: securebot.PluginManager = ours) -> None:
            await manager.notify("securebot_on_message", message="m")

        async def through_pluggy(hook: Any = relay) -> None:
            for coroutine in hook.securebot_on_message(message="m"):
                await coroutine

        results.append(
            compare_async(
                f"hooks.notify[{count}]",
                through_ours,
                through_pluggy,
                target=1.2,
                number=20_000 // count,
            )
        )

        def decide_ours(manager: securebot.PluginManager = ours) -> object:
            return manager.decide("securebot_permission_rules", request=REQUEST, default=DEFAULT)

        def decide_pluggy(hook: Any = relay) -> object:
            return hook.securebot_permission_rules(request=REQUEST)

        results.append(
            compare(
                f"hooks.decide[{count}]",
                decide_ours,
                decide_pluggy,
                target=1.2,
                number=40_000 // count,
            )
        )
    return results
