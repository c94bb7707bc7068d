"""Encrypted 7-Zip archives built in memory: AES-256, encrypted headers, LZMA2.

Stock 7-Zip (and every tool built on it) opens what :func:`build_archive` writes: LZMA2
compression, the 7z AES-256 + SHA-256 key-derivation coder, and encrypted headers so that not
even the file names can be listed without the password. zstd/brotli would be 3-5x faster but
stock 7-Zip cannot open them, so they are never used.

7z AES has no MAC (integrity is a CRC32 of the plaintext), so the SHA-256 of the archive is
computed here and recorded in the export's metadata.

The key derivation is 2^19 SHA-256 rounds (run once per archive, shared by the content and
header coders: :mod:`securebot.exports.keyderivation`) and LZMA2 is CPU-bound:
:func:`build_archive_async` runs the whole build in a worker thread so the event loop stays
responsive. py7zr is imported lazily (the ``archive`` extra).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
import secrets
from collections.abc import Sequence
from typing import Any

import attrs

from securebot.crypto import Secret
from securebot.errors import ExportError
from securebot.exports.keyderivation import derive_keys_once

#: Above this much plaintext, LZMA2 preset 1 (~17-21 MB/s) replaces the default preset 7
#: (~1-2 MB/s): a savechat-sized export stays small, a big operator export stays fast.
FAST_THRESHOLD = 4 * 1024 * 1024
#: LZMA2 preset used below :data:`FAST_THRESHOLD` (py7zr's and 7-Zip's default).
DEFAULT_PRESET = 7
#: LZMA2 preset used above :data:`FAST_THRESHOLD`.
FAST_PRESET = 1
#: Bytes of entropy in a generated password (144 bits; ≥ 128 required).
PASSWORD_BYTES = 18
#: Bytes py7zr feeds the compressor per call. py7zr's default (32 KiB) makes the archiving
#: thread run Python (and re-take the GIL) every ~1.5 ms of compression; 1 MiB chunks spend
#: longer stretches with the GIL released (measured faster, and kinder to the event loop).
BLOCK_SIZE = 1 << 20
#: Media type of the archives.
MEDIA_TYPE = "application/x-7z-compressed"

_ARCNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def new_password() -> Secret[str]:
    """A random archive password: 144 bits, URL-safe text, registered with the log redactor.

    It is a :class:`~securebot.crypto.Secret` (masked in reprs and f-strings); reveal it only to
    hand it to the archive builder and to the message that delivers it.
    """
    return Secret(secrets.token_urlsafe(PASSWORD_BYTES))


def lzma2_preset(plaintext_size: int, *, threshold: int = FAST_THRESHOLD) -> int:
    """The LZMA2 preset for ``plaintext_size`` bytes of input."""
    return FAST_PRESET if plaintext_size > threshold else DEFAULT_PRESET


def archive_filters(preset: int) -> list[dict[str, int]]:
    """py7zr filters: LZMA2 at ``preset``, then 7z AES-256 + SHA-256 (what 7-Zip writes)."""
    import py7zr

    return [
        {"id": py7zr.FILTER_LZMA2, "preset": preset},
        {"id": py7zr.FILTER_CRYPTO_AES256_SHA256},
    ]


@attrs.frozen
class Archive:
    """A built archive: its bytes and what the metadata records about it."""

    data: bytes = attrs.field(repr=False)
    #: Hex SHA-256 of :attr:`data`.
    sha256: str
    #: Total bytes of the files inside.
    plaintext_size: int
    #: LZMA2 preset used.
    preset: int

    @property
    def size(self) -> int:
        """Size of the archive in bytes."""
        return len(self.data)


def _check_names(names: Sequence[str]) -> None:
    if not names:
        raise ExportError("an archive needs at least one file")
    seen: set[str] = set()
    for name in names:
        if not isinstance(name, str) or not _ARCNAME.fullmatch(name) or ".." in name:
            raise ExportError(f"archive member name {name!r} is not a plain file name")
        if name in seen:
            raise ExportError(f"archive member {name!r} appears twice")
        seen.add(name)


def _check_files(files: Sequence[tuple[str, bytes]]) -> None:
    _check_names([name for name, _ in files])
    for name, data in files:
        if not isinstance(data, bytes):
            raise ExportError(f"archive member {name!r} is not bytes")


def _check_password(password: Secret[str]) -> None:
    if not isinstance(password, Secret) or len(password) < 16:
        raise ExportError("the archive password must be a Secret of at least 16 characters")


def write_7z(
    files: Sequence[tuple[str, bytes]], password: str, filters: list[dict[str, Any]]
) -> bytes:
    """The py7zr write (into memory) that :func:`build_archive` wraps.

    The content and header coders share one key derivation (:func:`derive_keys_once`).
    """
    import py7zr

    out = io.BytesIO()
    with (
        derive_keys_once(),
        py7zr.SevenZipFile(
            out,
            "w",
            password=password,
            header_encryption=True,
            filters=filters,
            blocksize=BLOCK_SIZE,
        ) as archive,
    ):
        for name, data in files:
            archive.writestr(data, name)
    return out.getvalue()


def build_archive(
    files: Sequence[tuple[str, bytes]],
    password: Secret[str],
    *,
    fast_threshold: int = FAST_THRESHOLD,
) -> Archive:
    """Pack ``files`` (``(name, bytes)`` pairs) into an encrypted 7z archive, in memory.

    Blocking (CPU-bound): call :func:`build_archive_async` from the event loop.

    :raises ExportError: bad member names, or the archiver failed (the password is never in
        the message).
    """
    _check_files(files)
    _check_password(password)
    total = sum(len(data) for _, data in files)
    preset = lzma2_preset(total, threshold=fast_threshold)
    try:
        data = write_7z(files, password.reveal(), archive_filters(preset))
    except ImportError as exc:
        raise ExportError("encrypted archives need py7zr: install securebot[archive]") from exc
    except Exception as exc:  # noqa: BLE001 - any archiver failure becomes one clear error
        # py7zr's messages do not carry the password, but do not even risk chaining it.
        raise ExportError(f"building the archive failed: {type(exc).__name__}") from None
    return Archive(data, hashlib.sha256(data).hexdigest(), total, preset)


async def build_archive_async(
    files: Sequence[tuple[str, bytes]],
    password: Secret[str],
    *,
    fast_threshold: int = FAST_THRESHOLD,
) -> Archive:
    """:func:`build_archive` in a worker thread (the event loop keeps serving Discord)."""
    return await asyncio.to_thread(build_archive, files, password, fast_threshold=fast_threshold)
