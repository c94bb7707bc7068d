"""Time in the emulator: a settable clock and snowflakes carrying real timestamps."""

from __future__ import annotations

import datetime as dt
import itertools
import time

#: Discord's epoch (2015-01-01T00:00:00Z) in milliseconds since the Unix epoch.
DISCORD_EPOCH_MS = 1_420_070_400_000


class EmulatorClock:
    """Wall-clock time plus an offset tests can move (``advance``) or pin (``set``).

    Every timestamp the emulator writes (snowflakes, ``timestamp`` fields, timeouts, the 14-day
    bulk-delete window, rate-limit resets) comes from this clock.
    """

    def __init__(self) -> None:
        """Start at the real time."""
        self._offset = 0.0
        self._pinned: float | None = None

    def time(self) -> float:
        """Seconds since the Unix epoch, as the emulator sees them."""
        if self._pinned is not None:
            return self._pinned
        return time.time() + self._offset

    def now(self) -> dt.datetime:
        """The current time as an aware UTC datetime."""
        return dt.datetime.fromtimestamp(self.time(), dt.UTC)

    def advance(self, seconds: float) -> None:
        """Move the clock forward (or back, with a negative value)."""
        if self._pinned is not None:
            self._pinned += seconds
        else:
            self._offset += seconds

    def set(self, when: dt.datetime) -> None:
        """Pin the clock at ``when`` (an aware datetime); it stays there until moved."""
        if when.tzinfo is None:
            raise ValueError("EmulatorClock.set needs an aware datetime")
        self._pinned = when.timestamp()

    def resume(self) -> None:
        """Let a pinned clock run again from where it was pinned."""
        if self._pinned is not None:
            self._offset = self._pinned - time.time()
            self._pinned = None


class Snowflakes:
    """Generates unique, increasing Discord ids whose timestamp is the clock's time."""

    def __init__(self, clock: EmulatorClock, worker: int = 1) -> None:
        """Ids carry ``worker`` in bits 17-21."""
        self._clock = clock
        self._worker = worker & 0x1F
        self._counter = itertools.count()
        self._last = 0

    def next(self) -> int:
        """A fresh id, strictly greater than every id handed out before."""
        ms = int(self._clock.time() * 1000) - DISCORD_EPOCH_MS
        candidate = (max(ms, 0) << 22) | (self._worker << 17) | (next(self._counter) & 0xFFF)
        if candidate <= self._last:
            candidate = self._last + 1
        self._last = candidate
        return candidate

    def at(self, when: dt.datetime) -> int:
        """A fresh id whose timestamp is ``when`` (for backdated seed data)."""
        ms = int(when.timestamp() * 1000) - DISCORD_EPOCH_MS
        return (max(ms, 0) << 22) | (self._worker << 17) | (next(self._counter) & 0xFFF)


def snowflake_time(snowflake: int) -> dt.datetime:
    """The creation time encoded in a snowflake."""
    return dt.datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, dt.UTC)


def iso(when: dt.datetime) -> str:
    """Discord's ISO 8601 timestamp format (microseconds, ``+00:00``)."""
    return when.astimezone(dt.UTC).isoformat(timespec="microseconds")
