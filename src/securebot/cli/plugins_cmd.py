"""``securebot plugins``: what is installed, what is enabled, and what each needs."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from securebot.cli.options import config_option, resolve_config
from securebot.core.plugins import ENTRY_POINT_GROUP, FIRST_PARTY_DISTRIBUTION


@click.group("plugins")
def plugins_group() -> None:
    """Inspect plugins."""


@plugins_group.command("list")
@config_option
def list_plugins(config_path: Path | None) -> None:
    """List installed plugins and whether the configuration enables and trusts them.

    Nothing is imported: third-party code runs only once enabled and allowlisted.
    """
    config = resolve_config(config_path)
    enabled = set(config.plugins.enable)
    allowlist = {k: v.lower() for k, v in config.plugins.third_party.items()}
    table = Table("plugin", "distribution", "version", "origin", "status")
    for point in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=str):
        dist = point.dist.name if point.dist else "?"
        version = point.dist.version if point.dist else "?"
        first_party = dist.lower() == FIRST_PARTY_DISTRIBUTION
        trusted = first_party or allowlist.get(point.name) == dist.lower()
        if point.name in enabled and trusted:
            status = "enabled"
        elif point.name in enabled:
            status = "enabled but NOT allowlisted (refused)"
        else:
            status = "not enabled"
        origin = "first-party" if first_party else "third-party"
        table.add_row(point.name, dist, version, origin, status)
    Console().print(table)
