"""The ``chatlogs`` plugin: ``savechat [n]`` and ``deletedm [message id]``.

``savechat`` exports the channel's last *n* messages (default 150, at most 2000) through
:class:`securebot.exports.ExportService`: rendered in memory, packed into a 7-Zip AES-256 archive
with encrypted headers, stored for 30 days. The requester gets two DMs: the download link, then
the password alone (so ``deletedm`` can remove it once saved). A status message in the channel
shows progress; where DMs are closed the export is deleted and the channel is told so, with
nothing else.

``deletedm`` works only in DMs and needs no permission: it deletes the bot's messages in that DM
(one message by id, or all of them) and confirms how many were removed.

Configuration (``[plugin.chatlogs]``): ``store_dir`` (archives; default ``exports``), or
``s3_bucket`` + ``kms_key_id`` (+ ``s3_endpoint``) for S3,
``gateway_url`` (the download gateway, ``https://...``; ``http://127.0.0.1:...`` in development
only) and ``token_key_env`` (the environment variable holding the gateway's base64 signing key;
default ``SECUREBOT_EXPORT_TOKEN_KEY``; the composition root may instead hand the key over as a
``Secret`` in ``token_key``, which no configuration file can hold). Without a gateway, the local
store cannot make links and ``savechat`` says so instead of exporting (a warning is logged at
startup). In development, the composition root (:mod:`securebot.runtime.downloads`) runs a
loopback gateway in the bot's process when none is configured.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import discord
from discord.ext import commands

import securebot
from securebot.crypto import Secret
from securebot.errors import CommandInputError, ConfigError, ExportError
from securebot.exports import (
    OBJECT_STORE_SETTINGS,
    SAVECHAT_DEFAULT,
    SAVECHAT_MAX,
    SIGNING_KEY_ENV,
    DownloadTokenSigner,
    ExportInfo,
    ExportService,
    FormatRegistry,
    LocalExportStore,
    MemoryExportMetadataStore,
    StoreExportMetadata,
    check_limit,
    object_store_from_settings,
    signing_key_from_env,
)

logger = logging.getLogger("securebot.plugins.chatlogs")

#: At most this many of the bot's DMs are looked at by ``deletedm`` without an id.
DELETEDM_SCAN = 500
#: Seconds between two purges of expired exports.
PURGE_INTERVAL = 3600.0
#: Seconds between two edits of the progress message.
PROGRESS_EVERY = 2.0
#: Hosts a development gateway may be reached on over plain HTTP.
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
#: What ``savechat`` says when this bot has no way to hand out download links.
NO_LINKS = (
    "Chat-log exports are not set up on this bot: it has no download gateway to send links "
    "through. Ask the bot's operator to configure one."
)


def _gateway_url_problem(url: object, *, production: bool) -> str:
    """Why ``url`` cannot be the download gateway's address ("" when it can)."""
    if not isinstance(url, str):
        return "gateway_url must be an https:// URL"
    if url.startswith("https://"):
        return ""
    if url.startswith("http://") and urlsplit(url).hostname in _LOOPBACK:
        return "" if not production else "gateway_url must be https:// in production"
    return "gateway_url must be an https:// URL (plain http:// only on 127.0.0.1 in development)"


def _service_from_settings(
    settings: Mapping[str, Any], bot: securebot.Bot, *, production: bool = True
) -> ExportService:
    unknown = set(settings) - {"gateway_url", "token_key_env", "token_key"} - OBJECT_STORE_SETTINGS
    if unknown:
        raise ConfigError(f"[plugin.chatlogs]: unknown setting(s) {', '.join(sorted(unknown))}")
    given = _given_signer(settings["token_key"]) if "token_key" in settings else None
    gateway_url = settings.get("gateway_url")
    signer = None
    if gateway_url is not None:
        problem = _gateway_url_problem(gateway_url, production=production)
        if problem:
            raise ConfigError(f"[plugin.chatlogs] {problem}")
        if given is not None:
            return _service(settings, bot, gateway_url, given)
        try:
            key = signing_key_from_env(str(settings.get("token_key_env", SIGNING_KEY_ENV)))
        except ConfigError as exc:
            raise ConfigError(f"[plugin.chatlogs] the gateway's signing key: {exc}") from None
        signer = DownloadTokenSigner(key)
    return _service(settings, bot, gateway_url, signer)


def _given_signer(key: object) -> DownloadTokenSigner:
    """The signer for a key the composition root handed over (``token_key``)."""
    if not isinstance(key, Secret) or not isinstance(key.reveal(), bytes) or len(key) < 32:
        raise ConfigError(
            "[plugin.chatlogs] token_key is set by the program that runs the bot (a Secret of "
            "≥ 32 bytes), never in a configuration file: put the key in the environment and "
            "name the variable with token_key_env"
        )
    return DownloadTokenSigner(key)


def _service(
    settings: Mapping[str, Any],
    bot: securebot.Bot,
    gateway_url: str | None,
    signer: DownloadTokenSigner | None,
) -> ExportService:
    store = getattr(bot, "store", None)
    metadata: Any
    metadata = StoreExportMetadata(store) if store is not None else MemoryExportMetadataStore()
    objects = object_store_from_settings(settings)
    return ExportService(
        store=objects,
        metadata=metadata,
        signer=signer,
        gateway_url=gateway_url,
        formats=FormatRegistry.from_plugins(bot.plugin_manager),
        audit=bot.audit_log,
    )


def _messages(count: int) -> str:
    return f"{count} message" if count == 1 else f"{count} messages"


def _can_link(service: ExportService) -> bool:
    """Whether ``service`` can hand out links: through a gateway, or presigned store URLs."""
    return service.gateway_url is not None or not isinstance(service.store, LocalExportStore)


def _describe(channel: Any) -> str:
    name = getattr(channel, "name", None) or "channel"
    guild = getattr(getattr(channel, "guild", None), "name", None)
    return f"#{name} ({guild})" if guild else f"#{name}"


class ChatLogs(securebot.Plugin):
    """``savechat`` and ``deletedm``."""

    manifest = securebot.PluginManifest(
        name="chatlogs",
        version="1.0.0",
        description="Encrypted chat-log exports sent by DM (savechat) and deletedm.",
        user_data=securebot.UserData.kept(
            "For each export: the requester's user id, server and channel ids, times, size and "
            "hash, kept with the encrypted archive for 30 days. The password is never stored."
        ),
        intents={"guild_messages", "dm_messages", "message_content"},
        permissions={"send_messages", "read_message_history"},
    )

    def __init__(self, service: ExportService | None = None) -> None:
        """:param service: the export service (tests, custom wiring); built from
        ``[plugin.chatlogs]`` at startup otherwise."""
        self.service = service
        self._settings: Mapping[str, Any] = {}
        self._production = True
        self._purge_task: asyncio.Task[None] | None = None

    # --- lifecycle and data rights ----------------------------------------------------------

    @securebot.hookimpl
    def securebot_configure(self, config: securebot.Config) -> None:
        """Keep ``[plugin.chatlogs]`` for startup."""
        self._settings = config.plugin_settings("chatlogs")
        self._production = config.production

    @securebot.hookimpl
    async def securebot_startup(self, bot: securebot.Bot) -> None:
        """Build the export service from the settings (unless one was given) and start the
        hourly purge of expired exports."""
        if self.service is None:
            self.service = _service_from_settings(self._settings, bot, production=self._production)
        if not _can_link(self.service):
            logger.warning(
                "chatlogs: savechat is unavailable: exports go to a local directory and no "
                "download gateway is configured ([plugin.chatlogs] gateway_url)"
            )
        self._purge_task = asyncio.get_running_loop().create_task(self._purge_loop(self.service))

    @securebot.hookimpl
    async def securebot_shutdown(self, bot: securebot.Bot) -> None:
        """Stop the purge task."""
        task, self._purge_task = self._purge_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @staticmethod
    async def _purge_loop(service: ExportService) -> None:
        while True:
            try:
                removed = await service.purge_expired()
            except Exception:
                logger.exception("chatlogs: purging expired exports failed; retrying in an hour")
            else:
                if removed:
                    logger.info("chatlogs: purged %d expired export(s)", removed)
            await asyncio.sleep(PURGE_INTERVAL)

    @securebot.hookimpl
    async def securebot_export_user_data(self, user_id: int) -> Mapping[str, Any] | None:
        """The user's exports (ids, where, when, size, hash; never passwords)."""
        if self.service is None:
            return None
        records = await self.service.metadata.owned_by(user_id)
        return {
            "exports": [
                {
                    "export_id": r.export_id,
                    "guild_id": r.guild_id,
                    "channel_id": r.channel_id,
                    "created_at": r.created_at,
                    "expires_at": r.expires_at,
                    "messages": r.message_count,
                    "size": r.size,
                    "sha256": r.sha256,
                }
                for r in records
            ]
        }

    @securebot.hookimpl
    async def securebot_delete_user_data(self, user_id: int) -> int:
        """Delete the user's exports (archives and records)."""
        if self.service is None:
            return 0
        removed = 0
        for record in await self.service.metadata.owned_by(user_id):
            removed += await self.service.remove(record.export_id)
        return removed

    # --- savechat ---------------------------------------------------------------------------

    @securebot.requires(user={"manage_messages"}, bot={"read_message_history"})
    @securebot.command(
        usage="[n]",
        help=(
            f"Export the last n messages of this channel (default {SAVECHAT_DEFAULT}, at most "
            f"{SAVECHAT_MAX}) to an encrypted archive; you get the link and the password by DM. "
            "The file is deleted after 30 days."
        ),
    )
    @commands.guild_only()
    async def savechat(self, ctx: securebot.Context, n: int = SAVECHAT_DEFAULT) -> None:
        """Export the channel's last ``n`` messages and DM the link and the password."""
        service = self.service
        if service is None:
            raise ExportError("chat-log exports are not configured on this bot")
        if not _can_link(service):
            await ctx.send(NO_LINKS)
            return
        try:
            check_limit(n, cap=SAVECHAT_MAX)
        except CommandInputError as exc:
            raise commands.BadArgument(str(exc)) from None
        channel = ctx.channel
        me = ctx.guild.me if ctx.guild is not None else None
        if (
            me is not None
            and isinstance(channel, discord.abc.GuildChannel | discord.Thread)
            and not channel.permissions_for(me).read_message_history
        ):
            await ctx.send(
                "I can't export this channel: I don't have the Read Message History "
                "permission here."
            )
            return
        status = await ctx.send(f"Exporting the last {_messages(n)}…")
        info = ExportInfo(
            _describe(channel),
            discord.utils.utcnow(),
            channel_id=channel.id,
            guild_id=ctx.guild.id if ctx.guild else None,
        )
        progress = self._progress(status, n)
        # The command message itself is not part of the export.
        try:
            result = await service.export_channel(
                channel,
                info,
                owner_id=ctx.author.id,
                limit=n,
                progress=progress,
                before=ctx.message,
            )
        except discord.Forbidden:
            await status.edit(content="I can't read this channel's history, so nothing was saved.")
            return
        except ExportError as exc:
            logger.error("chatlogs: export failed: %s", exc)
            await status.edit(content="The export failed and nothing was kept; it has been logged.")
            return
        expires = int(result.record.expires_at)
        try:
            link_dm = await ctx.author.send(
                f"Your export of {info.title} ({_messages(result.record.message_count)}) is "
                f"ready: {result.link}\nThe link works for a limited time; the file is deleted "
                f"<t:{expires}:R>. The password follows in a separate message: keep it "
                "somewhere safe, then remove it here with `deletedm`."
            )
            try:
                await ctx.author.send(f"Password: `{result.password.reveal()}`")
            except discord.HTTPException:
                await link_dm.delete()
                raise
        except discord.HTTPException:
            await service.remove(result.record.export_id)
            await status.edit(
                content=(
                    "I couldn't send you a direct message, so I deleted the export. Allow "
                    "direct messages from this server's members and run the command again."
                )
            )
            return
        await status.edit(
            content=(
                f"Done: {_messages(result.record.message_count)} exported. I sent you the link "
                "and the password in two direct messages."
            )
        )

    @staticmethod
    def _progress(status: discord.Message, total: int) -> Callable[[int], Awaitable[None]]:
        last = [time.monotonic()]

        async def report(fetched: int) -> None:
            now = time.monotonic()
            if fetched < total and now - last[0] < PROGRESS_EVERY:
                return
            last[0] = now
            try:
                await status.edit(content=f"Exporting… {fetched}/{total} messages fetched.")
            except discord.HTTPException:
                return  # progress is cosmetic; the export goes on

        return report

    # --- deletedm ---------------------------------------------------------------------------

    @securebot.command(
        usage="[message id]",
        always_available=True,
        help=(
            "In a DM with me: delete one of my messages by id (for example an archive "
            "password), or all of my messages here."
        ),
    )
    @commands.dm_only()
    async def deletedm(self, ctx: securebot.Context, message_id: int | None = None) -> None:
        """Delete the bot's DMs to the caller: one by id, or all (up to the last 500)."""
        me = ctx.bot.user
        if me is None:
            return
        channel = ctx.channel
        if message_id is not None:
            try:
                message = await channel.fetch_message(message_id)
            except discord.NotFound:
                await ctx.send("There is no message with that id in this conversation.")
                return
            if message.author.id != me.id:
                await ctx.send("That message isn't mine; I can only delete my own messages.")
                return
            await message.delete()
            await ctx.send("Deleted 1 of my messages in this conversation.")
            return
        deleted = 0
        async for message in channel.history(limit=DELETEDM_SCAN):
            if message.author.id == me.id:
                try:
                    await message.delete()
                except discord.NotFound:
                    continue
                deleted += 1
        noun = "message" if deleted == 1 else "messages"
        await ctx.send(f"Deleted {deleted} of my {noun} in this conversation.")
