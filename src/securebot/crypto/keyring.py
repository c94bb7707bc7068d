"""The keyring: every data key securebot holds, by purpose, with status and usage counters.

A :class:`Keyring` holds :class:`KeyEntry` objects under random, non-zero 32-bit key ids (the id
travels in every ciphertext header, so decryption is one dict lookup). Each purpose
(``settings``, ``messages``, ``exports``, ``index``, ``audit``) has exactly one *primary* key, used
to encrypt; *active* keys decrypt and may be promoted; *retired* keys only decrypt; *destroyed*
keys are tombstones whose material is gone, so their ciphertexts raise
:class:`~securebot.errors.UnknownKeyError`.

Rotation follows Tink's protocol: :meth:`Keyring.add_key` (not primary) → roll the keyring out →
:meth:`Keyring.promote` → re-encrypt (:func:`securebot.crypto.reencrypt`) → :meth:`Keyring.retire`
→ :meth:`Keyring.destroy` once the backup retention (30 days by default) has passed.

Per-guild *data keys* (:class:`GuildKey`) are mixed into every key derived for a guild-scoped
value (field ciphertexts, deterministic ciphertexts, blind indexes), so destroying one guild's
data key (:meth:`Keyring.shred_guild`) makes that guild's data unreadable (crypto-shredding) while
every other guild is untouched.

The keyring never serializes itself in the clear through a public method: see
:mod:`securebot.crypto.sealed` for the wrapped, on-disk/in-storage form.
"""

from __future__ import annotations

import base64
import enum
import os
import secrets
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from securebot.errors import KeyringError, UnknownKeyError

#: The purposes every keyring has one primary key for (purpose separation: DESIGN.md §5).
PURPOSES: tuple[str, ...] = ("audit", "exports", "index", "messages", "settings")

#: Encryptions under one key after which rotation is due (NIST SP 800-38D caps random-nonce
#: AES-GCM at 2^32 invocations per key; we keep a 4x margin).
ROTATE_AFTER_ENCRYPTIONS = 2**30

#: Encryptions under one key after which encryption is refused until the key is rotated.
REFUSE_AFTER_ENCRYPTIONS = 2**31

#: Default age after which rotating a primary key is due.
DEFAULT_MAX_AGE = timedelta(days=90)

#: Minimum time between retiring a key and destroying it: backups (kept 30 days) still hold
#: ciphertexts under it.
DEFAULT_RETENTION = timedelta(days=30)

KEY_BYTES = 32

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, timezone-aware UTC (the default clock)."""
    return datetime.now(UTC)


class KeyStatus(enum.StrEnum):
    """What a key may still be used for."""

    PRIMARY = "primary"
    ACTIVE = "active"
    RETIRED = "retired"
    DESTROYED = "destroyed"

    @property
    def decrypts(self) -> bool:
        """Whether ciphertexts under a key in this status can be decrypted."""
        return self is not KeyStatus.DESTROYED


@attrs.define(eq=False)
class KeyEntry:
    """One data key. Its material never appears in ``repr``/``str``."""

    key_id: int
    purpose: str
    material: bytes = attrs.field(repr=False)
    status: KeyStatus
    created_at: datetime
    encryptions: int = 0
    retired_at: datetime | None = None
    destroyed_at: datetime | None = None

    def __str__(self) -> str:
        return f"key {self.key_id:#010x} ({self.purpose}, {self.status.value})"

    def __reduce__(self) -> Any:
        raise TypeError("a key entry cannot be pickled")


@attrs.define(eq=False)
class GuildKey:
    """The data key of one guild; destroying it crypto-shreds the guild's data."""

    guild_id: str
    material: bytes = attrs.field(repr=False)
    created_at: datetime
    destroyed_at: datetime | None = None

    @property
    def destroyed(self) -> bool:
        """Whether the key was destroyed (its material is gone)."""
        return self.destroyed_at is not None

    def __str__(self) -> str:
        state = "destroyed" if self.destroyed else "live"
        return f"guild key for {self.guild_id} ({state})"

    def __reduce__(self) -> Any:
        raise TypeError("a guild key cannot be pickled")


@attrs.frozen
class KeyReport:
    """Status of one key for operators (``securebot keys status``): no material."""

    key_id: int
    purpose: str
    status: KeyStatus
    created_at: datetime
    encryptions: int
    rotation_due: bool
    retired_at: datetime | None


class Keyring:
    """Data keys by id and purpose, with one primary per purpose.

    Create one with :meth:`generate` (fresh random keys for every purpose) or load a sealed one
    with :func:`securebot.crypto.open_keyring`. ``clock`` (keyword-only) is the time source for
    ages and retention; tests pass a settable one.
    """

    def __init__(
        self,
        keys: Iterable[KeyEntry] = (),
        guild_keys: Iterable[GuildKey] = (),
        *,
        clock: Clock = utc_now,
        max_age: timedelta = DEFAULT_MAX_AGE,
        rotate_after: int = ROTATE_AFTER_ENCRYPTIONS,
        refuse_after: int = REFUSE_AFTER_ENCRYPTIONS,
        version: int = 1,
        ident: str | None = None,
        auto_guild_keys: bool = True,
    ) -> None:
        #: A random, non-secret name of this keyring (bound into its sealing context).
        self.ident = ident or secrets.token_hex(8)
        #: Whether encrypting for a guild without a data key creates one (marking the keyring
        #: dirty). When false, guilds must be provisioned with :meth:`add_guild` and persisted
        #: first: no ciphertext can then exist under a key that was never saved.
        self.auto_guild_keys = auto_guild_keys
        self._clock = clock
        self.max_age = max_age
        self.rotate_after = rotate_after
        self.refuse_after = refuse_after
        #: Bumped on every change of keys or statuses (persist when it moves).
        self.version = version
        #: Set by changes that must be persisted (new keys, statuses, guild keys); cleared by save.
        self.dirty = False
        self._keys: dict[int, KeyEntry] = {}
        self._primary: dict[str, KeyEntry] = {}
        self._guilds: dict[str, GuildKey] = {}
        self._listeners: list[Callable[[Keyring], None]] = []
        for entry in keys:
            if entry.key_id in self._keys or not 0 < entry.key_id < 2**32:
                raise KeyringError(f"keyring: duplicate or invalid key id {entry.key_id}")
            self._keys[entry.key_id] = entry
            if entry.status is KeyStatus.PRIMARY:
                if entry.purpose in self._primary:
                    raise KeyringError(f"keyring: two primary keys for purpose {entry.purpose!r}")
                self._primary[entry.purpose] = entry
        for guild in guild_keys:
            self._guilds[guild.guild_id] = guild
        #: Changes whenever cached derived keys may be stale (destroyed keys, shredded guilds).
        self.generation = 0

    # --- construction ------------------------------------------------------------------

    @classmethod
    def generate(
        cls, purposes: Iterable[str] = PURPOSES, *, clock: Clock = utc_now, **options: Any
    ) -> Keyring:
        """A keyring with one fresh random primary key for each purpose (dev, tests, ``init``)."""
        keyring = cls(clock=clock, **options)
        for purpose in purposes:
            keyring.promote(keyring.add_key(purpose))
        keyring.version = 1
        keyring.dirty = True
        return keyring

    def _new_id(self) -> int:
        while True:
            key_id = secrets.randbits(32)
            if key_id and key_id not in self._keys:
                return key_id

    def now(self) -> datetime:
        """The keyring clock's current time."""
        return self._clock()

    def _changed(self, *, invalidate: bool = False) -> None:
        self.version += 1
        self.dirty = True
        if invalidate:
            self.generation += 1
        for listener in list(self._listeners):
            listener(self)

    def on_change(self, listener: Callable[[Keyring], None]) -> None:
        """Call ``listener(keyring)`` after every change that must be persisted."""
        self._listeners.append(listener)

    # --- lookups -----------------------------------------------------------------------

    def __repr__(self) -> str:
        purposes = ", ".join(sorted(self._primary))
        return (
            f"<Keyring {self.ident} v{self.version}: {len(self._keys)} keys,"
            f" primary for [{purposes}], {len(self._guilds)} guild keys>"
        )

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("a Keyring cannot be pickled; seal it with securebot.crypto.seal_keyring")

    @property
    def purposes(self) -> list[str]:
        """The purposes that have a primary key, sorted."""
        return sorted(self._primary)

    def entries(self, purpose: str | None = None) -> list[KeyEntry]:
        """All key entries (of ``purpose`` when given), oldest first."""
        entries = [e for e in self._keys.values() if purpose is None or e.purpose == purpose]
        return sorted(entries, key=lambda e: (e.created_at, e.key_id))

    def primary(self, purpose: str) -> KeyEntry:
        """The key that encrypts for ``purpose``."""
        try:
            return self._primary[purpose]
        except KeyError:
            raise KeyringError(
                f"keyring has no primary key for purpose {purpose!r}"
                f" (purposes: {', '.join(self.purposes) or 'none'})"
            ) from None

    def get(self, key_id: int) -> KeyEntry:
        """The entry of ``key_id``; :class:`UnknownKeyError` if absent or destroyed."""
        entry = self._keys.get(key_id)
        if entry is None:
            raise UnknownKeyError(f"ciphertext names key {key_id:#010x}, which this keyring lacks")
        if entry.status is KeyStatus.DESTROYED:
            raise UnknownKeyError(
                f"ciphertext names key {key_id:#010x}, which was destroyed"
                f" on {_day(entry.destroyed_at)}: the data is unrecoverable"
            )
        return entry

    def decrypting_key(self, key_id: int, purpose: str) -> KeyEntry:
        """The entry of ``key_id`` if it may decrypt for ``purpose``."""
        entry = self.get(key_id)
        if entry.purpose != purpose:
            raise UnknownKeyError(
                f"ciphertext names key {key_id:#010x} of purpose {entry.purpose!r}, not {purpose!r}"
            )
        return entry

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    # --- usage counters ----------------------------------------------------------------

    def rotation_due(self, entry: KeyEntry) -> bool:
        """Whether ``entry`` has been used or has lived long enough that it should be rotated."""
        return (
            entry.encryptions >= self.rotate_after or self.now() - entry.created_at >= self.max_age
        )

    def count_encryption(self, entry: KeyEntry) -> None:
        """Count one encryption under ``entry``; refuse past the hard limit."""
        if entry.encryptions >= self.refuse_after:
            raise KeyringError(
                f"key {entry.key_id:#010x} ({entry.purpose}) has reached {entry.encryptions}"
                " encryptions, the safe limit for random-nonce AES-GCM: rotate it now"
                " (securebot keys rotate)"
            )
        entry.encryptions += 1

    def report(self) -> list[KeyReport]:
        """One :class:`KeyReport` per key, grouped by purpose."""
        return [
            KeyReport(
                key_id=e.key_id,
                purpose=e.purpose,
                status=e.status,
                created_at=e.created_at,
                encryptions=e.encryptions,
                rotation_due=e.status is KeyStatus.PRIMARY and self.rotation_due(e),
                retired_at=e.retired_at,
            )
            for e in sorted(self._keys.values(), key=lambda e: (e.purpose, e.created_at))
        ]

    # --- rotation ----------------------------------------------------------------------

    def add_key(self, purpose: str) -> int:
        """Add a fresh random key for ``purpose`` as *active* (decrypts; not yet primary)."""
        if not purpose or not isinstance(purpose, str):
            raise KeyringError("a key purpose must be a non-empty string")
        entry = KeyEntry(
            key_id=self._new_id(),
            purpose=purpose,
            material=os.urandom(KEY_BYTES),
            status=KeyStatus.ACTIVE,
            created_at=self.now(),
        )
        self._keys[entry.key_id] = entry
        self._changed()
        return entry.key_id

    def promote(self, key_id: int) -> None:
        """Make ``key_id`` the primary of its purpose; the old primary becomes *active*."""
        entry = self.get(key_id)
        if entry.status is KeyStatus.RETIRED:
            raise KeyringError(f"key {key_id:#010x} is retired and cannot become primary again")
        old = self._primary.get(entry.purpose)
        if old is entry:
            return
        if old is not None:
            old.status = KeyStatus.ACTIVE
        entry.status = KeyStatus.PRIMARY
        self._primary[entry.purpose] = entry
        self._changed()

    def rotate(self, purpose: str) -> int:
        """Add a key for ``purpose`` and make it primary at once (single-instance deployments)."""
        key_id = self.add_key(purpose)
        self.promote(key_id)
        return key_id

    def retire(self, key_id: int) -> None:
        """Make ``key_id`` decrypt-only. The primary cannot be retired (promote another first)."""
        entry = self.get(key_id)
        if entry.status is KeyStatus.PRIMARY:
            raise KeyringError(
                f"key {key_id:#010x} is the primary {entry.purpose} key: promote another key first"
            )
        if entry.status is KeyStatus.RETIRED:
            return
        entry.status = KeyStatus.RETIRED
        entry.retired_at = self.now()
        self._changed()

    def destroy(self, key_id: int, *, retention: timedelta = DEFAULT_RETENTION) -> None:
        """Erase a retired key's material once ``retention`` has passed since it was retired.

        ``retention`` below 30 days is refused: backups kept that long still hold ciphertexts
        (and the keyring) under this key, and restoring one must still work.
        """
        if retention < DEFAULT_RETENTION:
            raise KeyringError(
                f"a retention of {retention.days} days is shorter than the backup retention"
                f" ({DEFAULT_RETENTION.days} days)"
            )
        entry = self._keys.get(key_id)
        if entry is None:
            raise KeyringError(f"no key {key_id:#010x} in this keyring")
        if entry.status is KeyStatus.DESTROYED:
            return
        if entry.status is not KeyStatus.RETIRED or entry.retired_at is None:
            raise KeyringError(
                f"key {key_id:#010x} is {entry.status.value}: retire it (and re-encrypt its data)"
                " before destroying it"
            )
        ready = entry.retired_at + retention
        if self.now() < ready:
            raise KeyringError(
                f"key {key_id:#010x} was retired on {_day(entry.retired_at)}; it can be destroyed"
                f" from {_day(ready)} (backup retention {retention.days} days)"
            )
        entry.material = b""
        entry.status = KeyStatus.DESTROYED
        entry.destroyed_at = self.now()
        self._changed(invalidate=True)

    # --- guild data keys (crypto-shredding) --------------------------------------------

    @property
    def guilds(self) -> list[str]:
        """Guild ids holding a data key (live or destroyed), sorted."""
        return sorted(self._guilds)

    def guild_key(self, guild_id: str) -> GuildKey | None:
        """The data key record of ``guild_id`` (``None`` if it never had one)."""
        return self._guilds.get(guild_id)

    def add_guild(self, guild_id: str) -> None:
        """Create the data key of ``guild_id`` (idempotent; refused once it was shredded)."""
        guild = self._guilds.get(guild_id)
        if guild is not None:
            if guild.destroyed:
                raise KeyringError(
                    f"guild {guild_id}'s data key was destroyed on {_day(guild.destroyed_at)};"
                    " its data stays unreadable and the guild cannot get a new key under that id"
                )
            return
        self._guilds[guild_id] = GuildKey(guild_id, os.urandom(KEY_BYTES), self.now())
        self._changed()

    def guild_material(self, guild_id: str, *, create: bool) -> bytes:
        """The material of ``guild_id``'s data key, creating it first when ``create`` is true.

        Keys created here set :attr:`dirty` and notify :meth:`on_change` listeners: the keyring
        must be persisted before data encrypted under the new key is committed.
        """
        guild = self._guilds.get(guild_id)
        if guild is None:
            if not create:
                raise UnknownKeyError(f"guild {guild_id} has no data key in this keyring")
            if not self.auto_guild_keys:
                raise KeyringError(
                    f"guild {guild_id} has no data key: provision it with Keyring.add_guild"
                    " and persist the keyring before writing its data"
                )
            self.add_guild(guild_id)
            guild = self._guilds[guild_id]
        if guild.destroyed:
            raise UnknownKeyError(
                f"guild {guild_id}'s data key was destroyed on {_day(guild.destroyed_at)}"
                " (crypto-shredded): its data is unrecoverable"
            )
        return guild.material

    def shred_guild(self, guild_id: str) -> None:
        """Destroy ``guild_id``'s data key: every value bound to that guild becomes unreadable."""
        guild = self._guilds.get(guild_id)
        if guild is None:
            guild = GuildKey(guild_id, b"", self.now())
            self._guilds[guild_id] = guild
        if guild.destroyed:
            return
        guild.material = b""
        guild.destroyed_at = self.now()
        self._changed(invalidate=True)

    # --- plaintext dump (only for sealing) ---------------------------------------------

    def _dump(self) -> dict[str, Any]:
        return {
            "id": self.ident,
            "version": self.version,
            "max_age_s": int(self.max_age.total_seconds()),
            "rotate_after": self.rotate_after,
            "refuse_after": self.refuse_after,
            "keys": [
                {
                    "id": e.key_id,
                    "purpose": e.purpose,
                    "material": _b64(e.material),
                    "status": e.status.value,
                    "created_at": e.created_at.isoformat(),
                    "encryptions": e.encryptions,
                    "retired_at": _iso(e.retired_at),
                    "destroyed_at": _iso(e.destroyed_at),
                }
                for e in self.entries()
            ],
            "guilds": [
                {
                    "guild_id": g.guild_id,
                    "material": _b64(g.material),
                    "created_at": g.created_at.isoformat(),
                    "destroyed_at": _iso(g.destroyed_at),
                }
                for g in self._guilds.values()
            ],
        }

    @classmethod
    def _load(cls, data: Mapping[str, Any], *, clock: Clock = utc_now) -> Keyring:
        if not isinstance(data, Mapping):
            raise KeyringError("keyring contents are malformed (not an object)")
        keys = [
            KeyEntry(
                key_id=_int(k, "id", 1, 2**32 - 1),
                purpose=_str(k, "purpose"),
                material=_material(k),
                status=_status(k),
                created_at=_moment(k, "created_at"),
                encryptions=_int(k, "encryptions", 0, 2**63),
                retired_at=_moment(k, "retired_at", optional=True),
                destroyed_at=_moment(k, "destroyed_at", optional=True),
            )
            for k in _list(data, "keys")
        ]
        guilds = [
            GuildKey(
                guild_id=_str(g, "guild_id"),
                material=_material(g),
                created_at=_moment(g, "created_at"),
                destroyed_at=_moment(g, "destroyed_at", optional=True),
            )
            for g in _list(data, "guilds")
        ]
        for entry in keys:
            live = entry.status is not KeyStatus.DESTROYED
            if live and len(entry.material) != KEY_BYTES:
                raise KeyringError(f"keyring: key {entry.key_id:#010x} has bad material length")
        for guild in guilds:
            if not guild.destroyed and len(guild.material) != KEY_BYTES:
                raise KeyringError(f"keyring: guild {guild.guild_id} key has bad material length")
        return cls(
            keys,
            guilds,
            clock=clock,
            max_age=timedelta(seconds=_int(data, "max_age_s", 1, 10**10)),
            rotate_after=_int(data, "rotate_after", 1, 2**62),
            refuse_after=_int(data, "refuse_after", 1, 2**62),
            version=_int(data, "version", 0, 2**62),
            ident=_str(data, "id"),
        )


def _malformed(what: str) -> KeyringError:
    return KeyringError(f"keyring contents are malformed: {what}")


def _field(record: object, name: str) -> Any:
    if not isinstance(record, Mapping) or name not in record:
        raise _malformed(f"missing {name}")
    return record[name]


def _list(record: object, name: str) -> list[Any]:
    value = _field(record, name)
    if not isinstance(value, list):
        raise _malformed(f"{name} is not a list")
    return value


def _str(record: object, name: str) -> str:
    value = _field(record, name)
    if not isinstance(value, str) or not value:
        raise _malformed(f"{name} is not a non-empty string")
    return value


def _int(record: object, name: str, low: int, high: int) -> int:
    value = _field(record, name)
    if type(value) is not int or not low <= value <= high:
        raise _malformed(f"{name} is not an integer in [{low}, {high}]")
    return value


def _material(record: object) -> bytes:
    value = _field(record, "material")
    if not isinstance(value, str):
        raise _malformed("material is not text")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (UnicodeEncodeError, ValueError):
        raise _malformed("material is not base64") from None


def _status(record: object) -> KeyStatus:
    value = _field(record, "status")
    try:
        return KeyStatus(value)
    except ValueError:
        raise _malformed("unknown key status") from None


def _moment(record: object, name: str, *, optional: bool = False) -> Any:
    value = _field(record, name)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _malformed(f"{name} is not a timestamp")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _malformed(f"{name} is not a timestamp") from None
    if moment.tzinfo is None:
        raise _malformed(f"{name} has no time zone")
    return moment


def _day(moment: datetime | None) -> str:
    return moment.date().isoformat() if moment is not None else "an unknown date"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
