"""``securebot console``: chat with the bot as a user of the local Discord emulator."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO, TypeVar

import click

from securebot.cli.options import config_option, resolve_config

_F = TypeVar("_F", bound=Callable[..., Any])


def chat_options(func: _F) -> _F:
    """The options every console-like command shares (also used by ``giselle demo``)."""
    options = [
        click.option(
            "--script",
            type=click.File("r", encoding="utf-8"),
            default=None,
            help="Send one message per line from FILE ('-' for stdin), print what the bot did "
            "after each, then exit.",
        ),
        click.option("--guild", default=None, help="Guild to speak in (default: the first)."),
        click.option(
            "--channel", default=None, help="Text channel (default: #general, else the first)."
        ),
        click.option(
            "--user", "user", default=None, help="Member to speak as (default: demo, else one)."
        ),
        click.option(
            "--wait",
            type=click.FloatRange(0.1, 120),
            default=5.0,
            show_default=True,
            help="Seconds to wait for the bot's first reaction to each scripted message.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.command("console")
@config_option
@click.option(
    "--scenario",
    "scenario_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Scenario file seeding the emulator (default: the built-in demo scenario).",
)
@click.option(
    "--url",
    default=None,
    help="Attach to a running `securebot emulator serve` at this URL instead of starting an "
    "emulator and the configured bot in this process.",
)
@chat_options
def console_command(
    config_path: Path | None,
    scenario_path: Path | None,
    url: str | None,
    script: TextIO | None,
    guild: str | None,
    channel: str | None,
    user: str | None,
    wait: float,
) -> None:
    """Chat with the bot in a terminal, as a user of a local Discord emulator.

    Without --url, starts an emulator seeded with the scenario and runs the configured bot
    against it (no token, no internet). Type messages; ':help' lists the directives.
    """
    from securebot.testing.console import ChatOptions, chat_local, chat_remote
    from securebot.testing.scenario_file import load_scenario

    options = ChatOptions(
        script=script, guild=guild, channel=channel, user=user, reply_timeout=wait
    )
    if url is not None:
        status = asyncio.run(chat_remote(url, options))
    else:
        config = resolve_config(config_path)
        scenario = load_scenario(scenario_path)
        # A chat, not a log: INFO lines stay quiet unless DEBUG is asked for.
        level = "WARNING" if config.logging.level == "INFO" else config.logging.level
        logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
        logging.getLogger("discord").setLevel(logging.ERROR)
        status = asyncio.run(chat_local(config, scenario, options))
    sys.exit(status)
