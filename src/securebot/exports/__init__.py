"""Encrypted chat-log exports: render in memory, 7-Zip AES-256 archive, object store, links.

The public face plugins use (``savechat``, raid-room logs, data exports):

* values: :class:`ExportMessage` (built from ``discord.Message``), :class:`ExportInfo`;
* formats: :class:`ExportFormat`, :class:`FormatRegistry` (``csv``, ``jsonl``, ``html``,
  ``txt`` built in; plugins add more with ``securebot_register_export_formats``);
* archives: :func:`build_archive` / :func:`build_archive_async`, :func:`new_password`;
* stores: :class:`ObjectStore`, :class:`LocalExportStore`, :class:`S3ExportStore`, and
  :func:`object_store_from_settings` / :func:`object_stores_from_settings` (from a
  ``[plugin.chatlogs]``-style table: ``store_dir``, ``s3_bucket``, ``kms_key_id``, ``s3_endpoint``);
* metadata: :class:`ExportRecord`, :class:`ExportMetadataStore`,
  :class:`MemoryExportMetadataStore`, :class:`StoreExportMetadata` (on the storage API);
* links: :class:`DownloadTokenSigner`;
* the pipeline: :class:`ExportService` → :class:`ExportResult`.

Imports only :mod:`securebot.core`, :mod:`securebot.crypto` and :mod:`securebot.errors`; py7zr
and boto3 are imported lazily by the modules that need them.
"""

from securebot.exports.archive import (
    Archive,
    build_archive,
    build_archive_async,
    new_password,
)
from securebot.exports.fetch import (
    OPERATOR_MAX,
    SAVECHAT_DEFAULT,
    SAVECHAT_MAX,
    check_limit,
    fetch_history,
)
from securebot.exports.formats import (
    BUILTIN_FORMATS,
    DEFAULT_FORMATS,
    ExportFormat,
    FormatRegistry,
    render_files,
)
from securebot.exports.metadata import (
    ExportMetadataStore,
    ExportRecord,
    MemoryExportMetadataStore,
)
from securebot.exports.model import ExportAttachment, ExportEmbed, ExportInfo, ExportMessage
from securebot.exports.service import ExportResult, ExportService
from securebot.exports.stored import StoreExportMetadata
from securebot.exports.stores import (
    DEFAULT_RETENTION,
    OBJECT_STORE_SETTINGS,
    LocalExportStore,
    ObjectStore,
    S3ExportStore,
    new_object_key,
    object_store_from_settings,
    object_stores_from_settings,
)
from securebot.exports.tokens import (
    SIGNING_KEY_ENV,
    DownloadTokenError,
    DownloadTokenSigner,
    TokenClaims,
    signing_key_from_env,
)

__all__ = [
    "BUILTIN_FORMATS",
    "DEFAULT_FORMATS",
    "DEFAULT_RETENTION",
    "OBJECT_STORE_SETTINGS",
    "OPERATOR_MAX",
    "SAVECHAT_DEFAULT",
    "SAVECHAT_MAX",
    "SIGNING_KEY_ENV",
    "Archive",
    "DownloadTokenError",
    "DownloadTokenSigner",
    "ExportAttachment",
    "ExportEmbed",
    "ExportFormat",
    "ExportInfo",
    "ExportMessage",
    "ExportMetadataStore",
    "ExportRecord",
    "ExportResult",
    "ExportService",
    "FormatRegistry",
    "LocalExportStore",
    "MemoryExportMetadataStore",
    "ObjectStore",
    "S3ExportStore",
    "StoreExportMetadata",
    "TokenClaims",
    "build_archive",
    "build_archive_async",
    "check_limit",
    "fetch_history",
    "new_object_key",
    "new_password",
    "object_store_from_settings",
    "object_stores_from_settings",
    "render_files",
    "signing_key_from_env",
]
