"""A securebot Bot on the no-network stub, for plugin tests (see :mod:`tests.pipeline.stub`)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable
from typing import Any

import discord
from tests.pipeline import stub

import securebot
from securebot.core.config import BotSettings


@contextlib.asynccontextmanager
async def stub_bot(
    plugins: Iterable[securebot.Plugin], *, setup: Any = None, **config: Any
) -> AsyncIterator[tuple[securebot.Bot, stub.StubDiscord]]:
    """A started Bot with ``plugins``, its REST calls recorded by a :class:`StubDiscord`.

    :param setup: called with the bot before its ``setup_hook`` (replace stores, clock...).
    :param config: ``Config`` keyword arguments (``plugins=...``).
    """
    manager = securebot.PluginManager()
    for plugin in plugins:
        manager.register(plugin)
    settings = securebot.Config(bot=BotSettings(owner_ids=(stub.CAROL,)), **config)
    manager.hook.securebot_configure.call_historic(kwargs={"config": settings})
    made = securebot.Bot(settings, manager, intents=discord.Intents.all())
    async with made:
        discord_ = stub.StubDiscord(made)
        made.auditor.install_http(made.http)
        if setup is not None:
            setup(made)
        await made.setup_hook()
        try:
            yield made, discord_
        finally:
            await made.close()
