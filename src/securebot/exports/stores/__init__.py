"""Object stores for encrypted archives: the protocol, ``local`` and ``s3``."""

from securebot.exports.stores.base import (
    DEFAULT_RETENTION,
    EXPORT_PREFIX,
    ObjectStore,
    is_object_key,
    new_object_key,
)
from securebot.exports.stores.local import LocalExportStore
from securebot.exports.stores.s3 import S3ExportStore

__all__ = [
    "DEFAULT_RETENTION",
    "EXPORT_PREFIX",
    "LocalExportStore",
    "ObjectStore",
    "S3ExportStore",
    "is_object_key",
    "new_object_key",
]
