"""The plugin manager: loads plugins, checks their manifests and hooks, and calls hooks.

First-party plugins (shipped in the ``securebot`` distribution) are enabled by name. Third-party
plugins come from the ``securebot`` entry-point group and are imported **only** when the
configuration allowlists the entry-point name together with the distribution that must provide
it: a bot with moderation powers never runs whatever happens to be installed.

Hooks are called through :meth:`PluginManager.notify` (observers: each implementation isolated),
:meth:`PluginManager.decide` (``*_rules``: deny wins, exception means deny),
:meth:`PluginManager.run_lifecycle` (startup fails closed) and :meth:`PluginManager.collect`
(data rights), or directly through :attr:`PluginManager.hook` for plain synchronous hooks.
"""

from __future__ import annotations

import importlib.metadata
import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs
import discord
import pluggy

from securebot.core import hookspecs
from securebot.core.logtext import contained_logger
from securebot.core.markers import ASYNC_HOOK_ATTRIBUTE, PROJECT_NAME
from securebot.core.plugin import Plugin
from securebot.core.rules import Verdict, combine
from securebot.errors import (
    DuplicateRegistrationError,
    HookContractError,
    ManifestError,
    PluginError,
)

#: The entry-point group plugins are published under.
ENTRY_POINT_GROUP = "securebot"
#: The distribution whose plugins count as first-party.
FIRST_PARTY_DISTRIBUTION = "securebot"
#: Intents every securebot bot needs, whatever its plugins: guild and channel state.
BASE_INTENTS = discord.Intents(guilds=True)

logger = contained_logger("securebot.plugins")  # tracebacks quoting user input stay contained


@attrs.frozen
class _Impl:
    plugin_name: str
    function: Callable[..., Any]
    argnames: tuple[str, ...]


def _normalise_distribution(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


class _SecurebotPluggy(pluggy.PluginManager):
    """pluggy manager that only looks at ``securebot_*`` attributes (like pytest's)."""

    def parse_hookimpl_opts(self, plugin: object, name: str) -> pluggy.HookimplOpts | None:
        if not name.startswith("securebot_"):
            return None
        return super().parse_hookimpl_opts(plugin, name)


class PluginManager:
    """Registers plugins, enforces their contracts, and calls their hooks."""

    def __init__(self) -> None:
        """Create a manager holding securebot's hook specifications and no plugins."""
        self._pluggy = _SecurebotPluggy(PROJECT_NAME)
        self._pluggy.add_hookspecs(hookspecs)
        self._plugins: dict[str, Plugin] = {}
        self._sources: dict[str, str] = {}
        self._impls: dict[str, tuple[_Impl, ...]] = {}
        self._pluggy.hook.securebot_add_hookspecs.call_historic(
            kwargs={"plugin_manager": self._pluggy}
        )

    # --- registration ----------------------------------------------------------------------

    @property
    def hook(self) -> pluggy.HookRelay:
        """pluggy's hook relay, for calling plain synchronous hooks directly."""
        return self._pluggy.hook

    @property
    def plugins(self) -> tuple[Plugin, ...]:
        """The registered plugins, in registration order."""
        return tuple(self._plugins.values())

    def source_of(self, plugin_name: str) -> str:
        """Where a registered plugin came from (``first-party``, a distribution, or ``direct``)."""
        return self._sources[plugin_name]

    def register(self, plugin: Plugin, *, source: str = "direct") -> None:
        """Check ``plugin``'s manifest, hooks and commands, then register it.

        :raises ManifestError: the manifest is missing, malformed or contradicts the hooks.
        :raises HookContractError: a hook implementation breaks its hook's contract.
        :raises DuplicateRegistrationError: the plugin or one of its commands clashes.
        """
        if not isinstance(plugin, Plugin):
            raise PluginError(
                f"{plugin!r} is not a securebot.Plugin instance; plugins subclass securebot.Plugin"
            )
        manifest = getattr(type(plugin), "manifest", None)
        if manifest is None:
            raise ManifestError(
                f"plugin class {type(plugin).__qualname__} has no manifest; "
                "set `manifest = securebot.PluginManifest(...)` on the class"
            )
        manifest.validate()
        name = manifest.name
        if name in self._plugins:
            raise DuplicateRegistrationError(f"a plugin named {name!r} is already registered")
        implemented = [attr for attr in dir(type(plugin)) if attr.startswith("securebot_")]
        manifest.check_implementation(implemented)
        self._check_commands(plugin)
        self._pluggy.register(plugin, name=name)
        self._plugins[name] = plugin
        self._sources[name] = source
        self._impls.clear()
        self._check_hook_contracts(plugin)

    def _check_commands(self, plugin: Plugin) -> None:
        taken: dict[str, str] = {}
        for other in self._plugins.values():
            for cmd in other.iter_commands():
                if cmd.parent is None:
                    for label in (cmd.name, *cmd.aliases):
                        taken[label] = other.plugin_name
        for cmd in plugin.iter_commands():
            if cmd.parent is not None:
                continue
            for label in (cmd.name, *cmd.aliases):
                if label in taken:
                    raise DuplicateRegistrationError(
                        f"command name {label!r} of plugin {plugin.plugin_name!r} is already "
                        f"used by plugin {taken[label]!r}; rename one of them"
                    )

    def _check_hook_contracts(self, plugin: Plugin) -> None:
        for hook_caller in self._pluggy.get_hookcallers(plugin) or ():
            spec = hook_caller.spec
            if spec is None:
                continue
            may_be_async = getattr(spec.function, ASYNC_HOOK_ATTRIBUTE, False)
            for impl in hook_caller.get_hookimpls():
                if impl.plugin is not plugin:
                    continue
                if not may_be_async and inspect.iscoroutinefunction(impl.function):
                    self._unregister(plugin)
                    raise HookContractError(
                        f"plugin {plugin.plugin_name!r}: {hook_caller.name} must be a plain "
                        "function (it is a synchronous hook), not `async def`"
                    )

    def _unregister(self, plugin: Plugin) -> None:
        self._pluggy.unregister(plugin)
        self._plugins.pop(plugin.plugin_name, None)
        self._sources.pop(plugin.plugin_name, None)
        self._impls.clear()

    def check_complete(self) -> None:
        """Check the whole set once every plugin is registered.

        Every hook implementation must match a known specification, and every hook a plugin
        relies on (``manifest.requires_hooks``) must be specified by an enabled plugin.
        """
        try:
            self._pluggy.check_pending()
        except pluggy.PluginValidationError as exc:
            plugin_name = self._pluggy.get_name(exc.plugin) or repr(exc.plugin)
            raise HookContractError(
                f"plugin {plugin_name!r} implements an unknown hook: {exc}"
            ) from None
        for plugin in self._plugins.values():
            for hook_name in sorted(plugin.manifest.requires_hooks):
                caller = getattr(self._pluggy.hook, hook_name, None)
                if caller is None or not caller.has_spec():
                    raise ManifestError(
                        f"plugin {plugin.plugin_name!r} relies on hook {hook_name!r}, which no "
                        "enabled plugin provides; enable the plugin that defines it"
                    )
            self._check_hook_contracts(plugin)

    def load(
        self,
        enable: Iterable[str],
        third_party: Mapping[str, str],
        *,
        entry_points: Iterable[importlib.metadata.EntryPoint] | None = None,
    ) -> None:
        """Load and register the enabled plugins from the ``securebot`` entry-point group.

        :param enable: plugin names to run.
        :param third_party: allowlist of plugins not shipped with securebot: entry-point name
            -> the distribution that must provide it.
        :param entry_points: the entry points to consider (default: those installed).
        """
        available = list(
            entry_points
            if entry_points is not None
            else importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
        )
        allow = {name: _normalise_distribution(dist) for name, dist in third_party.items()}
        for name in enable:
            point, source = self._choose_entry_point(name, available, allow)
            plugin = self._instantiate(name, point)
            if plugin.manifest.name != name:
                raise ManifestError(
                    f"entry point {name!r} loads a plugin whose manifest is named "
                    f"{plugin.manifest.name!r}; they must match"
                )
            self.register(plugin, source=source)
        for point in available:
            if point.name not in self._plugins:
                logger.debug("not loading installed plugin %r (not enabled)", point.name)
        self.check_complete()

    @staticmethod
    def _choose_entry_point(
        name: str,
        available: list[importlib.metadata.EntryPoint],
        allow: Mapping[str, str],
    ) -> tuple[importlib.metadata.EntryPoint, str]:
        candidates = [ep for ep in available if ep.name == name]
        if not candidates:
            known = ", ".join(sorted({ep.name for ep in available})) or "none"
            raise PluginError(f"no installed plugin is named {name!r} (installed: {known})")
        for point in candidates:
            dist = _normalise_distribution(point.dist.name) if point.dist else ""
            if dist == FIRST_PARTY_DISTRIBUTION:
                return point, "first-party"
        for point in candidates:
            dist = _normalise_distribution(point.dist.name) if point.dist else "an unknown package"
            if allow.get(name) == dist:
                return point, dist
        providers = ", ".join(
            sorted(_normalise_distribution(p.dist.name) if p.dist else "?" for p in candidates)
        )
        raise PluginError(
            f"plugin {name!r} is provided by {providers}, which is not allowlisted; to trust it, "
            f'add `{name} = "<distribution>"` under [plugins.third_party] in the config'
        )

    @staticmethod
    def _instantiate(name: str, point: importlib.metadata.EntryPoint) -> Plugin:
        try:
            target = point.load()
        except Exception as exc:
            raise PluginError(
                f"plugin {name!r} could not be imported ({point.value}): "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if isinstance(target, type) and issubclass(target, Plugin):
            return target()
        raise PluginError(
            f"entry point {name!r} ({point.value}) must name a securebot.Plugin subclass"
        )

    # --- what the plugins need -------------------------------------------------------------

    def required_intents(self) -> discord.Intents:
        """The union of the enabled plugins' intents, plus :data:`BASE_INTENTS`."""
        value = BASE_INTENTS.value
        for plugin in self._plugins.values():
            value |= plugin.manifest.intents_value().value
        return discord.Intents._from_value(value)

    def required_permissions(self) -> discord.Permissions:
        """The union of the enabled plugins' Discord permissions (for the invite link)."""
        value = 0
        for plugin in self._plugins.values():
            value |= plugin.manifest.permissions_value().value
        return discord.Permissions(value)

    def hook_names(self, plugin: Plugin) -> list[str]:
        """The names of the hooks ``plugin`` implements."""
        return sorted(caller.name for caller in self._pluggy.get_hookcallers(plugin) or ())

    def log_loaded(self) -> None:
        """Log each plugin's name, version, origin, hooks and commands (called at startup)."""
        for name, plugin in self._plugins.items():
            commands = sorted(c.qualified_name for c in plugin.iter_commands())
            logger.info(
                "plugin %s %s (%s): hooks=[%s] commands=[%s]",
                name,
                plugin.manifest.version,
                self._sources[name],
                ", ".join(self.hook_names(plugin)),
                ", ".join(commands),
            )

    # --- calling hooks ---------------------------------------------------------------------

    def _implementations(self, hook_name: str) -> tuple[_Impl, ...]:
        cached = self._impls.get(hook_name)
        if cached is None:
            caller = getattr(self._pluggy.hook, hook_name)
            # pluggy calls the last-registered implementation first (LIFO, tryfirst/trylast
            # applied); keep that order so direct and managed calls agree.
            cached = tuple(
                _Impl(impl.plugin_name, impl.function, tuple(impl.argnames))
                for impl in reversed(caller.get_hookimpls())
            )
            self._impls[hook_name] = cached
        return cached

    async def notify(self, hook_name: str, /, **kwargs: Any) -> None:
        """Call an observer hook: every implementation runs; a failing one is logged by name."""
        for impl in self._implementations(hook_name):
            try:
                result = impl.function(*[kwargs[arg] for arg in impl.argnames])
                if inspect.isawaitable(result):
                    await result
            except Exception:
                logger.exception("plugin %s failed in %s", impl.plugin_name, hook_name)

    def decide(self, hook_name: str, /, *, default: Verdict, **kwargs: Any) -> Verdict:
        """Call a ``*_rules`` hook and combine the verdicts: deny wins, exception means deny."""
        verdicts: list[Verdict] = []
        for impl in self._implementations(hook_name):
            try:
                verdict = impl.function(*[kwargs[arg] for arg in impl.argnames])
            except Exception:
                logger.exception("plugin %s failed in %s; denying", impl.plugin_name, hook_name)
                return Verdict.deny(
                    f"a rule of plugin {impl.plugin_name!r} failed", source=impl.plugin_name
                )
            if verdict is None:
                continue
            if not isinstance(verdict, Verdict):
                logger.error(
                    "plugin %s returned %r from %s (expected Verdict or None); denying",
                    impl.plugin_name,
                    type(verdict).__name__,
                    hook_name,
                )
                return Verdict.deny(
                    f"a rule of plugin {impl.plugin_name!r} is broken", source=impl.plugin_name
                )
            verdicts.append(verdict)
        return combine(verdicts, default=default)

    async def run_lifecycle(self, hook_name: str, /, *, fail_closed: bool, **kwargs: Any) -> None:
        """Call a lifecycle hook on every plugin in order.

        :param fail_closed: if true, the first failure raises :class:`PluginError` (startup);
            otherwise failures are logged and the other plugins still run (shutdown).
        """
        for impl in self._implementations(hook_name):
            try:
                result = impl.function(*[kwargs[arg] for arg in impl.argnames])
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                if fail_closed:
                    raise PluginError(
                        f"plugin {impl.plugin_name!r} failed in {hook_name}: "
                        f"{type(exc).__name__}: {exc}"
                    ) from exc
                logger.exception("plugin %s failed in %s", impl.plugin_name, hook_name)

    async def collect(self, hook_name: str, /, **kwargs: Any) -> dict[str, Any]:
        """Call a hook on every plugin and return ``{plugin name: result}``.

        A failure raises :class:`PluginError` naming the plugin: data-rights answers must be
        complete or not given at all.
        """
        results: dict[str, Any] = {}
        for impl in self._implementations(hook_name):
            try:
                result = impl.function(*[kwargs[arg] for arg in impl.argnames])
                if inspect.isawaitable(result):
                    result = await result
            except Exception as exc:
                raise PluginError(
                    f"plugin {impl.plugin_name!r} failed in {hook_name}: {type(exc).__name__}"
                ) from exc
            results[impl.plugin_name] = result
        return results
