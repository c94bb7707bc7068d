"""Every read route answers with a body that conforms (the emulator fixture checks each one)."""

from __future__ import annotations

import aiohttp

from securebot.testing.emulator import Emulator


async def test_read_routes_answer_conforming_bodies(emulator: Emulator, discord_guild) -> None:
    g = discord_guild
    note = emulator.send(g.member, g.general, "note")
    emulator.actions.set_pinned(g.general, note, True)
    emulator.ban_externally(g.guild, emulator.create_user("banned"), "raid")
    banned = next(iter(g.guild.bans))
    hook = emulator.world.add_webhook(g.general, "relay")
    interaction = emulator.slash(g.member, g.general, "x")
    api = emulator.api_url
    async with aiohttp.ClientSession(headers={"Authorization": "Bot test-token"}) as http:

        async def call(method: str, path: str, **kwargs) -> tuple[int, object]:
            async with http.request(method, api + path, **kwargs) as response:
                body = await response.json() if response.status != 204 else None
                return response.status, body

        assert (await call("GET", "/gateway"))[1] == {"url": emulator.gateway_url}
        assert (await call("GET", "/applications/@me"))[1]["id"] == str(g.bot.application_id)
        assert (await call("GET", f"/channels/{g.general.id}"))[1]["name"] == "general"
        assert (await call("GET", f"/channels/{g.general.id}/pins"))[1][0]["id"] == str(note.id)
        status, invite = await call("POST", f"/channels/{g.general.id}/invites", json={})
        assert status == 200
        assert (await call("GET", f"/invites/{invite['code']}"))[1]["code"] == invite["code"]
        assert len((await call("GET", f"/channels/{g.general.id}/invites"))[1]) == 1
        assert (await call("GET", f"/guilds/{g.guild.id}/bans/{banned}"))[1]["reason"] == "raid"
        role = (await call("GET", f"/guilds/{g.guild.id}/roles/{g.admin_role.id}"))[1]
        assert role["name"] == "Admin"
        hooks = (await call("GET", f"/guilds/{g.guild.id}/webhooks"))[1]
        assert [h["id"] for h in hooks] == [str(hook.id)]
        status, me = await call("PATCH", f"/guilds/{g.guild.id}/members/@me", json={"nick": "Bot"})
        assert (status, me["nick"]) == (200, "Bot")
        app = g.bot.application_id
        status, made = await call(
            "POST",
            f"/applications/{app}/guilds/{g.guild.id}/commands",
            json={"name": "ping", "description": "Ping", "type": 1},
        )
        assert status == 201
        listed = (await call("GET", f"/applications/{app}/guilds/{g.guild.id}/commands"))[1]
        assert [c["id"] for c in listed] == [made["id"]]
        one = await call("GET", f"/applications/{app}/guilds/{g.guild.id}/commands/{made['id']}")
        assert one[1]["name"] == "ping"
        token = interaction.token
        assert (
            await call(
                "POST",
                f"/interactions/{interaction.id}/{token}/callback",
                json={"type": 4, "data": {"content": "hi"}},
            )
        )[0] == 204
        original = await call("GET", f"/webhooks/{app}/{token}/messages/@original")
        assert original[1]["content"] == "hi"
        follow = await call("POST", f"/webhooks/{app}/{token}", json={"content": "more"})
        fetched = await call("GET", f"/webhooks/{app}/{token}/messages/{follow[1]['id']}")
        assert fetched[1]["content"] == "more"
        assert (await call("DELETE", f"/webhooks/{app}/{token}/messages/@original"))[0] == 204
        assert (await call("GET", f"/guilds/{g.guild.id}/roles/1"))[0] == 404
        assert (await call("GET", f"/guilds/{g.guild.id}/bans/1"))[1]["code"] == 10026
