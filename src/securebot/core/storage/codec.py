"""Records ↔ documents: JSON mapping by field type, sealing of sensitive fields, lookup tokens.

Encryption sits here, above every backend: a :class:`Document` body holds plain fields as JSON
values and sealed fields under ``body["_sealed"]`` as base64 envelopes, so a backend (SQLite
file, MongoDB, Redis cache) never holds the plaintext of a sensitive field. The associated data
of each ciphertext is (collection, field, record key, scope); a ciphertext copied into another
record fails to open. A bad ciphertext raises :class:`~securebot.errors.CorruptRecordError`
naming that record only.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import enum
import json
import types
import typing
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from securebot.core.storage._json import loads
from securebot.core.storage.backend import Document
from securebot.core.storage.records import RecordSpec
from securebot.crypto.context import FieldContext
from securebot.errors import CorruptRecordError, CryptoError, StorageError

if TYPE_CHECKING:
    from securebot.crypto.keyring import Keyring

#: Body key under which sealed fields are kept.
SEALED = "_sealed"
#: Marker key of a sealed settings value (``{"_sealed_v1": "<base64>"}``).
SEALED_SETTING = "_sealed_v1"
#: Keyring purpose of storage field keys.
PURPOSE = "settings"
#: ``record_id`` used in blind-index contexts (an index must not depend on the record).
LOOKUP_RECORD = "lookup"


class FieldSealer(Protocol):
    """What the codec needs from the crypto layer."""

    def seal(self, data: bytes, ctx: FieldContext) -> bytes:
        """Encrypt ``data`` bound to ``ctx``."""

    def open(self, blob: bytes, ctx: FieldContext) -> bytes:
        """Decrypt; raise a :class:`~securebot.errors.CryptoError` on any problem."""

    def index(self, value: str, ctx: FieldContext) -> bytes:
        """The blind index of ``value`` for ``ctx``'s collection, field and scope."""

    def needs_reseal(self, blob: bytes) -> bool:
        """Whether ``blob`` was sealed under a key other than the current primary."""

    def index_all(self, value: str, ctx: FieldContext) -> list[bytes]:
        """The blind index of ``value`` under every live index key, the primary's first."""


class KeyringSealer:
    """A :class:`FieldSealer` over ``securebot.crypto`` (field cipher + blind index)."""

    def __init__(self, keyring: Keyring) -> None:
        """Build the cipher and the blind index once (they cache derived keys)."""
        from securebot.crypto import BlindIndex, FieldCipher

        self._cipher: FieldCipher = FieldCipher(keyring, PURPOSE)
        self._index = BlindIndex(keyring)

    def seal(self, data: bytes, ctx: FieldContext) -> bytes:
        """Encrypt."""
        return bytes(self._cipher.encrypt(data, ctx))

    def open(self, blob: bytes, ctx: FieldContext) -> bytes:
        """Decrypt."""
        plaintext = self._cipher.decrypt_raw(blob, ctx)
        if plaintext[:1] == b"b":  # what :meth:`seal` writes: bytes, no conversion
            return plaintext[1:]
        from securebot.crypto.envelope import decode_value

        value = decode_value(plaintext)  # checks the type byte
        return value.encode() if isinstance(value, str) else bytes(value)

    def index(self, value: str, ctx: FieldContext) -> bytes:
        """Blind index."""
        return bytes(self._index.compute(value, ctx))

    def index_all(self, value: str, ctx: FieldContext) -> list[bytes]:
        """Blind indexes under every live index key (a rotation may be under way)."""
        return [bytes(token) for token in self._index.compute_all(value, ctx)]

    def needs_reseal(self, blob: bytes) -> bool:
        """Whether the envelope names a key other than the primary (unreadable: no)."""
        try:
            return self._cipher.needs_reencryption(blob)
        except CryptoError:
            return False


class NoSealer:
    """Used when no keyring is configured: any sealed field is refused, fail closed."""

    def _refuse(self) -> StorageError:
        return StorageError(
            "this record type has sensitive fields but the store has no keyring; "
            "configure a key provider (securebot keys init) before storing them"
        )

    def seal(self, data: bytes, ctx: FieldContext) -> bytes:
        """Refuse."""
        raise self._refuse()

    def open(self, blob: bytes, ctx: FieldContext) -> bytes:
        """Refuse: the value is reported as unreadable (a :class:`CorruptRecordError`)."""
        raise CryptoError("no keyring configured to open sealed fields")

    def index(self, value: str, ctx: FieldContext) -> bytes:
        """Refuse."""
        raise self._refuse()

    def index_all(self, value: str, ctx: FieldContext) -> list[bytes]:
        """Refuse."""
        raise self._refuse()

    def needs_reseal(self, blob: bytes) -> bool:
        """Nothing can be resealed without a keyring."""
        return False


# --- JSON mapping by type ---------------------------------------------------------------------


def dump(value: Any) -> Any:
    """A JSON-able form of ``value`` (datetimes as ISO 8601, enums by value, attrs as dicts)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, enum.Enum):
        return dump(value.value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, Mapping):
        return {str(k): dump(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [dump(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if attrs.has(type(value)):
        return {a.name: dump(getattr(value, a.name)) for a in attrs.fields(type(value))}
    raise StorageError(f"cannot store a value of type {type(value).__name__}")


def load(tp: Any, value: Any) -> Any:
    """Rebuild a value of annotated type ``tp`` from its JSON form (inverse of :func:`dump`)."""
    if value is None or tp is Any:
        return value
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            if arg is type(None):
                continue
            try:
                return load(arg, value)
            except (TypeError, ValueError, StorageError):
                continue
        return value
    if isinstance(tp, type):
        if issubclass(tp, bool | str | int | float) and not issubclass(tp, enum.Enum):
            return value
        if issubclass(tp, enum.Enum):
            return tp(value)
        if issubclass(tp, dt.datetime):
            return dt.datetime.fromisoformat(value)
        if issubclass(tp, dt.date):
            return dt.date.fromisoformat(value)
        if issubclass(tp, dt.time):
            return dt.time.fromisoformat(value)
        if issubclass(tp, dt.timedelta):
            return dt.timedelta(seconds=value)
        if attrs.has(tp):
            hints = typing.get_type_hints(tp)
            return tp(**{k: load(hints.get(k, Any), v) for k, v in value.items()})
    if origin in (tuple,):
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(load(args[0], v) for v in value)
        if args:
            return tuple(load(a, v) for a, v in zip(args, value, strict=False))
        return tuple(value)
    if origin in (list,):
        return [load(args[0] if args else Any, v) for v in value]
    if origin in (set, frozenset):
        return origin(load(args[0] if args else Any, v) for v in value)
    if origin in (dict, Mapping, typing.Mapping) or tp is dict:
        inner = args[1] if len(args) == 2 else Any
        return {k: load(inner, v) for k, v in value.items()}
    return value


_IDENTITY_TYPES = (str, int, float, bool)
#: What opening a sealed value may raise for a damaged value or a wrong/destroyed key.
_OPEN_ERRORS = (CryptoError, ValueError, binascii.Error, UnicodeError)
_decode = loads
#: Field contexts kept for reuse (their associated data is computed once).
_CONTEXT_CACHE = 4096


def _loader(tp: Any) -> Callable[[Any], Any] | None:
    """A converter from the JSON form to ``tp``, or ``None`` when the JSON value is already it."""
    if tp is Any or (
        isinstance(tp, type) and issubclass(tp, _IDENTITY_TYPES) and not issubclass(tp, enum.Enum)
    ):
        return None
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and _loader(args[0]) is None:
            return None
    return lambda value: load(tp, value)


def _undecryptable(where: str, ctx: FieldContext, exc: Exception) -> CorruptRecordError:
    return CorruptRecordError(
        f"{where}: field {ctx.field!r} cannot be decrypted ({type(exc).__name__}); "
        "the record is damaged or was encrypted under a destroyed key"
    )


@attrs.frozen
class _Plan:
    """How to rebuild records of one spec: per-field loaders, known names, no-conversion flag."""

    spec: RecordSpec
    loaders: tuple[tuple[str, Callable[[Any], Any] | None], ...]
    names: frozenset[str]
    identity: bool


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def key_id_of_text(text: Any) -> int | None:
    """The key id named by a stored (base64) field ciphertext, ``None`` if it names none."""
    if not isinstance(text, str):
        return None
    try:
        blob = binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        return None
    if len(blob) < 5 or blob[0] not in (1, 2):
        return None
    return int.from_bytes(blob[1:5], "big")


def plain_token(value: Any) -> str:
    """The equality token of a plain ``index`` field value."""
    return _json(dump(value)).decode()


def lookup_text(value: Any) -> str:
    """The text a blind index is computed over (strings as they are, others as JSON)."""
    return value if isinstance(value, str) else plain_token(value)


def key_of(spec: RecordSpec, key: Any) -> str:
    """The stored key string of a key value (a tuple for composite keys)."""
    if type(key) is int and len(spec.key) == 1:  # the common case: an id or a number
        return str(key)
    parts = key if isinstance(key, tuple) else (key,)
    if len(parts) != len(spec.key):
        raise StorageError(f"{spec.collection}: key has {len(spec.key)} part(s): {spec.key}")
    texts = []
    for part in parts:
        if isinstance(part, bool) or not isinstance(part, str | int | enum.Enum):
            raise StorageError(f"{spec.collection}: key parts are int or str, got {part!r}")
        text = str(part.value if isinstance(part, enum.Enum) else part)
        if not text:
            raise StorageError(f"{spec.collection}: empty key")
        if not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise StorageError(f"{spec.collection}: a key must be valid text") from None
        texts.append(text)
    return ":".join(texts)


class RecordCodec:
    """Encodes records of any declared type to documents and back."""

    def __init__(self, sealer: FieldSealer) -> None:
        """Use ``sealer`` for sensitive fields and blind indexes."""
        self.sealer = sealer
        self._contexts: dict[tuple[str, str, str, str], FieldContext] = {}
        self._plans: dict[type[Any], _Plan] = {}

    def context(self, collection: str, name: str, key: str, scope: str) -> FieldContext:
        """The :class:`FieldContext` of one field (recently used ones are reused)."""
        ident = (collection, name, key, scope)
        ctx = self._contexts.get(ident)
        if ctx is None:
            if len(self._contexts) >= _CONTEXT_CACHE:
                self._contexts.clear()
            ctx = self._contexts[ident] = FieldContext(collection, name, key, scope)
        return ctx

    def seal_value(self, value: Any, ctx: FieldContext) -> str:
        """Seal one JSON-able value; return the base64 text stored."""
        return base64.b64encode(self.sealer.seal(_json(value), ctx)).decode("ascii")

    def open_value(self, text: Any, ctx: FieldContext, where: str) -> Any:
        """Open a sealed value; :class:`CorruptRecordError` naming ``where`` on any problem."""
        try:
            return self._open(text, ctx)
        except _OPEN_ERRORS as exc:
            raise _undecryptable(where, ctx, exc) from None

    def _open(self, text: Any, ctx: FieldContext) -> Any:
        if not isinstance(text, str):
            raise ValueError("sealed value is not text")
        # strict: only the base64 alphabet, correct padding, nothing after it (ASCII text only)
        blob = binascii.a2b_base64(text, strict_mode=True)
        return _decode(self.sealer.open(blob, ctx).decode("utf-8"))

    def lookup_token(self, spec: RecordSpec, name: str, value: Any, scope: str) -> str:
        """The equality token for querying ``name == value`` in ``scope``."""
        options = spec.field_spec(name).options
        if options.lookup:
            ctx = FieldContext(spec.collection, name, LOOKUP_RECORD, scope)
            return self.sealer.index(lookup_text(value), ctx).hex()
        if options.index:
            return plain_token(value)
        raise StorageError(
            f"{spec.collection}: field {name!r} is not queryable; declare it with "
            "field(index=True) or field(lookup=True)"
        )

    def query_tokens(self, spec: RecordSpec, name: str, value: Any, scope: str) -> list[str]:
        """Every token that matches ``name == value`` in ``scope``: one for a plain ``index``
        field; for a ``lookup`` field, its blind index under each live index key (records
        written before a rotation are found until re-encryption has rewritten them)."""
        options = spec.field_spec(name).options
        if options.lookup:
            ctx = FieldContext(spec.collection, name, LOOKUP_RECORD, scope)
            tokens = self.sealer.index_all(lookup_text(value), ctx)
            return list(dict.fromkeys(token.hex() for token in tokens))
        return [self.lookup_token(spec, name, value, scope)]

    def encode(
        self, spec: RecordSpec, record: Any, scope: str, key: str, expires_at: float | None
    ) -> Document:
        """The document of ``record``."""
        body: dict[str, Any] = {}
        sealed: dict[str, str] = {}
        lookups: dict[str, str] = {}
        owners: list[int] = []
        for f in spec.fields:
            value = getattr(record, f.name)
            options = f.options
            if options.sensitive:
                ctx = self.context(spec.collection, f.name, key, scope)
                sealed[f.name] = self.seal_value(dump(value), ctx)
                if options.lookup:
                    lookups[f.name] = self.lookup_token(spec, f.name, value, scope)
            else:
                body[f.name] = dump(value)
                if options.index:
                    lookups[f.name] = plain_token(value)
            if options.owner and value is not None:
                if isinstance(value, bool) or not isinstance(value, int):
                    raise StorageError(f"{spec.collection}.{f.name}: an owner is a user id (int)")
                owners.append(value)
        if sealed:
            body[SEALED] = sealed
        return Document(
            collection=spec.collection,
            scope=scope,
            key=key,
            body=body,
            lookups=lookups,
            owners=tuple(sorted(set(owners))),
            schema=spec.version,
            expires_at=expires_at,
        )

    def plain_fields(self, doc: Document) -> dict[str, Any]:
        """The document's fields as JSON values, sealed ones opened (no type needed)."""
        body = doc.body
        if type(body) is not dict and not isinstance(body, Mapping):
            raise CorruptRecordError(
                f"record {doc.collection}/{doc.scope}/{doc.key}: stored body is not a mapping"
            )
        fields = dict(body)
        sealed = fields.pop(SEALED, None)
        if sealed:
            if type(sealed) is not dict and not isinstance(sealed, Mapping):
                raise CorruptRecordError(
                    f"record {doc.collection}/{doc.scope}/{doc.key}: sealed fields are not a "
                    "mapping"
                )
            collection, key, scope = doc.collection, doc.key, doc.scope
            contexts = self._contexts
            for name, text in sealed.items():
                ctx = contexts.get((collection, name, key, scope))
                if ctx is None:
                    ctx = self.context(collection, name, key, scope)
                try:
                    fields[name] = self._open(text, ctx)
                except _OPEN_ERRORS as exc:
                    where = f"record {collection}/{scope}/{key}"
                    raise _undecryptable(where, ctx, exc) from None
        return fields

    def _plan(self, spec: RecordSpec) -> _Plan:
        plan = self._plans.get(spec.cls)
        if plan is None or plan.spec is not spec:
            loaders = tuple((f.name, _loader(f.type)) for f in spec.fields)
            plan = _Plan(
                spec,
                loaders,
                frozenset(name for name, _ in loaders),
                all(loader is None for _, loader in loaders),
            )
            self._plans[spec.cls] = plan
        return plan

    def decode(self, spec: RecordSpec, doc: Document) -> Any:
        """The record of ``doc``, migrated to the current version of ``spec``."""
        fields = self.plain_fields(doc)
        if doc.schema != spec.version:
            where = f"record {doc.collection}/{doc.scope}/{doc.key}"
            if doc.schema > spec.version:
                raise CorruptRecordError(
                    f"{where}: stored at schema version {doc.schema}, newer than this code "
                    f"({spec.version}); upgrade securebot or the plugin"
                )
            for version in range(doc.schema, spec.version):
                fields = spec.migrations[version](dict(fields))
        plan = self._plans.get(spec.cls)
        if plan is None or plan.spec is not spec:
            plan = self._plan(spec)
        try:
            if plan.identity:  # every field is a JSON type: no conversion, only known names
                if fields.keys() <= plan.names:
                    return spec.cls(**fields)
                return spec.cls(**{k: v for k, v in fields.items() if k in plan.names})
            values = {}
            for name, loader in plan.loaders:
                if name in fields:
                    value = fields[name]
                    values[name] = value if loader is None or value is None else loader(value)
            return spec.cls(**values)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise CorruptRecordError(
                f"record {doc.collection}/{doc.scope}/{doc.key}: stored fields do not fit "
                f"{spec.cls.__name__}: {exc}"
            ) from None

    # --- settings values ------------------------------------------------------------------------

    def stale_seals(self, doc: Document) -> bool:
        """Whether a sealed field of ``doc`` is under a non-primary key."""
        sealed = doc.body.get(SEALED) if isinstance(doc.body, Mapping) else None
        if not isinstance(sealed, Mapping):
            return False
        return any(self._stale(text) for text in sealed.values())

    def stale_setting(self, stored: Any) -> bool:
        """Whether a stored settings value is sealed under a non-primary key."""
        if isinstance(stored, dict) and len(stored) == 1 and SEALED_SETTING in stored:
            return self._stale(stored[SEALED_SETTING])
        return False

    def _stale(self, text: Any) -> bool:
        if not isinstance(text, str):
            return False
        try:
            blob = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            return False  # damaged: reading it reports the problem
        return self.sealer.needs_reseal(blob)

    def sealed_key_ids(self, doc: Document) -> list[int]:
        """The key id of every sealed field of ``doc`` (damaged values are left out)."""
        sealed = doc.body.get(SEALED) if isinstance(doc.body, Mapping) else None
        if not isinstance(sealed, Mapping):
            return []
        return [key_id for text in sealed.values() if (key_id := key_id_of_text(text))]

    def setting_key_id(self, stored: Any) -> int | None:
        """The key id a stored settings value is sealed under (``None``: not sealed)."""
        if isinstance(stored, dict) and len(stored) == 1 and SEALED_SETTING in stored:
            return key_id_of_text(stored[SEALED_SETTING])
        return None

    def seal_setting(self, value: Any, ctx: FieldContext) -> dict[str, str]:
        """A sealed settings value."""
        return {SEALED_SETTING: self.seal_value(dump(value), ctx)}

    def open_setting(self, stored: Any, ctx: FieldContext) -> Any:
        """A settings value as stored, sealed ones opened."""
        if isinstance(stored, dict) and len(stored) == 1 and SEALED_SETTING in stored:
            return self.open_value(stored[SEALED_SETTING], ctx, f"setting {ctx.collection}")
        return stored

    def open_sensitive_setting(self, stored: Any, ctx: FieldContext) -> Any:
        """The value of a setting registered as sensitive: it must be sealed.

        A plain value where a sealed one belongs was not written by :meth:`seal_setting` (it
        was planted in the database or the cache, or stored before the name became
        sensitive): :class:`CorruptRecordError`, never the unsealed value.
        """
        if isinstance(stored, dict) and len(stored) == 1 and SEALED_SETTING in stored:
            return self.open_value(stored[SEALED_SETTING], ctx, f"setting {ctx.collection}")
        raise CorruptRecordError(
            f"setting {ctx.collection}: field {ctx.field!r} is sensitive but its stored value is"
            " not sealed; set it again"
        )
