"""The permission engine (Giselle's precedence, spec §2.4), hierarchy guards and the gate.

* :mod:`.model`: plain values (policies, requirement, subject, query);
* :mod:`.engine`: :func:`evaluate`, a pure function naming the deciding rule;
* :mod:`.hierarchy`: role-position guards;
* :mod:`.requirements`: the ``@requires`` decorator;
* :mod:`.gate`: :class:`PermissionGate`, what the bot's checks call.
"""

from securebot.core.permissions.engine import evaluate, rule_of
from securebot.core.permissions.gate import (
    EVERYONE_MODULES,
    MemoryPolicyStore,
    PermissionGate,
    PolicyStore,
)
from securebot.core.permissions.hierarchy import (
    HierarchyError,
    check_can_act_on,
    check_can_manage_role,
    may_act_on,
    may_manage_role,
)
from securebot.core.permissions.model import (
    ChannelMode,
    GuildPolicy,
    ModulePolicy,
    PermissionQuery,
    Requirement,
    Subject,
    permission_bits,
    permission_names,
)
from securebot.core.permissions.requirements import requirement_of, requires
from securebot.core.permissions.views import SecureView

__all__ = [
    "EVERYONE_MODULES",
    "ChannelMode",
    "GuildPolicy",
    "HierarchyError",
    "MemoryPolicyStore",
    "ModulePolicy",
    "PermissionGate",
    "PermissionQuery",
    "PolicyStore",
    "Requirement",
    "SecureView",
    "Subject",
    "check_can_act_on",
    "check_can_manage_role",
    "evaluate",
    "may_act_on",
    "may_manage_role",
    "permission_bits",
    "permission_names",
    "requirement_of",
    "requires",
    "rule_of",
]
