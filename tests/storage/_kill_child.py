"""Child of the kill -9 test: writes records as fast as it can and reports each commit."""

from __future__ import annotations

import asyncio
import sys

from securebot.core.storage import Document
from securebot.storage.sqlite import SqliteBackend


async def main(path: str) -> None:
    backend = SqliteBackend(path)
    await backend.open()
    out = sys.stdout
    n = 0
    while True:
        n += 1
        key = str(n)
        body = {"n": n, "payload": "x" * (n % 200)}
        if n % 3 == 0:
            await backend.put_many(
                [Document("kill.bulk", "1", f"{key}-{i}", body) for i in range(5)], now=0.0
            )
            out.write(f"bulk {key}\n")
        else:
            await backend.put(Document("kill.docs", "1", key, body, owners=(7,)), now=0.0)
            value = await backend.incr("kill.counter", "1", "n")
            out.write(f"doc {key} {value}\n")
        out.flush()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
