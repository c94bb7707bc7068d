"""Secret values that do not leak by accident: :class:`Secret` and the redaction registry.

A :class:`Secret` prints as ``**********`` in ``repr``, ``str`` and f-strings, cannot be pickled
(nor copied into a pickle-based cache or queue), compares in constant time, and hands its value
out only through :meth:`Secret.reveal`. Text secrets are registered with the log redactor
(:func:`register_secret`) when created, so even a revealed value that ends up in a log line is
removed by :class:`~securebot.crypto.RedactingFilter`.
"""

from __future__ import annotations

import hmac
import threading
from typing import Any, Generic, TypeVar

#: What a masked value looks like.
MASK = "**********"

#: Shortest value the registry accepts: shorter ones would blank out ordinary words and numbers.
MIN_SECRET_LENGTH = 4

T = TypeVar("T", str, bytes)

_lock = threading.Lock()
_registered: set[str] = set()
#: Incremented on every change, so compiled patterns know when to rebuild.
_registry_version = 0


def register_secret(value: str) -> None:
    """Have the log redactor remove ``value`` wherever it appears in a log record.

    Values shorter than :data:`MIN_SECRET_LENGTH` characters are refused (``ValueError``): they
    would redact ordinary text and do not deserve to be called secrets.
    """
    global _registry_version
    if not isinstance(value, str):
        raise TypeError("register_secret takes the secret text")
    if len(value) < MIN_SECRET_LENGTH:
        raise ValueError(f"a registered secret must be at least {MIN_SECRET_LENGTH} characters")
    with _lock:
        if value not in _registered:
            _registered.add(value)
            _registry_version += 1


def unregister_secret(value: str) -> None:
    """Stop redacting ``value`` (e.g. an archive password whose archive expired)."""
    global _registry_version
    with _lock:
        if value in _registered:
            _registered.discard(value)
            _registry_version += 1


def registry_version() -> int:
    """A number that changes whenever the registry changes (cheap: no copy, no lock)."""
    return _registry_version


def registered_secrets() -> tuple[int, frozenset[str]]:
    """The registry version and a snapshot of the registered values (for the redactor)."""
    with _lock:
        return _registry_version, frozenset(_registered)


class Secret(Generic[T]):
    """A masked secret value (``str`` or ``bytes``).

    ``register=True`` (keyword-only, the default) adds text secrets of at least
    :data:`MIN_SECRET_LENGTH` characters to the log-redaction registry.
    """

    __slots__ = ("_value",)

    def __init__(self, value: T, *, register: bool = True) -> None:
        if not isinstance(value, str | bytes):
            raise TypeError("a Secret holds str or bytes")
        self._value: T = value
        if register and isinstance(value, str) and len(value) >= MIN_SECRET_LENGTH:
            register_secret(value)

    def reveal(self) -> T:
        """The secret value itself. Keep the result out of logs, reprs and exceptions."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __len__(self) -> int:
        return len(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        mine, theirs = self._value, other._value
        if isinstance(mine, str) != isinstance(theirs, str):
            return False
        a = mine.encode() if isinstance(mine, str) else mine
        b = theirs.encode() if isinstance(theirs, str) else theirs
        return hmac.compare_digest(a, b)

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")

    def __copy__(self) -> Secret[T]:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret[T]:
        return self
