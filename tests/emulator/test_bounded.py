"""A long-running emulator stays bounded in memory, and nothing recent is lost.

``securebot emulator serve`` and ``giselle demo`` run for hours: the call log, the gateway's
replay buffers and detached sessions, the rate limiter's buckets and 429 log, interactions and
waiters must not grow with activity, while cursors taken before old entries were dropped still
get exactly what came after them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

import aiohttp
import discord
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from securebot.testing.console import LocalLink
from securebot.testing.emulator import Emulator, RateLimits, api
from securebot.testing.emulator.calllog import DEFAULT_CALL_LOG_LIMIT, CallLog
from securebot.testing.emulator.model import Interaction
from securebot.testing.emulator.ratelimit import LIMITED_LOG_LIMIT, SWEEP_EVERY, RateLimiter
from securebot.testing.emulator.state import INTERACTION_TOKEN_LIFETIME
from securebot.testing.harness import running

from .conftest import make_bot

TOKEN = "test-token"

# --- the call log as a data structure ------------------------------------------------------

_ops = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.integers(0, 30)),
        st.tuples(st.just("since"), st.integers(-5, 200)),
        st.tuples(st.just("index"), st.integers(-40, 40)),
        st.tuples(st.just("slice"), st.integers(-40, 40), st.integers(-40, 40)),
        st.tuples(st.just("clear"), st.just(0)),
    ),
    max_size=120,
)


@settings(max_examples=300, deadline=None)
@given(limit=st.one_of(st.none(), st.integers(1, 25)), ops=_ops)
def test_call_log_matches_a_plain_list_of_everything(limit: int | None, ops: list[Any]) -> None:
    """Model: a list of every entry ever appended, and the position ``cleared`` up to which a
    ``clear()`` dropped them. The log keeps exactly the newest ``limit`` entries after that
    position, numbers them by their position in the model, and ``since(n)`` is the model's
    tail from ``n`` (or from the oldest kept entry)."""
    log: CallLog[int] = CallLog(limit)
    model: list[int] = []
    cleared = 0
    for op in ops:
        if op[0] == "append":
            assert log.append(op[1]) == len(model)
            model.append(op[1])
        elif op[0] == "clear":
            log.clear()
            cleared = len(model)
        kept_from = max(cleared, len(model) - limit) if limit is not None else cleared
        kept = model[kept_from:]
        assert list(log) == kept
        assert len(log) == len(kept)
        assert (log.first, log.end) == (kept_from, len(model))
        if op[0] == "since":
            assert log.since(op[1]) == model[max(op[1], kept_from) :]
        elif op[0] == "index":
            if -len(kept) <= op[1] < len(kept):
                assert log[op[1]] == kept[op[1]]
            else:
                with pytest.raises(IndexError):
                    log[op[1]]
        elif op[0] == "slice":
            assert log[op[1] : op[2]] == kept[op[1] : op[2]]


@pytest.mark.parametrize("limit", [0, -1, True])
def test_call_log_refuses_a_limit_that_keeps_nothing(limit: int) -> None:
    with pytest.raises(ValueError, match="positive number or None"):
        CallLog(limit)


def test_call_log_repr_shows_counts_not_entries() -> None:
    log: CallLog[str] = CallLog(2)
    for secret in ("a-secret-token", "b", "c"):
        log.append(secret)
    assert repr(log) == "CallLog(kept=2, first=1, end=3, limit=2)"
    assert CallLog().limit == DEFAULT_CALL_LOG_LIMIT


# --- a long REST run through real HTTP ----------------------------------------------------


async def _post(http: aiohttp.ClientSession, emu: Emulator, channel_id: int, text: str) -> None:
    async with http.post(
        f"{emu.api_url}/channels/{channel_id}/messages",
        json={"content": text},
        headers={"Authorization": f"Bot {TOKEN}"},
    ) as response:
        assert response.status == 200, await response.text()


async def test_a_long_rest_run_keeps_the_newest_calls_and_exact_cursors() -> None:
    limit, total = 300, 3000
    async with Emulator(rate_limits=RateLimits(enabled=False), call_log_limit=limit) as emu:
        account = emu.create_bot(token=TOKEN)
        g = emu.standard_guild(account)
        link = LocalLink(emu)
        cursors: dict[int, int] = {}
        async with aiohttp.ClientSession() as http:
            for n in range(total):
                if n % 250 == 0:
                    cursors[n] = await link.cursor()
                await _post(http, emu, g.general.id, f"n{n}")
                assert len(emu.calls) <= limit
            # The bound holds, the numbering does not restart.
            assert len(emu.calls) == limit
            assert (emu.calls.first, emu.calls.end) == (total - limit, total)
            assert [c.request["content"] for c in emu.calls] == [
                f"n{n}" for n in range(total - limit, total)
            ]
            # A cursor inside the kept window gets exactly what came after it, across every
            # drop that happened meanwhile.
            recent = cursors[2750]
            assert [c.request["content"] for c in emu.calls.since(recent)] == [
                f"n{n}" for n in range(2750, total)
            ]
            items, end = await link.activity(recent)
            assert end == total
            assert [i["message"]["content"] for i in items] == [f"n{n}" for n in range(2750, total)]
            # A cursor older than the oldest kept call gets what is kept, no more.
            items, end = await link.activity(cursors[0])
            assert len(items) == limit
            assert items[0]["message"]["content"] == f"n{total - limit}"
            # Nothing new: nothing returned, the cursor stays.
            assert await link.activity(end) == ([], end)
            # Waiting for a call after a cursor ignores the (kept) calls before it.
            mark = emu.calls.end
            pending = asyncio.create_task(
                emu.wait_for_call("POST /channels/{channel_id}/messages", after=mark)
            )
            await _post(http, emu, g.general.id, "after the mark")
            call = await pending
            assert call.request["content"] == "after the mark"
            assert len(emu.calls_to("POST /channels/{channel_id}/messages")) == limit


async def test_settle_notices_calls_once_the_log_is_full() -> None:
    """With a full log its length no longer changes; ``settle`` must watch the numbering."""
    async with Emulator(rate_limits=RateLimits(enabled=False), call_log_limit=5) as emu:
        account = emu.create_bot(token=TOKEN)
        g = emu.standard_guild(account)
        async with aiohttp.ClientSession() as http:
            for n in range(10):
                await _post(http, emu, g.general.id, f"warm {n}")

            async def burst() -> None:
                for n in range(300):
                    await _post(http, emu, g.general.id, f"burst {n}")

            task = asyncio.create_task(burst())
            await asyncio.sleep(0)
            await emu.settle(idle=0.05, timeout=30)
            finished_when_settled = task.done()
            await task
            assert finished_when_settled
        assert emu.calls.end == 310
        assert len(emu.calls) == 5


async def test_a_timed_out_wait_leaves_no_waiter_behind(emulator: Emulator) -> None:
    with pytest.raises(TimeoutError):
        await emulator.wait_for(lambda: None, timeout=0.3)
    assert emulator._waiters == []


# --- the gateway: replay buffers, outboxes, detached sessions ------------------------------


class _RawClient:
    """A bare gateway client (no reconnect logic of its own) to detach sessions at will."""

    def __init__(self, http: aiohttp.ClientSession, emu: Emulator) -> None:
        self.http = http
        self.emu = emu
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.seq = 0

    async def open(self) -> dict[str, Any]:
        self.ws = await self.http.ws_connect(self.emu.gateway_url + "?v=10&encoding=json")
        hello = await self.ws.receive_json()
        assert hello["op"] == 10
        return hello

    async def frame(self) -> dict[str, Any]:
        assert self.ws is not None
        frame = json.loads((await self.ws.receive(timeout=10)).data)
        if frame.get("s") is not None:
            self.seq = frame["s"]
        return frame

    async def identify(self, shard: list[int] | None = None) -> str:
        await self.open()
        assert self.ws is not None
        data: dict[str, Any] = {"token": TOKEN, "intents": 1 | (1 << 9) | (1 << 15)}
        if shard is not None:
            data["shard"] = shard
        await self.ws.send_json({"op": 2, "d": data})
        ready = await self.frame()
        assert ready["t"] == "READY"
        return str(ready["d"]["session_id"])

    async def close(self) -> None:
        assert self.ws is not None
        await self.ws.close()


async def _detached(emu: Emulator, session_id: str) -> None:
    """Wait until the emulator noticed the close (its connection task finishes asynchronously)."""
    for _ in range(500):
        session = emu.gateway.sessions.get(session_id)
        if session is None or session.detached_at is not None:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the emulator never noticed the closed websocket")


async def test_a_detached_session_buffers_only_its_replay_window_and_resumes_exactly() -> None:
    async with Emulator(rate_limits=RateLimits(enabled=False)) as emu:
        emu.gateway.replay_limit = 100
        account = emu.create_bot(token=TOKEN)
        g = emu.standard_guild(account)
        async with aiohttp.ClientSession() as http:
            client = _RawClient(http, emu)
            session_id = await client.identify()
            while (await client.frame())["t"] != "GUILD_CREATE":
                pass
            await client.close()
            await _detached(emu, session_id)
            session = emu.gateway.sessions[session_id]
            last_seen = client.seq
            for n in range(60):
                emu.send(g.member, g.general, f"missed {n}")
            # Nobody reads a detached session's outbox: nothing piles up there.
            assert session.outbox.qsize() == 0
            assert len(session.replay) <= 100
            # RESUME replays exactly the 60 missed events, then RESUMED.
            await client.open()
            assert client.ws is not None
            await client.ws.send_json(
                {"op": 6, "d": {"token": TOKEN, "session_id": session_id, "seq": last_seen}}
            )
            contents = []
            while (frame := await client.frame())["t"] != "RESUMED":
                assert frame["t"] == "MESSAGE_CREATE"
                contents.append(frame["d"]["content"])
            assert contents == [f"missed {n}" for n in range(60)]
            assert session.detached_at is None
            # Many more events than the window: the buffer stays at its bound.
            for n in range(1000):
                emu.send(g.member, g.general, f"live {n}")
            assert len(session.replay) == 100
            assert session.replay[-1][0] == session.sequence
            await client.close()


async def test_detached_sessions_are_forgotten_after_the_window_or_beyond_the_cap() -> None:
    async with Emulator(rate_limits=RateLimits(enabled=False)) as emu:
        emu.create_bot(token=TOKEN)
        gateway = emu.gateway
        gateway.max_detached_sessions = 3
        async with aiohttp.ClientSession() as http:
            ids = []
            for shard in range(10):
                client = _RawClient(http, emu)
                ids.append(await client.identify([shard, 10]))
                await client.close()
                await _detached(emu, ids[-1])
                assert len(gateway.sessions) <= 3
            # The most recently detached ones are the ones kept (still resumable).
            assert set(gateway.sessions) == set(ids[-3:])
            # A window of 0: a session is forgotten as soon as it is detached, and a RESUME
            # of it is refused like Discord does (op 9, not resumable).
            gateway.resume_window = 0.0
            assert gateway.prune() == 3
            assert gateway.sessions == {}
            client = _RawClient(http, emu)
            await client.open()
            assert client.ws is not None
            await client.ws.send_json(
                {"op": 6, "d": {"token": TOKEN, "session_id": ids[-1], "seq": 1}}
            )
            assert (await client.frame()) == {"op": 9, "d": False}
            await client.close()


async def test_a_long_run_through_discord_py_keeps_the_gateway_bounded() -> None:
    """2,000 messages reach a real discord.py client (its connection dropped in the middle, 50
    messages sent meanwhile); it sees every one, and the session's buffers stay bounded."""
    async with Emulator(rate_limits=RateLimits(enabled=False), call_log_limit=50) as emu:
        emu.gateway.replay_limit = 200
        account = emu.create_bot(token=TOKEN)
        g = emu.standard_guild(account)
        bot = make_bot()
        seen: list[str] = []

        @bot.listen()
        async def on_message(message: discord.Message) -> None:
            if not message.author.bot:
                seen.append(message.content)

        async with running(bot, emu, TOKEN):
            (session,) = emu.gateway.sessions_of(account)
            for n in range(2000):
                emu.send(g.member, g.general, f"m{n}")
                if n == 1000:
                    await emu.gateway.drop(session)  # 50 events go to the replay buffer only
                elif n == 1050:
                    await emu.wait_for(lambda: session.resumes == 1 and session.connected)
                if n % 100 == 0:
                    await asyncio.sleep(0)
            await emu.wait_for(lambda: len(seen) >= 2000, timeout=30)
            assert seen == [f"m{n}" for n in range(2000)]
            assert session.resumes == 1
            assert len(session.replay) == 200
            assert emu.gateway.sessions_of(account) == [session]
            assert len(emu.calls) <= 50


# --- rate limits, interactions ------------------------------------------------------------


class _FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_expired_rate_limit_buckets_are_swept_without_changing_any_answer() -> None:
    clock = _FakeMonotonic()
    route, one_off = "POST /channels/{channel_id}/messages", "GET /channels/{channel_id}"
    config = RateLimits(overrides={route: (2, 10.0), one_off: (5, 0.5)}, global_limit=1_000_000)
    limiter = RateLimiter(config, monotonic=clock)
    assert limiter.check(1, route, "kept").retry_after is None
    assert limiter.check(1, route, "kept").retry_after is None
    # Thousands of one-off buckets (one per channel id) while time passes within the "kept"
    # bucket's window: the expired ones go, the live one stays and still counts.
    for n in range(5 * SWEEP_EVERY):
        assert limiter.check(1, one_off, f"once-{n}").retry_after is None
        clock.now += 0.001  # 5.12 s in all: "kept" (10 s) lives on, one-offs (0.5 s) expire
        # at most the buckets of the last 0.5 s, those since the last sweep, "kept", global
        assert limiter.bucket_count <= 500 + SWEEP_EVERY + 2
    assert limiter.check(1, route, "kept").retry_after is not None
    clock.now += 10.0
    for n in range(SWEEP_EVERY):
        limiter.check(2, one_off, f"late-{n}")
    assert limiter.bucket_count <= SWEEP_EVERY + 2
    assert limiter.check(1, route, "kept").retry_after is None


def test_the_429_log_keeps_the_newest_entries() -> None:
    limiter = RateLimiter(RateLimits())
    total = LIMITED_LOG_LIMIT + 500
    limiter.inject(total, retry_after=0.5)
    for n in range(total):
        assert limiter.check(1, f"GET /r{n}", "").retry_after == 0.5
    assert len(limiter.limited) == LIMITED_LOG_LIMIT
    assert limiter.limited[-1] == (f"GET /r{total - 1}", 0.5)
    assert limiter.limited[0] == ("GET /r500", 0.5)


def _interaction(emu: Emulator, n: int) -> Interaction:
    return Interaction(
        id=emu.world.new_id(),
        token=f"token-{n}",
        application_id=1,
        type=2,
        user_id=1,
        channel_id=1,
        guild_id=None,
        data={},
        created_at=emu.clock.time(),
    )


def test_interactions_past_their_token_lifetime_are_forgotten(emulator: Emulator) -> None:
    world = emulator.world
    old = [world.add_interaction(_interaction(emulator, n)) for n in range(500)]
    emulator.clock.advance(INTERACTION_TOKEN_LIFETIME - 1)
    recent = world.add_interaction(_interaction(emulator, 500))
    assert len(world.interactions) == 501  # all still usable
    emulator.clock.advance(2)
    newest = world.add_interaction(_interaction(emulator, 501))
    assert set(world.interactions) == {recent.id, newest.id}
    assert all(i.id not in world.interactions for i in old)


async def test_internal_errors_keep_the_first_ones() -> None:
    """A recurring emulator bug in a long demo: each error (with its traceback) is logged, and
    only the first ``MAX_INTERNAL_ERRORS`` are kept for the fixtures to report."""
    index = next(i for i, s in enumerate(api.ROUTES) if s.key == "GET /users/@me")

    async def boom(ctx: Any) -> Any:
        raise RuntimeError(f"bug {ctx.emu.calls.end}")

    original = api.ROUTES[index]
    api.ROUTES[index] = dataclasses.replace(original, handler=boom)
    try:
        await _serve_failing_calls()
    finally:
        api.ROUTES[index] = original


async def _serve_failing_calls() -> None:
    async with Emulator(rate_limits=RateLimits(enabled=False)) as emu:
        emu.create_bot(token=TOKEN)
        total = Emulator.MAX_INTERNAL_ERRORS + 20
        async with aiohttp.ClientSession() as http:
            for _ in range(total):
                async with http.get(
                    f"{emu.api_url}/users/@me", headers={"Authorization": f"Bot {TOKEN}"}
                ) as response:
                    assert response.status == 500
        assert len(emu.internal_errors) == Emulator.MAX_INTERNAL_ERRORS
        assert str(emu.internal_errors[0]) == "bug 0"
        assert [c.status for c in emu.calls] == [500] * total
