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
