"""Where jobs are kept: the :class:`JobStore` protocol and :class:`MemoryJobStore`.

A run is *claimed* before it starts: the claim succeeds for exactly one caller per (job, due
time), across processes sharing the store, so each run happens once. A claim is a lease: if the
claimant dies, the run can be claimed again after ``lease_until`` (so a crash means the run may
happen again, never that it is lost).
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

import attrs

from securebot.core.scheduler.model import Job


class JobStore(Protocol):
    """Durable storage of scheduled jobs."""

    async def add(self, job: Job) -> None:
        """Store a new job (its id must be new)."""

    async def get(self, job_id: str) -> Job | None:
        """The job with that id, if it exists."""

    async def remove(self, job_id: str) -> bool:
        """Delete a job; return whether it existed."""

    async def due(self, now: dt.datetime, *, limit: int = 100) -> list[Job]:
        """Jobs due at or before ``now`` and not currently claimed, oldest first."""

    async def upcoming(self) -> dt.datetime | None:
        """The earliest due time of any job, if there is one."""

    async def jobs(
        self, *, kind: str | None = None, guild_id: int | None = None, user_id: int | None = None
    ) -> list[Job]:
        """Jobs matching every given filter, by due time."""

    async def claim(
        self,
        job_id: str,
        due: dt.datetime,
        *,
        owner: str,
        lease_until: dt.datetime,
        now: dt.datetime,
    ) -> bool:
        """Claim the run of ``job_id`` due at ``due``; ``True`` for exactly one claimant."""

    async def finish(self, job_id: str, due: dt.datetime, next_due: dt.datetime | None) -> None:
        """After a run: delete the job (``next_due is None``) or move it to ``next_due``."""


@attrs.define
class _Slot:
    job: Job
    claimed_by: str = ""
    lease_until: dt.datetime | None = None


class MemoryJobStore:
    """A :class:`JobStore` in memory; share one instance to model processes sharing storage."""

    def __init__(self) -> None:
        """Start empty."""
        self._slots: dict[str, _Slot] = {}

    async def add(self, job: Job) -> None:
        """Store a new job."""
        if job.id in self._slots:
            raise ValueError(f"job {job.id} already exists")
        self._slots[job.id] = _Slot(job)

    async def get(self, job_id: str) -> Job | None:
        """The job, if any."""
        slot = self._slots.get(job_id)
        return slot.job if slot else None

    async def remove(self, job_id: str) -> bool:
        """Delete a job."""
        return self._slots.pop(job_id, None) is not None

    async def due(self, now: dt.datetime, *, limit: int = 100) -> list[Job]:
        """Unclaimed (or lease-expired) jobs due by ``now``."""
        ready = [
            slot.job
            for slot in self._slots.values()
            if slot.job.due <= now and (slot.lease_until is None or slot.lease_until <= now)
        ]
        return sorted(ready, key=lambda job: (job.due, job.id))[:limit]

    async def upcoming(self) -> dt.datetime | None:
        """The earliest due time."""
        return min((slot.job.due for slot in self._slots.values()), default=None)

    async def jobs(
        self, *, kind: str | None = None, guild_id: int | None = None, user_id: int | None = None
    ) -> list[Job]:
        """Filtered jobs by due time."""
        found = [
            slot.job
            for slot in self._slots.values()
            if (kind is None or slot.job.kind == kind)
            and (guild_id is None or slot.job.guild_id == guild_id)
            and (user_id is None or slot.job.user_id == user_id)
        ]
        return sorted(found, key=lambda job: (job.due, job.id))

    async def claim(
        self,
        job_id: str,
        due: dt.datetime,
        *,
        owner: str,
        lease_until: dt.datetime,
        now: dt.datetime,
    ) -> bool:
        """Claim the run (no ``await`` inside: atomic on one event loop)."""
        slot = self._slots.get(job_id)
        if slot is None or slot.job.due != due:
            return False
        if slot.lease_until is not None and slot.lease_until > now:
            return False
        slot.claimed_by = owner
        slot.lease_until = lease_until
        return True

    async def finish(self, job_id: str, due: dt.datetime, next_due: dt.datetime | None) -> None:
        """Delete or reschedule after a run."""
        slot = self._slots.get(job_id)
        if slot is None or slot.job.due != due:
            return
        if next_due is None:
            del self._slots[job_id]
        else:
            self._slots[job_id] = _Slot(attrs.evolve(slot.job, due=next_due))
