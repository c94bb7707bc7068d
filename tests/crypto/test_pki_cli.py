"""``securebot pki`` end to end with click's CliRunner, checked with ``cryptography``."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.verification import PolicyBuilder, Store

from securebot.cli import cli
from securebot.crypto import pki

ROOT_PASS = "root passphrase, offline"
INTER_PASS = "intermediate passphrase"


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["pki", *args], input=input, catch_exceptions=False)


@pytest.fixture
def ca_dir(tmp_path: Path) -> Path:
    """A CA made through the CLI: root (prompted passphrase) and intermediate (files)."""
    directory = tmp_path / "ca"
    result = run("init-root", "--out", str(directory), input=f"{ROOT_PASS}\n{ROOT_PASS}\n")
    assert result.exit_code == 0, result.output
    (tmp_path / "root.pass").write_text(ROOT_PASS + "\n")
    (tmp_path / "inter.pass").write_text(INTER_PASS + "\n")
    result = run(
        "init-intermediate",
        "--dir", str(directory),
        "--root-passphrase-file", str(tmp_path / "root.pass"),
        "--passphrase-file", str(tmp_path / "inter.pass"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return directory


def inter_pass(ca_dir: Path) -> list[str]:
    return ["--dir", str(ca_dir), "--passphrase-file", str(ca_dir.parent / "inter.pass")]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_full_flow_produces_a_verifiable_hierarchy(ca_dir: Path) -> None:
    result = run("issue", "server", "redis", "--dns", "localhost", "--ip", "127.0.0.1",
                 *inter_pass(ca_dir))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "serial: 0x" in result.output
    result = run("issue", "client", "bot", "--days", "30", *inter_pass(ca_dir))
    assert result.exit_code == 0, result.output

    root, intermediate = cert(ca_dir / "root.crt"), cert(ca_dir / "intermediate.crt")
    issued = ca_dir / "issued"
    server, client = cert(issued / "server-redis.crt"), cert(issued / "client-bot.crt")
    store = Store([root])
    chain = (
        PolicyBuilder()
        .store(store)
        .build_server_verifier(x509.DNSName("localhost"))
        .verify(server, [intermediate])
    )
    assert chain == [server, intermediate, root]
    verified = PolicyBuilder().store(store).build_client_verifier().verify(client, [intermediate])
    assert verified.chain == [client, intermediate, root]
    assert pki.service_name(client) == "bot"
    assert (client.not_valid_after_utc - client.not_valid_before_utc).days == 30
    # the bundle is leaf + intermediate, and the leaf key matches the certificate
    assert x509.load_pem_x509_certificates((issued / "client-bot.bundle.pem").read_bytes()) == [
        client,
        intermediate,
    ]
    pki.load_certified_key(
        (issued / "client-bot.crt").read_bytes(), (issued / "client-bot.key").read_bytes()
    )


def test_keys_are_private_and_ca_keys_encrypted(ca_dir: Path) -> None:
    assert run("issue", "client", "bot", *inter_pass(ca_dir)).exit_code == 0
    for key in ("root.key", "intermediate.key", "issued/client-bot.key"):
        assert mode(ca_dir / key) == 0o600, key
    for public in ("root.crt", "intermediate.crt", "issued/client-bot.crt"):
        assert mode(ca_dir / public) == 0o644, public
    for key, passphrase in (("root.key", ROOT_PASS), ("intermediate.key", INTER_PASS)):
        pem = (ca_dir / key).read_bytes()
        assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
        with pytest.raises(TypeError):
            serialization.load_pem_private_key(pem, password=None)
        serialization.load_pem_private_key(pem, password=passphrase.encode())
    root_key = serialization.load_pem_private_key(
        (ca_dir / "root.key").read_bytes(), password=ROOT_PASS.encode()
    )
    assert isinstance(root_key.public_key(), type(cert(ca_dir / "root.crt").public_key()))
    assert cert(ca_dir / "root.crt").public_key().curve.name == "secp384r1"  # type: ignore[union-attr]


def test_crl_revokes_and_verify_refuses(ca_dir: Path) -> None:
    assert run("issue", "client", "bot", *inter_pass(ca_dir)).exit_code == 0
    assert run("issue", "client", "spare", *inter_pass(ca_dir)).exit_code == 0
    issued = ca_dir / "issued"
    bot = cert(issued / "client-bot.crt")
    ok = run("verify", str(issued / "client-bot.crt"), "--purpose", "client", "--dir", str(ca_dir))
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith(
        "ok: CN=bot <- CN=securebot intermediate CA <- CN=securebot root CA"
    )

    result = run("crl", "--revoke-cert", str(issued / "client-bot.crt"), *inter_pass(ca_dir))
    assert result.exit_code == 0, result.output
    assert "CRL #1: 1 revoked" in result.output
    spare_serial = f"{cert(issued / 'client-spare.crt').serial_number:#x}"
    result = run("crl", "--revoke", spare_serial, *inter_pass(ca_dir))
    assert result.exit_code == 0, result.output
    assert "CRL #2: 2 revoked" in result.output

    crl = x509.load_pem_x509_crl((ca_dir / "crl.pem").read_bytes())
    intermediate = cert(ca_dir / "intermediate.crt")
    assert crl.is_signature_valid(intermediate.public_key())  # type: ignore[arg-type]
    assert crl.get_revoked_certificate_by_serial_number(bot.serial_number) is not None
    assert len(crl) == 2

    refused = run("verify", str(issued / "client-bot.crt"), "--purpose", "client",
                  "--dir", str(ca_dir))  # fmt: skip
    assert refused.exit_code == 1
    assert "was revoked on" in refused.output
    assert "Traceback" not in refused.output


def test_bundle_prints_or_writes_the_chain(ca_dir: Path, tmp_path: Path) -> None:
    assert run("issue", "server", "db", "--dns", "db.internal", *inter_pass(ca_dir)).exit_code == 0
    leaf = ca_dir / "issued" / "server-db.crt"
    printed = run("bundle", str(leaf), "--dir", str(ca_dir))
    assert printed.exit_code == 0, printed.output
    expected = [cert(leaf), cert(ca_dir / "intermediate.crt")]
    assert x509.load_pem_x509_certificates(printed.output.encode()) == expected
    out = tmp_path / "db.pem"
    assert run("bundle", str(leaf), "--dir", str(ca_dir), "-o", str(out)).exit_code == 0
    assert x509.load_pem_x509_certificates(out.read_bytes()) == expected


def test_wrong_passphrase_is_one_clean_error_line(ca_dir: Path, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.pass"
    wrong.write_text("not the right passphrase\n")
    result = run("issue", "client", "bot", "--dir", str(ca_dir), "--passphrase-file", str(wrong))
    assert result.exit_code == 1
    assert result.output.strip() == "Error: wrong passphrase for the private key"
    assert not (ca_dir / "issued" / "client-bot.crt").exists()


def test_prompted_passphrase_works_for_issuing(ca_dir: Path) -> None:
    result = run("issue", "client", "bot", "--dir", str(ca_dir), input=f"{INTER_PASS}\n")
    assert result.exit_code == 0, result.output
    assert INTER_PASS not in result.output  # hidden input is not echoed
    assert (ca_dir / "issued" / "client-bot.crt").exists()


def test_existing_files_are_never_overwritten(ca_dir: Path) -> None:
    before = (ca_dir / "root.key").read_bytes()
    result = run("init-root", "--out", str(ca_dir), input=f"{ROOT_PASS}\n{ROOT_PASS}\n")
    assert result.exit_code == 1
    assert "already exists: refusing to overwrite it" in result.output
    assert (ca_dir / "root.key").read_bytes() == before
    assert run("issue", "client", "bot", *inter_pass(ca_dir)).exit_code == 0
    again = run("issue", "client", "bot", *inter_pass(ca_dir))
    assert again.exit_code == 1
    assert "client-bot.crt already exists" in again.output


def test_short_or_mismatched_new_passphrase_is_refused(tmp_path: Path) -> None:
    short = run("init-root", "--out", str(tmp_path / "a"), input="short\nshort\n")
    assert short.exit_code == 1
    assert "too short" in short.output
    assert not (tmp_path / "a" / "root.key").exists()
    mismatch = run(
        "init-root", "--out", str(tmp_path / "b"), input=f"{ROOT_PASS}\nother one!!!!!\n"
    )
    assert mismatch.exit_code != 0
    assert not (tmp_path / "b" / "root.key").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["issue", "server", "redis"], "at least one DNS name or IP address"),
        (["issue", "server", "Bad Name", "--dns", "x.internal"], "server name 'Bad Name'"),
        (["issue", "client", "bot", "--days", "365"], "lives 1-90 days"),
        (["crl", "--revoke", "banana"], "not a serial number"),
        (["crl", "--revoke", "0"], "must be positive"),
    ],
)
def test_bad_requests_are_clear_errors(ca_dir: Path, args: list[str], message: str) -> None:
    result = run(*args, *inter_pass(ca_dir))
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_missing_ca_says_what_to_do(tmp_path: Path) -> None:
    result = run("issue", "client", "bot", "--dir", str(tmp_path), input="whatever passphrase\n")
    assert result.exit_code == 1
    assert "does not exist: create the CA first" in result.output


def test_help_lists_every_command() -> None:
    result = run("--help")
    assert result.exit_code == 0
    for command in ("init-root", "init-intermediate", "issue", "crl", "bundle", "verify"):
        assert command in result.output


def test_renew_replaces_the_files_and_keeps_the_previous_ones(ca_dir: Path) -> None:
    assert run("issue", "server", "redis", "--dns", "localhost", *inter_pass(ca_dir)).exit_code == 0
    issued = ca_dir / "issued"
    old = cert(issued / "server-redis.crt")
    result = run("renew", str(issued / "server-redis.crt"), "--days", "45", *inter_pass(ca_dir))
    assert result.exit_code == 0, result.output
    new = cert(issued / "server-redis.crt")
    assert new.serial_number != old.serial_number
    assert (new.not_valid_after_utc - new.not_valid_before_utc).days == 45
    assert cert(issued / f"server-redis.{old.serial_number:x}.crt") == old
    assert mode(issued / f"server-redis.{old.serial_number:x}.key") == 0o600
    assert mode(issued / "server-redis.key") == 0o600
    pki.load_certified_key((issued / "server-redis.crt").read_bytes(),
                           (issued / "server-redis.key").read_bytes())  # fmt: skip
    ok = run("verify", str(issued / "server-redis.bundle.pem"), "--purpose", "server",
             "--name", "localhost", "--dir", str(ca_dir))  # fmt: skip
    assert ok.exit_code == 0, ok.output


def test_intermediate_through_a_csr_keeps_its_key_off_the_root_machine(tmp_path: Path) -> None:
    offline, ca = tmp_path / "offline", tmp_path / "ca"
    (tmp_path / "root.pass").write_text(ROOT_PASS + "\n")
    (tmp_path / "inter.pass").write_text(INTER_PASS + "\n")
    root_pass = ["--root-passphrase-file", str(tmp_path / "root.pass")]
    assert (
        run("init-root", "--out", str(offline), input=f"{ROOT_PASS}\n{ROOT_PASS}\n").exit_code == 0
    )

    made = run("request-intermediate", "--dir", str(ca), "--name", "ops intermediate",
               "--passphrase-file", str(tmp_path / "inter.pass"))  # fmt: skip
    assert made.exit_code == 0, made.output
    assert mode(ca / "intermediate.key") == 0o600
    assert (ca / "intermediate.key").read_bytes().startswith(b"-----BEGIN ENCRYPTED")

    signed_path = tmp_path / "transfer" / "intermediate.crt"
    signed = run("sign-intermediate", str(ca / "intermediate.csr"), "--root-dir", str(offline),
                 "-o", str(signed_path), "--days", "400", *root_pass)  # fmt: skip
    assert signed.exit_code == 0, signed.output
    assert sorted(p.name for p in offline.iterdir()) == ["root.crt", "root.key"]  # no CA key

    installed = run("install-intermediate", str(signed_path), "--root-cert",
                    str(offline / "root.crt"), "--dir", str(ca))  # fmt: skip
    assert installed.exit_code == 0, installed.output
    assert cert(ca / "root.crt") == cert(offline / "root.crt")
    assert cert(ca / "intermediate.crt").subject.rfc4514_string() == "CN=ops intermediate"

    issued = run("issue", "client", "bot", "--dir", str(ca),
                 "--passphrase-file", str(tmp_path / "inter.pass"))  # fmt: skip
    assert issued.exit_code == 0, issued.output
    ok = run("verify", str(ca / "issued" / "client-bot.crt"), "--purpose", "client",
             "--dir", str(ca))  # fmt: skip
    assert ok.exit_code == 0, ok.output


def test_install_refuses_a_certificate_for_another_request(ca_dir: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    made = run("request-intermediate", "--dir", str(other),
               "--passphrase-file", str(tmp_path / "inter.pass"))  # fmt: skip
    assert made.exit_code == 0, made.output
    # ca_dir's own intermediate (signed by the same root) does not match other's request
    refused = run("install-intermediate", str(ca_dir / "intermediate.crt"), "--root-cert",
                  str(ca_dir / "root.crt"), "--dir", str(other))  # fmt: skip
    assert refused.exit_code == 1
    assert "is not the certificate for" in refused.output
    assert not (other / "intermediate.crt").exists()
