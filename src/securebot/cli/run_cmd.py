"""``securebot run``: connect the configured bot to Discord, on its configured services.

Start-up fails closed: the keyring must open (canaries checked) and the store must be reachable
before the bot connects (see :mod:`securebot.runtime`).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import click

from securebot.cli.options import config_option, resolve_config
from securebot.errors import ConfigError


@click.command("run")
@config_option
def run_command(config_path: Path | None) -> None:
    """Run the bot against Discord (or the emulator named by bot.api_base_url)."""
    config = resolve_config(config_path)
    if config.bot.token is None:
        raise ConfigError(
            f'{config.source}: bot.token is not set; set it to "env:DISCORD_TOKEN" or '
            '"file:/path". To try securebot without Discord, run `securebot console`.'
        )
    token = config.bot.token.resolve(where="bot.token")
    logging.basicConfig(
        level=config.logging.level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from securebot.runtime import run_bot

    asyncio.run(run_bot(config, token))
