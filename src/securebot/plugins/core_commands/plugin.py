"""The ``core_commands`` plugin: liveness, help generated from command metadata, the prefix."""

from __future__ import annotations

import math
from typing import Any

from discord.ext import commands

import securebot


def _summary(cmd: commands.Command[Any, ..., Any]) -> str:
    return cmd.short_doc or "(no description)"


class CoreCommands(securebot.Plugin):
    """``ping``, ``help`` and ``prefix``."""

    manifest = securebot.PluginManifest(
        name="core_commands",
        version="1.0.0",
        description="Liveness check, help generated from command metadata, and the prefix.",
        user_data=securebot.UserData.none(),
        intents={"guild_messages", "dm_messages", "message_content"},
        permissions={"send_messages", "read_message_history"},
    )

    @securebot.command(help="Check that the bot is alive and show its gateway latency.")
    async def ping(self, ctx: securebot.Context) -> None:
        """Reply ``pong`` with the gateway latency."""
        latency = ctx.bot.latency
        shown = f" ({latency * 1000:.0f} ms)" if math.isfinite(latency) and latency > 0 else ""
        await ctx.send(f"pong{shown}")

    @securebot.command(
        name="help",
        usage="[command]",
        help="List the commands you can use, or explain one command.",
        always_available=True,
    )
    async def help_command(self, ctx: securebot.Context, *, name: str = "") -> None:
        """Show every visible command grouped by plugin, or one command's usage."""
        prefix = ctx.clean_prefix
        if name:
            found = ctx.bot.get_command(name.removeprefix(prefix))
            if found is None or found.hidden or not await _may_run(found, ctx):
                # a command the user may not run is not explained (nor said to exist)
                await ctx.send(f"No command named `{name}`. Try `{prefix}help`.")
                return
            usage = f"{prefix}{found.qualified_name} {found.usage or found.signature}".strip()
            aliases = f"\nAliases: {', '.join(found.aliases)}" if found.aliases else ""
            await ctx.send(f"`{usage}`\n{found.help or _summary(found)}{aliases}")
            return
        lines: list[str] = []
        for cog_name, cog in sorted(ctx.bot.cogs.items()):
            visible = []
            for cmd in sorted(cog.get_commands(), key=lambda c: c.name):
                if cmd.hidden:
                    continue
                if not await _may_run(cmd, ctx):
                    continue
                visible.append(f"  {prefix}{cmd.name} - {_summary(cmd)}")
            if visible:
                lines.append(f"**{cog_name}**")
                lines.extend(visible)
        lines.append(f"Type `{prefix}help <command>` for details.")
        await ctx.send("\n".join(lines))

    @securebot.command(help="Show the command prefix (mentioning the bot always works too).")
    async def prefix(self, ctx: securebot.Context) -> None:
        """Show the prefix this bot answers to."""
        configured = ctx.bot.config.bot.prefix if isinstance(ctx.bot, securebot.Bot) else "!"
        await ctx.send(f"My prefix here is `{configured}`; you can also mention me.")


async def _may_run(command: commands.Command[Any, ..., Any], ctx: securebot.Context) -> bool:
    """Whether the author may run ``command`` here (the permission engine and its checks)."""
    try:
        return await command.can_run(ctx)
    except commands.CommandError:
        return False
