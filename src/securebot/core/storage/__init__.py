"""The storage API: typed async records and settings, encrypted above any backend.

Three layers, top to bottom:

1. **Declarations** (:mod:`.records`): a record type is an ``attrs`` class decorated with
   :func:`record` (collection, key fields, scope field = guild id, schema version, retention,
   migrations). Its fields may use :func:`field` with ``sensitive`` (sealed),
   ``lookup`` (sealed + per-guild blind index for equality queries), ``index`` (plain equality
   index) and ``owner`` (holds the Discord user id whose data the record is).
2. **The Store** (:class:`Store`): what plugins use. ``get / get_versioned / require / put
   (expect= for compare-and-set → ConflictError) / update / delete / put_many / find (paged,
   by indexed fields and scope) / iterate / purge (retention) / incr + counter (atomic, e.g.
   case numbers per guild) / settings(namespace) / subscribe / migrate / export_user /
   delete_user / export_guild / delete_guild``. It encodes records to :class:`Document` values
   (:mod:`.codec`): plain fields as JSON, sensitive ones sealed with the crypto envelope
   (associated data = collection, field, record key, scope = guild), so backends only ever see
   ciphertext. A damaged ciphertext raises :class:`~securebot.errors.CorruptRecordError` for
   that record only (``find`` lists it in ``page.corrupt`` and returns the others).
3. **Backends** (:class:`Backend` protocol, :mod:`.backend`): SQLite
   (``securebot.storage.sqlite``), MongoDB and a Redis read-through cache implement it and
   pass the shared contract suite in ``tests/storage`` (see ``tests/storage/README.md`` to add
   a backend). A cache is a ``Backend`` wrapping another ``Backend``: it sees every write (and
   ``Store.subscribe`` gives in-process listeners a :class:`Change` for each), and reads
   through on a miss. Documents are named ``(collection, scope, key)``; revisions grow by one
   per write; ``expect=0`` means "create only".

Settings (:mod:`.settings`) follow Red-DiscordBot's Config: ``store.settings("plugin")``,
``register(Scope.GUILD, name=default, ...)``, then ``settings.guild(id).get/set/clear/all``,
with scopes global / guild / channel / role / user / member. They use dedicated backend
methods (``get_setting``...) because they are the hottest path.

This package imports no backend; ``core`` code may depend on it freely.
"""

from __future__ import annotations

from securebot.core.storage.backend import (
    ABSENT,
    GLOBAL,
    Backend,
    Change,
    Document,
    Page,
    Query,
    SettingRow,
    scope_of,
)
from securebot.core.storage.codec import FieldSealer, KeyringSealer, RecordCodec
from securebot.core.storage.records import (
    FieldOptions,
    FieldSpec,
    Migration,
    RecordSpec,
    field,
    record,
    record_types,
    spec_of,
)
from securebot.core.storage.settings import Scope, ScopedSettings, Settings
from securebot.core.storage.store import RecordPage, Store, Versioned

__all__ = [
    "ABSENT",
    "GLOBAL",
    "Backend",
    "Change",
    "Document",
    "FieldOptions",
    "FieldSealer",
    "FieldSpec",
    "KeyringSealer",
    "Migration",
    "Page",
    "Query",
    "RecordCodec",
    "RecordPage",
    "RecordSpec",
    "Scope",
    "ScopedSettings",
    "SettingRow",
    "Settings",
    "Store",
    "Versioned",
    "field",
    "record",
    "record_types",
    "scope_of",
    "spec_of",
]
