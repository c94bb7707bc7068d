"""The durable scheduler: stored one-off and recurring jobs, run once across processes.

* :mod:`.clock`: :class:`SystemClock`, :class:`ManualClock` (settable, for tests);
* :mod:`.model`: :class:`Job`, :class:`JobRun`;
* :mod:`.store`: the :class:`JobStore` protocol and :class:`MemoryJobStore`;
* :mod:`.lock`: the :class:`JobLock` protocol and :class:`RedisJobLock`;
* :mod:`.scheduler`: :class:`Scheduler`;
* :mod:`.runs`: :func:`job_place`, :func:`audit_job_run` (for job handlers).
"""

from securebot.core.scheduler.clock import Clock, ManualClock, SystemClock
from securebot.core.scheduler.lock import JobLock, RedisJobLock
from securebot.core.scheduler.model import Job, JobRun
from securebot.core.scheduler.runs import audit_job_run, job_place
from securebot.core.scheduler.scheduler import JobHandler, Scheduler
from securebot.core.scheduler.store import JobStore, MemoryJobStore

__all__ = [
    "Clock",
    "Job",
    "JobHandler",
    "JobLock",
    "JobRun",
    "JobStore",
    "ManualClock",
    "MemoryJobStore",
    "RedisJobLock",
    "Scheduler",
    "SystemClock",
    "audit_job_run",
    "job_place",
]
