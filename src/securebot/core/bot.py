"""The securebot :class:`Bot`: a discord.py ``AutoShardedBot`` driven by plugins.

The bot requests exactly the intents its plugins declare, adds every plugin as a cog, runs the
``securebot_permission_rules`` hook before every command (deny wins, a failing rule denies),
forwards events to the ``on_*`` observer hooks, and turns command errors into short messages
for the user while the details go to the log (never a traceback in the channel).
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord.ext import commands

from securebot.core.config import Config
from securebot.core.plugin import Context
from securebot.core.plugins import PluginManager
from securebot.core.rules import AccessRequest, Verdict

logger = logging.getLogger("securebot.bot")

#: The verdict when no rule has an opinion. The permission engine plugin narrows this.
DEFAULT_VERDICT = Verdict.allow("no rule objected", source="core")


class AccessDenied(commands.CheckFailure):
    """A command was refused by the permission rules; carries the deciding verdict."""

    def __init__(self, verdict: Verdict) -> None:
        """Record the verdict; the message is the verdict's reason."""
        super().__init__(verdict.reason)
        self.verdict = verdict


class Bot(commands.AutoShardedBot):
    """A Discord bot assembled from securebot plugins."""

    def __init__(self, config: Config, plugin_manager: PluginManager, **options: Any) -> None:
        """Create the bot; ``options`` go to :class:`discord.ext.commands.AutoShardedBot`."""
        self.config = config
        self.plugin_manager = plugin_manager
        options.setdefault("intents", plugin_manager.required_intents())
        options.setdefault("help_command", None)
        if config.bot.owner_ids:
            options.setdefault("owner_ids", set(config.bot.owner_ids))
        if config.bot.shard_count:
            options.setdefault("shard_count", config.bot.shard_count)
        super().__init__(command_prefix=self._prefixes, **options)
        self.add_check(self._permission_check)

    async def _prefixes(self, bot: commands.Bot, message: discord.Message) -> list[str]:
        return commands.when_mentioned_or(self.config.bot.prefix)(bot, message)

    async def get_context(
        self, origin: discord.Message | discord.Interaction, /, *, cls: type[Any] = Context
    ) -> Any:
        """Build a :class:`~securebot.Context` (or ``cls``) for a message or interaction."""
        return await super().get_context(origin, cls=cls)

    async def setup_hook(self) -> None:
        """Start the plugins (fail closed) and add them as cogs."""
        self.plugin_manager.log_loaded()
        await self.plugin_manager.run_lifecycle("securebot_startup", fail_closed=True, bot=self)
        for plugin in self.plugin_manager.plugins:
            await self.add_cog(plugin)

    async def close(self) -> None:
        """Let plugins release what they hold, then disconnect."""
        await self.plugin_manager.run_lifecycle("securebot_shutdown", fail_closed=False, bot=self)
        await super().close()

    # --- commands ---------------------------------------------------------------------------

    async def access_request(self, ctx: Context) -> AccessRequest:
        """Describe who is running which command where, for the permission rules."""
        author = ctx.author
        roles = getattr(author, "roles", ())
        return AccessRequest(
            plugin=ctx.cog.qualified_name if ctx.cog else "core",
            command=ctx.command.qualified_name if ctx.command else "",
            user_id=author.id,
            channel_id=ctx.channel.id,
            guild_id=ctx.guild.id if ctx.guild else None,
            role_ids=frozenset(role.id for role in roles),
            is_bot_owner=await self.is_owner(author),
        )

    async def _permission_check(self, ctx: Context) -> bool:
        request = await self.access_request(ctx)
        verdict = self.plugin_manager.decide(
            "securebot_permission_rules", request=request, default=DEFAULT_VERDICT
        )
        if not verdict.allowed:
            raise AccessDenied(verdict)
        return True

    async def on_command_error(  # type: ignore[override]
        self, ctx: Context, error: commands.CommandError
    ) -> None:
        """Tell the user briefly what went wrong; log unexpected failures with their plugin."""
        if isinstance(error, commands.CommandNotFound):
            return
        if isinstance(error, AccessDenied):
            await ctx.send(f"You can't use this command here: {error.verdict.reason}.")
            return
        if isinstance(error, commands.UserInputError):
            if ctx.command is None:
                await ctx.send(str(error))
                return
            signature = ctx.command.usage or ctx.command.signature
            usage = f"{ctx.clean_prefix}{ctx.command.qualified_name} {signature}".strip()
            await ctx.send(f"{error}\nUsage: `{usage}`")
            return
        if isinstance(error, commands.CheckFailure | commands.CommandOnCooldown):
            await ctx.send(str(error))
            return
        plugin = ctx.cog.qualified_name if ctx.cog else "core"
        command = ctx.command.qualified_name if ctx.command else "?"
        original = getattr(error, "original", error)
        logger.error("command %s of plugin %s failed", command, plugin, exc_info=original)
        await ctx.send("Something went wrong while running this command; it has been logged.")

    # --- events -----------------------------------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        """Run commands, then let the ``securebot_on_message`` observers see the message."""
        if self.user is not None and message.author.id == self.user.id:
            return
        await self.process_commands(message)
        await self.plugin_manager.notify("securebot_on_message", message=message)

    async def on_member_join(self, member: discord.Member) -> None:
        """Forward to ``securebot_on_member_join``."""
        await self.plugin_manager.notify("securebot_on_member_join", member=member)

    async def on_member_remove(self, member: discord.Member) -> None:
        """Forward to ``securebot_on_member_remove``."""
        await self.plugin_manager.notify("securebot_on_member_remove", member=member)
