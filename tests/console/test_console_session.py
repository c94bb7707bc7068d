"""The console against a real securebot Bot over real sockets: embeds, buttons, DMs, reactions,
refusals, directives; and its HTTP control API (what `securebot console --url` uses)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import discord
import pytest

import securebot
from securebot.core.config import parse_config
from securebot.testing.console import (
    CONTROL_PATH,
    Console,
    ConsoleChoiceError,
    ConsoleLinkError,
    HttpLink,
    LocalLink,
    start_emulator,
    stop_emulator,
)
from securebot.testing.scenario_file import demo_scenario


class Showcase(securebot.Plugin):
    """Commands that exercise every kind of output the console renders."""

    manifest = securebot.PluginManifest(
        name="showcase",
        version="1.0",
        description="console test commands",
        user_data=securebot.UserData.none(),
        intents={"guild_messages", "dm_messages", "message_content", "guild_reactions"},
    )

    @securebot.command(help="An embed with a button.")
    async def card(self, ctx: securebot.Context) -> None:
        embed = discord.Embed(title="Case 1", description="A warning")
        embed.add_field(name="Reason", value="spam")
        embed.set_footer(text="moderation")
        view = discord.ui.View(timeout=60)
        button: discord.ui.Button[Any] = discord.ui.Button(label="Accept", custom_id="accept")

        async def accepted(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(f"accepted by {interaction.user.name}")

        button.callback = accepted  # type: ignore[method-assign]
        view.add_item(button)
        await ctx.send("Here:", embed=embed, view=view)

    @securebot.command(help="DM the author.")
    async def whisper(self, ctx: securebot.Context) -> None:
        await ctx.author.send("psst")

    @securebot.command(help="React to the command.")
    async def thumbs(self, ctx: securebot.Context) -> None:
        await ctx.message.add_reaction("👍")

    @securebot.command(help="Try to ban the guild owner (Discord refuses).")
    async def banowner(self, ctx: securebot.Context) -> None:
        assert ctx.guild is not None
        owner = await ctx.guild.fetch_member(ctx.guild.owner_id or 0)
        with contextlib.suppress(discord.Forbidden):
            await ctx.guild.ban(owner)


@pytest.fixture
async def running() -> AsyncIterator[tuple[Any, LocalLink]]:
    """The demo scenario in an emulator, a securebot Bot with the showcase plugin logged in."""
    emulator, seeded, runner = await start_emulator(demo_scenario())
    config = parse_config(
        {"bot": {"api_base_url": emulator.base_url}, "plugins": {"enable": ["showcase"]}},
        source="test",
    )
    manager = securebot.PluginManager()
    manager.register(Showcase())
    manager.hook.securebot_configure.call_historic(kwargs={"config": config})
    bot = securebot.Bot(config, manager, guild_ready_timeout=0.05)
    # Like Giselle's open modules: every member may use the showcase commands.
    bot.permissions.everyone_modules = bot.permissions.everyone_modules | {"showcase"}
    task = asyncio.create_task(bot.start(seeded.tokens["Giselle"]))
    try:
        async with asyncio.timeout(20):
            while not bot.is_ready():
                assert not task.done(), task
                await asyncio.sleep(0.02)
        yield emulator, LocalLink(emulator)
    finally:
        await bot.close()
        with contextlib.suppress(BaseException):
            await task
        await stop_emulator(emulator, runner)
        assert emulator.internal_errors == []


async def _script(link: Any, lines: list[str], **choice: str) -> list[str]:
    out: list[str] = []
    console = Console(link, out=out.append, reply_timeout=3.0, settle=0.2)
    await console.choose(**choice)
    assert await console.run_script(lines) == 0
    return "\n".join(out).splitlines()


async def test_embed_button_click_dm_reaction_and_refusal(running: tuple[Any, LocalLink]) -> None:
    _, link = running
    lines = await _script(link, ["!card", ":click Accept", "!whisper", "!thumbs", "!banowner"])
    text = "\n".join(lines)
    assert (
        "[#general] Giselle [bot]: Here:\n"
        "  ┌─ embed\n"
        "  │ **Case 1**\n"
        "  │ A warning\n"
        "  │ Reason: spam\n"
        "  └─ moderation\n"
        "  [Accept]"
    ) in text
    assert "[#general] Giselle [bot]: accepted by demo" in text
    assert "[DM] Giselle [bot]: psst" in text
    assert "[#general] * Giselle reacted 👍" in text
    assert "[Giselle Demo] * Discord refused PUT /guilds/{guild_id}/bans/{user_id}: 50013" in text


async def test_directives_switch_place_and_user(running: tuple[Any, LocalLink]) -> None:
    _, link = running
    lines = await _script(
        link,
        [":where", ":channel #bot-commands", ":user grace", ":users", ":nope", ":click Nope"],
    )
    assert lines[0] == "as demo in #general (Giselle Demo)"
    assert lines[1] == "now as demo in #bot-commands (Giselle Demo)"
    assert lines[2] == "now as grace in #bot-commands (Giselle Demo)"
    assert "  @Giselle [bot]" in lines
    assert "unknown directive :nope (try :help)" in lines
    assert "no bot message with buttons yet" in lines


async def test_unknown_choices_are_clear_errors(running: tuple[Any, LocalLink]) -> None:
    _, link = running
    console = Console(link, out=lambda line: None)
    with pytest.raises(ConsoleChoiceError, match=r"no user in this guild named 'zed' \(known: "):
        await console.choose(user="zed")
    with pytest.raises(ConsoleChoiceError, match=r"no guild named 'Nope' \(known: Giselle Demo\)"):
        await console.choose(guild="Nope")


async def test_http_link_talks_to_the_same_bot(running: tuple[Any, LocalLink]) -> None:
    emulator, _ = running
    link = HttpLink(emulator.base_url)
    try:
        lines = await _script(link, ["!whisper"], user="linus")
    finally:
        await link.close()
    assert lines == ["linus in #general (Giselle Demo)> !whisper", "[DM] Giselle [bot]: psst"]


@pytest.mark.parametrize(
    ("path", "body", "error"),
    [
        ("/messages", {"user_id": "1", "channel_id": "x", "content": "hi"}, "channel_id: expected"),
        ("/messages", {"user_id": True, "channel_id": "1", "content": "hi"}, "user_id: expected"),
        ("/messages", {"user_id": "1", "channel_id": "2", "content": 5}, "content: expected"),
        ("/messages", [1, 2], "the body must be a JSON object"),
        ("/messages", {"user_id": "1", "channel_id": "2", "content": "hi"}, "no user with id 1"),
        ("/reactions", {"user_id": "1", "channel_id": "2", "message_id": "3"}, "emoji: expected"),
    ],
)
async def test_control_api_rejects_bad_input_with_400(
    running: tuple[Any, LocalLink], path: str, body: Any, error: str
) -> None:
    emulator, _ = running
    url = f"{emulator.base_url}{CONTROL_PATH}{path}"
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        assert response.status == 400
        data = await response.json()
    assert error in data["error"]


async def test_control_api_refuses_what_discord_would(running: tuple[Any, LocalLink]) -> None:
    _, link = running
    directory = await link.directory()
    guild = directory["guilds"][0]
    demo = next(m for m in guild["members"] if m["name"] == "demo")
    voice = next(c for c in guild["channels"] if c["type"] == 2)
    with pytest.raises(ConsoleLinkError, match="no text channel"):
        await link.send(user_id=int(demo["id"]), channel_id=int(voice["id"]), content="hi")
    general = next(c for c in guild["channels"] if c["name"] == "general")
    with pytest.raises(ConsoleLinkError, match="content over 2000"):
        await link.send(user_id=int(demo["id"]), channel_id=int(general["id"]), content="x" * 2001)


async def test_interactive_mode_prints_replies_as_they_come(
    running: tuple[Any, LocalLink],
) -> None:
    _, link = running
    out: list[str] = []
    console = Console(link, out=out.append, reply_timeout=3.0, settle=0.2)
    await console.choose()
    typed = iter(["!whisper", "", ":where", "!thumbs", ":quit", "never sent"])
    loop = asyncio.get_running_loop()

    def read_line(prompt: str) -> str:
        line = next(typed)
        if line.startswith(":"):  # give the bot time to answer the previous message
            asyncio.run_coroutine_threadsafe(asyncio.sleep(0.5), loop).result()
        return line

    assert await console.interactive(read_line) == 0
    assert out[0] == (
        "securebot console: as demo in #general (Giselle Demo). Type :help for directives."
    )
    assert "[DM] Giselle [bot]: psst" in out
    assert "as demo in #general (Giselle Demo)" in out
    assert "[#general] * Giselle reacted 👍" in out
    assert not any("never sent" in line for line in out)


async def test_interactive_mode_ends_at_end_of_input(running: tuple[Any, LocalLink]) -> None:
    _, link = running
    console = Console(link, out=lambda line: None)

    def closed(prompt: str) -> str:
        raise EOFError

    assert await console.interactive(closed) == 0


async def test_typed_mentions_reach_the_bot_as_mentions(running: tuple[Any, LocalLink]) -> None:
    emulator, link = running
    lines = await _script(link, ["@Giselle whisper", "hi @nobody in #mod-log and #nowhere"])
    assert lines[1] == "[DM] Giselle [bot]: psst"  # a mention of the bot works as a prefix
    mod_log = next(c for c in emulator.world.channels.values() if c.name == "mod-log")
    sent = [m for c in emulator.world.channels.values() for m in c.messages.values()]
    (greeting,) = [m for m in sent if m.content.startswith("hi ")]
    assert greeting.content == f"hi @nobody in <#{mod_log.id}> and #nowhere"


async def test_a_script_still_waiting_for_its_next_line_does_not_stop_the_bot(
    running: tuple[Any, LocalLink],
) -> None:
    """A script on a pipe: after ``!whisper`` the next line is not written yet. Reading it must not
    block the event loop (the bot, the emulator and this test all run on it)."""
    _, link = running
    loop = asyncio.get_running_loop()
    next_line_written = threading.Event()

    def pipe() -> Iterator[str]:
        yield "!whisper\n"
        # the writer sends the next line only once the event loop has run again
        assert next_line_written.wait(timeout=10), "the event loop was blocked by the read"
        yield "!whisper\n"

    loop.call_later(0.5, next_line_written.set)
    out: list[str] = []
    console = Console(link, out=out.append, reply_timeout=3.0, settle=0.05)
    await console.choose()
    assert await console.run_script(pipe()) == 0
    assert out.count("[DM] Giselle [bot]: psst") == 2, out


async def test_a_script_waits_for_a_bot_and_says_when_none_connects() -> None:
    emulator, _seeded, runner = await start_emulator(demo_scenario())
    try:
        lines: list[str] = []
        console = Console(LocalLink(emulator), out=lines.append, reply_timeout=0.3)
        assert await console.run_script(["!ping"]) == 0
        assert "  (waiting for the bot to connect...)" in lines
        assert "  (no bot is connected to this guild)" in lines
        assert lines[-1] == "  (no reply)"
    finally:
        await stop_emulator(emulator, runner)
