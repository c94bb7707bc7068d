"""A discord.py ``commands.Bot`` with the commands the emulator tests drive."""

from __future__ import annotations

import io

import discord
import pytest
from discord import app_commands
from discord.ext import commands


class Buttons(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=30)
        self.clicked: list[int] = []

    @discord.ui.button(label="Yes", custom_id="yes", style=discord.ButtonStyle.success)
    async def yes(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.clicked.append(interaction.user.id)
        await interaction.response.edit_message(
            content=f"clicked by {interaction.user.name}", view=None
        )


class Feedback(discord.ui.Modal, title="Feedback"):
    text = discord.ui.TextInput(label="Your feedback", custom_id="text")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"thanks: {self.text.value}", ephemeral=True)


def make_bot(**options) -> commands.Bot:
    """A bot with test commands; ``options`` go to discord.py."""
    options.setdefault("intents", discord.Intents.all())
    options.setdefault("command_prefix", "!")
    bot = commands.Bot(guild_ready_timeout=0.05, **options)
    bot.seen = []  # (event, data) observed by listeners

    @bot.command()
    async def ping(ctx: commands.Context) -> None:
        await ctx.send("pong")

    @bot.command()
    async def echo(ctx: commands.Context, *, text: str) -> None:
        await ctx.send(text)

    @bot.command()
    async def ban(ctx: commands.Context, member: discord.Member) -> None:
        try:
            await member.ban(reason="test ban", delete_message_seconds=3600)
        except discord.Forbidden as exc:
            await ctx.send(f"forbidden {exc.code}")
        else:
            await ctx.send("banned")

    @bot.command()
    async def kick(ctx: commands.Context, member: discord.Member) -> None:
        try:
            await member.kick()
        except discord.Forbidden as exc:
            await ctx.send(f"forbidden {exc.code}")
        else:
            await ctx.send("kicked")

    @bot.command()
    async def purge(ctx: commands.Context, count: int) -> None:
        deleted = await ctx.channel.purge(limit=count)
        await ctx.send(f"purged {len(deleted)}")

    @bot.command()
    async def dmme(ctx: commands.Context) -> None:
        await ctx.author.send("a secret")

    @bot.command()
    async def file(ctx: commands.Context) -> None:
        await ctx.send("here", file=discord.File(io.BytesIO(b"hello file"), filename="hello.txt"))

    @bot.command()
    async def size(ctx: commands.Context) -> None:
        data = await ctx.message.attachments[0].read()
        await ctx.send(f"{ctx.message.attachments[0].filename} {len(data)}")

    @bot.command()
    async def ask(ctx: commands.Context) -> None:
        bot.view = Buttons()
        await ctx.send("Continue?", view=bot.view)

    @bot.tree.command(description="Say hello")
    @app_commands.describe(who="who to greet")
    async def hello(interaction: discord.Interaction, who: discord.Member) -> None:
        await interaction.response.send_message(f"hello {who.name}", ephemeral=True)

    @bot.tree.command(description="Open the feedback form")
    async def feedback(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(Feedback())

    @bot.tree.command(description="Slow answer")
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        await interaction.followup.send("done thinking")

    @bot.listen()
    async def on_message_delete(message: discord.Message) -> None:
        bot.seen.append(("delete", message.id))

    @bot.listen()
    async def on_raw_bulk_message_delete(payload: discord.RawBulkMessageDeleteEvent) -> None:
        bot.seen.append(("bulk", sorted(payload.message_ids)))

    @bot.listen()
    async def on_member_join(member: discord.Member) -> None:
        bot.seen.append(("join", member.id))

    @bot.listen()
    async def on_raw_reaction_add(payload: discord.RawReactionActionEvent) -> None:
        bot.seen.append(("react", str(payload.emoji)))

    return bot


@pytest.fixture
def bot_factory():
    return make_bot
