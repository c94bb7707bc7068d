"""``permissions``: Giselle's commands to manage who can use each module."""

from securebot.plugins.permissions.plugin import Permissions

__all__ = ["Permissions"]
