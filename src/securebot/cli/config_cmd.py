"""``securebot config``: check and show configuration."""

from __future__ import annotations

from pathlib import Path

import click

from securebot.cli.options import config_option, resolve_config
from securebot.core.app import load_plugins


@click.group("config")
def config_group() -> None:
    """Check the configuration."""


@config_group.command("check")
@config_option
def check(config_path: Path | None) -> None:
    """Validate the configuration and the plugins it enables; print a summary."""
    config = resolve_config(config_path)
    manager = load_plugins(config)
    intents = sorted(name for name, on in manager.required_intents() if on)
    click.echo(f"ok: {config.source}")
    click.echo(f"  environment: {config.bot.environment}")
    click.echo(f"  plugins: {', '.join(p.plugin_name for p in manager.plugins) or 'none'}")
    click.echo(f"  gateway intents: {', '.join(intents)}")
    click.echo(f"  invite permissions: {manager.required_permissions().value}")
    click.echo(f"  token: {config.bot.token if config.bot.token else 'not set'}")
