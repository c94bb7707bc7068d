"""Components (buttons, selects) decided by the same permission engine as commands.

discord.py routes component interactions to the view that owns them, not through the command
tree, so a view's ``interaction_check`` is where the engine runs for components::

    class Confirm(securebot.SecureView):
        @discord.ui.button(label="Ban", custom_id="mod:ban")
        async def ban(self, interaction, button): ...

    await ctx.send("Sure?", view=Confirm(module="moderation", requirement=...))

Every click is decided for the clicking user (module switch, channel list, grants, Discord
permissions, plugin rules), recorded in the audit log (``via="component"``), and refused
ephemerally when denied. Outside a securebot :class:`~securebot.Bot` the view refuses every
click (fail closed).
"""

from __future__ import annotations

import time
from typing import Any

import discord

from securebot.core.audit.recorder import CORRELATION, new_correlation_id
from securebot.core.permissions.model import Requirement


class SecureView(discord.ui.View):
    """A :class:`discord.ui.View` whose every interaction goes through the permission engine."""

    def __init__(
        self,
        *,
        module: str,
        requirement: Requirement | None = None,
        timeout: float | None = 180.0,
    ) -> None:
        """:param module: the plugin (module) whose permissions govern the components.
        :param requirement: Discord permissions the clicking user (and the bot) need.
        """
        super().__init__(timeout=timeout)
        self.module = module
        self.requirement = requirement if requirement is not None else Requirement()

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        """Decide the click with the bot's gate; record it; refuse ephemerally if denied."""
        started = time.perf_counter()
        client = interaction.client
        gate = getattr(client, "permissions", None)
        check = getattr(gate, "check_interaction", None)
        if check is None:
            return False
        data: Any = interaction.data or {}
        custom_id = str(data.get("custom_id", ""))[:100]
        name = f"component:{custom_id}"
        verdict = await check(
            interaction, module=self.module, command_name=name, requirement=self.requirement
        )
        auditor = getattr(client, "auditor", None)
        if auditor is not None:
            auditor.command(
                via="component",
                action=name,
                guild_id=interaction.guild_id,
                actor_id=interaction.user.id,
                channel_id=interaction.channel_id,
                arguments={},
                rule=verdict.source,
                outcome="ok" if verdict.allowed else "denied",
                duration_ms=(time.perf_counter() - started) * 1000,
                correlation_id=CORRELATION.get() or new_correlation_id(),
            )
        if verdict.allowed:
            return True
        if not interaction.response.is_done():
            await interaction.response.send_message(
                f"You can't use this here: {verdict.reason}.", ephemeral=True
            )
        return False
