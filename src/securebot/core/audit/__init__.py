"""The audit log: every command (allowed or denied), every REST call, every configuration change,
append-only, hash-chained per guild, sensitive fields sealed.

* :mod:`.model`: :class:`AuditEvent`, :class:`AuditEntry`;
* :mod:`.chain`: hashing, sealing and :func:`verify_chain`;
* :mod:`.store`: the :class:`AuditStore` protocol and :class:`MemoryAuditStore`;
* :mod:`.sealing`: field encryption seam (:class:`FieldSealer`);
* :mod:`.log`: :class:`AuditLog` (queue, flush, verify, retention);
* :mod:`.redaction`: argument descriptions with secrets redacted;
* :mod:`.recorder`: :class:`Auditor` (command and HTTP events, correlation ids).
"""

from securebot.core.audit.chain import GENESIS, Anchor, VerifyReport, verify_chain
from securebot.core.audit.log import AuditLog
from securebot.core.audit.model import GLOBAL_CHAIN, AuditEntry, AuditEvent, EventKind
from securebot.core.audit.recorder import (
    CORRELATION,
    CORRELATION_GUILD,
    Auditor,
    new_correlation_id,
    outcome_of,
)
from securebot.core.audit.redaction import (
    REDACTED,
    command_arguments,
    context_arguments,
    interaction_arguments,
)
from securebot.core.audit.sealing import CipherSealer, FieldSealer, PlainSealer
from securebot.core.audit.store import AuditStore, MemoryAuditStore, StoredEntry

__all__ = [
    "CORRELATION",
    "CORRELATION_GUILD",
    "GENESIS",
    "GLOBAL_CHAIN",
    "REDACTED",
    "Anchor",
    "AuditEntry",
    "AuditEvent",
    "AuditLog",
    "AuditStore",
    "Auditor",
    "CipherSealer",
    "EventKind",
    "FieldSealer",
    "MemoryAuditStore",
    "PlainSealer",
    "StoredEntry",
    "VerifyReport",
    "command_arguments",
    "context_arguments",
    "interaction_arguments",
    "new_correlation_id",
    "outcome_of",
    "verify_chain",
]
