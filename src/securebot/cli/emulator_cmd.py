"""``securebot emulator serve``: the local Discord emulator as its own process."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from securebot.cli.listen import is_loopback

#: Port used when ``--port`` is not given (0 asks the system for a free one).
DEFAULT_PORT = 8765


@click.group("emulator")
def emulator_group() -> None:
    """The local Discord emulator (HTTP API v10 and gateway) for development and tests."""


@emulator_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="Port to listen on; 0 picks a free port (printed on the first line).",
)
@click.option(
    "--scenario",
    "scenario_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Scenario file seeding guilds, channels, roles, users and bot tokens "
    "(default: the built-in demo scenario).",
)
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Allow a non-loopback --host. Anyone who can reach the port can act as any user.",
)
def serve_command(host: str, port: int, scenario_path: Path | None, allow_remote: bool) -> None:
    """Run the emulator until interrupted (Ctrl-C).

    Point a bot at it with one setting, bot.api_base_url (or SECUREBOT__BOT__API_BASE_URL),
    and log in with a bot token from the scenario; chat with it with
    `securebot console --url URL`.
    """
    from securebot.errors import ConfigError
    from securebot.testing.console import serve_emulator
    from securebot.testing.scenario_file import load_scenario

    if not allow_remote and not is_loopback(host):
        raise ConfigError(
            f"--host {host}: the emulator lets anyone who reaches it act as any user; "
            "listen on 127.0.0.1, or pass --allow-remote if you really mean it"
        )
    scenario = load_scenario(scenario_path)
    try:
        asyncio.run(serve_emulator(scenario, host=host, port=port, out=click.echo))
    except KeyboardInterrupt:
        click.echo("emulator stopped")
