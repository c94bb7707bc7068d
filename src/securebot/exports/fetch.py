"""Fetching a channel's history into :class:`ExportMessage` values.

discord.py's ``history()`` asks for 100 messages per request (Discord's maximum) and waits out
rate limits itself; this module adds the cap, progress reports and the conversion to values.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from securebot.errors import CommandInputError
from securebot.exports.model import ExportMessage, chronological

if TYPE_CHECKING:
    import discord

#: ``savechat``'s default and maximum message counts.
SAVECHAT_DEFAULT = 150
SAVECHAT_MAX = 2000
#: Ceiling for operator exports (raid rooms, guild data exports).
OPERATOR_MAX = 100_000
#: Messages per history request (Discord's maximum).
PAGE_SIZE = 100

#: Called with the number of messages fetched so far, after each page.
Progress = Callable[[int], Awaitable[None]]


def check_limit(requested: int, *, cap: int = SAVECHAT_MAX) -> int:
    """``requested`` if it is within ``1..cap``.

    :raises CommandInputError: out of range (the message says the allowed range).
    """
    if isinstance(requested, bool) or not isinstance(requested, int):
        raise CommandInputError("the number of messages must be a whole number")
    if not 1 <= requested <= cap:
        raise CommandInputError(f"the number of messages must be between 1 and {cap}")
    return requested


async def fetch_history(
    channel: discord.abc.Messageable,
    limit: int,
    *,
    cap: int = SAVECHAT_MAX,
    progress: Progress | None = None,
    before: discord.abc.Snowflake | None = None,
) -> list[ExportMessage]:
    """The last ``limit`` messages of ``channel`` (before ``before`` if given), oldest first.

    :raises CommandInputError: ``limit`` is outside ``1..cap``.
    :raises discord.Forbidden: the bot may not read the channel's history.
    """
    check_limit(limit, cap=cap)
    fetched: list[ExportMessage] = []
    async for message in channel.history(limit=limit, before=before):
        fetched.append(ExportMessage.from_discord(message))
        if progress is not None and len(fetched) % PAGE_SIZE == 0:
            await progress(len(fetched))
    if progress is not None and len(fetched) % PAGE_SIZE:
        await progress(len(fetched))
    return chronological(fetched)
