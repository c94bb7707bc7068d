"""Where a command-line export goes: standard output, a private file, or an encrypted archive.

The exporting commands (``securebot storage export-user`` / ``export-guild``, ``securebot audit
export``) share three options, added by :func:`destination_options`:

* ``--output FILE``: the text, readable, in a new file created with mode 0600;
* ``--archive FILE.7z``: a new encrypted 7-Zip archive (AES-256, encrypted file names; mode
  0600) holding ``README.txt`` and the text, built in memory so that the plaintext never
  touches the disk. A random password (:func:`securebot.exports.new_password`) is shown once,
  on standard error, with the archive's SHA-256 and size; it is stored and logged nowhere;
* ``--plaintext``: in production, ``--output`` is refused (it would leave personal data readable
  on disk) unless this flag acknowledges it. Standard output stays allowed: it goes to the
  operator's terminal or pipe.

Neither kind of file ever replaces an existing one. :func:`check_destination` validates the
choice before any data is read; :func:`deliver` writes the text where it was asked to go.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from securebot.errors import ExportError

if TYPE_CHECKING:
    from securebot.core.config import Config
    from securebot.exports import Archive

_F = TypeVar("_F", bound=Callable[..., Any])

#: The only file name ending accepted by ``--archive``.
ARCHIVE_SUFFIX = ".7z"
#: What to install when py7zr is missing.
ARCHIVE_EXTRA = "pip install securebot[archive]"


def destination_options(what: str) -> Callable[[_F], _F]:
    """Add ``--output``, ``--archive`` and ``--plaintext`` to a command exporting ``what``."""

    def decorate(func: _F) -> _F:
        path = click.Path(dir_okay=False, path_type=Path)
        func = click.option(
            "--plaintext",
            is_flag=True,
            help="In production, acknowledge that --output writes personal data unencrypted.",
        )(func)
        func = click.option(
            "--archive",
            type=path,
            default=None,
            metavar="FILE.7z",
            help=f"Write {what} into this new encrypted 7-Zip archive (mode 0600); the "
            "password is shown once on standard error.",
        )(func)
        return click.option(
            "--output",
            type=path,
            default=None,
            help=f"Write {what}, readable, to this new file (mode 0600) instead of standard "
            "output; refused in production without --plaintext.",
        )(func)

    return decorate


def is_production(environment: str | None, config: Config) -> bool:
    """Whether the explicit ``environment`` (else ``$SECUREBOT_ENV``) or ``config`` says
    production: either one is enough (fail closed)."""
    from securebot.crypto.providers import current_environment

    return current_environment(environment) == "production" or config.production


def check_destination(
    output: Path | None, archive: Path | None, plaintext: bool, *, production: bool
) -> None:
    """Refuse a bad choice of destination before anything is read.

    :raises click.UsageError: ``--output`` with ``--archive``, ``--plaintext`` with
        ``--archive``, or an archive name not ending in ``.7z``.
    :raises ExportError: plaintext ``--output`` in production without ``--plaintext``, an
        archive file that already exists, or py7zr missing.
    """
    if output is not None and archive is not None:
        raise click.UsageError("--output and --archive exclude each other: choose one")
    if archive is not None:
        if plaintext:
            raise click.UsageError("--plaintext goes with --output, not with --archive")
        if archive.suffix.lower() != ARCHIVE_SUFFIX:
            raise click.UsageError(
                f"--archive {archive}: the file name must end in {ARCHIVE_SUFFIX}"
            )
        if os.path.lexists(archive):
            raise ExportError(f"{archive} exists; choose a new file")
        try:
            import py7zr  # noqa: F401
        except ImportError:
            raise ExportError(
                f"--archive needs py7zr, which is not installed: {ARCHIVE_EXTRA}"
            ) from None
    if output is not None and production and not plaintext:
        raise ExportError(
            f"production: refusing to write personal data unencrypted to {output}; use "
            "--archive FILE.7z for an encrypted archive (or pass --plaintext to accept a "
            "readable file)"
        )


def write_new_file(path: Path, data: bytes) -> None:
    """Create ``path`` with mode 0600 and write ``data``; never replaces an existing file.

    A file left incomplete by a failed write is removed.

    :raises ExportError: the file exists or cannot be created or written.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ExportError(f"{path} exists; choose a new file") from None
    except OSError as exc:
        raise ExportError(f"cannot create {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise ExportError(f"cannot write {path}: {exc.strerror}") from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def readme(*, about: str, member: str, store: str, command: str, when: dt.datetime) -> str:
    """The ``README.txt`` of an export archive (no secret: what, when, from where)."""
    return (
        "securebot export\n"
        "================\n\n"
        f"What:     {about}\n"
        f"File:     {member} (UTF-8)\n"
        f"Created:  {when.astimezone(dt.UTC).strftime('%Y-%m-%d %H:%M:%S')} UTC\n"
        f"Store:    {store}\n"
        f"Command:  {command}\n\n"
        "This archive is encrypted (7-Zip AES-256, file names hidden). Its password was shown\n"
        "once to the operator who created it and is stored nowhere. Open it with `7z x` or any\n"
        "7-Zip compatible tool.\n\n"
        "It holds personal data: keep it private and delete it when it is no longer needed.\n"
    )


def write_archive(path: Path, files: list[tuple[str, bytes]]) -> Archive:
    """Build an encrypted archive of ``files`` in memory, write it to the new file ``path``
    (mode 0600) and show its password, SHA-256 and size once on standard error.

    :raises ExportError: the archive cannot be built or written (never naming the password).
    """
    from securebot.exports import build_archive, new_password

    if sys.stderr is None:
        raise ExportError(
            "--archive shows the archive's password on standard error, which is closed; "
            "nothing was written"
        )
    password = new_password()
    built = build_archive(files, password)
    write_new_file(path, built.data)
    try:
        click.echo(
            f"wrote {path}: encrypted 7-Zip archive, {built.size} bytes\n"
            f"  SHA-256:  {built.sha256}\n"
            f"  password: {password.reveal()}\n"
            "  The password is shown only now and stored nowhere: hand it over apart from the "
            "file.\n"
            f"  Open it with: 7z x {path}",
            err=True,
        )
    except BaseException:
        # Without its password the archive opens for nobody: do not leave it behind.
        path.unlink(missing_ok=True)
        raise
    return built


def deliver(
    text: str,
    *,
    output: Path | None,
    archive: Path | None,
    member: str,
    about: str,
    store: str,
) -> None:
    """Send ``text`` where :func:`destination_options` asked: an archive holding it as
    ``member`` (with a README naming ``about`` and ``store``), a file, or standard output."""
    if archive is not None:
        subcommand = click.get_current_context().command_path.split()[1:]
        notes = readme(
            about=about,
            member=member,
            store=store,
            command=" ".join(["securebot", *subcommand]),
            when=dt.datetime.now(dt.UTC),
        )
        write_archive(archive, [("README.txt", notes.encode()), (member, text.encode())])
    elif output is not None:
        write_new_file(output, text.encode())
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)
