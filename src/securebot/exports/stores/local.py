"""``local``: encrypted archives in a directory, the embedded default, with an hourly purge.

Files are written atomically (temporary name, then rename) with mode 0600 in 0700 directories.
Each file's modification time is set to the store's clock at ``put``, and :meth:`purge` removes
files whose time is past retention: only files whose path is a valid export key, never anything
else in the directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from securebot.errors import ExportError, RecordNotFoundError
from securebot.exports.stores.base import DEFAULT_RETENTION, EXPORT_PREFIX, is_object_key

logger = logging.getLogger("securebot.exports")

#: Seconds between two purges of :meth:`LocalExportStore.run_purge`.
PURGE_INTERVAL = 3600.0


class LocalExportStore:
    """Archives in a directory on this machine."""

    name = "local"

    def __init__(
        self,
        root: Path | str,
        *,
        retention: dt.timedelta = DEFAULT_RETENTION,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """:param clock: unix time source (tests set it)."""
        self.root = Path(root)
        self.retention = retention
        self.clock = clock

    def _path(self, key: str) -> Path:
        if not is_object_key(key):
            raise RecordNotFoundError("no such export object")
        return self.root / key

    # --- writing ----------------------------------------------------------------------------

    def _put_sync(self, key: str, data: bytes, sha256: str) -> None:
        if hashlib.sha256(data).hexdigest() != sha256:
            raise ExportError("the archive does not match its SHA-256; nothing was stored")
        path = self._path(key)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            now = self.clock()
            os.utime(tmp, (now, now))
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise

    async def put(self, key: str, data: bytes, *, sha256: str) -> None:
        """Write the archive under ``key`` (atomically, mode 0600)."""
        await asyncio.to_thread(self._put_sync, key, data, sha256)

    # --- reading ----------------------------------------------------------------------------

    async def stream(self, key: str, *, chunk_size: int = 256 * 1024) -> AsyncIterator[bytes]:
        """The archive's bytes in chunks, read in a worker thread."""
        path = self._path(key)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            raise RecordNotFoundError("no such export object") from None
        except OSError as exc:
            raise ExportError(f"the export store cannot read an object: {exc.strerror}") from None
        try:
            while chunk := await asyncio.to_thread(handle.read, chunk_size):
                yield chunk
        finally:
            handle.close()

    async def read(self, key: str) -> bytes:
        """The whole archive (small objects and tests)."""
        return b"".join([chunk async for chunk in self.stream(key)])

    async def presign(self, key: str, *, expires_in: int, filename: str) -> str | None:
        """``None``: a directory has no URLs; the gateway streams the file."""
        return None

    async def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        return await asyncio.to_thread(self._path(key).is_file)

    # --- deleting ---------------------------------------------------------------------------

    async def delete(self, key: str) -> bool:
        """Remove the archive under ``key``."""
        path = self._path(key)
        try:
            await asyncio.to_thread(path.unlink)
        except FileNotFoundError:
            return False
        return True

    def _purge_sync(self) -> int:
        cutoff = self.clock() - self.retention.total_seconds()
        base = self.root / EXPORT_PREFIX
        removed = 0
        if not base.is_dir():
            return 0
        for path in base.rglob("*.7z"):
            key = path.relative_to(self.root).as_posix()
            if not is_object_key(key) or not path.is_file() or path.is_symlink():
                continue
            if path.stat().st_mtime < cutoff:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    removed += 1
        return removed

    async def purge(self) -> int:
        """Remove archives older than the retention; nothing else in the directory is touched."""
        removed = await asyncio.to_thread(self._purge_sync)
        if removed:
            logger.info("export store: purged %d archive(s) past retention", removed)
        return removed

    async def run_purge(self, *, interval: float = PURGE_INTERVAL) -> None:
        """Purge now and then every ``interval`` seconds, until cancelled; errors are logged."""
        while True:
            try:
                await self.purge()
            except Exception:
                logger.exception("export store: purge failed; retrying at the next interval")
            await asyncio.sleep(interval)
