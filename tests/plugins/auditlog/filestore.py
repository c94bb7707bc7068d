"""A file-backed AuditStore for the CLI tests (JSON Lines + a heads file), standing in for the
storage layer's SQLite audit store until it lands. Editing its lines models tampering."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from securebot.core.audit import Anchor, StoredEntry
from securebot.errors import ConflictError


class FileAuditStore:
    """Entries in ``<dir>/entries.jsonl``, heads and anchors in ``<dir>/meta.json``."""

    def __init__(self, directory: Path) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.entries_path = self.dir / "entries.jsonl"
        self.meta_path = self.dir / "meta.json"
        if not self.meta_path.exists():
            self.meta_path.write_text(json.dumps({"heads": {}, "starts": {}}))
            self.entries_path.write_text("")

    def _meta(self) -> dict:
        return json.loads(self.meta_path.read_text())

    def _all(self) -> list[StoredEntry]:
        found = []
        for line in self.entries_path.read_text().splitlines():
            if line.strip():
                data = json.loads(line)
                found.append(StoredEntry(**data))
        return found

    async def append(
        self, chain: str, entries: Sequence[StoredEntry], *, expected_head: Anchor
    ) -> None:
        meta = self._meta()
        head = Anchor(*meta["heads"].get(chain, (0, Anchor().hash)))
        if head != expected_head:
            raise ConflictError("moved")
        if not entries:
            return
        with self.entries_path.open("a") as handle:
            for entry in entries:
                handle.write(
                    json.dumps(
                        {
                            "chain": entry.chain,
                            "seq": entry.seq,
                            "prev_hash": entry.prev_hash,
                            "hash": entry.hash,
                            "at": entry.at,
                            "record": dict(entry.record),
                        }
                    )
                    + "\n"
                )
        meta["heads"][chain] = [entries[-1].seq, entries[-1].hash]
        self.meta_path.write_text(json.dumps(meta))

    async def read(self, chain: str) -> list[StoredEntry]:
        return [entry for entry in self._all() if entry.chain == chain]

    async def head(self, chain: str) -> Anchor:
        return Anchor(*self._meta()["heads"].get(chain, (0, Anchor().hash)))

    async def start(self, chain: str) -> Anchor:
        return Anchor(*self._meta()["starts"].get(chain, (0, Anchor().hash)))

    async def chains(self) -> list[str]:
        return sorted({entry.chain for entry in self._all()})

    async def prune(self, chain: str, *, before: float) -> int:
        kept, dropped = [], []
        for entry in self._all():
            (dropped if entry.chain == chain and entry.at < before else kept).append(entry)
        if not dropped:
            return 0
        meta = self._meta()
        meta["starts"][chain] = [dropped[-1].seq, dropped[-1].hash]
        self.meta_path.write_text(json.dumps(meta))
        self.entries_path.write_text(
            "".join(
                json.dumps(
                    {
                        "chain": e.chain,
                        "seq": e.seq,
                        "prev_hash": e.prev_hash,
                        "hash": e.hash,
                        "at": e.at,
                        "record": dict(e.record),
                    }
                )
                + "\n"
                for e in kept
            )
        )
        return len(dropped)
