"""Download tokens: bound to export, user and expiry; forged, foreign and stale ones refused."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from securebot.crypto import Secret
from securebot.errors import ExportError
from securebot.exports import DownloadTokenError, DownloadTokenSigner
from securebot.exports.metadata import new_export_id


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def _signer(clock: Clock, key: bytes | None = None) -> DownloadTokenSigner:
    return DownloadTokenSigner(Secret(key or os.urandom(32)), ttl=600, clock=clock)


def test_a_token_verifies_for_its_export_until_it_expires() -> None:
    clock = Clock()
    signer = _signer(clock)
    export_id = new_export_id()
    token = signer.mint(export_id, 42)
    claims = signer.verify(token, export_id)
    assert (claims.export_id, claims.user_id) == (export_id, 42)
    clock.now += 599
    assert signer.verify(token, export_id).user_id == 42
    clock.now += 1
    with pytest.raises(DownloadTokenError) as info:
        signer.verify(token, export_id)
    assert info.value.reason == "expired"


def test_tokens_are_bound_to_export_and_key() -> None:
    clock = Clock()
    signer = _signer(clock)
    a, b = new_export_id(), new_export_id()
    token = signer.mint(a, 42)
    with pytest.raises(DownloadTokenError, match="other-export"):
        signer.verify(token, b)
    with pytest.raises(DownloadTokenError, match="bad-signature"):
        _signer(clock).verify(token, a)


@given(position=st.integers(min_value=3, max_value=200), char=st.sampled_from("AQgw_-"))
def test_any_changed_character_is_refused(position: int, char: str) -> None:
    clock = Clock()
    signer = _signer(clock, b"k" * 32)
    export_id = "0" * 32
    token = signer.mint(export_id, 7)
    position %= len(token)
    changed = token[:position] + char + token[position + 1 :]
    if changed == token:
        return
    with pytest.raises(DownloadTokenError):
        signer.verify(changed, export_id)


@pytest.mark.parametrize(
    "token", ["", "v1", "v1..", "v2.AAAA.AAAA", "v1.!!!.AAAA", "v1.AAAA.AAAA", "x" * 1000]
)
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(DownloadTokenError):
        _signer(Clock()).verify(token, "0" * 32)


def test_weak_keys_and_plain_keys_are_refused() -> None:
    with pytest.raises(ExportError, match="at least 32 bytes"):
        DownloadTokenSigner(Secret(b"short"))
    with pytest.raises(ExportError, match="Secret"):
        DownloadTokenSigner(b"k" * 32)  # type: ignore[arg-type]
    signer = _signer(Clock(), b"s" * 32)
    assert "sss" not in repr(signer)


@pytest.mark.parametrize("suffix", ["\n", " ", "\t"])
def test_an_export_id_with_trailing_whitespace_is_no_export_id(suffix: str) -> None:
    from securebot.exports.metadata import is_export_id

    export_id = new_export_id()
    assert is_export_id(export_id)
    assert not is_export_id(export_id + suffix)  # "$" also matches before a final newline
    signer = DownloadTokenSigner(Secret(os.urandom(32)))
    with pytest.raises(ExportError, match="not an export id"):
        signer.mint(export_id + suffix, 1)  # bytes.fromhex skips the whitespace
