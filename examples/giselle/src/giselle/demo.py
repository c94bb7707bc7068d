"""``giselle demo``: Giselle in a local Discord, on the embedded defaults.

The emulator runs in-process with a demo guild; Giselle runs in development mode on the same
services as in production (:mod:`securebot.runtime`), kept in a data directory (a fresh temporary
one unless ``--data-dir`` is given): records, settings, scheduled jobs and the hash-chained audit
log in one SQLite file, their sensitive fields sealed by a development keyring whose key file
lives outside the data directory (``~/.config/securebot/dev-kek``); ``savechat`` archives in its
``exports`` directory, downloaded through a gateway on 127.0.0.1 inside this process. No token,
no internet, no servers.
"""

from __future__ import annotations

import contextlib
import tempfile
import types
from pathlib import Path

import attrs

from securebot.core.config import Config
from securebot.runtime import open_bot_services
from securebot.testing.console import ChatOptions, chat_local
from securebot.testing.scenario_file import Scenario

#: The SQLite file inside the data directory.
DATABASE = "giselle-demo.sqlite3"
#: The sealed development keyring inside the data directory (its key file lives outside it).
KEYRING = "giselle-demo.keyring"
#: Where ``savechat`` archives go inside the data directory (served by an in-process gateway).
EXPORTS = "exports"


def demo_config(config: Config, data_dir: Path) -> Config:
    """``config`` with its store, keyring and export archives in ``data_dir``."""
    chatlogs = {"store_dir": str(data_dir / EXPORTS), **config.plugin_settings("chatlogs")}
    return attrs.evolve(
        config,
        storage=attrs.evolve(config.storage, backend="sqlite", path=str(data_dir / DATABASE)),
        keys=attrs.evolve(config.keys, keyring=str(data_dir / KEYRING)),
        plugin=types.MappingProxyType({**config.plugin, "chatlogs": chatlogs}),
    )


async def run_demo(
    config: Config, scenario: Scenario, options: ChatOptions, *, data_dir: Path | None = None
) -> int:
    """Chat with Giselle; the exit status."""
    with contextlib.ExitStack() as stack:
        if data_dir is None:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="giselle-")))
        config = demo_config(config, data_dir)
        async with open_bot_services(config) as opened:
            return await chat_local(opened.config, scenario, options, prepare=opened.wire)
    raise AssertionError("unreachable")  # pragma: no cover - the with block always returns
