"""Premium tiers: which servers get higher limits, read from a plugin's settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from securebot.errors import ConfigError

#: The tiers a server may have (0 is the default, without premium).
TIERS = range(4)


def premium_tiers(settings: Mapping[str, Any], *, plugin: str) -> dict[int, int]:
    """Parse ``premium_tiers = { "<guild id>" = 0..3 }`` from the settings of ``plugin``
    (``[plugin.<plugin>]``) into guild id -> tier; a ``ConfigError`` names a bad entry."""
    table = settings.get("premium_tiers", {})
    if not isinstance(table, Mapping):
        raise ConfigError(f"plugin.{plugin}.premium_tiers: expected a table of guild id = tier")
    tiers: dict[int, int] = {}
    for key, value in table.items():
        if not str(key).isdigit():
            raise ConfigError(f"plugin.{plugin}.premium_tiers: {key!r} is not a guild id")
        if isinstance(value, bool) or not isinstance(value, int) or value not in TIERS:
            raise ConfigError(f"plugin.{plugin}.premium_tiers.{key}: expected a tier 0 to 3")
        tiers[int(key)] = value
    return tiers
