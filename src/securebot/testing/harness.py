"""Running a discord.py client against the emulator, with a teardown that never hides errors.

discord.py's ``start()`` task can die silently (a parser error, a refused login); :func:`running`
waits for readiness *or* that death, and on exit closes the client, awaits the task and re-raises
whatever ended it, so a test sees the real cause instead of a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from typing import Any, TypeVar

import discord

from securebot.core.bot import Bot
from securebot.core.config import BotSettings, Config
from securebot.core.plugin import Plugin
from securebot.core.plugins import PluginManager
from securebot.errors import SecurebotError
from securebot.testing.emulator import Emulator, use_emulator

ClientT = TypeVar("ClientT", bound=discord.Client)


class BotStartError(SecurebotError):
    """The bot did not become ready against the emulator."""


@contextlib.asynccontextmanager
async def running(
    client: ClientT,
    emulator: Emulator,
    token: str,
    *,
    timeout: float = 10.0,  # noqa: ASYNC109 - a deadline is the API
) -> AsyncIterator[ClientT]:
    """Start ``client`` on ``emulator`` with ``token``; yield it once ready; close it on exit.

    discord.py is pointed at the emulator for the duration (:func:`use_emulator`).
    """
    with use_emulator(emulator.base_url):
        task = asyncio.get_running_loop().create_task(client.start(token))
        ready = asyncio.get_running_loop().create_task(client.wait_until_ready())
        try:
            done, _ = await asyncio.wait(
                {task, ready}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if task in done:
                ready.cancel()
                exc = task.exception()
                raise BotStartError(f"the bot stopped before it was ready: {exc!r}") from exc
            if ready not in done:
                ready.cancel()
                raise BotStartError(f"the bot was not ready within {timeout}s")
            yield client
            if task.done() and task.exception() is not None:
                raise BotStartError(
                    "the bot's connection task died during the test"
                ) from task.exception()
        finally:
            if not client.is_closed():
                await client.close()
            if not task.done():
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(asyncio.shield(task), 5)
            if task.done() and not task.cancelled():
                error = task.exception()
                if error is not None and not isinstance(error, BotStartError):
                    raise BotStartError(f"the bot's task ended with {error!r}") from error


def securebot_bot(
    emulator: Emulator,
    plugins: Iterable[Plugin],
    *,
    config: Config | None = None,
    **options: Any,
) -> Bot:
    """A securebot :class:`~securebot.Bot` with ``plugins`` registered, set up for ``emulator``.

    The bot requests exactly the intents its plugins declare (as in production), so a plugin
    that forgets ``message_content`` sees blank messages in its tests too. ``options`` go to
    discord.py (default ``guild_ready_timeout=0.05``; pass ``intents=`` to override).
    """
    manager = PluginManager()
    for plugin in plugins:
        manager.register(plugin)
    if config is None:
        config = Config(bot=BotSettings(api_base_url=emulator.base_url))
    manager.hook.securebot_configure.call_historic(kwargs={"config": config})
    options.setdefault("guild_ready_timeout", 0.05)
    return Bot(config, manager, **options)
