"""Slash commands, buttons, modals, deferred answers and command sync with a real client."""

from __future__ import annotations

import discord
import pytest

from securebot.testing.emulator import Emulator, ScenarioError
from securebot.testing.harness import running

from .conftest import make_bot


async def test_slash_command_with_a_member_option_answers_ephemerally(
    emulator: Emulator, discord_guild
) -> None:
    g = discord_guild
    async with running(make_bot(), emulator, "test-token"):
        interaction = emulator.slash(g.member, g.general, "hello", {"who": g.admin})
        await emulator.wait_for_response(interaction)
    assert interaction.response_type == 4
    answer = emulator.response_message(interaction)
    assert answer is not None
    assert answer.content == "hello admin"
    assert answer.flags & 64  # ephemeral
    assert answer not in emulator.messages(g.general) or answer.flags & 64
    call = emulator.calls_to("POST /interactions/{interaction_id}/{interaction_token}/callback")[0]
    assert call.status == 200
    assert call.response["resource"]["message"]["content"] == "hello admin"


async def test_command_sync_registers_and_the_synced_id_is_used(
    emulator: Emulator, discord_guild
) -> None:
    g = discord_guild
    async with running(make_bot(), emulator, "test-token") as bot:
        synced = await bot.tree.sync()
        assert sorted(c.name for c in synced) == ["feedback", "hello", "slow"]
        stored = {c.name: c for c in emulator.world.commands.values()}
        assert stored["hello"].options[0]["name"] == "who"
        again = await bot.tree.sync()
        assert {c.id for c in again} == {c.id for c in synced}
        fetched = await bot.tree.fetch_commands()
        assert {c.name for c in fetched} == {"feedback", "hello", "slow"}
        interaction = emulator.slash(g.member, g.general, "hello", {"who": g.member})
        assert interaction.data["id"] == str(stored["hello"].id)
        await emulator.wait_for_response(interaction)


async def test_deferred_then_followup(emulator: Emulator, discord_guild) -> None:
    g = discord_guild
    async with running(make_bot(), emulator, "test-token"):
        interaction = emulator.slash(g.member, g.general, "slow")
        await emulator.wait_for(lambda: interaction.followup_ids)
    assert interaction.response_type == 5
    followup = g.general.messages[interaction.followup_ids[0]]
    assert followup.content == "done thinking"
    assert followup.author_id == g.bot.user.id


async def test_button_click_edits_the_message(emulator: Emulator, discord_guild) -> None:
    g = discord_guild
    async with running(make_bot(), emulator, "test-token") as bot:
        prompt = await emulator.ask(g.member, g.general, "!ask")
        assert prompt.components[0]["components"][0]["custom_id"] == "yes"
        interaction = emulator.click(g.moderator, prompt, "yes")
        await emulator.wait_for_response(interaction)
        assert bot.view.clicked == [g.moderator.id]
    assert interaction.response_type == 7
    assert prompt.content == "clicked by moderator"
    assert prompt.components == []
    with pytest.raises(ScenarioError):
        emulator.click(g.member, prompt, "yes")


async def test_modal_open_and_submit(emulator: Emulator, discord_guild) -> None:
    g = discord_guild
    async with running(make_bot(), emulator, "test-token"):
        opened = emulator.slash(g.member, g.general, "feedback")
        await emulator.wait_for_response(opened)
        assert opened.response_type == 9
        assert opened.modal["title"] == "Feedback"
        submitted = emulator.submit_modal(g.member, opened, {"text": "great bot"})
        await emulator.wait_for_response(submitted)
    answer = emulator.response_message(submitted)
    assert answer.content == "thanks: great bot"


async def test_a_second_answer_is_40060_and_a_late_one_10062(
    emulator: Emulator, discord_guild
) -> None:
    g = discord_guild
    async with running(make_bot(), emulator, "test-token") as bot:
        interaction = emulator.slash(g.member, g.general, "hello", {"who": g.member})
        await emulator.wait_for_response(interaction)
        route = discord.http.Route(
            "POST",
            "/interactions/{interaction_id}/{interaction_token}/callback",
            interaction_id=interaction.id,
            interaction_token=interaction.token,
        )
        with pytest.raises(discord.HTTPException) as info:
            await bot.http.request(route, json={"type": 4, "data": {"content": "again"}})
        assert info.value.code == 40060
        bot.tree.remove_command("hello")  # nobody answers this one
        late = emulator.slash(g.member, g.general, "hello", {"who": g.member})
        await emulator.settle()
        emulator.clock.advance(4)
        route = discord.http.Route(
            "POST",
            "/interactions/{interaction_id}/{interaction_token}/callback",
            interaction_id=late.id,
            interaction_token=late.token,
        )
        with pytest.raises(discord.NotFound) as info:
            await bot.http.request(route, json={"type": 4, "data": {"content": "late"}})
        assert info.value.code == 10062


async def test_select_menu_values_reach_the_callback(emulator: Emulator, discord_guild) -> None:
    g = discord_guild
    bot = make_bot()
    chosen: list[list[str]] = []

    class Pick(discord.ui.View):
        @discord.ui.select(
            custom_id="colour",
            options=[discord.SelectOption(label="Red"), discord.SelectOption(label="Blue")],
        )
        async def pick(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
            chosen.append(select.values)
            await interaction.response.send_message(f"you chose {select.values[0]}")

    async with running(bot, emulator, "test-token") as client:
        prompt_sent = await client.get_channel(g.general.id).send("pick", view=Pick())
        prompt = g.general.messages[prompt_sent.id]
        picked = emulator.select(g.member, prompt, "colour", ["Blue"])
        await emulator.wait_for_response(picked)
    assert chosen == [["Blue"]]
    assert emulator.response_message(picked).content == "you chose Blue"


async def test_slowmode_applies_to_users(emulator: Emulator, discord_guild) -> None:
    g = discord_guild
    g.general.rate_limit_per_user = 10
    emulator.send(g.member, g.general, "first")
    with pytest.raises(ScenarioError, match="slowmode"):
        emulator.send(g.member, g.general, "second")
    emulator.send(g.moderator, g.general, "mods are exempt")
    emulator.send(g.moderator, g.general, "twice")
    emulator.clock.advance(11)
    emulator.send(g.member, g.general, "later")
