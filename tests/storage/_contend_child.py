"""Child of the multi-process tests: counter increments or compare-and-set updates on one file."""

from __future__ import annotations

import asyncio
import sys

import attrs

from securebot.core.storage import Store, record
from securebot.storage.sqlite import SqliteBackend


@record("contend.tally", key="name")
@attrs.frozen
class Tally:
    name: str
    count: int = 0


async def main(path: str, mode: str, times: int) -> None:
    store = Store(SqliteBackend(path))
    await store.open()
    for _ in range(times):
        if mode == "incr":
            value = await store.incr("contend.cases", scope=1)
            print(value, flush=True)
        else:
            await store.update(
                Tally, "t", lambda t: Tally("t", (t.count if t else 0) + 1), attempts=10_000
            )
    await store.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
