"""The console's control API answers any request with 200 or a 400 naming the problem: never a
500, never a traceback (hypothesis over JSON bodies and query strings)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given, settings
from hypothesis import strategies as st

from securebot.testing.console import LocalLink, control_app
from securebot.testing.emulator import Emulator
from securebot.testing.scenario_file import demo_scenario, seed

KEYS = ["user_id", "channel_id", "message_id", "bot_id", "content", "emoji", "custom_id"]
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
bodies = st.dictionaries(st.sampled_from(KEYS), values, max_size=6) | values


async def _exercise(requests: list[tuple[str, str, Any]]) -> list[tuple[int, Any]]:
    emulator = Emulator()
    seeded = seed(emulator.world, demo_scenario())
    assert seeded.accounts
    client = TestClient(TestServer(control_app(LocalLink(emulator))))
    await client.start_server()
    answers = []
    try:
        for method, path, body in requests:
            if method == "GET":
                response = await client.get(path)
            else:
                response = await client.post(path, data=json.dumps(body))
            answers.append((response.status, await response.json()))
    finally:
        await client.close()
    return answers


@settings(max_examples=60)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["POST"]),
            st.sampled_from(["/messages", "/dm", "/reactions", "/clicks"]),
            bodies,
        )
        | st.tuples(
            st.just("GET"),
            st.sampled_from(["/activity?after=", "/directory?x=", "/cursor?"]).flatmap(
                lambda p: st.text(alphabet="0123456789-ax", max_size=6).map(lambda q: p + q)
            ),
            st.none(),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_control_api_never_fails_with_500(requests: list[tuple[str, str, Any]]) -> None:
    for status, body in asyncio.run(_exercise(requests)):
        assert status in (200, 400), (status, body)
        if status == 400:
            assert isinstance(body["error"], str)
            assert body["error"]
