"""The ``giselle`` command: run Giselle on Discord, or try it locally."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Any, TextIO

import click

from giselle.assembly import GiselleAssembly, load_giselle_config
from securebot.cli.console_cmd import chat_options
from securebot.errors import ConfigError, SecurebotError


class _Root(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SecurebotError as exc:
            raise click.ClickException(str(exc)) from None


config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Giselle configuration file (default: the packaged giselle.toml).",
)


def _report_missing(assembly: GiselleAssembly) -> None:
    if assembly.missing_plugins:
        click.echo(
            "giselle: not installed yet, skipped: " + ", ".join(assembly.missing_plugins),
            err=True,
        )


@click.group(cls=_Root, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Giselle: a secure moderation and community bot built on securebot."""


@cli.command()
@config_option
def plugins(config_path: Path | None) -> None:
    """Show which Giselle plugins run and which are not available yet."""
    assembly = load_giselle_config(config_path)
    click.echo("running: " + ", ".join(assembly.config.plugins.enable))
    click.echo("not available yet: " + (", ".join(assembly.missing_plugins) or "none"))


@cli.command()
@config_option
def run(config_path: Path | None) -> None:
    """Run Giselle on Discord (or the emulator named by bot.api_base_url)."""
    assembly = load_giselle_config(config_path)
    _report_missing(assembly)
    config = assembly.config
    if config.bot.token is None:
        raise ConfigError(
            f"{config.source}: bot.token is not set (e.g. SECUREBOT__BOT__TOKEN=env:DISCORD_TOKEN)."
            " To try Giselle without Discord, run `giselle demo`."
        )
    token = config.bot.token.resolve(where="bot.token")
    logging.basicConfig(
        level=config.logging.level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from securebot.runtime import run_bot

    asyncio.run(run_bot(config, token))


@cli.command()
@config_option
@click.option(
    "--scenario",
    "scenario_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Scenario file for the local Discord (default: the built-in demo guild).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep Giselle's SQLite database here (default: a temporary directory).",
)
@chat_options
def demo(
    config_path: Path | None,
    scenario_path: Path | None,
    data_dir: Path | None,
    script: TextIO | None,
    guild: str | None,
    channel: str | None,
    user: str | None,
    wait: float,
) -> None:
    """Chat with Giselle in a local Discord: no token, no internet, nothing to set up.

    Starts the emulator with a demo guild, runs Giselle against it (development mode) and opens
    the console as the member "demo". Type !help; :help lists the console's directives.
    """
    from giselle.demo import run_demo
    from securebot.testing.console import ChatOptions
    from securebot.testing.scenario_file import load_scenario

    assembly = load_giselle_config(config_path)
    _report_missing(assembly)
    config = assembly.config
    if config.bot.environment == "production":
        raise ConfigError(f"{config.source}: giselle demo runs in development mode only")
    scenario = load_scenario(scenario_path)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("discord").setLevel(logging.ERROR)  # no voice-library notices in a chat
    options = ChatOptions(
        script=script, guild=guild, channel=channel, user=user, reply_timeout=wait
    )
    if script is None:
        click.echo(
            f"Giselle demo: a local Discord with the guild(s) "
            f"{', '.join(g.name for g in scenario.guilds)}; starting Giselle...",
            err=True,
        )
    sys.exit(asyncio.run(run_demo(config, scenario, options, data_dir=data_dir)))


def main() -> None:
    """Entry point of the ``giselle`` console script."""
    cli(prog_name="giselle")
