"""``s3``: encrypted archives in an S3 bucket with SSE-KMS, public access blocked, 30-day expiry.

:meth:`S3ExportStore.ensure_bucket` sets the bucket up (idempotent): Block Public Access on all
four settings, default encryption ``aws:kms`` with the configured key and a Bucket Key, and a
lifecycle rule that expires everything under ``exports/`` after the retention (30 days) and
aborts incomplete multipart uploads after 1 day. Every ``put`` also asks for SSE-KMS explicitly
and sends a ``ChecksumSHA256`` that S3 verifies.

Downloads are presigned GET URLs valid for a few minutes, with ``Content-Disposition:
attachment``. SigV4 caps presigned URLs at 7 days and S3-compatible test servers do not enforce
expiry at all, so the expiry is clamped here, never trusted to the server.

boto3 is imported lazily (the ``s3`` extra); its blocking calls run in worker threads.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from collections.abc import AsyncIterator, Callable
from typing import Any

from securebot.errors import BackendUnavailableError, ExportError, RecordNotFoundError
from securebot.exports.stores.base import DEFAULT_RETENTION, EXPORT_PREFIX, is_object_key

#: Longest presigned URL this store hands out (seconds); requests above are clamped.
MAX_PRESIGN_SECONDS = 900
#: SigV4's own ceiling for presigned URLs (7 days).
SIGV4_MAX_SECONDS = 604_800
#: Id of the lifecycle rule :meth:`S3ExportStore.ensure_bucket` installs.
LIFECYCLE_RULE_ID = "securebot-exports-expire"


def _safe_filename(filename: str) -> str:
    cleaned = "".join(c for c in filename if c.isalnum() or c in "._-")
    return cleaned or "export.7z"


class S3ExportStore:
    """Archives in an S3 (or S3-compatible) bucket."""

    name = "s3"

    def __init__(
        self,
        bucket: str,
        *,
        kms_key_id: str,
        client: Any = None,
        client_factory: Callable[[], Any] | None = None,
        retention: dt.timedelta = DEFAULT_RETENTION,
        max_presign_seconds: int = MAX_PRESIGN_SECONDS,
    ) -> None:
        """:param client: a boto3 S3 client; or ``client_factory`` making one on first use
        (default: ``boto3.client("s3")``).
        :param kms_key_id: KMS key id or ARN for SSE-KMS (required: no SSE-S3 fallback).
        """
        if not bucket:
            raise ExportError("the S3 export store needs a bucket name")
        if not kms_key_id:
            raise ExportError("the S3 export store needs a KMS key id for SSE-KMS")
        if retention.days < 1:
            raise ExportError("S3 lifecycle expiry works in whole days: retention must be ≥ 1 day")
        self.bucket = bucket
        self.kms_key_id = kms_key_id
        self.retention = retention
        self.max_presign_seconds = min(max_presign_seconds, SIGV4_MAX_SECONDS)
        self._client = client
        self._factory = client_factory

    @property
    def client(self) -> Any:
        """The boto3 client (created on first use)."""
        if self._client is None:
            if self._factory is not None:
                self._client = self._factory()
            else:
                try:
                    import boto3
                except ImportError as exc:
                    raise ExportError(
                        "the S3 export store needs boto3: install securebot[s3]"
                    ) from exc
                self._client = boto3.client("s3")
        return self._client

    async def _call(self, method: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return await asyncio.to_thread(getattr(self.client, method), **kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "?")
            if code in {"NoSuchKey", "404", "NotFound"}:
                raise RecordNotFoundError("no such export object") from None
            raise ExportError(f"S3 {method} on bucket {self.bucket!r} failed: {code}") from None
        except BotoCoreError as exc:
            raise BackendUnavailableError(
                f"S3 {method} on bucket {self.bucket!r} failed: {type(exc).__name__}"
            ) from None

    # --- setup ------------------------------------------------------------------------------

    def lifecycle_rules(self) -> list[dict[str, Any]]:
        """The lifecycle configuration this store wants on its bucket."""
        return [
            {
                "ID": LIFECYCLE_RULE_ID,
                "Filter": {"Prefix": EXPORT_PREFIX},
                "Status": "Enabled",
                "Expiration": {"Days": self.retention.days},
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
            }
        ]

    async def ensure_bucket(self, *, region: str | None = None) -> None:
        """Create the bucket if needed, then apply Block Public Access, SSE-KMS and lifecycle."""
        from botocore.exceptions import ClientError

        try:
            await asyncio.to_thread(self.client.head_bucket, Bucket=self.bucket)
        except ClientError:
            params: dict[str, Any] = {"Bucket": self.bucket}
            if region and region != "us-east-1":
                params["CreateBucketConfiguration"] = {"LocationConstraint": region}
            await self._call("create_bucket", **params)
        await self._call(
            "put_public_access_block",
            Bucket=self.bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        await self._call(
            "put_bucket_encryption",
            Bucket=self.bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": self.kms_key_id,
                        },
                        "BucketKeyEnabled": True,
                    }
                ]
            },
        )
        await self._call(
            "put_bucket_lifecycle_configuration",
            Bucket=self.bucket,
            LifecycleConfiguration={"Rules": self.lifecycle_rules()},
        )

    # --- objects ----------------------------------------------------------------------------

    async def put(self, key: str, data: bytes, *, sha256: str) -> None:
        """Upload with SSE-KMS and a SHA-256 checksum S3 verifies."""
        if not is_object_key(key):
            raise ExportError("refusing to store an object under a non-export key")
        checksum = base64.b64encode(bytes.fromhex(sha256)).decode("ascii")
        await self._call(
            "put_object",
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType="application/x-7z-compressed",
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=self.kms_key_id,
            BucketKeyEnabled=True,
            ChecksumSHA256=checksum,
        )

    async def stream(self, key: str, *, chunk_size: int = 256 * 1024) -> AsyncIterator[bytes]:
        """The object's bytes in chunks (the gateway prefers :meth:`presign`)."""
        if not is_object_key(key):
            raise RecordNotFoundError("no such export object")
        response = await self._call("get_object", Bucket=self.bucket, Key=key)
        body = response["Body"]
        try:
            while chunk := await asyncio.to_thread(body.read, chunk_size):
                yield chunk
        finally:
            body.close()

    def presign_seconds(self, expires_in: int) -> int:
        """``expires_in`` clamped to ``[1, max_presign_seconds]``."""
        return max(1, min(int(expires_in), self.max_presign_seconds))

    async def presign(self, key: str, *, expires_in: int, filename: str) -> str | None:
        """A presigned GET valid for at most :attr:`max_presign_seconds`, as an attachment."""
        if not is_object_key(key):
            raise RecordNotFoundError("no such export object")
        url: str = await asyncio.to_thread(
            self.client.generate_presigned_url,
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentDisposition": (
                    f'attachment; filename="{_safe_filename(filename)}"'
                ),
                "ResponseContentType": "application/x-7z-compressed",
            },
            ExpiresIn=self.presign_seconds(expires_in),
        )
        return url

    async def delete(self, key: str) -> bool:
        """Delete the object (S3 does not say whether it existed: ``True`` once deleted)."""
        if not is_object_key(key):
            return False
        await self._call("delete_object", Bucket=self.bucket, Key=key)
        return True

    async def purge(self) -> int:
        """Nothing to do here: the bucket's lifecycle rule expires objects (returns 0)."""
        return 0
