"""Encrypted 7z archives, checked with the real 7-Zip command-line tool."""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path

import pytest

from securebot.crypto import Secret
from securebot.errors import ExportError
from securebot.exports import build_archive, build_archive_async, new_password
from securebot.exports.archive import DEFAULT_PRESET, FAST_PRESET, lzma2_preset

from .conftest import run_7z

FILES = [
    ("messages.csv", "id,content\r\n1,Grüße 🎉\r\n".encode()),
    ("messages.jsonl", b'{"id":"1","content":"secret plan"}\n' * 50),
]


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "export.7z"
    path.write_bytes(data)
    return path


def test_password_is_a_registered_high_entropy_secret() -> None:
    from securebot.crypto import redact

    pw = new_password()
    assert isinstance(pw, Secret)
    assert len(pw.reveal()) >= 22  # 18 random bytes, URL-safe base64: 144 bits
    assert pw.reveal() not in repr(pw)
    assert pw.reveal() not in f"{pw}"
    assert pw.reveal() not in redact(f"the password is {pw.reveal()}")
    assert new_password().reveal() != pw.reveal()


def test_7z_tests_and_extracts_the_exact_bytes_with_the_password(tmp_path: Path) -> None:
    pw = new_password()
    archive = build_archive(FILES, pw)
    assert archive.sha256 == hashlib.sha256(archive.data).hexdigest()
    assert archive.plaintext_size == sum(len(d) for _, d in FILES)
    path = _write(tmp_path, archive.data)
    tested = run_7z("t", f"-p{pw.reveal()}", str(path))
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "Everything is Ok" in tested.stdout
    out = tmp_path / "out"
    extracted = run_7z("x", f"-p{pw.reveal()}", f"-o{out}", str(path))
    assert extracted.returncode == 0, extracted.stdout
    for name, data in FILES:
        assert (out / name).read_bytes() == data
    listing = run_7z("l", "-slt", f"-p{pw.reveal()}", str(path)).stdout
    assert "Method = LZMA2" in listing
    assert "7zAES" in listing
    assert "ZSTD" not in listing.upper()
    assert "BROTLI" not in listing.upper()


def test_without_the_password_7z_neither_lists_nor_extracts(tmp_path: Path) -> None:
    archive = build_archive(FILES, new_password())
    path = _write(tmp_path, archive.data)
    # -p with an empty/wrong password so 7z never waits on a prompt.
    listed = run_7z("l", "-pwrong-password", str(path))
    assert listed.returncode != 0
    for name, _ in FILES:
        assert name not in listed.stdout + listed.stderr
    tested = run_7z("t", "-pwrong-password", str(path))
    assert tested.returncode != 0
    no_pw = run_7z("l", "-p", str(path))
    assert no_pw.returncode != 0
    assert "messages.csv" not in no_pw.stdout
    assert b"messages.csv" not in archive.data
    assert b"secret plan" not in archive.data


def test_preset_switches_to_1_above_the_threshold(tmp_path: Path) -> None:
    assert lzma2_preset(100) == DEFAULT_PRESET
    assert lzma2_preset(5 * 1024 * 1024) == FAST_PRESET
    pw = new_password()
    big = build_archive([("a.txt", b"x" * 5000)], pw, fast_threshold=1000)
    assert big.preset == FAST_PRESET
    path = _write(tmp_path, big.data)
    assert run_7z("t", f"-p{pw.reveal()}", str(path)).returncode == 0


@pytest.mark.parametrize(
    ("files", "match"),
    [
        ([], "at least one file"),
        ([("../evil.txt", b"x")], "not a plain file name"),
        ([("a/b.txt", b"x")], "not a plain file name"),
        ([("a.txt\n", b"x")], "not a plain file name"),
        ([("a.txt", b"x"), ("a.txt", b"y")], "appears twice"),
        ([("a.txt", "text")], "not bytes"),
    ],
)
def test_bad_members_are_refused(files, match) -> None:
    with pytest.raises(ExportError, match=match):
        build_archive(files, new_password())


def test_weak_or_plain_passwords_are_refused() -> None:
    with pytest.raises(ExportError, match="Secret of at least 16"):
        build_archive(FILES, Secret("short-pw", register=False))
    with pytest.raises(ExportError, match="Secret"):
        build_archive(FILES, "a-plain-string-password")  # type: ignore[arg-type]


async def test_async_build_keeps_the_event_loop_responsive() -> None:
    lags: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        while not stop.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            lags.append(time.perf_counter() - before - 0.005)

    task = asyncio.create_task(ticker())
    data = b"".join(b"%d some chat text that compresses a bit\n" % i for i in range(60_000))
    archive = await build_archive_async([("big.txt", data)], new_password())
    stop.set()
    await task
    assert archive.plaintext_size == len(data)
    # The ticker ran throughout the build (it was not starved until the end).
    assert len(lags) >= 5
