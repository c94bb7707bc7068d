"""securebot: a library for building secure Discord bots.

A bot is assembled from plugins: classes with ``@hookimpl`` hook implementations and
``@command`` commands, loaded by a :class:`PluginManager` from configuration and run by a
:class:`Bot`. See ``docs/`` for the concepts and a complete example plugin.
"""

from importlib import metadata as _metadata

from securebot.core.app import build_bot, load_plugins
from securebot.core.bot import AccessDenied, Bot
from securebot.core.config import Config, load_config
from securebot.core.cooldowns import rate_limit
from securebot.core.grammar import (
    CachedMember,
    Duration,
    DurationWithSeconds,
    Flags,
    TimeZone,
    UserOrRole,
    UserOrRoleList,
    UsersOrRoles,
    flag,
)
from securebot.core.manifest import PluginManifest, UserData
from securebot.core.markers import hookimpl, hookspec
from securebot.core.permissions import (
    ChannelMode,
    GuildPolicy,
    ModulePolicy,
    SecureView,
    check_can_act_on,
    check_can_manage_role,
    requires,
)
from securebot.core.plugin import Context, Plugin, command
from securebot.core.plugins import PluginManager
from securebot.core.premium import premium_tiers
from securebot.core.rules import AccessRequest, Verdict
from securebot.core.scheduler import JobRun, audit_job_run, job_place

try:
    __version__ = _metadata.version("securebot")
except _metadata.PackageNotFoundError:  # pragma: no cover - a source tree without metadata
    __version__ = "0.0.0"

__all__ = [
    "AccessDenied",
    "AccessRequest",
    "Bot",
    "CachedMember",
    "ChannelMode",
    "Config",
    "Context",
    "Duration",
    "DurationWithSeconds",
    "Flags",
    "GuildPolicy",
    "JobRun",
    "ModulePolicy",
    "Plugin",
    "PluginManager",
    "PluginManifest",
    "SecureView",
    "TimeZone",
    "UserData",
    "UserOrRole",
    "UserOrRoleList",
    "UsersOrRoles",
    "Verdict",
    "__version__",
    "audit_job_run",
    "build_bot",
    "check_can_act_on",
    "check_can_manage_role",
    "command",
    "flag",
    "hookimpl",
    "hookspec",
    "job_place",
    "load_config",
    "load_plugins",
    "premium_tiers",
    "rate_limit",
    "requires",
]
