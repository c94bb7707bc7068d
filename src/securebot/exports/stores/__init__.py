"""Object stores for encrypted archives: the protocol, ``local`` and ``s3``."""

from securebot.exports.stores.base import (
    DEFAULT_RETENTION,
    EXPORT_PREFIX,
    ObjectStore,
    is_object_key,
    new_object_key,
)
from securebot.exports.stores.configured import (
    OBJECT_STORE_SETTINGS,
    object_store_from_settings,
    object_stores_from_settings,
)
from securebot.exports.stores.local import LocalExportStore
from securebot.exports.stores.s3 import S3ExportStore

__all__ = [
    "DEFAULT_RETENTION",
    "EXPORT_PREFIX",
    "OBJECT_STORE_SETTINGS",
    "LocalExportStore",
    "ObjectStore",
    "S3ExportStore",
    "is_object_key",
    "new_object_key",
    "object_store_from_settings",
    "object_stores_from_settings",
]
