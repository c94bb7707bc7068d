"""Options shared by several subcommands."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from securebot.core.config import Config, load_config

_F = TypeVar("_F", bound=Callable[..., Any])

#: Environment variable naming the configuration file when ``--config`` is not given.
CONFIG_ENV = "SECUREBOT_CONFIG"
#: File used when neither ``--config`` nor the environment variable names one.
DEFAULT_CONFIG_FILE = "securebot.toml"


def config_option(func: _F) -> _F:
    """Add ``--config PATH`` (default: ``$SECUREBOT_CONFIG``, else ``./securebot.toml``)."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=f"Configuration file (default: ${CONFIG_ENV}, else ./{DEFAULT_CONFIG_FILE} ).",
    )(func)


def resolve_config(config_path: Path | None) -> Config:
    """Load the configuration named by ``--config``, the environment, or the default file."""
    if config_path is None:
        from_env = os.environ.get(CONFIG_ENV)
        if from_env:
            config_path = Path(from_env)
        elif Path(DEFAULT_CONFIG_FILE).is_file():
            config_path = Path(DEFAULT_CONFIG_FILE)
    return load_config(config_path)


class ConfigChoice:
    """The ``--config`` given to a command group, for its subcommands (``ctx.obj``)."""

    def __init__(self, path: Path | None) -> None:
        """Remember ``path`` (``None``: the environment or the default file decides)."""
        self.path = path


def group_config_option(func: _F) -> _F:
    """``--config PATH`` on a command group; subcommands read it with :func:`configured`."""

    def remember(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
        ctx.obj = ConfigChoice(value)
        return value

    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        expose_value=False,
        callback=remember,
        help=f"Configuration file (default: ${CONFIG_ENV}, else ./{DEFAULT_CONFIG_FILE} ).",
    )(func)


def configured() -> Config:
    """The configuration chosen by the current command group's ``--config`` (see above)."""
    choice = click.get_current_context().find_object(ConfigChoice)
    return resolve_config(choice.path if choice is not None else None)
