"""Pointing discord.py at a local Discord: one function, two class attributes.

discord.py reads every REST URL from ``discord.http.Route.BASE`` and, when it is not told a
gateway URL by ``GET /gateway/bot``, connects to ``DiscordWebSocket.DEFAULT_GATEWAY``.
:func:`use_emulator` sets both from a base URL such as ``http://127.0.0.1:8765`` (the value of
the ``bot.api_base_url`` setting) and returns a handle that restores the previous values.
"""

from __future__ import annotations

from types import TracebackType

import discord
import yarl


def endpoints(base_url: str) -> tuple[str, yarl.URL]:
    """The REST base and gateway URL of an emulator (or any Discord) at ``base_url``."""
    base = base_url.rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ValueError("the Discord base URL must start with http:// or https://")
    scheme = "wss://" if base.startswith("https://") else "ws://"
    host = base.split("://", 1)[1]
    return f"{base}/api/v10", yarl.URL(f"{scheme}{host}/gateway")


class EmulatorTarget:
    """discord.py pointed elsewhere; :meth:`restore` (or leaving ``with``) puts it back."""

    def __init__(self, base_url: str) -> None:
        """Point discord.py at ``base_url`` now."""
        api, gateway = endpoints(base_url)
        self._previous = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
        discord.http.Route.BASE = api
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway
        self.api_url = api
        self.gateway_url = gateway

    def restore(self) -> None:
        """Point discord.py back where it was."""
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self._previous

    def __enter__(self) -> EmulatorTarget:
        """Already applied; returns self."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Restore the previous endpoints."""
        self.restore()


def use_emulator(base_url: str) -> EmulatorTarget:
    """Point discord.py at the Discord at ``base_url`` (``with use_emulator(url): ...``)."""
    return EmulatorTarget(base_url)
