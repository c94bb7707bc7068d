"""Record declarations: which ``attrs`` class lives in which collection, under which key.

A record type is an ``attrs`` class decorated with :func:`record`; its fields may be declared
with :func:`field` to mark them ``sensitive`` (sealed at rest), ``lookup`` (sealed *and*
searchable by equality through a blind index), ``index`` (plain equality index) or ``owner``
(the field holds the Discord user id whose data this record is, for export/erasure requests)::

    @record("moderation.cases", key="number", scope="guild_id", retention=None)
    @attrs.frozen
    class Case:
        guild_id: int
        number: int
        user_id: int = field(owner=True, index=True)
        reason: str = field(sensitive=True, default="")
        note: str = field(lookup=True, default="")

The declaration is validated when the decorator runs (unknown key or scope field, ``lookup`` on
a field that cannot be compared as text...), so a mistake fails at import time, not at the first
write.
"""

from __future__ import annotations

import datetime as dt
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs

from securebot.errors import StorageError

_T = TypeVar("_T")

_META = "securebot.storage"

#: A migration step: takes a record's stored plaintext field mapping at version ``n`` and returns
#: the mapping at version ``n + 1``.
Migration = Callable[[dict[str, Any]], dict[str, Any]]


@attrs.frozen
class FieldOptions:
    """How the storage layer treats one field."""

    sensitive: bool = False
    lookup: bool = False
    index: bool = False
    owner: bool = False


def field(
    *,
    sensitive: bool = False,
    lookup: bool = False,
    index: bool = False,
    owner: bool = False,
    default: Any = attrs.NOTHING,
    factory: Callable[[], Any] | None = None,
    **kwargs: Any,
) -> Any:
    """An ``attrs.field`` carrying storage options.

    :param sensitive: seal the value with the field cipher (associated data = collection, field,
        record key, scope); backends only ever see the ciphertext.
    :param lookup: also keep a per-guild blind index of the value so that
        :meth:`~securebot.core.storage.store.Store.find` can match it by equality. Implies
        ``sensitive``.
    :param index: keep a plain equality index of the value (non-sensitive fields only).
    :param owner: the field holds a Discord user id (``int``) or ``None``; the record is part of
        that user's data for export and erasure requests. Owner ids are stored in clear.
    """
    if lookup:
        sensitive = True
    if index and sensitive:
        raise StorageError("a field cannot be both `index` (plain) and sensitive; use `lookup`")
    metadata = dict(kwargs.pop("metadata", None) or {})
    metadata[_META] = FieldOptions(sensitive=sensitive, lookup=lookup, index=index, owner=owner)
    if factory is not None:
        return attrs.field(factory=factory, metadata=metadata, **kwargs)
    return attrs.field(default=default, metadata=metadata, **kwargs)


@attrs.frozen
class FieldSpec:
    """One declared field of a record type."""

    name: str
    type: Any
    options: FieldOptions


@attrs.frozen
class RecordSpec:
    """Everything the storage layer knows about a record type."""

    cls: type[Any]
    collection: str
    key: tuple[str, ...]
    scope: str | None
    version: int
    retention: dt.timedelta | None
    migrations: Mapping[int, Migration]
    fields: tuple[FieldSpec, ...]

    @property
    def sensitive(self) -> tuple[str, ...]:
        """Names of the sealed fields."""
        return tuple(f.name for f in self.fields if f.options.sensitive)

    @property
    def owners(self) -> tuple[str, ...]:
        """Names of the owner fields."""
        return tuple(f.name for f in self.fields if f.options.owner)

    @property
    def indexed(self) -> tuple[str, ...]:
        """Names of the fields that can be queried by equality (``index`` or ``lookup``)."""
        return tuple(f.name for f in self.fields if f.options.index or f.options.lookup)

    def field_spec(self, name: str) -> FieldSpec:
        """The spec of field ``name``; :class:`StorageError` if the record has no such field."""
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise StorageError(f"record {self.collection} has no field {name!r}")


_SPECS: dict[type[Any], RecordSpec] = {}


def record(
    collection: str,
    *,
    key: str | tuple[str, ...],
    scope: str | None = None,
    version: int = 1,
    retention: dt.timedelta | None = None,
    migrations: Mapping[int, Migration] | None = None,
) -> Callable[[type[_T]], type[_T]]:
    """Declare an ``attrs`` class as a record type stored in ``collection``.

    :param collection: dotted name, by convention ``"<plugin>.<things>"``; unique per process.
    :param key: the field (or fields, joined with ``":"``) that identify a record within its
        scope. Use the stable natural key (case number, message id): it is bound into the
        ciphertexts of sensitive fields.
    :param scope: the field holding the guild id (``int``; ``None`` means global). Records of
        a guild are exported, erased and crypto-shredded with it. ``None``: always global.
    :param version: the schema version; bump it and add ``migrations[old_version]`` when the
        stored shape changes. :meth:`Store.migrate` upgrades stored records at startup.
    :param retention: records expire this long after their last write and are removed by
        :meth:`Store.purge` (never returned once expired).
    :param migrations: ``{n: step}`` upgrading stored field mappings from version n to n + 1.
    """
    keys = (key,) if isinstance(key, str) else tuple(key)
    steps = dict(migrations or {})

    def decorate(cls: type[_T]) -> type[_T]:
        if not attrs.has(typing.cast(type, cls)):
            raise StorageError(f"@record needs an attrs class; decorate {cls.__name__} with attrs")
        if not collection or not all(part for part in collection.split(".")):
            raise StorageError(f"{cls.__name__}: invalid collection name {collection!r}")
        if version < 1:
            raise StorageError(f"{cls.__name__}: version must be >= 1")
        missing_steps = [n for n in range(1, version) if n not in steps]
        if missing_steps:
            raise StorageError(
                f"{collection}: version {version} needs migrations from versions {missing_steps}"
            )
        hints = typing.get_type_hints(cls)
        specs = tuple(
            FieldSpec(
                name=a.name,
                type=hints.get(a.name, Any),
                options=a.metadata.get(_META, FieldOptions()),
            )
            for a in attrs.fields(typing.cast(Any, cls))
        )
        names = {s.name: s for s in specs}
        reserved = sorted(name for name in names if name.startswith("_sealed"))
        if reserved:
            raise StorageError(f"{collection}: field name {reserved[0]!r} is reserved")
        for part in (*keys, *((scope,) if scope else ())):
            if part not in names:
                raise StorageError(f"{collection}: no field {part!r} in {cls.__name__}")
        for part in keys:
            if names[part].options.sensitive:
                raise StorageError(f"{collection}: key field {part!r} cannot be sensitive")
        if scope and names[scope].options.sensitive:
            raise StorageError(f"{collection}: scope field {scope!r} cannot be sensitive")
        name = f"{cls.__module__}.{cls.__qualname__}"
        for other, spec in list(_SPECS.items()):
            if spec.collection != collection:
                continue
            if f"{other.__module__}.{other.__qualname__}" == name:
                del _SPECS[other]  # the same class defined again (a module reloaded)
            else:
                raise StorageError(
                    f"collection {collection!r} is declared twice "
                    f"({other.__module__}.{other.__qualname__} and {name})"
                )
        _SPECS[cls] = RecordSpec(
            cls=cls,
            collection=collection,
            key=keys,
            scope=scope,
            version=version,
            retention=retention,
            migrations=steps,
            fields=specs,
        )
        return cls

    return decorate


def spec_of(cls: type[Any]) -> RecordSpec:
    """The :class:`RecordSpec` of a record type; :class:`StorageError` if it is not declared."""
    try:
        return _SPECS[cls]
    except KeyError:
        raise StorageError(
            f"{getattr(cls, '__qualname__', cls)!r} is not a record type; decorate it with @record"
        ) from None


def record_types() -> list[RecordSpec]:
    """Every declared record type in this process, by collection name."""
    return sorted(_SPECS.values(), key=lambda spec: spec.collection)
