"""Re-encryption after a key rotation, over any iterable of stored values.

Storage drives it later (a background job that pages through records whose header key id is not
the primary); here it is a plain function: give it ``(record key, ciphertext, FieldContext)``
triples and a ``write`` callback, and it re-encrypts every value not under the purpose's primary
key, leaves current ones alone, and reports the ones it could not open without stopping (their
stored value is left untouched: nothing is lost).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable

import attrs

from securebot.crypto.context import FieldContext
from securebot.crypto.envelope import FieldCipher
from securebot.errors import DecryptionError


@attrs.frozen
class ReencryptionReport:
    """What one re-encryption pass did."""

    examined: int
    rewritten: int
    current: int
    #: ``(record key, reason)`` of values that could not be opened (left as they were).
    failed: tuple[tuple[Hashable, str], ...]

    @property
    def complete(self) -> bool:
        """Whether every examined value is now under the primary key."""
        return not self.failed


def reencrypt_records(
    cipher: FieldCipher,
    records: Iterable[tuple[Hashable, bytes, FieldContext]],
    write: Callable[[Hashable, bytes], None],
) -> ReencryptionReport:
    """Re-encrypt every value of ``records`` not under ``cipher``'s primary key via ``write``.

    ``write(key, new_ciphertext)`` should be a conditional update (compare-and-set on the old
    ciphertext) when the store can change concurrently. Retire the old key only once a pass
    reports ``complete`` with ``rewritten == 0``.
    """
    examined = rewritten = current = 0
    failed: list[tuple[Hashable, str]] = []
    for key, blob, ctx in records:
        examined += 1
        try:
            if not cipher.needs_reencryption(blob):
                current += 1
                continue
            fresh = cipher.reencrypt(blob, ctx)
        except DecryptionError as exc:
            failed.append((key, str(exc)))
            continue
        write(key, fresh)
        rewritten += 1
    return ReencryptionReport(examined, rewritten, current, tuple(failed))
