"""Assembling a bot from configuration."""

from __future__ import annotations

from typing import Any

from securebot.core.bot import Bot
from securebot.core.config import Config
from securebot.core.plugins import PluginManager


def load_plugins(config: Config) -> PluginManager:
    """A plugin manager holding the plugins the configuration enables, configured and checked."""
    manager = PluginManager()
    manager.load(config.plugins.enable, config.plugins.third_party)
    manager.hook.securebot_configure.call_historic(kwargs={"config": config})
    return manager


def build_bot(config: Config, **options: Any) -> Bot:
    """Build a :class:`Bot` with the configured plugins; ``options`` go to discord.py."""
    return Bot(config, load_plugins(config), **options)
