"""The durable scheduler: jobs live in a :class:`JobStore`, handlers are registered by kind.

* **durable:** jobs are stored, so they survive restarts; on start, jobs whose time passed
  while the bot was down run at once, and the log says when they were originally due;
* **once:** before a run, the scheduler takes the :class:`JobLock` (Redis, when configured) for
  (job, due time) and claims the run in the store; only the winner runs it;
* **recurring** jobs move to their next due time after each run (missed intervals are skipped);
* a failing handler is logged and the run counts as done (no retry storm);
* handlers re-check permissions themselves at run time (the ``scheduler`` plugin does).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import secrets
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from securebot.core.logtext import contained_logger
from securebot.core.scheduler.clock import Clock, SystemClock
from securebot.core.scheduler.lock import JobLock
from securebot.core.scheduler.model import Job, JobRun
from securebot.core.scheduler.store import JobStore
from securebot.errors import DuplicateRegistrationError

logger = contained_logger("securebot.scheduler")  # tracebacks quoting user input stay contained

#: A job handler: runs one due job.
JobHandler = Callable[[JobRun], Awaitable[None]]
#: Told about every run: the run and its outcome (``ok`` / ``error:<Type>`` / ``no-handler``).
RunObserver = Callable[[JobRun, str], None]


class Scheduler:
    """Runs stored jobs when they are due, once across every process sharing the store."""

    def __init__(
        self,
        store: JobStore,
        *,
        clock: Clock | None = None,
        lock: JobLock | None = None,
        owner: str | None = None,
        lease: dt.timedelta = dt.timedelta(minutes=5),
        poll: float = 30.0,
        busy_retry: float = 1.0,
        observer: RunObserver | None = None,
    ) -> None:
        """:param lock: a cross-process lock (Redis) taken before each run, if configured.
        :param owner: this process's name in claims (random by default).
        :param lease: how long a claim holds before another process may take the run over.
        :param poll: the longest sleep between checks, in clock seconds.
        :param busy_retry: the sleep when a due job is held by another process (its claim or
            lock), so a job this process cannot run never makes it spin.
        """
        self.store = store
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.lock = lock
        self.owner = owner or f"scheduler-{secrets.token_hex(4)}"
        self.lease = lease
        self.poll = poll
        self.busy_retry = busy_retry
        self.observer = observer
        self._handlers: dict[str, JobHandler] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    # --- kinds and jobs ---------------------------------------------------------------------

    def register(self, kind: str, handler: JobHandler) -> None:
        """Register the handler of ``kind``; a kind has exactly one handler."""
        if kind in self._handlers:
            raise DuplicateRegistrationError(f"job kind {kind!r} is already registered")
        self._handlers[kind] = handler

    @property
    def kinds(self) -> frozenset[str]:
        """The registered job kinds."""
        return frozenset(self._handlers)

    async def schedule(
        self,
        kind: str,
        due: dt.datetime,
        *,
        guild_id: int | None = None,
        user_id: int | None = None,
        channel_id: int | None = None,
        payload: Mapping[str, Any] | None = None,
        interval: int | None = None,
    ) -> Job:
        """Store a new job and return it."""
        if due.tzinfo is None:
            raise ValueError("due times must be timezone-aware")
        if interval is not None and interval <= 0:
            raise ValueError("a recurring interval must be positive")
        job = Job(
            id=secrets.token_hex(8),
            kind=kind,
            due=due,
            guild_id=guild_id,
            user_id=user_id,
            channel_id=channel_id,
            payload=payload or {},
            interval=interval,
            created_at=self.clock.now(),
        )
        await self.store.add(job)
        self._wake.set()
        return job

    async def cancel(self, job_id: str) -> bool:
        """Remove a job; return whether it existed."""
        return await self.store.remove(job_id)

    async def run_now(self, job_id: str) -> bool:
        """Run a job at once (``repeatinvoke``); a recurring job's timer restarts from now."""
        job = await self.store.get(job_id)
        if job is None:
            return False
        now = self.clock.now()
        await self.store.finish(job.id, job.due, now)
        await self._run(await self.store.get(job.id) or job)
        return True

    # --- running ----------------------------------------------------------------------------

    async def run_due(self) -> int:
        """Run every job that is due now; return how many this process ran."""
        ran = 0
        for job in await self.store.due(self.clock.now()):
            if await self._run(job):
                ran += 1
        return ran

    async def _run(self, job: Job) -> bool:
        now = self.clock.now()
        lease_seconds = int(self.lease.total_seconds())
        if self.lock is not None:
            key = f"{job.id}:{int(job.due.timestamp())}"
            if not await self.lock.acquire(key, owner=self.owner, ttl=lease_seconds):
                return False
        claimed = await self.store.claim(
            job.id, job.due, owner=self.owner, lease_until=now + self.lease, now=now
        )
        if not claimed:
            return False
        run = JobRun(job, job.due, now)
        if run.late > dt.timedelta(seconds=5):
            logger.info(
                "job %s (%s) originally due at %s runs late at %s",
                job.id,
                job.kind,
                job.due.isoformat(),
                now.isoformat(),
            )
        outcome = await self._call(run)
        await self.store.finish(job.id, job.due, job.next_after(job.due, now))
        if self.observer is not None:
            try:
                self.observer(run, outcome)
            except Exception:
                logger.exception("scheduler observer failed")
        return True

    async def _call(self, run: JobRun) -> str:
        handler = self._handlers.get(run.job.kind)
        if handler is None:
            logger.error("job %s has kind %r, which no plugin handles", run.job.id, run.job.kind)
            return "no-handler"
        try:
            await handler(run)
        except Exception as exc:
            logger.exception("job %s (%s) failed", run.job.id, run.job.kind)
            return f"error:{type(exc).__name__}"
        return "ok"

    # --- the loop ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start running jobs in the background (missed ones first)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def _loop(self) -> None:
        while True:
            ran = 0
            try:
                ran = await self.run_due()
            except Exception:
                logger.exception("scheduler pass failed")
            upcoming = await self.store.upcoming()
            wait = self.poll
            if upcoming is not None:
                ahead = (upcoming - self.clock.now()).total_seconds()
                # a job still due after the pass is held elsewhere: check again a bit later
                wait = min(wait, ahead if ahead > 0 else 0.0 if ran else self.busy_retry)
            await self._sleep(wait)

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, waker):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def stop(self) -> None:
        """Stop the background loop (jobs stay stored)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
