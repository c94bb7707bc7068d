"""Scheduled jobs: plain values kept by a :class:`~securebot.core.scheduler.store.JobStore`."""

from __future__ import annotations

import datetime as dt
import types
from collections.abc import Mapping
from typing import Any

import attrs


def _frozen(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return types.MappingProxyType(dict(value))


@attrs.frozen
class Job:
    """One one-off or recurring job."""

    id: str
    #: Which handler runs it (``"scheduler.command"``, ``"alarm.remind"``...).
    kind: str
    #: When it should run next (timezone-aware).
    due: dt.datetime
    guild_id: int | None = None
    #: Who scheduled it (permissions are re-checked for this user at run time).
    user_id: int | None = None
    channel_id: int | None = None
    #: The handler's own JSON-able data.
    payload: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen)
    #: Seconds between runs of a recurring job; ``None`` for a one-off job.
    interval: int | None = None
    created_at: dt.datetime | None = None

    @property
    def recurring(self) -> bool:
        """Whether the job repeats."""
        return self.interval is not None

    def next_after(self, ran_due: dt.datetime, now: dt.datetime) -> dt.datetime | None:
        """The next due time after a run that was due at ``ran_due`` (``None`` if one-off).

        Missed intervals are skipped: the next time is the first one after ``now``.
        """
        if self.interval is None:
            return None
        step = dt.timedelta(seconds=self.interval)
        following = ran_due + step
        if following <= now:
            missed = (now - ran_due) // step
            following = ran_due + step * (missed + 1)
        return following


@attrs.frozen
class JobRun:
    """What a handler receives: the job, the due time it runs for, and how late it is."""

    job: Job
    due: dt.datetime
    now: dt.datetime

    @property
    def late(self) -> dt.timedelta:
        """How long after its due time the job runs."""
        return self.now - self.due
