"""SQLite, the embedded default: records, settings, audit chains and scheduled jobs in one file."""

from __future__ import annotations

from securebot.storage.sqlite.audit import SqliteAuditStore
from securebot.storage.sqlite.backend import SqliteBackend
from securebot.storage.sqlite.jobs import SqliteJobStore

__all__ = ["SqliteAuditStore", "SqliteBackend", "SqliteJobStore"]
