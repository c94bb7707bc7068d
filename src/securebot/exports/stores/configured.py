"""Object stores named by settings: the ``[plugin.chatlogs]`` table the bot and gateway share.

The keys (all optional):

* ``store_dir``: a directory for the ``local`` store (default ``exports``);
* ``s3_bucket`` + ``kms_key_id`` (SSE-KMS, required with a bucket) + ``s3_endpoint`` (an
  S3-compatible endpoint URL): the ``s3`` store.

The bot writes new exports to one store (:func:`object_store_from_settings`: S3 when a bucket is
named, else the directory); the download gateway serves every store the settings name
(:func:`object_stores_from_settings`), so archives left in the directory before a move to S3
stay downloadable until they expire. Nothing here touches the network: the S3 client is made on
first use (boto3, the ``s3`` extra).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from securebot.errors import ConfigError
from securebot.exports.stores.base import ObjectStore
from securebot.exports.stores.local import LocalExportStore
from securebot.exports.stores.s3 import S3ExportStore

#: The settings keys that name object stores.
OBJECT_STORE_SETTINGS = frozenset({"store_dir", "s3_bucket", "kms_key_id", "s3_endpoint"})
#: The local store's directory when ``store_dir`` is not set.
DEFAULT_STORE_DIR = "exports"


def _text(settings: Mapping[str, Any], key: str, where: str) -> str | None:
    value = settings.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where} {key}: expected a non-empty string")
    return value


def _s3_store(settings: Mapping[str, Any], where: str) -> S3ExportStore | None:
    bucket = _text(settings, "s3_bucket", where)
    if bucket is None:
        return None
    kms_key_id = _text(settings, "kms_key_id", where)
    if kms_key_id is None:
        raise ConfigError(f"{where} s3_bucket needs kms_key_id (exports are stored with SSE-KMS)")
    endpoint = _text(settings, "s3_endpoint", where)

    def client() -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=endpoint)

    return S3ExportStore(bucket, kms_key_id=kms_key_id, client_factory=client)


def _local_store(settings: Mapping[str, Any], where: str) -> LocalExportStore:
    return LocalExportStore(Path(_text(settings, "store_dir", where) or DEFAULT_STORE_DIR))


def object_store_from_settings(
    settings: Mapping[str, Any], *, where: str = "[plugin.chatlogs]"
) -> ObjectStore:
    """The store new exports go to: ``s3`` when ``s3_bucket`` is set, else ``local``.

    Keys other than :data:`OBJECT_STORE_SETTINGS` are ignored (the caller checks its own table).

    :param where: names the settings in error messages.
    :raises ConfigError: a bucket without ``kms_key_id``, or a value that is not a string.
    """
    s3 = _s3_store(settings, where)
    return s3 if s3 is not None else _local_store(settings, where)


def object_stores_from_settings(
    settings: Mapping[str, Any], *, where: str = "[plugin.chatlogs]"
) -> dict[str, ObjectStore]:
    """Every store the settings name, by :attr:`ObjectStore.name` (what export records keep).

    ``local`` when ``store_dir`` is set or no bucket is (the bot's default directory), ``s3``
    when ``s3_bucket`` is set: a gateway serves archives from both.

    :raises ConfigError: as :func:`object_store_from_settings`.
    """
    stores: dict[str, ObjectStore] = {}
    s3 = _s3_store(settings, where)
    if s3 is None or settings.get("store_dir") is not None:
        stores["local"] = _local_store(settings, where)
    if s3 is not None:
        stores["s3"] = s3
    return stores
