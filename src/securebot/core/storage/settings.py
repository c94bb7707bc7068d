"""Red-Config-like settings: per-plugin namespaces, six scopes, registered defaults.

::

    settings = store.settings("moderation")
    settings.register(Scope.GUILD, mute_role=None, dm_on_warn=True)
    settings.register(Scope.GUILD, sensitive=("webhook",), webhook="")
    await settings.guild(guild_id).set("dm_on_warn", False)
    await settings.guild(guild_id).get("dm_on_warn")  # -> False; unset names give the default
    await settings.member(guild_id, user_id).all()     # defaults merged with stored values

Only registered names can be read or written (a typo is an error, not a silent default).
Values are JSON-able; ``sensitive`` names are sealed like record fields. Guild, channel, role and
member values belong to the guild (erased and shredded with it); user and member values belong
to the user (exported and erased on request).
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import attrs

from securebot.core.storage.backend import ABSENT, GLOBAL, Change
from securebot.crypto.context import FieldContext
from securebot.errors import StorageError

if TYPE_CHECKING:
    from securebot.core.storage.store import Store


class Scope(enum.StrEnum):
    """Where a settings value applies."""

    GLOBAL = "global"
    GUILD = "guild"
    CHANNEL = "channel"
    ROLE = "role"
    USER = "user"
    MEMBER = "member"


@attrs.frozen
class _Registered:
    defaults: dict[str, Any]
    sensitive: frozenset[str]


#: Guild accessors kept per namespace (they are small and immutable).
_ACCESSOR_CACHE = 4096


def _id(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise StorageError(f"settings: {what} must be a Discord id (int), got {value!r}")
    return value


class Settings:
    """The settings of one namespace (by convention the plugin's name)."""

    def __init__(self, store: Store, namespace: str) -> None:
        """Settings of ``namespace`` kept in ``store``; use :meth:`Store.settings`."""
        if not namespace or "/" in namespace:
            raise StorageError(f"invalid settings namespace {namespace!r}")
        self.store = store
        self.namespace = namespace
        self._registered: dict[Scope, _Registered] = {}
        self._guilds: dict[int, ScopedSettings] = {}

    def register(self, scope: Scope, *, sensitive: Iterable[str] = (), **defaults: Any) -> None:
        """Register names and their defaults for ``scope`` (repeatable; a name once per scope).

        :param sensitive: names whose values are sealed at rest (must be among ``defaults`` or
            registered earlier).
        """
        scope = Scope(scope)
        current = self._registered.get(scope, _Registered({}, frozenset()))
        clash = sorted(set(defaults) & set(current.defaults))
        if clash:
            raise StorageError(f"settings {self.namespace}/{scope}: {clash[0]!r} registered twice")
        merged = {**current.defaults, **defaults}
        secret = frozenset(sensitive) | current.sensitive
        unknown = sorted(secret - set(merged))
        if unknown:
            raise StorageError(
                f"settings {self.namespace}/{scope}: sensitive {unknown[0]!r} has no default"
            )
        self._registered[scope] = _Registered(merged, secret)
        self._guilds.clear()  # accessors hold the registration they were built with

    def defaults(self, scope: Scope) -> dict[str, Any]:
        """A copy of the registered defaults of ``scope``."""
        reg = self._registered.get(Scope(scope))
        return copy.deepcopy(reg.defaults) if reg else {}

    def _registration(self, scope: Scope) -> _Registered:
        reg = self._registered.get(scope)
        if reg is None:
            raise StorageError(f"settings {self.namespace}: nothing registered for scope {scope}")
        return reg

    async def all_of(self, scope: Scope) -> dict[str, dict[str, Any]]:
        """Every stored place of ``scope`` with its values merged over the defaults.

        Keys are the place's path (``"guild:123"``, ``"member:123:456"``...); places with no
        stored value are not listed (Red's ``all_guilds()`` / ``all_members()``).
        """
        scope = Scope(scope)
        reg = self._registration(scope)
        prefix = f"{scope.value}:" if scope is not Scope.GLOBAL else GLOBAL
        places: dict[str, dict[str, Any]] = {}
        for row in await self.store.backend.find_settings(namespace=self.namespace):
            if not (row.path == prefix or row.path.startswith(prefix)):
                continue
            if row.name not in reg.defaults:
                continue
            value = row.value
            if row.name in reg.sensitive:
                ctx = FieldContext(f"settings.{self.namespace}", row.name, row.path, row.scope)
                value = self.store.codec.open_sensitive_setting(value, ctx)
            places.setdefault(row.path, copy.deepcopy(reg.defaults))[row.name] = value
        return places

    def global_(self) -> ScopedSettings:
        """The bot-wide values."""
        return ScopedSettings(self, Scope.GLOBAL, GLOBAL, GLOBAL, None)

    def guild(self, guild_id: int) -> ScopedSettings:
        """One guild's values."""
        found = self._guilds.get(guild_id)
        if found is None or type(guild_id) is not int:
            gid = _id(guild_id, "guild id")
            found = ScopedSettings(self, Scope.GUILD, str(gid), f"guild:{gid}", None)
            if len(self._guilds) >= _ACCESSOR_CACHE:
                self._guilds.clear()
            self._guilds[gid] = found
        return found

    def channel(self, guild_id: int, channel_id: int) -> ScopedSettings:
        """One channel's values."""
        gid, cid = _id(guild_id, "guild id"), _id(channel_id, "channel id")
        return ScopedSettings(self, Scope.CHANNEL, str(gid), f"channel:{gid}:{cid}", None)

    def role(self, guild_id: int, role_id: int) -> ScopedSettings:
        """One role's values."""
        gid, rid = _id(guild_id, "guild id"), _id(role_id, "role id")
        return ScopedSettings(self, Scope.ROLE, str(gid), f"role:{gid}:{rid}", None)

    def user(self, user_id: int) -> ScopedSettings:
        """One user's bot-wide values (the user's data)."""
        uid = _id(user_id, "user id")
        return ScopedSettings(self, Scope.USER, GLOBAL, f"user:{uid}", uid)

    def member(self, guild_id: int, user_id: int) -> ScopedSettings:
        """One member's values in one guild (the guild's and the user's data)."""
        gid, uid = _id(guild_id, "guild id"), _id(user_id, "user id")
        return ScopedSettings(self, Scope.MEMBER, str(gid), f"member:{gid}:{uid}", uid)


class ScopedSettings:
    """The values of one namespace at one place (a guild, a member...)."""

    __slots__ = ("_backend", "_namespace", "_owner", "_path", "_reg", "_scope", "kind", "settings")

    def __init__(
        self, settings: Settings, kind: Scope, scope: str, path: str, owner: int | None
    ) -> None:
        """Use the :class:`Settings` accessors (``guild()``, ``member()``...)."""
        self.settings = settings
        self.kind = kind
        self._scope = scope
        self._path = path
        self._owner = owner
        self._reg = settings._registration(kind)
        self._backend = settings.store.backend
        self._namespace = settings.namespace

    def _check(self, name: str) -> None:
        if name not in self._reg.defaults:
            known = ", ".join(sorted(self._reg.defaults)) or "none"
            raise StorageError(
                f"settings {self.settings.namespace}/{self.kind}: unknown name {name!r} "
                f"(registered: {known})"
            )

    def _ctx(self, name: str) -> FieldContext:
        return FieldContext(f"settings.{self.settings.namespace}", name, self._path, self._scope)

    async def get(self, name: str) -> Any:
        """The stored value of ``name``, or its registered default."""
        reg = self._reg
        if name not in reg.defaults:
            self._check(name)
        stored = await self._backend.get_setting(self._namespace, self._scope, self._path, name)
        if stored is ABSENT:
            default = reg.defaults[name]
            return copy.deepcopy(default) if isinstance(default, dict | list) else default
        if name in reg.sensitive:
            return self.settings.store.codec.open_sensitive_setting(stored, self._ctx(name))
        return stored

    async def set(self, name: str, value: Any) -> None:
        """Store ``value`` (JSON-able) for ``name``."""
        reg = self._reg
        if name not in reg.defaults:
            self._check(name)
        store = self.settings.store
        if name in reg.sensitive:
            value = store.codec.seal_setting(value, self._ctx(name))
            await store.keyring_durable()
        await self._backend.set_setting(
            self._namespace, self._scope, self._path, name, value, owner=self._owner
        )
        if store._listeners:
            store._notify(
                Change("setting", f"settings.{self.settings.namespace}", self._scope, self._path)
            )

    async def clear(self, name: str | None = None) -> None:
        """Forget the stored value of ``name`` (or of every name here): defaults apply again."""
        namespace = self.settings.namespace
        if name is None:
            await self._backend.clear_settings(namespace, self._scope, self._path)
        else:
            self._check(name)
            await self._backend.delete_setting(namespace, self._scope, self._path, name)
        store = self.settings.store
        if store._listeners:
            store._notify(Change("setting", f"settings.{namespace}", self._scope, self._path))

    async def all(self) -> dict[str, Any]:
        """Every registered name with its stored value or default."""
        stored = await self._backend.get_settings(self.settings.namespace, self._scope, self._path)
        values = copy.deepcopy(self._reg.defaults)
        for name, value in stored.items():
            if name not in values:
                continue
            if name in self._reg.sensitive:
                value = self.settings.store.codec.open_sensitive_setting(value, self._ctx(name))
            values[name] = value
        return values
