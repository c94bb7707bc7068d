"""The ``securebot`` command line.

Subcommands live in one module each (``run``, ``plugins``, ``config``, ...) and are registered on
the root group here. Any :class:`~securebot.errors.SecurebotError` becomes one ``Error: ...`` line
and exit status 1: no traceback for operator mistakes.
"""

from __future__ import annotations

from typing import Any

import click

from securebot import __version__
from securebot.cli.audit_cmd import audit_group
from securebot.cli.config_cmd import config_group
from securebot.cli.console_cmd import console_command
from securebot.cli.emulator_cmd import emulator_group
from securebot.cli.gateway_cmd import gateway_group
from securebot.cli.keys_cmd import keys_group
from securebot.cli.pki_cmd import pki_group
from securebot.cli.plugins_cmd import plugins_group
from securebot.cli.run_cmd import run_command
from securebot.cli.storage_cmd import storage_group
from securebot.errors import SecurebotError


class _Root(click.Group):
    """Root group that reports securebot errors as one clean line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SecurebotError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=_Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="securebot")
def cli() -> None:
    """Build, run and operate secure Discord bots."""


cli.add_command(run_command)
cli.add_command(plugins_group)
cli.add_command(config_group)
cli.add_command(console_command)
cli.add_command(emulator_group)
cli.add_command(audit_group)
cli.add_command(pki_group)
cli.add_command(keys_group)
cli.add_command(storage_group)
cli.add_command(gateway_group)


def main() -> None:
    """Entry point of the ``securebot`` console script."""
    cli(prog_name="securebot")
