"""Where audit entries live: an append-only :class:`AuditStore`, and its in-memory form.

Stored entries carry the event as a JSON-able record in which the sensitive fields
(:data:`~securebot.core.audit.model.SENSITIVE_FIELDS`) are sealed strings. A backend appends a
batch and moves the chain's head in one step, refusing when the head moved meanwhile (another
process wrote), and never updates or deletes entries except by retention pruning, which records
the anchor the remaining chain starts from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import attrs

from securebot.core.audit.chain import Anchor
from securebot.errors import ConflictError


@attrs.frozen
class StoredEntry:
    """One entry as stored: chain position, hashes, time, and the (partly sealed) record."""

    chain: str
    seq: int
    prev_hash: str
    hash: str
    at: float
    record: Mapping[str, Any]


class AuditStore(Protocol):
    """Append-only storage of audit chains."""

    async def append(
        self, chain: str, entries: Sequence[StoredEntry], *, expected_head: Anchor
    ) -> None:
        """Append ``entries`` to ``chain`` and move its head to the last one, atomically.

        :raises ConflictError: the chain's head is not ``expected_head`` any more.
        """

    async def read(self, chain: str) -> list[StoredEntry]:
        """Every retained entry of ``chain`` in stored order."""

    async def head(self, chain: str) -> Anchor:
        """The chain's newest entry (``Anchor()`` for an empty chain)."""

    async def start(self, chain: str) -> Anchor:
        """Where the retained part of the chain starts (``Anchor()`` before any pruning)."""

    async def chains(self) -> list[str]:
        """The chains that have entries."""

    async def prune(self, chain: str, *, before: float) -> int:
        """Drop the entries older than ``before`` (unix time); return how many were dropped."""


class MemoryAuditStore:
    """An :class:`AuditStore` in memory (tests, benchmarks, bots without storage)."""

    def __init__(self) -> None:
        """Start with no chains."""
        self.entries: dict[str, list[StoredEntry]] = {}
        self.heads: dict[str, Anchor] = {}
        self.starts: dict[str, Anchor] = {}

    async def append(
        self, chain: str, entries: Sequence[StoredEntry], *, expected_head: Anchor
    ) -> None:
        """Append and move the head, or raise :class:`ConflictError`."""
        if self.heads.get(chain, Anchor()) != expected_head:
            raise ConflictError(f"audit chain {chain} moved; retry")
        if not entries:
            return
        self.entries.setdefault(chain, []).extend(entries)
        last = entries[-1]
        self.heads[chain] = Anchor(last.seq, last.hash)

    async def read(self, chain: str) -> list[StoredEntry]:
        """The retained entries."""
        return list(self.entries.get(chain, ()))

    async def head(self, chain: str) -> Anchor:
        """The newest entry."""
        return self.heads.get(chain, Anchor())

    async def start(self, chain: str) -> Anchor:
        """The retention anchor."""
        return self.starts.get(chain, Anchor())

    async def chains(self) -> list[str]:
        """Chains with entries."""
        return sorted(self.entries)

    async def prune(self, chain: str, *, before: float) -> int:
        """Drop the oldest entries (a prefix of the chain) and move the anchor."""
        kept = self.entries.get(chain, [])
        count = 0
        while count < len(kept) and kept[count].at < before:
            count += 1
        if count == 0:
            return 0
        last = kept[count - 1]
        self.entries[chain] = kept[count:]
        self.starts[chain] = Anchor(last.seq, last.hash)
        return count
