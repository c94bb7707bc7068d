"""Plugin classes used by the plugin-system tests."""

from __future__ import annotations

from typing import Any

import securebot
from securebot import UserData


def manifest(name: str, **overrides: Any) -> securebot.PluginManifest:
    """A valid manifest for a test plugin."""
    values: dict[str, Any] = {
        "name": name,
        "version": "1.0.0",
        "description": f"Test plugin {name}.",
        "user_data": UserData.none(),
    }
    values.update(overrides)
    return securebot.PluginManifest(**values)


def plugin_class(name: str, namespace: dict[str, Any] | None = None, **overrides: Any) -> type:
    """Create a Plugin subclass with a manifest and the given methods."""
    body = {"manifest": manifest(name, **overrides), **(namespace or {})}
    return type(name.title().replace("_", ""), (securebot.Plugin,), body)
