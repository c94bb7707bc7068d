"""securebot benchmarks: each times our path against an anchor in the same process run.

Run ``python -m bench`` (all) or ``python -m bench NAME...`` (modules ``bench/bench_NAME.py``).
Every benchmark module exposes ``run() -> list[Result]``; :func:`compare` does the timing.
"""

from bench.harness import Result, compare, compare_async, median_of_batches

__all__ = ["Result", "compare", "compare_async", "median_of_batches"]
