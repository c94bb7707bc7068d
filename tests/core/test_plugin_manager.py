"""The plugin manager's contracts: manifests, hook rules, isolation, duplicates."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.core.plugin_samples import plugin_class

import securebot
from securebot import PluginManager, UserData, Verdict, hookimpl
from securebot.core.rules import AccessRequest
from securebot.errors import (
    DuplicateRegistrationError,
    HookContractError,
    ManifestError,
    PluginError,
)

REQUEST = AccessRequest(plugin="p", command="c", user_id=1, channel_id=2, guild_id=3)
DEFAULT = Verdict.allow("default", source="test")


def rule_plugin(name: str, result: object) -> securebot.Plugin:
    def securebot_permission_rules(self, request):
        if isinstance(result, Exception):
            raise result
        return result

    return plugin_class(
        name, {"securebot_permission_rules": hookimpl(securebot_permission_rules)}
    )()


async def test_a_raising_observer_does_not_stop_the_others_and_is_logged_by_name(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[str] = []

    async def good(self, message):
        seen.append(f"{self.plugin_name}:{message}")

    async def bad(self, message):
        raise RuntimeError("observer exploded")

    def bad_sync(self, message):
        raise ValueError("raised before returning a coroutine")

    manager = PluginManager()
    manager.register(plugin_class("first", {"securebot_on_message": hookimpl(good)})())
    manager.register(plugin_class("broken", {"securebot_on_message": hookimpl(bad)})())
    manager.register(plugin_class("broken_sync", {"securebot_on_message": hookimpl(bad_sync)})())
    manager.register(plugin_class("last", {"securebot_on_message": hookimpl(good)})())
    with caplog.at_level(logging.ERROR, logger="securebot.plugins"):
        await manager.notify("securebot_on_message", message="hi")
    assert sorted(seen) == ["first:hi", "last:hi"]
    failures = {r.getMessage() for r in caplog.records}
    assert "plugin broken failed in securebot_on_message" in failures
    assert "plugin broken_sync failed in securebot_on_message" in failures


def test_a_raising_rules_hook_denies_even_when_others_allow() -> None:
    manager = PluginManager()
    manager.register(rule_plugin("allower", Verdict.allow("fine")))
    manager.register(rule_plugin("crasher", RuntimeError("bug")))
    verdict = manager.decide("securebot_permission_rules", request=REQUEST, default=DEFAULT)
    assert not verdict.allowed
    assert verdict.source == "crasher"


def test_a_rule_returning_garbage_denies() -> None:
    manager = PluginManager()
    manager.register(rule_plugin("sloppy", True))
    verdict = manager.decide("securebot_permission_rules", request=REQUEST, default=DEFAULT)
    assert not verdict.allowed
    assert "sloppy" in verdict.reason


verdicts = st.one_of(
    st.none(),
    st.builds(Verdict.allow, st.text(max_size=5), specificity=st.integers(0, 5)),
    st.builds(Verdict.deny, st.text(max_size=5), specificity=st.integers(0, 5)),
)


@given(st.lists(verdicts, max_size=6))
def test_deny_wins_and_no_opinion_falls_back_to_the_default(results: list[Verdict | None]) -> None:
    manager = PluginManager()
    for index, result in enumerate(results):
        manager.register(rule_plugin(f"rule{index}", result))
    verdict = manager.decide("securebot_permission_rules", request=REQUEST, default=DEFAULT)
    given_verdicts = [v for v in results if v is not None]
    if any(not v.allowed for v in given_verdicts):
        assert not verdict.allowed
    elif given_verdicts:
        assert verdict.allowed
        assert verdict.specificity == max(v.specificity for v in given_verdicts)
    else:
        assert verdict is DEFAULT


def test_duplicate_command_names_across_plugins_are_rejected() -> None:
    async def ping(self, ctx):
        await ctx.send("other pong")

    manager = PluginManager()
    manager.load(["core_commands"], {})
    clash = plugin_class("clash", {"ping": securebot.command(name="ping")(ping)})
    with pytest.raises(DuplicateRegistrationError, match="'ping'.*'clash'.*'core_commands'"):
        manager.register(clash())


def test_an_alias_clashing_with_another_plugins_command_is_rejected() -> None:
    async def pong(self, ctx):
        await ctx.send("x")

    manager = PluginManager()
    manager.load(["core_commands"], {})
    clash = plugin_class("clash", {"pong": securebot.command(aliases=["help"])(pong)})
    with pytest.raises(DuplicateRegistrationError, match="'help'"):
        manager.register(clash())


def test_plugin_without_manifest_is_refused() -> None:
    bare = type("Bare", (securebot.Plugin,), {})
    with pytest.raises(ManifestError, match="has no manifest"):
        PluginManager().register(bare())


def test_non_plugin_object_is_refused() -> None:
    with pytest.raises(PluginError, match="not a securebot.Plugin"):
        PluginManager().register(object())  # type: ignore[arg-type]


def test_plugin_storing_user_data_without_data_hooks_is_refused() -> None:
    keeper = plugin_class("keeper", user_data=UserData.kept("Warnings per member."))
    with pytest.raises(ManifestError, match="stores user data but does not implement"):
        PluginManager().register(keeper())


def test_plugin_storing_user_data_with_both_hooks_is_accepted() -> None:
    async def export(self, user_id):
        return {"warnings": []}

    async def delete(self, user_id):
        return 0

    keeper = plugin_class(
        "keeper",
        {
            "securebot_export_user_data": hookimpl(export),
            "securebot_delete_user_data": hookimpl(delete),
        },
        user_data=UserData.kept("Warnings per member."),
    )
    manager = PluginManager()
    manager.register(keeper())
    assert [p.plugin_name for p in manager.plugins] == ["keeper"]


def test_plugin_claiming_no_user_data_but_implementing_data_hooks_is_refused() -> None:
    async def export(self, user_id):
        return {}

    liar = plugin_class("liar", {"securebot_export_user_data": hookimpl(export)})
    with pytest.raises(ManifestError, match="stores no user data but implements"):
        PluginManager().register(liar())


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"version": "one"}, "is not like '1.2.3'"),
        ({"description": " "}, "description is empty"),
        ({"intents": {"telepathy"}}, "unknown gateway intent"),
        ({"permissions": {"fly"}}, "unknown Discord permission"),
        ({"requires_hooks": {"other_hook"}}, "must name securebot_"),
        ({"user_data": UserData(stores=False, statement="")}, "statement is empty"),
    ],
)
def test_inconsistent_manifests_are_refused_with_a_clear_message(overrides, message) -> None:
    broken = plugin_class("sample", **overrides)
    with pytest.raises(ManifestError, match=message):
        PluginManager().register(broken())


def test_malformed_plugin_name_is_refused() -> None:
    bad = plugin_class("sample")
    bad.manifest = securebot.PluginManifest(
        name="Bad-Name", version="1.0", description="x", user_data=UserData.none()
    )
    with pytest.raises(ManifestError, match="manifest name must be"):
        PluginManager().register(bad())


def test_async_implementation_of_a_sync_hook_is_refused() -> None:
    async def securebot_permission_rules(self, request):
        return None

    wrong = plugin_class(
        "wrong", {"securebot_permission_rules": hookimpl(securebot_permission_rules)}
    )
    manager = PluginManager()
    with pytest.raises(HookContractError, match="must be a plain function"):
        manager.register(wrong())
    assert manager.plugins == ()


def test_implementation_of_an_unknown_hook_is_refused() -> None:
    def securebot_on_mesage(self, message):  # the typo is the point
        return None

    typo = plugin_class("typo", {"securebot_on_mesage": hookimpl(securebot_on_mesage)})
    manager = PluginManager()
    manager.register(typo())
    with pytest.raises(HookContractError, match="'typo' implements an unknown hook"):
        manager.check_complete()


def test_required_hooks_must_be_provided_by_an_enabled_plugin() -> None:
    class ProviderSpecs:
        @securebot.hookspec
        def securebot_case_created(self, case):
            """A moderation case was created."""

    def add_specs(self, plugin_manager):
        plugin_manager.add_hookspecs(ProviderSpecs)

    consumer = plugin_class("consumer", requires_hooks={"securebot_case_created"})
    provider = plugin_class("provider", {"securebot_add_hookspecs": hookimpl(add_specs)})

    alone = PluginManager()
    alone.register(consumer())
    with pytest.raises(ManifestError, match="relies on hook 'securebot_case_created'"):
        alone.check_complete()

    together = PluginManager()
    together.register(provider())
    together.register(consumer())
    together.check_complete()


async def test_startup_fails_closed_and_names_the_plugin() -> None:
    async def boom(self, bot):
        raise OSError("cannot open")

    manager = PluginManager()
    manager.register(plugin_class("fragile", {"securebot_startup": hookimpl(boom)})())
    with pytest.raises(PluginError, match="'fragile' failed in securebot_startup: OSError"):
        await manager.run_lifecycle("securebot_startup", fail_closed=True, bot=None)


async def test_shutdown_failures_are_isolated(caplog: pytest.LogCaptureFixture) -> None:
    closed: list[str] = []

    async def boom(self, bot):
        raise OSError("cannot close")

    async def close(self, bot):
        closed.append(self.plugin_name)

    manager = PluginManager()
    manager.register(plugin_class("closer", {"securebot_shutdown": hookimpl(close)})())
    manager.register(plugin_class("fragile", {"securebot_shutdown": hookimpl(boom)})())
    await manager.run_lifecycle("securebot_shutdown", fail_closed=False, bot=None)
    assert closed == ["closer"]
    assert any("fragile failed in securebot_shutdown" in r.getMessage() for r in caplog.records)


async def test_collect_returns_each_plugins_answer_and_fails_whole_on_error() -> None:
    async def export(self, user_id):
        return {"user": user_id, "plugin": self.plugin_name}

    async def delete(self, user_id):
        return 2

    async def broken_export(self, user_id):
        raise RuntimeError("db down")

    def keeper(name, exporter):
        return plugin_class(
            name,
            {
                "securebot_export_user_data": hookimpl(exporter),
                "securebot_delete_user_data": hookimpl(delete),
            },
            user_data=UserData.kept("Notes."),
        )()

    manager = PluginManager()
    manager.register(keeper("notes", export))
    manager.register(keeper("cases", export))
    answers = await manager.collect("securebot_export_user_data", user_id=7)
    assert answers == {
        "notes": {"user": 7, "plugin": "notes"},
        "cases": {"user": 7, "plugin": "cases"},
    }
    manager.register(keeper("flaky", broken_export))
    with pytest.raises(PluginError, match="'flaky' failed in securebot_export_user_data"):
        await manager.collect("securebot_export_user_data", user_id=7)


def test_loaded_plugins_are_logged_with_name_version_hooks_and_commands(
    caplog: pytest.LogCaptureFixture,
) -> None:
    manager = PluginManager()
    manager.load(["core_commands"], {})
    with caplog.at_level(logging.INFO, logger="securebot.plugins"):
        manager.log_loaded()
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("plugin core_commands 1.0.0 (first-party)")
    assert "commands=[help, ping, prefix]" in line
