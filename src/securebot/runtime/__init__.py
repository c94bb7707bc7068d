"""The composition root: from a :class:`~securebot.Config` to a bot on real services.

``core`` defines the bot and the protocols it needs; ``storage``, ``crypto`` and the rest
implement them. This package is where they meet (like ``cli``, it may import every layer)::

    async with open_services(config) as services:   # redaction, keyring (fail closed), store
        bot = securebot.build_bot(config)
        await services.wire(bot)                    # bot.store, audit log, scheduler, data rights
        async with bot:
            await bot.start(token)

:func:`open_bot_services` adds, in development, an in-process download gateway for exports
(:mod:`securebot.runtime.downloads`); :func:`run_bot` runs a bot on it (``securebot run``,
``giselle run``), and ``giselle demo`` chats with one.
"""

from __future__ import annotations

from securebot.runtime.keys import KeyringFile, open_configured_keyring
from securebot.runtime.services import (
    BotServices,
    Services,
    open_bot_services,
    open_services,
    run_bot,
)

__all__ = [
    "BotServices",
    "KeyringFile",
    "Services",
    "open_bot_services",
    "open_configured_keyring",
    "open_services",
    "run_bot",
]
