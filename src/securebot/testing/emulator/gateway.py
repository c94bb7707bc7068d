"""The gateway: websocket sessions, sharding, intents, resume with replay, and dispatch.

One :class:`Session` per IDENTIFY (per shard). Every dispatched event gets the session's next
sequence number and is kept in a bounded replay buffer (the last :data:`REPLAY_LIMIT` events),
so a client that RESUMEs after a dropped connection receives exactly what it missed. A session
without a connection stays resumable for :attr:`Gateway.resume_window` seconds (and at most
:attr:`Gateway.max_detached_sessions` such sessions are kept); after that it is forgotten and a
RESUME gets op 9 INVALID_SESSION, like Discord. Events reach a session only when its bot is in the
guild, the guild belongs to the session's shard (``(guild_id >> 22) % shard_count``; DMs go to
shard 0) and the session's intents ask for them. Without MESSAGE_CONTENT, message content,
embeds, attachments and components are blanked like Discord does (except in DMs, for the bot's
own messages and for messages mentioning the bot).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from securebot.testing.emulator import payloads
from securebot.testing.emulator.model import BotAccount, Guild
from securebot.testing.emulator.state import PRIVILEGED_INTENTS, World

logger = logging.getLogger("securebot.testing.emulator.gateway")

# Opcodes.
DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, VOICE_STATE, RESUME, RECONNECT = 0, 1, 2, 3, 4, 6, 7
REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 8, 9, 10, 11

# Intents.
GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_MODERATION = 1 << 2
GUILD_INVITES = 1 << 6
GUILD_VOICE_STATES = 1 << 7
GUILD_MESSAGES = 1 << 9
GUILD_MESSAGE_REACTIONS = 1 << 10
DIRECT_MESSAGES = 1 << 12
DIRECT_MESSAGE_REACTIONS = 1 << 13
MESSAGE_CONTENT = 1 << 15
ALL_INTENTS = (1 << 26) - 1

#: Intent needed for each guild event (None: always delivered).
GUILD_EVENT_INTENTS: dict[str, int | None] = {
    "GUILD_CREATE": GUILDS,
    "GUILD_UPDATE": GUILDS,
    "GUILD_DELETE": GUILDS,
    "GUILD_ROLE_CREATE": GUILDS,
    "GUILD_ROLE_UPDATE": GUILDS,
    "GUILD_ROLE_DELETE": GUILDS,
    "CHANNEL_CREATE": GUILDS,
    "CHANNEL_UPDATE": GUILDS,
    "CHANNEL_DELETE": GUILDS,
    "CHANNEL_PINS_UPDATE": GUILDS,
    "THREAD_CREATE": GUILDS,
    "THREAD_UPDATE": GUILDS,
    "THREAD_DELETE": GUILDS,
    "GUILD_MEMBER_ADD": GUILD_MEMBERS,
    "GUILD_MEMBER_UPDATE": GUILD_MEMBERS,
    "GUILD_MEMBER_REMOVE": GUILD_MEMBERS,
    "GUILD_BAN_ADD": GUILD_MODERATION,
    "GUILD_BAN_REMOVE": GUILD_MODERATION,
    "GUILD_AUDIT_LOG_ENTRY_CREATE": GUILD_MODERATION,
    "INVITE_CREATE": GUILD_INVITES,
    "INVITE_DELETE": GUILD_INVITES,
    "VOICE_STATE_UPDATE": GUILD_VOICE_STATES,
    "MESSAGE_CREATE": GUILD_MESSAGES,
    "MESSAGE_UPDATE": GUILD_MESSAGES,
    "MESSAGE_DELETE": GUILD_MESSAGES,
    "MESSAGE_DELETE_BULK": GUILD_MESSAGES,
    "MESSAGE_REACTION_ADD": GUILD_MESSAGE_REACTIONS,
    "MESSAGE_REACTION_REMOVE": GUILD_MESSAGE_REACTIONS,
    "MESSAGE_REACTION_REMOVE_ALL": GUILD_MESSAGE_REACTIONS,
    "MESSAGE_REACTION_REMOVE_EMOJI": GUILD_MESSAGE_REACTIONS,
    "INTERACTION_CREATE": None,
    "APPLICATION_COMMAND_PERMISSIONS_UPDATE": None,
}
#: Intent needed for DM events.
DM_EVENT_INTENTS: dict[str, int | None] = {
    "MESSAGE_CREATE": DIRECT_MESSAGES,
    "MESSAGE_UPDATE": DIRECT_MESSAGES,
    "MESSAGE_DELETE": DIRECT_MESSAGES,
    "CHANNEL_PINS_UPDATE": DIRECT_MESSAGES,
    "MESSAGE_REACTION_ADD": DIRECT_MESSAGE_REACTIONS,
    "MESSAGE_REACTION_REMOVE": DIRECT_MESSAGE_REACTIONS,
    "MESSAGE_REACTION_REMOVE_ALL": DIRECT_MESSAGE_REACTIONS,
    "MESSAGE_REACTION_REMOVE_EMOJI": DIRECT_MESSAGE_REACTIONS,
    "INTERACTION_CREATE": None,
}

Payload = dict[str, Any] | Callable[["Session"], dict[str, Any] | None]

#: Events a session keeps for replay on RESUME.
REPLAY_LIMIT = 5000
#: Event names a session keeps in :attr:`Session.events`.
EVENT_NAMES_LIMIT = 100_000


def shard_of(guild_id: int, shard_count: int) -> int:
    """Discord's shard formula."""
    return (guild_id >> 22) % shard_count


@dataclass(eq=False)
class Session:
    """One identified gateway session (one shard of one bot)."""

    id: str
    bot: BotAccount
    shard_id: int
    shard_count: int
    intents: int
    compress: bool = False
    sequence: int = 0
    replay: deque[tuple[int, str]] = field(default_factory=lambda: deque(maxlen=REPLAY_LIMIT))
    outbox: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    ws: web.WebSocketResponse | None = None
    #: The names of the last 100,000 events dispatched to this session, in order.
    events: deque[str] = field(default_factory=lambda: deque(maxlen=EVENT_NAMES_LIMIT))
    heartbeats: int = 0
    resumes: int = 0
    #: When (``time.monotonic()``) the session lost its websocket; None while attached.
    detached_at: float | None = None

    @property
    def connected(self) -> bool:
        """Whether a websocket is attached right now."""
        return self.ws is not None and not self.ws.closed

    def wants(self, intent: int | None) -> bool:
        """Whether the session's intents include ``intent``."""
        return intent is None or bool(self.intents & intent)

    def push(self, event: str, data: dict[str, Any]) -> None:
        """Queue a dispatch with the next sequence number (kept for replay)."""
        self.sequence += 1
        frame = json.dumps({"op": DISPATCH, "t": event, "s": self.sequence, "d": data})
        self.replay.append((self.sequence, frame))
        self.events.append(event)
        if self.connected:  # else nobody drains the outbox: a RESUME replays from ``replay``
            self.outbox.put_nowait(frame)

    def send_op(self, op: int, data: Any) -> None:
        """Queue a non-dispatch frame (dropped while no websocket is attached)."""
        if self.connected:
            self.outbox.put_nowait(json.dumps({"op": op, "d": data, "s": None, "t": None}))


class Gateway:
    """The websocket endpoint and the event router."""

    def __init__(
        self,
        world: World,
        *,
        heartbeat_interval_ms: int = 41250,
        resume_window: float = 300.0,
        max_detached_sessions: int = 100,
    ) -> None:
        """Serve sessions over ``world``."""
        self.world = world
        self.heartbeat_interval_ms = heartbeat_interval_ms
        #: Seconds a session without a websocket stays resumable (then it is forgotten).
        self.resume_window = resume_window
        #: Sessions without a websocket kept at most (the longest detached go first).
        self.max_detached_sessions = max_detached_sessions
        #: Events each new session keeps for replay on RESUME.
        self.replay_limit = REPLAY_LIMIT
        #: False makes the gateway a zombie: heartbeats are no longer ACKed (op 11), so a
        #: client must notice, close and resume.
        self.ack_heartbeats = True
        self.sessions: dict[str, Session] = {}
        #: Set by the Emulator once it listens (``ws://host:port/gateway``).
        self.url = ""
        self._identified = asyncio.Condition()

    # --- queries used by tests ---------------------------------------------------------------

    def sessions_of(self, bot: BotAccount | int) -> list[Session]:
        """Sessions of a bot (attached, or detached and still resumable), ordered by shard."""
        bot_id = bot if isinstance(bot, int) else bot.user.id
        found = [s for s in self.sessions.values() if s.bot.user.id == bot_id]
        return sorted(found, key=lambda s: s.shard_id)

    async def wait_identified(
        self,
        bot: BotAccount | int,
        count: int = 1,
        timeout: float = 10,  # noqa: ASYNC109 - a deadline is the API
    ) -> None:
        """Wait until ``bot`` has ``count`` identified sessions."""
        async with asyncio.timeout(timeout), self._identified:
            await self._identified.wait_for(lambda: len(self.sessions_of(bot)) >= count)

    def prune(self) -> int:
        """Forget the sessions detached for longer than :attr:`resume_window` (and the longest
        detached beyond :attr:`max_detached_sessions`); returns how many were forgotten."""
        now = time.monotonic()
        detached = sorted(
            (s for s in self.sessions.values() if s.detached_at is not None and not s.connected),
            key=lambda s: s.detached_at or 0.0,
        )
        excess = len(detached) - max(self.max_detached_sessions, 0)
        forgotten = 0
        for index, session in enumerate(detached):
            expired = now - (session.detached_at or now) >= self.resume_window
            if expired or index < excess:
                del self.sessions[session.id]
                forgotten += 1
        return forgotten

    # --- dispatch -----------------------------------------------------------------------------

    def dispatch_guild(
        self, event: str, guild: Guild, data: Payload, *, include: Iterable[int] = ()
    ) -> None:
        """Send a guild event to the sessions of bots in ``guild`` (and of bots in ``include``,
        e.g. a bot just removed) on the guild's shard, honouring intents."""
        intent = GUILD_EVENT_INTENTS.get(event, GUILDS)
        bots = set(guild.members) | set(include)
        for session in list(self.sessions.values()):
            if session.bot.user.id not in bots:
                continue
            if shard_of(guild.id, session.shard_count) != session.shard_id:
                continue
            if not session.wants(intent):
                continue
            self._deliver(session, event, data)

    def dispatch_private(self, event: str, user_ids: Iterable[int], data: Payload) -> None:
        """Send a DM event to the bots among ``user_ids`` (on shard 0)."""
        intent = DM_EVENT_INTENTS.get(event, DIRECT_MESSAGES)
        targets = set(user_ids)
        for session in list(self.sessions.values()):
            if session.bot.user.id in targets and session.shard_id == 0 and session.wants(intent):
                self._deliver(session, event, data)

    def dispatch_to_bot(self, event: str, bot_id: int, guild_id: int | None, data: Payload) -> None:
        """Send an event addressed to one bot (interactions) on the right shard."""
        for session in list(self.sessions.values()):
            if session.bot.user.id != bot_id:
                continue
            shard = shard_of(guild_id, session.shard_count) if guild_id else 0
            if session.shard_id == shard:
                self._deliver(session, event, data)

    @staticmethod
    def _deliver(session: Session, event: str, data: Payload) -> None:
        body = data(session) if callable(data) else data
        if body is not None:
            session.push(event, body)

    # --- control used by tests ----------------------------------------------------------------

    async def drop(self, session: Session, code: int = 4000) -> None:
        """Close the session's websocket abruptly (the client should RESUME)."""
        if session.ws is not None:
            await session.ws.close(code=code, message=b"dropped by the emulator")

    def request_reconnect(self, session: Session) -> None:
        """Send op 7 RECONNECT (the client reconnects and resumes)."""
        session.send_op(RECONNECT, None)

    def invalidate(self, session: Session, *, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION; a non-resumable one is forgotten (client re-IDENTIFYs)."""
        if not resumable:
            self.sessions.pop(session.id, None)
        session.send_op(INVALID_SESSION, resumable)

    # --- the websocket ------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Serve one websocket connection."""
        ws = web.WebSocketResponse(max_msg_size=4096 * 16)
        await ws.prepare(request)
        compress = request.query.get("compress") == "zlib-stream"
        if request.query.get("encoding", "json") != "json":
            await ws.close(code=4002, message=b"only encoding=json is supported")
            return ws
        version = request.query.get("v", "10")
        if version not in ("9", "10"):
            await ws.close(code=4012, message=b"Invalid API version")
            return ws
        connection = _Connection(self, ws, compress)
        await connection.run()
        return ws


class _Connection:
    """One websocket: a writer task draining the session's outbox, a reader for client ops."""

    def __init__(self, gateway: Gateway, ws: web.WebSocketResponse, compress: bool) -> None:
        self.gateway = gateway
        self.ws = ws
        self.compress = compress
        self._zlib = zlib.compressobj() if compress else None
        self.session: Session | None = None
        self._pending: asyncio.Queue[str] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None

    async def _send(self, frame: str) -> None:
        if self._zlib is not None:
            data = self._zlib.compress(frame.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
            await self.ws.send_bytes(data)
        else:
            await self.ws.send_str(frame)

    async def _write(self, queue: asyncio.Queue[str]) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            while not self.ws.closed:
                frame = await queue.get()
                await self._send(frame)

    def _use_queue(self, queue: asyncio.Queue[str]) -> None:
        if self._writer is not None:
            self._writer.cancel()
        self._writer = asyncio.get_running_loop().create_task(self._write(queue))

    async def run(self) -> None:
        self._use_queue(self._pending)
        self._pending.put_nowait(
            json.dumps(
                {
                    "op": HELLO,
                    "d": {"heartbeat_interval": self.gateway.heartbeat_interval_ms},
                    "s": None,
                    "t": None,
                }
            )
        )
        try:
            async for msg in self.ws:
                if msg.type != WSMsgType.TEXT:
                    if msg.type == WSMsgType.BINARY:
                        await self.ws.close(code=4002, message=b"Error while decoding payload.")
                    break
                try:
                    frame = json.loads(msg.data)
                    op = frame["op"]
                    data = frame.get("d")
                except (ValueError, KeyError, TypeError):
                    await self.ws.close(code=4002, message=b"Error while decoding payload.")
                    break
                if not await self._on_op(op, data):
                    break
        finally:
            if self._writer is not None:
                self._writer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._writer
            if self.session is not None and self.session.ws is self.ws:
                self.session.ws = None
                self.session.detached_at = time.monotonic()
                self.session.outbox = asyncio.Queue()  # unread frames: RESUME replays them
            self.gateway.prune()

    async def _on_op(self, op: Any, data: Any) -> bool:
        if op == HEARTBEAT:
            if self.session is not None:
                self.session.heartbeats += 1
            if self.gateway.ack_heartbeats:
                self._current_queue().put_nowait(json.dumps({"op": HEARTBEAT_ACK, "d": None}))
            return True
        if op == IDENTIFY:
            if self.session is not None:
                await self.ws.close(code=4005, message=b"Already authenticated.")
                return False
            return await self._identify(data)
        if op == RESUME:
            return await self._resume(data)
        if self.session is None:
            await self.ws.close(code=4003, message=b"Not authenticated.")
            return False
        if op == REQUEST_MEMBERS:
            self._request_members(data)
            return True
        if op in (PRESENCE, VOICE_STATE):
            if op == VOICE_STATE:
                self._voice_state(data)
            return True
        await self.ws.close(code=4001, message=b"Unknown opcode.")
        return False

    def _current_queue(self) -> asyncio.Queue[str]:
        return self.session.outbox if self.session is not None else self._pending

    async def _identify(self, data: Any) -> bool:
        gw = self.gateway
        world = gw.world
        if not isinstance(data, dict):
            await self.ws.close(code=4002, message=b"Error while decoding payload.")
            return False
        token = data.get("token")
        if isinstance(token, str) and token.startswith("Bot "):
            token = token[4:]
        bot = world.bot_for_token(token) if isinstance(token, str) else None
        if bot is None:
            await self.ws.close(code=4004, message=b"Authentication failed.")
            return False
        intents = data.get("intents")
        if (
            not isinstance(intents, int)
            or isinstance(intents, bool)
            or not 0 <= intents <= ALL_INTENTS
        ):
            await self.ws.close(code=4013, message=b"Invalid intent(s).")
            return False
        if intents & PRIVILEGED_INTENTS & ~bot.privileged_intents:
            await self.ws.close(code=4014, message=b"Disallowed intent(s).")
            return False
        shard = data.get("shard", [0, 1])
        if (
            not isinstance(shard, list)
            or len(shard) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in shard)
            or not 0 <= shard[0] < shard[1]
        ):
            await self.ws.close(code=4010, message=b"Invalid shard.")
            return False
        session = Session(
            id=secrets.token_hex(16),
            bot=bot,
            shard_id=shard[0],
            shard_count=shard[1],
            intents=intents,
            compress=self.compress,
            replay=deque(maxlen=gw.replay_limit),
        )
        session.ws = self.ws
        self.session = session
        gw.prune()
        for stale in list(gw.sessions.values()):
            same_shard = (stale.shard_id, stale.shard_count) == (
                session.shard_id,
                session.shard_count,
            )
            if stale.bot is bot and same_shard and not stale.connected:
                del gw.sessions[stale.id]  # replaced by a new IDENTIFY
        gw.sessions[session.id] = session
        self._use_queue(session.outbox)
        guilds = [
            g
            for g in world.guilds.values()
            if bot.user.id in g.members and shard_of(g.id, session.shard_count) == session.shard_id
        ]
        app_flags = 0
        if bot.privileged_intents & (1 << 8):
            app_flags |= 1 << 12
        if bot.privileged_intents & (1 << 1):
            app_flags |= 1 << 14
        if bot.privileged_intents & (1 << 15):
            app_flags |= 1 << 18
        ready: dict[str, Any] = {
            "v": 10,
            "user": {**payloads.user(bot.user), "verified": True, "mfa_enabled": False},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": gw.url,
            "application": {"id": str(bot.application_id), "flags": app_flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "auth": {},
            "user_settings": {},
            "_trace": ["securebot-emulator"],
        }
        if "shard" in data:
            ready["shard"] = shard
        session.push("READY", ready)
        members_intent = bool(intents & GUILD_MEMBERS)
        if intents & GUILDS:
            for guild in guilds:
                session.push(
                    "GUILD_CREATE",
                    payloads.guild_create(
                        world, guild, bot_id=bot.user.id, members_intent=members_intent
                    ),
                )
        async with gw._identified:
            gw._identified.notify_all()
        return True

    async def _resume(self, data: Any) -> bool:
        gw = self.gateway
        if not isinstance(data, dict):
            await self.ws.close(code=4002, message=b"Error while decoding payload.")
            return False
        session = gw.sessions.get(str(data.get("session_id")))
        token = data.get("token")
        if isinstance(token, str) and token.startswith("Bot "):
            token = token[4:]
        seq = data.get("seq")
        if session is None or session.bot.token != token or not isinstance(seq, int | None):
            self._pending.put_nowait(json.dumps({"op": INVALID_SESSION, "d": False}))
            return True
        seq = seq or 0
        if session.replay and seq < session.replay[0][0] - 1:
            self._pending.put_nowait(json.dumps({"op": INVALID_SESSION, "d": False}))
            return True
        if session.ws is not None and session.ws is not self.ws and not session.ws.closed:
            await session.ws.close(code=4000, message=b"session resumed elsewhere")
        session.ws = self.ws
        session.detached_at = None
        session.resumes += 1
        self.session = session
        queue: asyncio.Queue[str] = asyncio.Queue()
        for number, frame in session.replay:
            if number > seq:
                queue.put_nowait(frame)
        session.outbox = queue
        self._use_queue(queue)
        session.push("RESUMED", {"_trace": ["securebot-emulator"]})
        return True

    def _op_guild(self, data: Any) -> Guild | None:
        """The guild an op's payload names by ``guild_id``; ``None`` without a session, or for a
        payload that is not an object or names no known guild."""
        if self.session is None or not isinstance(data, dict):
            return None
        try:
            return self.gateway.world.guilds.get(int(data.get("guild_id", 0)))
        except (TypeError, ValueError):
            return None

    def _request_members(self, data: Any) -> None:
        session, guild = self.session, self._op_guild(data)
        if session is None or guild is None:
            return
        world = self.gateway.world
        query = data.get("query")
        user_ids = data.get("user_ids")
        limit = data.get("limit") or 0
        members = list(guild.members.values())
        if isinstance(user_ids, list):
            wanted = {int(u) for u in user_ids if str(u).isdigit()}
            members = [m for m in members if m.user_id in wanted]
        elif isinstance(query, str) and query:
            members = [
                m
                for m in members
                if world.users[m.user_id].username.lower().startswith(query.lower())
            ]
        if isinstance(limit, int) and limit > 0:
            members = members[:limit]
        chunks = [members[i : i + 1000] for i in range(0, len(members), 1000)] or [[]]
        for index, chunk in enumerate(chunks):
            body: dict[str, Any] = {
                "guild_id": str(guild.id),
                "members": [payloads.member(world, m) for m in chunk],
                "chunk_index": index,
                "chunk_count": len(chunks),
            }
            if data.get("nonce") is not None:
                body["nonce"] = data["nonce"]
            session.push("GUILD_MEMBERS_CHUNK", body)

    def _voice_state(self, data: Any) -> None:
        session, guild = self.session, self._op_guild(data)
        if session is None or guild is None or session.bot.user.id not in guild.members:
            return
        world = self.gateway.world
        try:
            raw = data.get("channel_id")
            channel_id = int(raw) if raw is not None else None
        except (TypeError, ValueError):
            return
        state = world.set_voice(guild, session.bot.user.id, channel_id)
        self.gateway.dispatch_guild("VOICE_STATE_UPDATE", guild, payloads.voice_state(world, state))
