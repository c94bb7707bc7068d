"""``giselle demo``: Giselle in a local Discord, on the embedded defaults.

The emulator runs in-process with a demo guild; Giselle runs in development mode with its
durable parts on SQLite in a data directory (a fresh temporary one unless ``--data-dir`` is
given): the scheduler's jobs (reminders, scheduled commands) and the hash-chained audit log.
No token, no internet, no servers.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from securebot.core.config import Config
from securebot.storage.sqlite.audit import SqliteAuditStore
from securebot.storage.sqlite.backend import SqliteBackend
from securebot.storage.sqlite.jobs import SqliteJobStore
from securebot.testing.console import ChatOptions, chat_local
from securebot.testing.scenario_file import Scenario

#: The SQLite file inside the data directory.
DATABASE = "giselle-demo.sqlite3"


@contextlib.asynccontextmanager
async def sqlite_wiring(data_dir: Path) -> AsyncIterator[Callable[[Any], Awaitable[None]]]:
    """Open the demo database; yield the function that moves a bot's stores onto it."""
    backend = SqliteBackend(data_dir / DATABASE)
    await backend.open()

    async def wire(bot: Any) -> None:
        bot.scheduler.store = SqliteJobStore(backend)
        bot.audit_log.store = SqliteAuditStore(backend)

    try:
        yield wire
    finally:
        await backend.close()


async def run_demo(
    config: Config, scenario: Scenario, options: ChatOptions, *, data_dir: Path | None = None
) -> int:
    """Chat with Giselle; the exit status."""
    with contextlib.ExitStack() as stack:
        if data_dir is None:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="giselle-")))
        async with sqlite_wiring(data_dir) as wire:
            return await chat_local(config, scenario, options, prepare=wire)
    raise AssertionError("unreachable")  # pragma: no cover - the with block always returns
