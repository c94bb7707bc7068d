"""Plugin manifests: what a plugin declares about itself, checked when it is loaded.

A manifest states the plugin's name and version, the gateway intents and Discord permissions it
needs, the hooks of *other* plugins it relies on, and what end-user data it keeps and why. The
bot requests exactly the union of its enabled plugins' intents, and reports the union of their
permissions as the invite permissions. A plugin that stores user data must let users export and
delete it (:func:`securebot.core.hookspecs.securebot_export_user_data` and
:func:`securebot.core.hookspecs.securebot_delete_user_data`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import attrs
import discord

from securebot.errors import ManifestError

_NAME = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
_VERSION = re.compile(r"^\d+(\.\d+){0,3}([a-z]+\d*)?$")

#: The hooks a plugin that stores user data must implement.
USER_DATA_HOOKS = ("securebot_export_user_data", "securebot_delete_user_data")


def _as_frozenset(values: Iterable[str]) -> frozenset[str]:
    if isinstance(values, str):
        raise TypeError("expected a collection of names, not a single string")
    return frozenset(values)


@attrs.frozen
class UserData:
    """A plugin's end-user data statement: whether it stores user data, what, and why."""

    stores: bool
    #: What is stored and why (or why nothing is); shown to operators and end users.
    statement: str

    @classmethod
    def none(cls, why: str = "This plugin stores no end-user data.") -> UserData:
        """Declare that the plugin keeps no end-user data."""
        return cls(stores=False, statement=why)

    @classmethod
    def kept(cls, statement: str) -> UserData:
        """Declare the end-user data the plugin keeps, and why."""
        return cls(stores=True, statement=statement)


@attrs.frozen
class PluginManifest:
    """What a plugin declares about itself; checked by the plugin manager at load time."""

    #: Unique plugin name: lower case letters, digits and ``_``; also the command category.
    name: str
    #: The plugin's version (``1.2.3``).
    version: str
    #: One line saying what the plugin does.
    description: str
    #: The end-user data statement.
    user_data: UserData
    #: Names of :class:`discord.Intents` flags the plugin needs (e.g. ``"members"``).
    intents: frozenset[str] = attrs.field(default=frozenset(), converter=_as_frozenset)
    #: Names of :class:`discord.Permissions` flags the bot needs for this plugin.
    permissions: frozenset[str] = attrs.field(default=frozenset(), converter=_as_frozenset)
    #: Hooks (``securebot_*``) implemented by *other* plugins that this plugin relies on.
    requires_hooks: frozenset[str] = attrs.field(default=frozenset(), converter=_as_frozenset)

    def validate(self) -> None:
        """Raise :class:`ManifestError` if any declared value is malformed or unknown."""
        where = f"plugin {self.name!r}"
        if not _NAME.match(self.name):
            raise ManifestError(
                f"{where}: manifest name must be 2-40 lower-case letters, digits or '_', "
                "starting with a letter"
            )
        if not _VERSION.match(self.version):
            raise ManifestError(f"{where}: manifest version {self.version!r} is not like '1.2.3'")
        if not self.description.strip():
            raise ManifestError(f"{where}: manifest description is empty")
        if not self.user_data.statement.strip():
            raise ManifestError(
                f"{where}: the user-data statement is empty; say what is kept and why"
            )
        unknown_intents = sorted(self.intents - set(discord.Intents.VALID_FLAGS))
        if unknown_intents:
            raise ManifestError(f"{where}: unknown gateway intent(s): {', '.join(unknown_intents)}")
        unknown_permissions = sorted(self.permissions - set(discord.Permissions.VALID_FLAGS))
        if unknown_permissions:
            raise ManifestError(
                f"{where}: unknown Discord permission(s): {', '.join(unknown_permissions)}"
            )
        bad_hooks = sorted(h for h in self.requires_hooks if not h.startswith("securebot_"))
        if bad_hooks:
            raise ManifestError(f"{where}: requires_hooks must name securebot_* hooks: {bad_hooks}")

    def check_implementation(self, implemented_hooks: Iterable[str]) -> None:
        """Raise :class:`ManifestError` if the plugin's hooks contradict its data statement."""
        implemented = set(implemented_hooks)
        missing = [h for h in USER_DATA_HOOKS if h not in implemented]
        if self.user_data.stores and missing:
            raise ManifestError(
                f"plugin {self.name!r} declares that it stores user data but does not implement "
                f"{' and '.join(missing)}: users could not export or delete their data"
            )
        present = [h for h in USER_DATA_HOOKS if h in implemented]
        if not self.user_data.stores and present:
            raise ManifestError(
                f"plugin {self.name!r} declares that it stores no user data but implements "
                f"{', '.join(present)}; fix the manifest's user_data statement"
            )

    def intents_value(self) -> discord.Intents:
        """The gateway intents this plugin needs, as :class:`discord.Intents`."""
        return discord.Intents(**dict.fromkeys(self.intents, True))

    def permissions_value(self) -> discord.Permissions:
        """The Discord permissions this plugin needs, as :class:`discord.Permissions`."""
        return discord.Permissions(**dict.fromkeys(self.permissions, True))
