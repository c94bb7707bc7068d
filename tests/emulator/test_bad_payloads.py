"""Bad requests get Discord-shaped 4xx answers: never a 500, never a hang (hypothesis)."""

from __future__ import annotations

import json

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from securebot.testing.emulator import Emulator

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
field_names = st.sampled_from(
    [
        "content",
        "embeds",
        "components",
        "nonce",
        "tts",
        "flags",
        "message_reference",
        "allowed_mentions",
        "attachments",
        "messages",
        "name",
        "permissions",
        "color",
        "roles",
        "nick",
        "communication_disabled_until",
        "type",
        "data",
        "recipient_id",
        "topic",
        "rate_limit_per_user",
        "permission_overwrites",
        "delete_message_seconds",
        "max_age",
        "parent_id",
        "position",
        "options",
        "description",
        "title",
        "custom_id",
        "channel_id",
    ]
)
bodies = json_values | st.dictionaries(field_names, json_values, max_size=6)


def _not_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except ValueError:
        return True
    return False


class Fuzz:
    """A started emulator with a guild, a message, and an HTTP session as the bot."""

    async def start(self, emu: Emulator) -> Fuzz:
        self.emu = emu
        account = self.emu.create_bot(token="fuzz-token")
        self.g = self.emu.standard_guild(account)
        self.msg = self.emu.send(self.g.member, self.g.general, "target")
        self.interaction = self.emu.slash(self.g.member, self.g.general, "x", bot=account)
        self.http = aiohttp.ClientSession(headers={"Authorization": "Bot fuzz-token"})
        return self

    async def stop(self) -> None:
        await self.http.close()

    def urls(self) -> list[tuple[str, str]]:
        g, c, m, i = self.g.guild.id, self.g.general.id, self.msg.id, self.interaction
        u = self.g.member.id
        return [
            ("POST", f"/channels/{c}/messages"),
            ("PATCH", f"/channels/{c}/messages/{m}"),
            ("POST", f"/channels/{c}/messages/bulk-delete"),
            ("PATCH", f"/channels/{c}"),
            ("PUT", f"/channels/{c}/permissions/{u}"),
            ("POST", f"/channels/{c}/invites"),
            ("POST", f"/channels/{c}/webhooks"),
            ("POST", f"/channels/{c}/threads"),
            ("POST", f"/guilds/{g}/roles"),
            ("PATCH", f"/guilds/{g}/roles"),
            ("POST", f"/guilds/{g}/channels"),
            ("PATCH", f"/guilds/{g}/members/{u}"),
            ("PUT", f"/guilds/{g}/bans/{u}"),
            ("POST", "/users/@me/channels"),
            ("PUT", f"/applications/{self.g.bot.application_id}/commands"),
            ("POST", f"/interactions/{i.id}/{i.token}/callback"),
        ]


@pytest.fixture
async def fuzz(emulator: Emulator):
    """The emulator fixture fails the test on a 500 (internal error) or a non-conforming body."""
    f = await Fuzz().start(emulator)
    yield f
    await f.stop()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=bodies, which=st.integers(0, 15))
async def test_fuzzed_json_bodies_get_4xx_or_success_never_500(
    fuzz: Fuzz, body, which: int
) -> None:
    method, path = fuzz.urls()[which]
    async with fuzz.http.request(
        method,
        fuzz.emu.api_url + path,
        data=json.dumps(body),
        headers={"Content-Type": "application/json"},
        timeout=aiohttp.ClientTimeout(total=5),
    ) as response:
        status = response.status
        payload = await response.json() if response.status != 204 else None
    assert status < 500
    if status >= 400:
        assert response.headers["Content-Type"] == "application/json"
        assert set(payload) >= {"code", "message"}
        if payload["code"] == 50035:
            assert isinstance(payload["errors"], dict)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.binary(min_size=1, max_size=200).filter(_not_json), which=st.integers(0, 15))
async def test_garbage_bytes_are_invalid_json_400(fuzz: Fuzz, raw: bytes, which: int) -> None:
    method, path = fuzz.urls()[which]
    async with fuzz.http.request(
        method, fuzz.emu.api_url + path, data=raw, headers={"Content-Type": "application/json"}
    ) as response:
        assert response.status == 400
        assert (await response.json())["code"] == 50109


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    segment=st.text(min_size=1, max_size=30).filter(
        lambda s: "/" not in s and "?" not in s and "#" not in s
    )
)
async def test_odd_path_segments_are_404_not_500(fuzz: Fuzz, segment: str) -> None:
    from urllib.parse import quote

    for template in (
        "/channels/{}/messages",
        "/guilds/{}/members/{}",
        "/channels/{}/messages/{}/reactions/{}/@me",
    ):
        path = template.replace("{}", quote(segment, safe=""))
        async with fuzz.http.get(fuzz.emu.api_url + path) as response:
            assert response.status in (400, 403, 404, 405)
            assert "code" in await response.json()


async def test_multipart_without_payload_and_with_unknown_fields(fuzz: Fuzz) -> None:
    url = f"{fuzz.emu.api_url}/channels/{fuzz.g.general.id}/messages"
    form = aiohttp.FormData()
    form.add_field("evil", b"x", filename="x.bin")
    async with fuzz.http.post(url, data=form) as response:
        assert response.status == 400
    form = aiohttp.FormData()
    form.add_field("payload_json", "{not json")
    async with fuzz.http.post(url, data=form) as response:
        assert response.status == 400
        assert (await response.json())["code"] == 50109
    form = aiohttp.FormData()
    form.add_field("files[0]", b"only a file", filename="a.txt")
    async with fuzz.http.post(url, data=form) as response:
        assert response.status == 200
        assert (await response.json())["attachments"][0]["filename"] == "a.txt"


async def test_no_token_is_401_and_unknown_routes_404(fuzz: Fuzz) -> None:
    async with (
        aiohttp.ClientSession() as anonymous,
        anonymous.get(fuzz.emu.api_url + "/users/@me") as response,
    ):
        assert response.status == 401
        assert await response.json() == {"message": "401: Unauthorized", "code": 0}
    async with fuzz.http.get(fuzz.emu.api_url + "/nowhere") as response:
        assert response.status == 404
    async with fuzz.http.delete(fuzz.emu.api_url + "/users/@me") as response:
        assert response.status == 405
