"""The export pipeline: render → encrypted archive → object store → metadata → link.

:class:`ExportService` is what ``savechat``, raid-room logs and data exports share. It renders
the messages and builds the archive in a worker thread (the event loop stays responsive), stores
the archive under a key that reveals nothing, records the metadata (never the password), and
returns an :class:`ExportResult` with the password as a :class:`~securebot.crypto.Secret` and a
download link: a gateway URL with a short-lived signed token, or (without a gateway) a presigned
URL valid for minutes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote

import attrs

from securebot.core.audit.model import AuditEvent, EventKind
from securebot.crypto import Secret, register_secret, unregister_secret
from securebot.errors import ExportError, RecordNotFoundError
from securebot.exports.archive import FAST_THRESHOLD, Archive, build_archive, new_password
from securebot.exports.fetch import SAVECHAT_MAX, Progress, fetch_history
from securebot.exports.formats import (
    DEFAULT_FORMATS,
    README_NAME,
    FormatRegistry,
    readme_text,
    render_files,
)
from securebot.exports.metadata import ExportMetadataStore, ExportRecord, new_export_id
from securebot.exports.model import ExportInfo, ExportMessage
from securebot.exports.stores.base import DEFAULT_RETENTION, ObjectStore, new_object_key
from securebot.exports.tokens import DownloadTokenSigner

if TYPE_CHECKING:
    import discord

logger = logging.getLogger("securebot.exports")

#: Lifetime of presigned URLs handed out (gateway redirects and gateway-less links).
PRESIGN_SECONDS = 300


def _redact_for(bearer: str, seconds: float) -> None:
    """Have the log redactor remove ``bearer`` (a link's token, a presigned URL) while it
    works: the DM carrying it is logged by discord.py at DEBUG. Forgotten once expired, so the
    registry does not grow with every link."""
    register_secret(bearer)
    asyncio.get_running_loop().call_later(seconds, unregister_secret, bearer)


class AuditSink(Protocol):
    """Anything that takes audit events (:class:`~securebot.core.audit.AuditLog` does)."""

    def record(self, event: AuditEvent) -> None:
        """Queue ``event``."""


@attrs.frozen
class ExportResult:
    """A finished export: what to send the requester (link and password, separately)."""

    record: ExportRecord
    password: Secret[str]
    link: str = attrs.field(repr=False)


class ExportService:
    """Builds, stores and hands out encrypted exports."""

    def __init__(
        self,
        *,
        store: ObjectStore,
        metadata: ExportMetadataStore,
        signer: DownloadTokenSigner | None = None,
        gateway_url: str | None = None,
        formats: FormatRegistry | None = None,
        retention: dt.timedelta = DEFAULT_RETENTION,
        audit: AuditSink | None = None,
        clock: Callable[[], float] = time.time,
        fast_threshold: int = FAST_THRESHOLD,
    ) -> None:
        """:param gateway_url: base URL of ``securebot gateway`` (``https://host``); with
        ``signer`` it makes download links. Without it, links are presigned store URLs.
        :param clock: unix time source (tests set it).
        """
        if gateway_url is not None and signer is None:
            raise ExportError("a gateway URL needs a download-token signer (the shared key)")
        if gateway_url is not None and not gateway_url.startswith(("https://", "http://")):
            raise ExportError("the gateway URL must start with https://")
        self.store = store
        self.metadata = metadata
        self.signer = signer
        self.gateway_url = gateway_url.rstrip("/") if gateway_url else None
        self.formats = formats if formats is not None else FormatRegistry()
        self.retention = retention
        self.audit = audit
        self.clock = clock
        self.fast_threshold = fast_threshold

    # --- building ---------------------------------------------------------------------------

    def pack(
        self,
        messages: Sequence[ExportMessage],
        info: ExportInfo,
        names: Sequence[str],
        password: Secret[str],
    ) -> Archive:
        """Render ``messages`` in the formats ``names`` (after a ``README.txt``) and archive
        them. Blocking: :meth:`export_messages` runs it in a worker thread.
        """
        formats = self.formats.select(names)
        readme = (README_NAME, readme_text(info, len(messages), formats))
        files = [readme, *render_files(formats, messages, info)]
        return build_archive(files, password, fast_threshold=self.fast_threshold)

    async def export_messages(
        self,
        messages: Sequence[ExportMessage],
        info: ExportInfo,
        *,
        owner_id: int,
        formats: Iterable[str] = DEFAULT_FORMATS,
    ) -> ExportResult:
        """Render ``messages`` (oldest first), archive, store, record; return link + password.

        :raises ExportError: rendering, archiving or storing failed (nothing is recorded then,
            and a stored object is removed again).
        """
        names = list(formats)
        self.formats.select(names)  # unknown names fail before any work
        password = new_password()
        archive = await asyncio.to_thread(self.pack, messages, info, names, password)
        now = self.clock()
        key = new_object_key(dt.datetime.fromtimestamp(now, dt.UTC))
        record = ExportRecord(
            export_id=new_export_id(),
            owner_id=owner_id,
            guild_id=info.guild_id,
            channel_id=info.channel_id,
            created_at=now,
            expires_at=now + self.retention.total_seconds(),
            size=archive.size,
            sha256=archive.sha256,
            store=self.store.name,
            object_key=key,
            message_count=len(messages),
            formats=tuple(names),
            label=info.title,
        )
        await self.store.put(key, archive.data, sha256=archive.sha256)
        try:
            await self.metadata.save(record)
            link = await self.link_for(record, owner_id)
        except BaseException:
            await self.store.delete(key)
            await self.metadata.delete(record.export_id)
            raise
        self._audit("exports.create", record, owner_id)
        logger.info(
            "export %s: %d messages, %d bytes, stored in %s",
            record.export_id,
            record.message_count,
            record.size,
            record.store,
        )
        return ExportResult(record, password, link)

    async def export_channel(
        self,
        channel: discord.abc.Messageable,
        info: ExportInfo,
        *,
        owner_id: int,
        limit: int,
        cap: int = SAVECHAT_MAX,
        formats: Iterable[str] = DEFAULT_FORMATS,
        progress: Progress | None = None,
        before: discord.abc.Snowflake | None = None,
    ) -> ExportResult:
        """Fetch the last ``limit`` messages of ``channel`` and :meth:`export_messages` them."""
        messages = await fetch_history(channel, limit, cap=cap, progress=progress, before=before)
        return await self.export_messages(messages, info, owner_id=owner_id, formats=formats)

    # --- links ------------------------------------------------------------------------------

    async def link_for(self, record: ExportRecord, user_id: int) -> str:
        """A download link for ``record`` usable by ``user_id`` (the owner) only.

        :raises ExportError: ``user_id`` is not the owner, the export expired, or there is no
            way to make a link (no gateway and a store without presigned URLs).
        """
        if user_id != record.owner_id:
            raise ExportError("only the person who made an export can get a link to it")
        if record.expired(self.clock()):
            raise ExportError("this export has expired and was deleted")
        if self.gateway_url is not None and self.signer is not None:
            token = self.signer.mint(record.export_id, user_id)
            _redact_for(token, self.signer.ttl)
            return f"{self.gateway_url}/exports/{record.export_id}?token={quote(token)}"
        url = await self.store.presign(
            record.object_key, expires_in=PRESIGN_SECONDS, filename=record.download_name()
        )
        if url is None:
            raise ExportError(
                f"the {self.store.name!r} export store cannot make links by itself: "
                "configure the download gateway (gateway_url and its signing key)"
            )
        _redact_for(url, PRESIGN_SECONDS)
        return url

    # --- removal and retention --------------------------------------------------------------

    async def remove(self, export_id: str) -> bool:
        """Delete an export's archive and record; ``False`` if it did not exist."""
        try:
            record = await self.metadata.get(export_id)
        except RecordNotFoundError:
            return False
        await self.store.delete(record.object_key)
        await self.metadata.delete(export_id)
        self._audit("exports.delete", record, None)
        return True

    async def purge_expired(self) -> int:
        """Delete every export past retention (records and objects); return how many."""
        removed = 0
        for record in await self.metadata.expired(self.clock()):
            await self.store.delete(record.object_key)
            await self.metadata.delete(record.export_id)
            self._audit("exports.expire", record, None)
            removed += 1
        await self.store.purge()
        return removed

    def _audit(self, action: str, record: ExportRecord, actor_id: int | None) -> None:
        if self.audit is None:
            return
        self.audit.record(
            AuditEvent(
                EventKind.JOB,
                self.clock(),
                guild_id=record.guild_id,
                actor_id=actor_id,
                channel_id=record.channel_id,
                action=action,
                via="exports",
                outcome="ok",
                detail={
                    "export_id": record.export_id,
                    "size": record.size,
                    "sha256": record.sha256,
                    "messages": record.message_count,
                },
            )
        )
