"""``core_commands``: ``ping``, ``help`` and ``prefix``, the commands every bot has."""

from securebot.plugins.core_commands.plugin import CoreCommands

__all__ = ["CoreCommands"]
