"""The aws-kms provider against moto's real HTTP server (ThreadedMotoServer on 127.0.0.1:0)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner
from moto.server import ThreadedMotoServer

from securebot.cli import cli
from securebot.crypto import (
    AwsKmsKeyProvider,
    FieldCipher,
    FieldContext,
    Keyring,
    open_keyring,
    seal_keyring,
)
from securebot.errors import KeyProviderError, KeyringError


@pytest.fixture(scope="module")
def kms_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("SECUREBOT_ENV", raising=False)


@pytest.fixture
def kms_key(kms_endpoint: str, aws_env: None) -> str:
    client: Any = boto3.client("kms", region_name="eu-west-1", endpoint_url=kms_endpoint)
    key_id = client.create_key(Description="securebot test KEK")["KeyMetadata"]["Arn"]
    return str(key_id)


async def test_round_trip_through_moto(kms_endpoint: str, kms_key: str) -> None:
    provider = AwsKmsKeyProvider(kms_key, region="eu-west-1", endpoint_url=kms_endpoint)
    keyring = Keyring.generate()
    ctx = FieldContext("messages", "content", "1", scope="99")
    blob = FieldCipher(keyring, "messages").encrypt({"text": "hi"}, ctx)
    sealed = await seal_keyring(keyring, provider, environment="production")
    document = json.loads(sealed)
    assert document["provider"] == {
        "name": "aws-kms",
        "options": {"key_id": kms_key, "region": "eu-west-1", "endpoint_url": kms_endpoint},
    }
    reopened = await open_keyring(sealed, environment="production")  # provider rebuilt from file
    assert FieldCipher(reopened, "messages").decrypt(blob, ctx) == {"text": "hi"}


async def test_wrong_encryption_context_is_refused(kms_endpoint: str, kms_key: str) -> None:
    provider = AwsKmsKeyProvider(kms_key, region="eu-west-1", endpoint_url=kms_endpoint)
    dek = b"k" * 32
    context = {"app": "securebot", "purpose": "keyring", "keyring_id": "a"}
    wrapped = await provider.wrap(dek, context)
    assert dek not in wrapped
    assert await provider.unwrap(wrapped, context) == dek
    with pytest.raises(KeyProviderError, match="encryption context or KMS key does not match"):
        await provider.unwrap(wrapped, {**context, "keyring_id": "b"})
    with pytest.raises(KeyProviderError, match="InvalidCiphertextException"):
        await provider.unwrap(wrapped, {})


async def test_sealed_keyring_moved_to_another_environment_is_refused_by_kms(
    kms_endpoint: str, kms_key: str
) -> None:
    provider = AwsKmsKeyProvider(kms_key, region="eu-west-1", endpoint_url=kms_endpoint)
    sealed = json.loads(await seal_keyring(Keyring.generate(), provider, environment="staging"))
    sealed["environment"] = "production"  # the context KMS sees no longer matches
    with pytest.raises(KeyringError, match="refusing to open the keyring: aws-kms refused"):
        await open_keyring(json.dumps(sealed).encode(), provider, environment="production")


async def test_unknown_kms_key_is_a_clear_error(kms_endpoint: str, aws_env: None) -> None:
    provider = AwsKmsKeyProvider(
        "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000",
        region="eu-west-1",
        endpoint_url=kms_endpoint,
    )
    with pytest.raises(KeyProviderError, match="aws-kms could not wrap the data key"):
        await provider.wrap(b"k" * 32, {"app": "securebot"})


def test_provider_repr_hides_nothing_secret_and_needs_a_key() -> None:
    provider = AwsKmsKeyProvider("alias/securebot", region="eu-west-1")
    assert repr(provider) == "AwsKmsKeyProvider(key_id='alias/securebot', region='eu-west-1')"
    with pytest.raises(KeyProviderError, match="key id or alias is required"):
        AwsKmsKeyProvider("")


def test_keys_cli_with_aws_kms(kms_endpoint: str, kms_key: str, tmp_path: Path) -> None:
    keyring = str(tmp_path / "keyring.json")
    common = ["--keyring", keyring, "--environment", "production"]
    runner = CliRunner()
    created = runner.invoke(
        cli,
        [
            "keys",
            "init",
            *common,
            "--provider",
            "aws-kms",
            "--kms-key-id",
            kms_key,
            "--kms-region",
            "eu-west-1",
            "--kms-endpoint-url",
            kms_endpoint,
        ],
    )
    assert created.exit_code == 0, created.output
    status = runner.invoke(cli, ["keys", "status", *common])
    assert status.exit_code == 0, status.output
    assert "AwsKmsKeyProvider" in status.output
    other_env = runner.invoke(
        cli, ["keys", "status", "--keyring", keyring, "--environment", "staging"]
    )
    assert other_env.exit_code == 1
    assert "sealed for environment 'production'" in other_env.output
    rotated = runner.invoke(cli, ["keys", "rotate", *common, "--purpose", "messages"])
    assert rotated.exit_code == 0, rotated.output


async def test_missing_boto3_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # makes `import boto3` raise ImportError
    provider = AwsKmsKeyProvider("alias/securebot", region="eu-west-1")
    with pytest.raises(KeyProviderError, match=r"needs boto3: pip install 'securebot\[s3\]'"):
        await provider.wrap(b"k" * 32, {"app": "securebot"})


def test_importing_crypto_does_not_import_boto3() -> None:
    code = "import sys, securebot.crypto; print('boto3' in sys.modules, 'botocore' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
