"""A no-network Discord stand-in for pipeline tests: the bot's own ConnectionState, filled with
one guild, and its HTTP client replaced by a recorder (performance-anchors.md §1 method).

Used until the emulator lands; every test drives the real discord.py command machinery.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from typing import Any

import discord
from discord.ext import commands

GUILD = 100_000_000_000_000_001
GENERAL = 200_000_000_000_000_001
STAFF = 200_000_000_000_000_002
BOT_ID = 300_000_000_000_000_001
OWNER = 300_000_000_000_000_002  # guild owner
ADMIN = 300_000_000_000_000_003  # Manage Server
MOD = 300_000_000_000_000_004  # Mod role (kick/ban)
ALICE = 300_000_000_000_000_005  # plain member
BOB = 300_000_000_000_000_006  # plain member with the Helper role
CAROL = 300_000_000_000_000_007  # the bot's owner (a plain member of the guild)
ROLE_BOT = 400_000_000_000_000_001
ROLE_ADMIN = 400_000_000_000_000_002
ROLE_MOD = 400_000_000_000_000_003
ROLE_HELPER = 400_000_000_000_000_004

P = discord.Permissions
EVERYONE_PERMS = P(view_channel=True, send_messages=True, read_message_history=True).value
_ids = itertools.count(500_000_000_000_000_001)


def _user(uid: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {"id": str(uid), "username": name, "discriminator": "0", "avatar": None, "bot": bot}


def _role(rid: int, name: str, position: int, perms: int) -> dict[str, Any]:
    return {
        "id": str(rid),
        "name": name,
        "position": position,
        "permissions": str(perms),
        "color": 0,
        "hoist": False,
        "managed": False,
        "mentionable": True,
    }


MEMBERS: dict[int, tuple[str, list[int]]] = {
    BOT_ID: ("securebot", [ROLE_BOT]),
    OWNER: ("owner", []),
    ADMIN: ("admin", [ROLE_ADMIN]),
    MOD: ("mod", [ROLE_MOD]),
    ALICE: ("alice", []),
    BOB: ("bob", [ROLE_HELPER]),
    CAROL: ("carol", []),
}


def guild_payload() -> dict[str, Any]:
    """The guild: 5 roles, 2 text channels, 6 members (the bot included)."""
    return {
        "id": str(GUILD),
        "name": "Test Guild",
        "owner_id": str(OWNER),
        "roles": [
            _role(GUILD, "@everyone", 0, EVERYONE_PERMS),
            _role(ROLE_HELPER, "Helper", 1, 0),
            _role(ROLE_MOD, "Mod", 2, P(kick_members=True, ban_members=True).value),
            _role(ROLE_ADMIN, "Admin", 3, P(manage_guild=True, manage_roles=True).value),
            _role(ROLE_BOT, "Bot", 4, P(administrator=True).value),
        ],
        "channels": [
            {"id": str(GENERAL), "type": 0, "name": "general", "position": 0},
            {"id": str(STAFF), "type": 0, "name": "staff", "position": 1},
        ],
        "members": [
            {
                "user": _user(uid, name, bot=uid == BOT_ID),
                "roles": [str(r) for r in roles],
                "joined_at": "2024-01-01T00:00:00+00:00",
                "flags": 0,
                "deaf": False,
                "mute": False,
            }
            for uid, (name, roles) in MEMBERS.items()
        ],
        "member_count": len(MEMBERS),
        "emojis": [],
        "stickers": [],
        "features": [],
        "premium_tier": 0,
        "large": False,
    }


class RecordingHTTP:
    """Stands in for ``HTTPClient.request``: records every REST call, answers plausibly."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []
        self.sent: list[tuple[int, str]] = []

    async def request(self, route: discord.http.Route, **kwargs: Any) -> Any:
        payload = kwargs.get("json")
        self.calls.append((route.method, route.path, payload))
        if route.method == "POST" and route.path == "/channels/{channel_id}/messages":
            channel_id = int(route.channel_id)  # type: ignore[arg-type]
            content = (payload or {}).get("content") or ""
            self.sent.append((channel_id, content))
            return message_payload(content, BOT_ID, channel_id, guild=channel_id != DM_CHANNEL)
        if route.method == "POST" and route.path == "/users/@me/channels":
            recipient = int((payload or {})["recipient_id"])
            return {"id": str(DM_CHANNEL), "type": 1, "recipients": [_user(recipient, "dm")]}
        return {}


DM_CHANNEL = 600_000_000_000_000_001


def message_payload(
    content: str, author: int, channel: int, *, guild: bool = True
) -> dict[str, Any]:
    """A MESSAGE_CREATE ``d`` payload."""
    name, roles = MEMBERS.get(author, ("someone", []))
    data: dict[str, Any] = {
        "id": str(next(_ids)),
        "channel_id": str(channel),
        "author": _user(author, name, bot=author == BOT_ID),
        "content": content,
        "timestamp": dt.datetime.now(dt.UTC).isoformat(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "type": 0,
    }
    if guild:
        data["guild_id"] = str(GUILD)
        data["member"] = {
            "roles": [str(r) for r in roles],
            "joined_at": "2024-01-01T00:00:00+00:00",
            "flags": 0,
            "deaf": False,
            "mute": False,
        }
    return data


class StubDiscord:
    """Fills ``bot``'s connection state with the test guild and records its REST calls."""

    def __init__(self, bot: commands.Bot | commands.AutoShardedBot) -> None:
        self.bot = bot
        self.http = RecordingHTTP()
        state = bot._connection
        state.user = discord.ClientUser(
            state=state,
            data=_user(BOT_ID, "securebot", bot=True),  # type: ignore[arg-type]
        )
        self.guild = state._add_guild_from_data(guild_payload())  # type: ignore[arg-type]
        bot.http.request = self.http.request  # type: ignore[method-assign]

    def message(
        self, content: str, *, author: int = ALICE, channel: int = GENERAL
    ) -> discord.Message:
        """A message from ``author`` in ``channel`` of the test guild."""
        return discord.Message(
            state=self.bot._connection,
            channel=self.guild.get_channel(channel),  # type: ignore[arg-type]
            data=message_payload(content, author, channel),  # type: ignore[arg-type]
        )

    async def say(self, content: str, *, author: int = ALICE, channel: int = GENERAL) -> list[str]:
        """Send ``content`` through the bot's ``on_message``; return what the bot sent back
        in channels (direct messages are in ``http.sent`` under :data:`DM_CHANNEL`)."""
        before = len(self.http.sent)
        await self.bot.on_message(self.message(content, author=author, channel=channel))
        for _ in range(10):  # error handlers run as tasks (discord.py dispatch)
            await asyncio.sleep(0)
        return [text for where, text in self.http.sent[before:] if where != DM_CHANNEL]
