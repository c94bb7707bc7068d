"""One 7z key derivation per archive: same keys as py7zr, scoped to a thread, forgotten after."""

from __future__ import annotations

import io
import threading
from collections import Counter
from pathlib import Path

import py7zr
import pytest
from hypothesis import given
from hypothesis import strategies as st

from securebot.exports import build_archive, keyderivation, new_password
from securebot.exports.archive import archive_filters
from securebot.exports.keyderivation import derive_keys_once

from .conftest import run_7z

Inputs = tuple[bytes, int, bytes, str]


@pytest.fixture
def derivations(monkeypatch: pytest.MonkeyPatch) -> Counter[Inputs]:
    """Count the derivations py7zr really runs (after the scope's routing is installed)."""
    with derive_keys_once():
        pass  # installs the routing
    real = keyderivation._derive
    assert real is not None
    counts: Counter[Inputs] = Counter()

    def counting(password: bytes, cycles: int, salt: bytes, digest: str) -> bytes:
        counts[(password, cycles, salt, digest)] += 1
        return real(password, cycles, salt, digest)

    monkeypatch.setattr(keyderivation, "_derive", counting)
    return counts


def _raw_py7zr_write(password: str) -> bytes:
    out = io.BytesIO()
    with py7zr.SevenZipFile(
        out, "w", password=password, header_encryption=True, filters=archive_filters(7)
    ) as archive:
        archive.writestr(b"hello", "a.txt")
    return out.getvalue()


def test_an_archive_derives_its_key_once_and_7z_still_opens_it(
    derivations: Counter[Inputs], tmp_path: Path
) -> None:
    password = new_password()
    archive = build_archive([("a.txt", b"hello"), ("b.txt", b"world")], password)
    # Content coder and header coder: one real derivation between them.
    assert sum(derivations.values()) == 1
    path = tmp_path / "a.7z"
    path.write_bytes(archive.data)
    listed = run_7z("l", "-slt", f"-p{password.reveal()}", str(path))
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "Path = a.txt" in listed.stdout
    assert "Path = b.txt" in listed.stdout
    tested = run_7z("t", f"-p{password.reveal()}", str(path))
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_outside_a_scope_py7zr_derives_per_coder_as_before(
    derivations: Counter[Inputs],
) -> None:
    _raw_py7zr_write(new_password().reveal())
    assert sum(derivations.values()) == 2
    assert getattr(keyderivation._scope, "keys", None) is None


def test_the_scope_forgets_every_key_when_it_ends(derivations: Counter[Inputs]) -> None:
    with derive_keys_once():
        _raw_py7zr_write(new_password().reveal())
        remembered = keyderivation._scope.keys
        assert len(remembered) == 1
    assert remembered == {}
    assert getattr(keyderivation._scope, "keys", None) is None


def test_a_scope_in_one_thread_does_not_reach_another(derivations: Counter[Inputs]) -> None:
    password = new_password().reveal()
    started, release = threading.Event(), threading.Event()

    def other_thread() -> None:
        started.wait()
        _raw_py7zr_write(password)  # no scope here: two derivations
        release.set()

    thread = threading.Thread(target=other_thread)
    thread.start()
    with derive_keys_once():
        _raw_py7zr_write(password)  # one derivation
        started.set()
        release.wait(timeout=30)
    thread.join(timeout=30)
    assert sum(derivations.values()) == 3


def test_an_error_inside_the_scope_still_forgets_the_keys(derivations: Counter[Inputs]) -> None:
    def failing_build() -> None:
        with derive_keys_once():
            _raw_py7zr_write(new_password().reveal())
            raise RuntimeError("archiver failed")

    with pytest.raises(RuntimeError, match="archiver failed"):
        failing_build()
    assert getattr(keyderivation._scope, "keys", None) is None


def _fake_kdf(password: bytes, cycles: int, salt: bytes, digest: str) -> bytes:
    return b"|".join([password, str(cycles).encode(), salt, digest.encode()])


@given(
    st.lists(
        st.tuples(
            st.binary(max_size=8),
            st.integers(0, 24),
            st.binary(max_size=4),
            st.sampled_from(["sha256", "sha1"]),
        ),
        max_size=30,
    )
)
def test_remembered_keys_equal_fresh_ones_and_each_input_is_derived_once(
    calls: list[Inputs],
) -> None:
    counts: Counter[Inputs] = Counter()

    def counting(password: bytes, cycles: int, salt: bytes, digest: str) -> bytes:
        counts[(password, cycles, salt, digest)] += 1
        return _fake_kdf(password, cycles, salt, digest)

    with derive_keys_once():
        pass  # installs the routing first, so it does not replace ``counting``
    saved = keyderivation._derive
    keyderivation._derive = counting
    try:
        with derive_keys_once():
            for args in calls:
                assert keyderivation._remembering_calculate_key(*args) == _fake_kdf(*args)
    finally:
        keyderivation._derive = saved
    assert counts == Counter(set(calls))
