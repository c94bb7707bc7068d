"""The per-guild hash chain: each entry's hash covers its position, the previous entry's hash
and its event, so a changed, removed or reordered entry breaks the chain from that point.

``hash = SHA-256(chain | seq | prev_hash | canonical JSON of the event)``. The first entry of a
chain links to :data:`GENESIS`; after retention pruning, to the stored *anchor* (the hash of the
last pruned entry). The chain's *head* (last seq and hash) is kept too, so removing the newest
entry is detected as well.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from securebot.core.audit.model import AuditEntry, AuditEvent

#: ``prev_hash`` of a chain's first entry.
GENESIS = "0" * 64

# What json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str) uses,
# built once (json.dumps builds a new encoder per call when given options).
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
)


def canonical(event: AuditEvent, record: Mapping[str, Any] | None = None) -> bytes:
    """The exact bytes hashed for ``event`` (sorted keys, no spaces, UTF-8).

    :param record: ``event.to_dict()`` when the caller already has it.
    """
    return _CANONICAL.encode(event.to_dict() if record is None else record).encode()


def entry_hash(
    chain: str,
    seq: int,
    prev_hash: str,
    event: AuditEvent,
    record: Mapping[str, Any] | None = None,
) -> str:
    """The hash of an entry (``record``: ``event.to_dict()``, if already made)."""
    return record_hash(chain, seq, prev_hash, event.to_dict() if record is None else record)


def record_hash(chain: str, seq: int, prev_hash: str, record: Mapping[str, Any]) -> str:
    """The hash of an entry whose event is ``record`` (an event's ``to_dict()``)."""
    digest = hashlib.sha256(f"{chain}|{seq}|{prev_hash}|".encode())
    digest.update(_CANONICAL.encode(record).encode())
    return digest.hexdigest()


def seal(
    event: AuditEvent, seq: int, prev_hash: str, record: Mapping[str, Any] | None = None
) -> AuditEntry:
    """Seal ``event`` at position ``seq`` after an entry whose hash is ``prev_hash``."""
    chain = event.chain
    digest = entry_hash(chain, seq, prev_hash, event, record)
    return AuditEntry(chain, seq, prev_hash, digest, event)


@attrs.frozen
class Anchor:
    """Where a chain's retained part starts, or where it ends (a head)."""

    seq: int = 0
    hash: str = GENESIS


@attrs.frozen
class VerifyReport:
    """The result of verifying one chain."""

    chain: str
    ok: bool
    checked: int
    #: Sequence number of the first entry that does not verify (or the missing one).
    first_bad_seq: int | None = None
    problem: str = ""
    #: Not verified rather than broken: from :attr:`first_bad_seq` on, the entries are sealed
    #: and the log was read without the key to open them (the readable ones verified).
    needs_key: bool = False

    def line(self) -> str:
        """One human-readable line."""
        if self.ok:
            return f"chain {self.chain}: ok ({self.checked} entries)"
        if self.needs_key:
            return (
                f"chain {self.chain}: NOT VERIFIED from entry {self.first_bad_seq}: sealed "
                f"entries need the keyring ({self.checked} readable entries verified)"
            )
        return f"chain {self.chain}: BROKEN at entry {self.first_bad_seq}: {self.problem}"


def verify_chain(
    chain: str, entries: Iterable[AuditEntry], *, start: Anchor = Anchor(), head: Anchor | None
) -> VerifyReport:
    """Check ``entries`` (in stored order) from ``start`` to ``head``.

    Detects a changed entry (its hash no longer matches), a removed or reordered entry (its
    position or link to the previous hash is wrong), and a removed newest entry (the chain
    stops before ``head``).
    """
    expected_seq = start.seq + 1
    prev = start.hash
    checked = 0
    for entry in entries:
        if entry.chain != chain:
            return VerifyReport(chain, False, checked, entry.seq, "entry belongs to another chain")
        if entry.seq != expected_seq:
            problem = "missing or reordered entry" if entry.seq > expected_seq else "reordered"
            return VerifyReport(chain, False, checked, expected_seq, problem)
        if entry.prev_hash != prev:
            return VerifyReport(
                chain, False, checked, entry.seq, "link to the previous entry broken"
            )
        if entry_hash(chain, entry.seq, entry.prev_hash, entry.event) != entry.hash:
            return VerifyReport(chain, False, checked, entry.seq, "entry content changed")
        prev = entry.hash
        expected_seq += 1
        checked += 1
    if head is not None and (head.seq != expected_seq - 1 or head.hash != prev):
        return VerifyReport(chain, False, checked, expected_seq, "newest entries are missing")
    return VerifyReport(chain, True, checked)
