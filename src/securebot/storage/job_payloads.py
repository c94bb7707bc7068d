"""Sealing scheduled jobs' payloads at rest, shared by every :class:`JobStore` backend.

A job's payload holds what users typed (a reminder's text, a scheduled command line). Given a
:class:`~securebot.crypto.FieldCipher`, a store keeps it as ``sealed:`` + the base64url
envelope, bound to the job id and its guild (associated data: collection ``scheduler.jobs``,
field ``payload``, key = job id, scope = guild id or the global scope), so a guild's
crypto-shred covers its jobs too. Without a cipher the payload is plain JSON (development and
tests). With a cipher, an unsealed payload is refused (:class:`CorruptRecordError`): it was not
written by a store holding the key (someone able to write the database could otherwise plant a
job, such as a scheduled command line, that the bot would run).

Jobs that cannot be read are set aside for :data:`UNREADABLE_RETRY` seconds by the stores'
``due()`` (leased to :data:`UNREADABLE`), never deleted, so one of them (a shredded guild's
reminder, a damaged row) does not stop every other job.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from securebot.crypto.context import GLOBAL_SCOPE, FieldContext
from securebot.errors import CorruptRecordError, CryptoError

if TYPE_CHECKING:
    from securebot.core.scheduler.model import Job
    from securebot.crypto import FieldCipher

__all__ = [
    "SEALED",
    "UNREADABLE",
    "UNREADABLE_RETRY",
    "open_payload",
    "payload_context",
    "payload_key_id",
    "seal_payload",
]

#: Marks a sealed payload.
SEALED = "sealed:"

#: Lease holder of a due job that could not be read (set aside, not run, not deleted).
UNREADABLE = "unreadable"
#: Seconds an unreadable due job is set aside before it is read again.
UNREADABLE_RETRY = 3600.0


def payload_context(job_id: str, guild_id: int | None) -> FieldContext:
    """The associated data a job's payload is sealed under."""
    scope = GLOBAL_SCOPE if guild_id is None else str(guild_id)
    return FieldContext("scheduler.jobs", "payload", job_id, scope)


def seal_payload(cipher: FieldCipher | None, job: Job) -> str:
    """``job.payload`` as stored: sealed JSON with a cipher, plain JSON without."""
    text = json.dumps(dict(job.payload))
    if cipher is None:
        return text
    blob = cipher.encrypt(text, payload_context(job.id, job.guild_id))
    return SEALED + base64.urlsafe_b64encode(blob).decode("ascii")


def payload_key_id(stored: object) -> int | None:
    """The key id a stored payload is sealed under (``None``: plain or damaged)."""
    if not isinstance(stored, str) or not stored.startswith(SEALED):
        return None
    try:
        blob = base64.urlsafe_b64decode(stored[len(SEALED) :])
    except (binascii.Error, ValueError):
        return None
    if len(blob) < 5 or blob[0] not in (1, 2):
        return None
    return int.from_bytes(blob[1:5], "big")


def open_payload(
    cipher: FieldCipher | None, job_id: str, guild_id: int | None, stored: str
) -> Mapping[str, Any]:
    """The payload object back from its stored form.

    :raises CorruptRecordError: sealed without a cipher, not openable (tampered, moved to
        another job or guild, wrong key), or not a JSON object.
    """
    if not isinstance(stored, str):
        raise CorruptRecordError(f"scheduled job {job_id} holds no stored payload")
    if stored.startswith(SEALED):
        if cipher is None:
            raise CorruptRecordError(
                f"scheduled job {job_id} is sealed and no keyring is configured"
            )
        try:
            blob = base64.urlsafe_b64decode(stored[len(SEALED) :])
            text = cipher.decrypt(blob, payload_context(job_id, guild_id))
        except (binascii.Error, ValueError, CryptoError) as exc:
            raise CorruptRecordError(f"scheduled job {job_id} cannot be opened: {exc}") from None
        if not isinstance(text, str):
            raise CorruptRecordError(f"scheduled job {job_id} holds no JSON payload")
    elif cipher is not None:
        raise CorruptRecordError(
            f"scheduled job {job_id}: payload is not sealed, but payloads are sealed here"
        )
    else:
        text = stored
    try:
        payload = json.loads(text)
    except ValueError:
        raise CorruptRecordError(f"scheduled job {job_id} holds no JSON payload") from None
    if not isinstance(payload, Mapping):
        raise CorruptRecordError(f"scheduled job {job_id}: payload is not a JSON object")
    return payload
