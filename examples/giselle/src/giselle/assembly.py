"""Reading Giselle's configuration and choosing the plugins that are available."""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from securebot.core.config import Config, apply_environment, parse_config
from securebot.core.plugins import ENTRY_POINT_GROUP
from securebot.errors import ConfigError


@attrs.frozen
class GiselleAssembly:
    """Giselle's validated configuration, and the wanted plugins that are not installed."""

    config: Config
    missing_plugins: tuple[str, ...]


def packaged_config_text() -> str:
    """The ``giselle.toml`` shipped with the distribution."""
    return importlib.resources.files("giselle").joinpath("giselle.toml").read_text("utf-8")


def load_giselle_config(
    path: Path | None = None, *, environ: Mapping[str, str] | None = None
) -> GiselleAssembly:
    """Read ``path`` (default: the packaged giselle.toml), apply environment overrides, and keep
    only the enabled plugins that are installed, reporting the others."""
    source = str(path) if path else "giselle.toml (packaged)"
    try:
        text = path.read_text("utf-8") if path else packaged_config_text()
        data: dict[str, Any] = tomllib.loads(text)
    except FileNotFoundError:
        raise ConfigError(f"{source}: configuration file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML: {exc}") from None
    data = apply_environment(data, os.environ if environ is None else environ)
    installed = {point.name for point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
    plugins = data.get("plugins", {})
    wanted = plugins.get("enable", []) if isinstance(plugins, dict) else []
    missing: tuple[str, ...] = ()
    if isinstance(wanted, list):
        missing = tuple(name for name in wanted if name not in installed)
        plugins["enable"] = [name for name in wanted if name in installed]
    try:
        config = parse_config(data, source=source)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    return GiselleAssembly(config=config, missing_plugins=missing)
