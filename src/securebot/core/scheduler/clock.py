"""Clocks: the system clock, and a settable one for tests and the emulator."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Protocol


class Clock(Protocol):
    """A source of the current time that can also wait."""

    def now(self) -> dt.datetime:
        """The current time, timezone-aware (UTC)."""

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""


class SystemClock:
    """The real time."""

    def now(self) -> dt.datetime:
        """``datetime.now(UTC)``."""
        return dt.datetime.now(dt.UTC)

    async def sleep(self, seconds: float) -> None:
        """``asyncio.sleep``."""
        await asyncio.sleep(max(0.0, seconds))


class ManualClock:
    """A clock that only moves when told to; sleepers wake when it passes their deadline."""

    def __init__(self, start: dt.datetime) -> None:
        """:param start: the initial time (timezone-aware)."""
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start time")
        self._now = start
        self._moved = asyncio.Condition()

    def now(self) -> dt.datetime:
        """The clock's current time."""
        return self._now

    async def set(self, when: dt.datetime) -> None:
        """Move the clock to ``when`` (never backwards) and wake the sleepers."""
        if when < self._now:
            raise ValueError("a ManualClock never goes backwards")
        self._now = when
        async with self._moved:
            self._moved.notify_all()

    async def advance(self, delta: dt.timedelta) -> None:
        """Move the clock forward by ``delta``."""
        await self.set(self._now + delta)

    async def sleep(self, seconds: float) -> None:
        """Wait until the clock has moved ``seconds`` past now."""
        deadline = self._now + dt.timedelta(seconds=max(0.0, seconds))
        async with self._moved:
            await self._moved.wait_for(lambda: self._now >= deadline)
