"""Loading plugins: first-party by name, third-party only when allowlisted."""

from __future__ import annotations

import sys

import pytest

from securebot import PluginManager
from securebot.errors import ManifestError, PluginError

GREETER_SOURCE = """
import securebot

class Greeter(securebot.Plugin):
    manifest = securebot.PluginManifest(
        name="greeter", version="2.1.0", description="Says hello.",
        user_data=securebot.UserData.none(), intents={"members"},
        permissions={"send_messages"},
    )

    @securebot.command(help="Say hello.")
    async def hello(self, ctx):
        await ctx.send("hello")
"""


def test_first_party_plugin_loads_by_name() -> None:
    manager = PluginManager()
    manager.load(["core_commands"], {})
    assert [p.plugin_name for p in manager.plugins] == ["core_commands"]
    assert manager.source_of("core_commands") == "first-party"


def test_allowlisted_entry_point_plugin_loads(install_distribution) -> None:
    install_distribution(
        "securebot-greeter", "sb_greeter", GREETER_SOURCE, {"greeter": "sb_greeter:Greeter"}
    )
    manager = PluginManager()
    manager.load(["core_commands", "greeter"], {"greeter": "securebot-greeter"})
    assert [p.plugin_name for p in manager.plugins] == ["core_commands", "greeter"]
    assert manager.source_of("greeter") == "securebot-greeter"
    assert manager.required_intents().members
    assert manager.required_permissions().send_messages


def test_installed_but_not_allowlisted_plugin_is_never_imported(install_distribution) -> None:
    install_distribution(
        "securebot-greeter", "sb_greeter", GREETER_SOURCE, {"greeter": "sb_greeter:Greeter"}
    )
    manager = PluginManager()
    manager.load(["core_commands"], {})
    assert "sb_greeter" not in sys.modules
    with pytest.raises(PluginError, match=r"not allowlisted.*\[plugins.third_party\]"):
        PluginManager().load(["greeter"], {})
    assert "sb_greeter" not in sys.modules


def test_allowlist_names_the_distribution_so_a_squatter_is_refused(install_distribution) -> None:
    install_distribution("evil-greeter", "sb_evil", GREETER_SOURCE, {"greeter": "sb_evil:Greeter"})
    with pytest.raises(PluginError, match="evil-greeter, which is not allowlisted"):
        PluginManager().load(["greeter"], {"greeter": "securebot-greeter"})
    assert "sb_evil" not in sys.modules


def test_a_third_party_plugin_cannot_shadow_a_first_party_name(install_distribution) -> None:
    source = GREETER_SOURCE.replace('name="greeter"', 'name="core_commands"').replace(
        "hello", "hello2"
    )
    install_distribution(
        "securebot-shadow", "sb_shadow", source, {"core_commands": "sb_shadow:Greeter"}
    )
    manager = PluginManager()
    manager.load(["core_commands"], {"core_commands": "securebot-shadow"})
    assert manager.source_of("core_commands") == "first-party"
    assert "sb_shadow" not in sys.modules


def test_unknown_plugin_name_is_a_clear_error() -> None:
    with pytest.raises(PluginError, match="no installed plugin is named 'nope'"):
        PluginManager().load(["nope"], {})


def test_entry_point_whose_manifest_name_differs_is_refused(install_distribution) -> None:
    install_distribution(
        "securebot-greeter", "sb_greeter2", GREETER_SOURCE, {"welcome": "sb_greeter2:Greeter"}
    )
    with pytest.raises(ManifestError, match="manifest is named 'greeter'"):
        PluginManager().load(["welcome"], {"welcome": "securebot-greeter"})


def test_plugin_that_fails_to_import_is_reported_with_its_name(install_distribution) -> None:
    install_distribution(
        "securebot-broken", "sb_broken", "raise RuntimeError('boom')\n", {"broken": "sb_broken:X"}
    )
    with pytest.raises(PluginError, match="plugin 'broken' could not be imported.*boom"):
        PluginManager().load(["broken"], {"broken": "securebot-broken"})


def test_entry_point_that_is_not_a_plugin_class_is_refused(install_distribution) -> None:
    install_distribution("securebot-odd", "sb_odd", "class Odd:\n    pass\n", {"odd": "sb_odd:Odd"})
    with pytest.raises(PluginError, match="must name a securebot.Plugin subclass"):
        PluginManager().load(["odd"], {"odd": "securebot-odd"})
