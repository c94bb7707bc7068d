"""Routes whose body is a JSON array refuse anything else with 50035 ``BASE_TYPE_LIST``."""

from __future__ import annotations

import pytest
from tests.emulator.test_bad_payloads import Fuzz

from securebot.testing.emulator import Emulator


@pytest.fixture
async def fuzz(emulator: Emulator):
    """A started emulator with a standard guild and an HTTP session as its bot."""
    f = await Fuzz().start(emulator)
    yield f
    await f.stop()


@pytest.mark.parametrize("body", [{"id": "1", "position": 1}, "roles", 3])
@pytest.mark.parametrize("what", ["roles", "channels", "commands"])
async def test_a_non_array_body_is_base_type_list(fuzz: Fuzz, what: str, body: object) -> None:
    path = (
        f"/applications/{fuzz.g.bot.application_id}/commands"
        if what == "commands"
        else f"/guilds/{fuzz.g.guild.id}/{what}"
    )
    method = "PUT" if what == "commands" else "PATCH"
    async with fuzz.http.request(method, fuzz.emu.api_url + path, json=body) as response:
        assert response.status == 400
        payload = await response.json()
    assert payload["code"] == 50035
    assert payload["errors"] == {
        "_errors": [{"code": "BASE_TYPE_LIST", "message": "Must be an array."}]
    }


async def test_overwriting_commands_without_a_body_clears_them(fuzz: Fuzz) -> None:
    path = f"/applications/{fuzz.g.bot.application_id}/commands"
    async with fuzz.http.put(fuzz.emu.api_url + path) as response:
        assert response.status == 200
        assert await response.json() == []


async def test_moving_roles_without_a_body_is_base_type_list(fuzz: Fuzz) -> None:
    path = f"/guilds/{fuzz.g.guild.id}/roles"
    async with fuzz.http.patch(fuzz.emu.api_url + path) as response:
        assert response.status == 400
        assert (await response.json())["code"] == 50035
