"""Timing primitives shared by every benchmark.

Protocol (see ../shared/notes/performance-anchors.md §7): subject and anchor are timed in the same
process, alternating batches so machine noise hits both alike; each side's figure is the median of
its batches; the gate is the *ratio* subject/anchor against a target (never a wall-clock time).
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from collections.abc import Awaitable, Callable

import attrs


@attrs.frozen
class Result:
    """One benchmark line: our path against its anchor."""

    name: str
    subject_us: float
    anchor_us: float
    target: float
    detail: str = ""

    @property
    def ratio(self) -> float:
        """Subject time over anchor time (lower is better)."""
        return self.subject_us / self.anchor_us

    @property
    def passed(self) -> bool:
        """Whether the ratio is within the target plus the 10 % noise allowance."""
        return self.ratio <= self.target * 1.10

    def line(self) -> str:
        """The printed form: ``NAME ratio=X.XX target<=Y ...``."""
        verdict = "ok" if self.passed else "OVER TARGET"
        extra = f" {self.detail}" if self.detail else ""
        return (
            f"{self.name} ratio={self.ratio:.2f} target<={self.target:g} "
            f"ours={self.subject_us:.3f}us anchor={self.anchor_us:.3f}us{extra} [{verdict}]"
        )


def median_of_batches(fn: Callable[[], object], *, number: int, batches: int = 7) -> float:
    """Median time of one call of ``fn`` in microseconds, over ``batches`` batches of ``number``."""
    samples = []
    for _ in range(batches):
        samples.append(_time_batch(fn, number))
    return statistics.median(samples)


def _time_batch(fn: Callable[[], object], number: int) -> float:
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - start
    finally:
        if gc_was_enabled:
            gc.enable()
    return elapsed / number * 1e6


def compare(
    name: str,
    subject: Callable[[], object],
    anchor: Callable[[], object],
    *,
    target: float,
    number: int,
    batches: int = 7,
    detail: str = "",
) -> Result:
    """Time ``subject`` and ``anchor`` in alternating batches and return their medians.

    Both callables are warmed up once first. ``number`` calls make one batch; use enough that a
    batch takes a few milliseconds at least.
    """
    subject()
    anchor()
    subject_samples: list[float] = []
    anchor_samples: list[float] = []
    for _ in range(batches):
        subject_samples.append(_time_batch(subject, number))
        anchor_samples.append(_time_batch(anchor, number))
    return Result(
        name=name,
        subject_us=statistics.median(subject_samples),
        anchor_us=statistics.median(anchor_samples),
        target=target,
        detail=detail,
    )


async def _time_async_batch(fn: Callable[[], Awaitable[object]], number: int) -> float:
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(number):
            await fn()
        elapsed = time.perf_counter() - start
    finally:
        if gc_was_enabled:
            gc.enable()
    return elapsed / number * 1e6


async def compare_in_loop(
    name: str,
    subject: Callable[[], Awaitable[object]],
    anchor: Callable[[], Awaitable[object]],
    *,
    target: float,
    number: int,
    batches: int = 7,
    detail: str = "",
    between: Callable[[], Awaitable[object]] | None = None,
) -> Result:
    """:func:`compare_async` inside a running event loop (for subjects bound to that loop);
    ``between`` runs after each pair of batches, untimed (e.g. flushing queued work)."""
    await subject()
    await anchor()
    subject_samples: list[float] = []
    anchor_samples: list[float] = []
    for _ in range(batches):
        subject_samples.append(await _time_async_batch(subject, number))
        anchor_samples.append(await _time_async_batch(anchor, number))
        if between is not None:
            await between()
    return Result(
        name=name,
        subject_us=statistics.median(subject_samples),
        anchor_us=statistics.median(anchor_samples),
        target=target,
        detail=detail,
    )


def compare_async(
    name: str,
    subject: Callable[[], Awaitable[object]],
    anchor: Callable[[], Awaitable[object]],
    *,
    target: float,
    number: int,
    batches: int = 7,
    detail: str = "",
) -> Result:
    """Like :func:`compare` for coroutine functions: every batch runs inside one event loop."""
    return asyncio.run(
        compare_in_loop(
            name, subject, anchor, target=target, number=number, batches=batches, detail=detail
        )
    )
