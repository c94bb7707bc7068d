"""``python -m bench [NAME...]``: run benchmark modules and print one line per result."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

from bench.harness import Result


def _module_names() -> list[str]:
    here = Path(__file__).parent
    return sorted(
        info.name.removeprefix("bench_")
        for info in pkgutil.iter_modules([str(here)])
        if info.name.startswith("bench_")
    )


def main(argv: list[str]) -> int:
    """Run the named benchmarks (all when none are named); exit 1 if any is over target."""
    available = _module_names()
    wanted = argv or available
    unknown = [name for name in wanted if name not in available]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}")
        return 2
    results: list[Result] = []
    for name in wanted:
        module = importlib.import_module(f"bench.bench_{name}")
        print(f"# {name}", flush=True)
        for result in module.run():
            print(result.line(), flush=True)
            results.append(result)
    over = [r for r in results if not r.passed]
    within = len(results) - len(over)
    print(f"summary: {len(results)} benchmarks, {within} within target, {len(over)} over")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
