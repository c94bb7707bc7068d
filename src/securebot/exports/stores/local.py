"""``local``: encrypted archives in a directory, the embedded default, with an hourly purge.

Files are written atomically (temporary name, then rename) with mode 0600 in 0700 directories.
Paths are walked from the root without following symbolic links: a link planted in the
directory never leads a write, read or delete outside it.
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
import stat
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import BinaryIO

from securebot.errors import ExportError, RecordNotFoundError
from securebot.exports.stores.base import DEFAULT_RETENTION, EXPORT_PREFIX, is_object_key

logger = logging.getLogger("securebot.exports")

#: Seconds between two purges of :meth:`LocalExportStore.run_purge`.
PURGE_INTERVAL = 3600.0
#: Opening a directory under the root: never through a symbolic link.
_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
#: Creating an archive's temporary file: new, private, never through a link.
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


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

    def _parent(self, key: str, *, create: bool = False) -> tuple[int, str]:
        """A descriptor of ``key``'s directory and the file name in it.

        The directories under the root are opened one by one without following symbolic
        links, so a link planted in the store never leads a write, read or delete outside it.
        The caller closes the descriptor.

        :raises RecordNotFoundError: ``key`` is not an export key.
        :raises OSError: a directory is missing (``FileNotFoundError``) or is a link.
        """
        if not is_object_key(key):
            raise RecordNotFoundError("no such export object")
        *directories, name = key.split("/")
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for part in directories:
                if create:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(part, 0o700, dir_fd=fd)
                child = os.open(part, _DIRECTORY_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = child
        except BaseException:
            os.close(fd)
            raise
        return fd, name

    # --- writing ----------------------------------------------------------------------------

    def _put_sync(self, key: str, data: bytes, sha256: str) -> None:
        if hashlib.sha256(data).hexdigest() != sha256:
            raise ExportError("the archive does not match its SHA-256; nothing was stored")
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            parent, name = self._parent(key, create=True)
        except OSError as exc:
            raise ExportError(
                f"the export store cannot write under {self.root}: {exc.strerror}"
            ) from None
        tmp = f".{name}.tmp"
        try:
            fd = os.open(tmp, _NEW_FILE_FLAGS, 0o600, dir_fd=parent)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                    now = self.clock()
                    os.utime(out.fileno(), (now, now))
                os.replace(tmp, name, src_dir_fd=parent, dst_dir_fd=parent)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp, dir_fd=parent)
                raise
        finally:
            os.close(parent)

    async def put(self, key: str, data: bytes, *, sha256: str) -> None:
        """Write the archive under ``key`` (atomically, mode 0600)."""
        await asyncio.to_thread(self._put_sync, key, data, sha256)

    # --- reading ----------------------------------------------------------------------------

    def _open_sync(self, key: str) -> BinaryIO:
        try:
            parent, name = self._parent(key)
        except FileNotFoundError:
            raise RecordNotFoundError("no such export object") from None
        except OSError as exc:
            raise ExportError(f"the export store cannot read an object: {exc.strerror}") from None
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
        except FileNotFoundError:
            raise RecordNotFoundError("no such export object") from None
        except OSError as exc:
            raise ExportError(f"the export store cannot read an object: {exc.strerror}") from None
        finally:
            os.close(parent)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise ExportError("the export store cannot read an object: not a regular file")
        return os.fdopen(fd, "rb")

    async def stream(self, key: str, *, chunk_size: int = 256 * 1024) -> AsyncIterator[bytes]:
        """The archive's bytes in chunks, read in a worker thread."""
        handle = await asyncio.to_thread(self._open_sync, key)
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

    def _exists_sync(self, key: str) -> bool:
        try:
            parent, name = self._parent(key)
        except OSError:
            return False
        try:
            mode = os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode
        except OSError:
            return False
        finally:
            os.close(parent)
        return stat.S_ISREG(mode)

    async def exists(self, key: str) -> bool:
        """Whether an archive (a regular file, not a link) is stored under ``key``."""
        return await asyncio.to_thread(self._exists_sync, key)

    # --- deleting ---------------------------------------------------------------------------

    def _delete_sync(self, key: str, *, modified_before: float | None = None) -> bool:
        """Remove what is stored under ``key`` (with ``modified_before``: only a regular file
        last modified before that time).

        Checked and removed through the descriptor of its directory, walked without following
        links: a directory swapped for a link (after a purge's scan, say) cannot redirect it.
        """
        try:
            parent, name = self._parent(key)
        except (FileNotFoundError, RecordNotFoundError):
            return False  # nothing there, or not an export key: nothing of ours to delete
        except OSError as exc:
            logger.warning(
                "export store: not deleting %s: a directory on its path is a link or not a "
                "directory (%s)",
                key,
                exc.strerror,
            )
            return False
        try:
            if modified_before is not None:
                info = os.stat(name, dir_fd=parent, follow_symlinks=False)
                if not stat.S_ISREG(info.st_mode) or info.st_mtime >= modified_before:
                    return False
            os.unlink(name, dir_fd=parent)
        except FileNotFoundError:
            return False
        finally:
            os.close(parent)
        return True

    async def delete(self, key: str) -> bool:
        """Remove the archive under ``key`` (a link there is removed, never its target)."""
        return await asyncio.to_thread(self._delete_sync, key)

    def _purge_sync(self) -> int:
        cutoff = self.clock() - self.retention.total_seconds()
        base = self.root / EXPORT_PREFIX
        if not base.is_dir():
            return 0
        keys = [path.relative_to(self.root).as_posix() for path in base.rglob("*.7z")]
        return sum(
            1
            for key in keys
            if is_object_key(key) and self._delete_sync(key, modified_before=cutoff)
        )

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
