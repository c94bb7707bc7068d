"""``auditlog``: server admins read their server's audit trail; retention pruning."""

from securebot.plugins.auditlog.plugin import AuditLogPlugin

__all__ = ["AuditLogPlugin"]
