"""7z AES key derivation, done once per archive instead of once per coder.

py7zr derives the AES key afresh for every AES coder it creates: once for the archive's content
and once more for its encrypted header. Each derivation is 2^19 SHA-256 rounds driven from
Python (~70 ms on a 2-core VM, holding the GIL), and both use the same password, salt and cycle
count, so the second one recomputes the first one's key. 7-Zip itself keeps the most recent
derived key for the same reason.

:func:`derive_keys_once` opens a scope, for the current thread only, in which py7zr's
``calculate_key`` remembers what it derived; leaving the scope forgets every key. Outside a scope
(reading archives, other threads, other callers of py7zr) the call goes straight to py7zr's own
function. Nothing here computes a key: py7zr's derivation is called, just not twice.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any, cast

#: ``(password, cycles, salt, digest) -> key``: the signature of ``py7zr.helpers.calculate_key``.
KeyDerivation = Callable[[bytes, int, bytes, str], bytes]

_scope = threading.local()
_install_lock = threading.Lock()
_derive: KeyDerivation | None = None


def _remembering_calculate_key(password: bytes, cycles: int, salt: bytes, digest: str) -> bytes:
    derive = cast("KeyDerivation", _derive)
    keys: dict[tuple[bytes, int, bytes, str], bytes] | None = getattr(_scope, "keys", None)
    if keys is None:
        return derive(password, cycles, salt, digest)
    wanted = (password, cycles, salt, digest)
    key = keys.get(wanted)
    if key is None:
        key = keys[wanted] = derive(password, cycles, salt, digest)
    return key


def _install() -> None:
    """Route py7zr's coder key derivation through :func:`_remembering_calculate_key` (once)."""
    global _derive
    import py7zr.compressor

    with _install_lock:
        current = getattr(py7zr.compressor, "calculate_key", None)
        if current is None or current is _remembering_calculate_key:
            return  # already routed, or a py7zr without the hook (then it derives per coder)
        _derive = current
        compressor: Any = py7zr.compressor  # py7zr does not re-export the name it imports
        compressor.calculate_key = _remembering_calculate_key


@contextlib.contextmanager
def derive_keys_once() -> Iterator[None]:
    """Within this block (this thread only), py7zr derives each distinct key once.

    Use it around one archive build; the derived keys are dropped when the block ends.
    """
    _install()
    outer = getattr(_scope, "keys", None)
    _scope.keys = {}
    try:
        yield
    finally:
        _scope.keys.clear()
        _scope.keys = outer
