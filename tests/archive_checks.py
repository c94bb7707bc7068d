"""Checks of an archive written by an exporting command's ``--archive`` (with the real ``7z``)."""

from __future__ import annotations

import re
import stat
from pathlib import Path

from tests.exports.conftest import run_7z

#: The line of standard error that shows the password once.
PASSWORD_LINE = re.compile(r"^  password: (\S+)$", re.MULTILINE)


def open_cli_archive(path: Path, stderr: str, into: Path) -> tuple[str, dict[str, str]]:
    """The password the command printed and the files inside ``path``, once 7-Zip has tested
    and extracted it with that password, refused it without, and listed no name without it."""
    (password,) = PASSWORD_LINE.findall(stderr)
    assert len(password) >= 24  # 144 random bits, URL-safe base64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    tested = run_7z("t", f"-p{password}", str(path))
    assert tested.returncode == 0, tested.stdout + tested.stderr
    raw = path.read_bytes()
    refused = [
        run_7z("t", "-pwrong-password", str(path)),
        run_7z("l", "-pwrong-password", str(path)),
        run_7z("l", "-p", str(path)),
    ]
    assert all(result.returncode != 0 for result in refused)
    extracted = run_7z("x", f"-p{password}", f"-o{into}", str(path))
    assert extracted.returncode == 0, extracted.stdout + extracted.stderr
    files = {item.name: item.read_text(encoding="utf-8") for item in into.iterdir()}
    assert "README.txt" in files
    for name in files:  # names are encrypted: neither listed nor in the bytes
        assert all(name not in result.stdout + result.stderr for result in refused)
        assert name.encode() not in raw
    assert password not in str(path)
    assert all(password not in text for text in files.values())
    return password, files
