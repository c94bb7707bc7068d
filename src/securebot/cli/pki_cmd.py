"""``securebot pki``: run the internal certificate authority for mutual TLS.

One directory holds a CA's files (``--dir``)::

    root.crt  root.key                 offline root (key encrypted; keep it off servers)
    intermediate.crt  intermediate.key  issuing CA (key encrypted)
    intermediate.csr                   its signing request, when the root signs offline
    crl.pem                            revocation list issued by the intermediate
    issued/server-NAME.{crt,key,bundle.pem}, issued/client-SERVICE.{crt,key,bundle.pem}

Private keys are written with mode 0600; CA keys are always encrypted with a passphrase (prompted,
or read from ``--passphrase-file``). Existing files are never overwritten.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from securebot.crypto import pki
from securebot.errors import CertificateError

ROOT_CERT, ROOT_KEY = "root.crt", "root.key"
INTERMEDIATE_CERT, INTERMEDIATE_KEY = "intermediate.crt", "intermediate.key"
INTERMEDIATE_CSR = "intermediate.csr"
CRL_FILE = "crl.pem"

_dir_option = click.option(
    "--dir",
    "--out",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("pki"),
    show_default=True,
    help="The CA directory.",
)


@click.group("pki")
def pki_group() -> None:
    """Internal certificate authority for mutual TLS (Redis, MongoDB, services).

    Typical order: init-root (on an offline machine), init-intermediate (or, keeping the
    intermediate key off the root machine: request-intermediate, sign-intermediate,
    install-intermediate), then issue server
    and client leaves (30-90 days) as needed, renew them before they expire, crl to revoke,
    bundle to rebuild a chain, verify to check one.
    """


@pki_group.command("init-root")
@_dir_option
@click.option("--name", default="securebot root CA", show_default=True, help="Common name.")
@click.option("--days", default=3650, show_default=True, help="Lifetime in days.")
@click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Read the new root key's passphrase from this file instead of prompting.",
)
def init_root(directory: Path, name: str, days: int, passphrase_file: Path | None) -> None:
    """Create the offline root CA (ECDSA P-384, path length 1) in --dir.

    Run this on an offline machine and keep root.key there: it only signs intermediates.
    """
    _refuse_existing(directory / ROOT_CERT, directory / ROOT_KEY)
    passphrase = _new_passphrase(passphrase_file, "root key")
    root = pki.create_root(name, days=days)
    _write(directory / ROOT_KEY, root.private_key_pem(passphrase), private=True)
    _write(directory / ROOT_CERT, root.certificate_pem())
    _report("root", root.certificate, directory / ROOT_CERT)
    click.echo(f"  key: {directory / ROOT_KEY} (encrypted; keep it offline)")


@pki_group.command("init-intermediate")
@_dir_option
@click.option(
    "--root-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Where root.crt/root.key are (offline media); defaults to --dir.",
)
@click.option("--name", default="securebot intermediate CA", show_default=True)
@click.option("--days", default=730, show_default=True, help="Lifetime in days.")
@click.option(
    "--root-passphrase-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="File holding the root key's passphrase (prompted otherwise).",
)
@click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="File holding the new intermediate key's passphrase (prompted otherwise).",
)
def init_intermediate(
    directory: Path,
    root_dir: Path | None,
    name: str,
    days: int,
    root_passphrase_file: Path | None,
    passphrase_file: Path | None,
) -> None:
    """Create the intermediate CA (ECDSA P-256, path length 0) signed by the root."""
    _refuse_existing(directory / INTERMEDIATE_CERT, directory / INTERMEDIATE_KEY)
    root = _load_ca(root_dir or directory, ROOT_CERT, ROOT_KEY, root_passphrase_file, "root key")
    passphrase = _new_passphrase(passphrase_file, "intermediate key")
    intermediate = pki.create_intermediate(root, name, days=days)
    _write(directory / INTERMEDIATE_KEY, intermediate.private_key_pem(passphrase), private=True)
    _write(directory / INTERMEDIATE_CERT, intermediate.certificate_pem())
    if root_dir is not None and not (directory / ROOT_CERT).exists():
        _write(directory / ROOT_CERT, root.certificate_pem())
    _report("intermediate", intermediate.certificate, directory / INTERMEDIATE_CERT)


@pki_group.command("request-intermediate")
@_dir_option
@click.option("--name", default="securebot intermediate CA", show_default=True)
@click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="File holding the new intermediate key's passphrase (prompted otherwise).",
)
def request_intermediate(directory: Path, name: str, passphrase_file: Path | None) -> None:
    """Make the intermediate key and a CSR on the CA machine (the key never travels).

    Then take intermediate.csr to the offline root machine (sign-intermediate) and bring the
    certificate back (install-intermediate).
    """
    csr_path, key_path = directory / INTERMEDIATE_CSR, directory / INTERMEDIATE_KEY
    _refuse_existing(directory / INTERMEDIATE_CERT, key_path, csr_path)
    passphrase = _new_passphrase(passphrase_file, "intermediate key")
    request = pki.request_intermediate(name)
    _write(key_path, request.private_key_pem(passphrase), private=True)
    _write(csr_path, request.csr_pem())
    click.echo(f"request: {request.csr.subject.rfc4514_string()} -> {csr_path}")
    click.echo(f"  key: {key_path} (encrypted; stays here)")
    click.echo("  next: securebot pki sign-intermediate on the root machine")


@pki_group.command("sign-intermediate")
@click.argument("csr", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--root-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    required=True,
    help="Where root.crt/root.key are.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the intermediate certificate.",
)
@click.option("--days", default=730, show_default=True, help="Lifetime in days.")
@click.option(
    "--root-passphrase-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="File holding the root key's passphrase (prompted otherwise).",
)
def sign_intermediate(
    csr: Path, root_dir: Path, output: Path, days: int, root_passphrase_file: Path | None
) -> None:
    """Sign an intermediate CSR with the offline root (path length 0)."""
    request = pki.load_csr(_read(csr))
    root = _load_ca(root_dir, ROOT_CERT, ROOT_KEY, root_passphrase_file, "root key")
    certificate = pki.sign_intermediate(root, request, days=days)
    _write(output, certificate.public_bytes(Encoding.PEM))
    _report("intermediate", certificate, output)
    click.echo("  next: securebot pki install-intermediate on the CA machine")


@pki_group.command("install-intermediate")
@click.argument("certificate", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--root-cert",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    required=True,
    help="The root certificate (root.crt) that signed it.",
)
@_dir_option
def install_intermediate(certificate: Path, root_cert: Path, directory: Path) -> None:
    """Install the signed intermediate CERTIFICATE next to its key (from request-intermediate)."""
    intermediate = pki.load_certificate(_read(certificate))
    root = pki.load_certificate(_read(root_cert))
    request = pki.load_csr(_read(directory / INTERMEDIATE_CSR))
    if request.public_key() != intermediate.public_key():
        raise CertificateError(
            f"{certificate} is not the certificate for {directory / INTERMEDIATE_CSR}"
        )
    pki.bundle_pem(intermediate, root)  # refuses unless the root signed it
    _refuse_existing(directory / INTERMEDIATE_CERT)
    if (directory / ROOT_CERT).exists():
        if pki.load_certificate(_read(directory / ROOT_CERT)) != root:
            raise CertificateError(f"{directory / ROOT_CERT} is another root: refusing to mix")
    else:
        _write(directory / ROOT_CERT, root.public_bytes(Encoding.PEM))
    _write(directory / INTERMEDIATE_CERT, intermediate.public_bytes(Encoding.PEM))
    _report("intermediate", intermediate, directory / INTERMEDIATE_CERT)


@pki_group.group("issue")
def issue_group() -> None:
    """Issue a short-lived leaf certificate signed by the intermediate."""


_issuer_passphrase = click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="File holding the intermediate key's passphrase (prompted otherwise).",
)
_leaf_days = click.option(
    "--days",
    default=60,
    show_default=True,
    help=f"Lifetime in days (at most {pki.MAX_LEAF_DAYS}).",
)


@issue_group.command("server")
@click.argument("name")
@click.option("--dns", multiple=True, help="A DNS name the server answers to (repeatable).")
@click.option("--ip", multiple=True, help="An IP address the server answers on (repeatable).")
@_leaf_days
@_dir_option
@_issuer_passphrase
def issue_server(
    name: str,
    dns: tuple[str, ...],
    ip: tuple[str, ...],
    days: int,
    directory: Path,
    passphrase_file: Path | None,
) -> None:
    """Issue a server certificate (serverAuth) for NAME with its --dns / --ip names."""
    intermediate = _load_intermediate(directory, passphrase_file)
    leaf = pki.issue_server(intermediate, name, dns=dns, ips=ip, days=days)
    _write_leaf(directory, f"server-{name}", leaf, intermediate)


@issue_group.command("client")
@click.argument("service")
@_leaf_days
@_dir_option
@_issuer_passphrase
def issue_client(service: str, days: int, directory: Path, passphrase_file: Path | None) -> None:
    """Issue a client certificate (clientAuth) for SERVICE (urn:securebot:service:SERVICE)."""
    intermediate = _load_intermediate(directory, passphrase_file)
    leaf = pki.issue_client(intermediate, service, days=days)
    _write_leaf(directory, f"client-{service}", leaf, intermediate)


@pki_group.command("renew")
@click.argument("certificate", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@_leaf_days
@_dir_option
@_issuer_passphrase
def renew(certificate: Path, days: int, directory: Path, passphrase_file: Path | None) -> None:
    """Issue a successor of the leaf CERTIFICATE (same names and purpose, new key).

    The new files take the usual names (issued/KIND-NAME.*); the previous ones are kept beside
    them with their serial number in the name. Deploy the new files, then delete the old key.
    """
    old = pki.load_certificate(_read(certificate))
    intermediate = _load_intermediate(directory, passphrase_file)
    leaf = pki.renew(intermediate, old, days=days)
    usage = leaf.certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    kind = "server" if ExtendedKeyUsageOID.SERVER_AUTH in usage else "client"
    (common_name,) = leaf.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    stem = f"{kind}-{common_name.value!s}"
    issued = directory / "issued"
    for suffix in (".crt", ".key", ".bundle.pem"):
        current = issued / f"{stem}{suffix}"
        if current.exists():
            kept = issued / f"{stem}.{old.serial_number:x}{suffix}"
            _refuse_existing(kept)
            current.rename(kept)
    _write_leaf(directory, stem, leaf, intermediate)


@pki_group.command("crl")
@click.option(
    "--revoke",
    "serials",
    multiple=True,
    help="Serial number to revoke, decimal or 0x-hex (repeatable).",
)
@click.option(
    "--revoke-cert",
    "certificates",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Certificate file whose serial to revoke (repeatable).",
)
@click.option("--days", default=7, show_default=True, help="Days until the next update.")
@_dir_option
@_issuer_passphrase
def crl(
    serials: tuple[str, ...],
    certificates: tuple[Path, ...],
    days: int,
    directory: Path,
    passphrase_file: Path | None,
) -> None:
    """Issue a new CRL (crl.pem), keeping earlier revocations and adding the given ones.

    Run it again before the next update (default 7 days) even when nothing changed.
    """
    numbers = [_serial(s) for s in serials]
    numbers += [pki.load_certificate(_read(p)).serial_number for p in certificates]
    intermediate = _load_intermediate(directory, passphrase_file)
    path = directory / CRL_FILE
    previous = pki.load_crl(_read(path)) if path.exists() else None
    revocations = pki.create_crl(intermediate, numbers, previous=previous, days=days)
    _replace(path, revocations.public_bytes(Encoding.PEM))
    number = revocations.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    click.echo(f"CRL #{number}: {len(revocations)} revoked certificate(s) -> {path}")
    for entry in revocations:
        click.echo(f"  {entry.serial_number:#x} since {entry.revocation_date_utc:%Y-%m-%d}")
    click.echo(f"  next update due {revocations.next_update_utc:%Y-%m-%d %H:%M} UTC")


@pki_group.command("bundle")
@click.argument("certificate", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@_dir_option
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the bundle here instead of standard output.",
)
def bundle(certificate: Path, directory: Path, output: Path | None) -> None:
    """Print CERTIFICATE followed by the intermediate: the chain a peer presents."""
    leaf = pki.load_certificate(_read(certificate))
    intermediate = pki.load_certificate(_read(directory / INTERMEDIATE_CERT))
    pem = pki.bundle_pem(leaf, intermediate)
    if output is None:
        click.echo(pem.decode("ascii"), nl=False)
    else:
        _write(output, pem)
        click.echo(f"bundle -> {output}")


@pki_group.command("verify")
@click.argument("certificate", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--purpose", type=click.Choice(["server", "client"]), required=True)
@click.option("--name", help="DNS name or IP address to match (server certificates).")
@_dir_option
def verify(certificate: Path, purpose: str, name: str | None, directory: Path) -> None:
    """Verify CERTIFICATE (leaf or bundle) against the root, and the CRL when there is one."""
    leaf, *rest = pki.load_certificates(_read(certificate))
    intermediates = rest or [pki.load_certificate(_read(directory / INTERMEDIATE_CERT))]
    crl_path = directory / CRL_FILE
    chain = pki.verify_chain(
        leaf,
        intermediates=intermediates,
        root=pki.load_certificate(_read(directory / ROOT_CERT)),
        purpose="server" if purpose == "server" else "client",
        name=name,
        crl=pki.load_crl(_read(crl_path)) if crl_path.exists() else None,
    )
    click.echo("ok: " + " <- ".join(c.subject.rfc4514_string() for c in chain))


# --- helpers -------------------------------------------------------------------------------


def _load_intermediate(directory: Path, passphrase_file: Path | None) -> pki.CertifiedKey:
    return _load_ca(
        directory, INTERMEDIATE_CERT, INTERMEDIATE_KEY, passphrase_file, "intermediate key"
    )


def _load_ca(
    directory: Path, cert_name: str, key_name: str, passphrase_file: Path | None, what: str
) -> pki.CertifiedKey:
    cert_path, key_path = directory / cert_name, directory / key_name
    for path in (cert_path, key_path):
        if not path.exists():
            raise CertificateError(f"{path} does not exist: create the CA first (securebot pki)")
    if passphrase_file is not None:
        passphrase = _read_passphrase(passphrase_file)
    else:
        passphrase = click.prompt(f"Passphrase of the {what}", hide_input=True).encode()
    return pki.load_certified_key(_read(cert_path), _read(key_path), passphrase)


def _new_passphrase(passphrase_file: Path | None, what: str) -> bytes:
    if passphrase_file is not None:
        passphrase = _read_passphrase(passphrase_file)
    else:
        passphrase = click.prompt(
            f"New passphrase for the {what} (at least {pki.MIN_PASSPHRASE_LENGTH} characters)",
            hide_input=True,
            confirmation_prompt=True,
        ).encode()
    if len(passphrase) < pki.MIN_PASSPHRASE_LENGTH:
        raise CertificateError(
            f"the passphrase is too short: use at least {pki.MIN_PASSPHRASE_LENGTH} characters"
        )
    return passphrase


def _read_passphrase(path: Path) -> bytes:
    data = _read(path).rstrip(b"\r\n")
    if not data:
        raise CertificateError(f"the passphrase file {path} is empty")
    return data


def _write_leaf(
    directory: Path, stem: str, leaf: pki.CertifiedKey, intermediate: pki.CertifiedKey
) -> None:
    issued = directory / "issued"
    paths = [issued / f"{stem}.crt", issued / f"{stem}.key", issued / f"{stem}.bundle.pem"]
    _refuse_existing(*paths)
    _write(paths[1], leaf.private_key_pem(), private=True)
    _write(paths[0], leaf.certificate_pem())
    _write(paths[2], pki.bundle_pem(leaf.certificate, intermediate.certificate))
    _report(stem, leaf.certificate, paths[0])
    click.echo(f"  key: {paths[1]} (mode 0600; hand it to the service's secret store)")
    click.echo(f"  bundle: {paths[2]} (leaf + intermediate)")


def _report(what: str, certificate: x509.Certificate, path: Path) -> None:
    click.echo(f"{what}: {certificate.subject.rfc4514_string()} -> {path}")
    click.echo(f"  serial: {certificate.serial_number:#x}")
    click.echo(f"  valid until: {certificate.not_valid_after_utc:%Y-%m-%d %H:%M} UTC")


def _serial(text: str) -> int:
    cleaned = text.strip().lower().replace(":", "")
    try:
        value = int(cleaned, 16) if cleaned.startswith("0x") or ":" in text else int(cleaned)
    except ValueError:
        raise CertificateError(
            f"{text!r} is not a serial number (decimal, 0x-hex or aa:bb:.. hex)"
        ) from None
    if value <= 0:
        raise CertificateError(f"{text!r} is not a serial number (it must be positive)")
    return value


def _refuse_existing(*paths: Path) -> None:
    for path in paths:
        if path.exists():
            raise CertificateError(f"{path} already exists: refusing to overwrite it")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CertificateError(f"cannot read {path}: {exc.strerror}") from None


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    """Create ``path`` (never overwrite); private files get mode 0600 from the start."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700 if private else 0o755)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
    except FileExistsError:
        raise CertificateError(f"{path} already exists: refusing to overwrite it") from None
    except OSError as exc:
        raise CertificateError(f"cannot write {path}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _replace(path: Path, data: bytes) -> None:
    """Atomically replace a public file (the CRL)."""
    temporary = path.with_name(path.name + ".new")
    temporary.unlink(missing_ok=True)
    _write(temporary, data)
    os.replace(temporary, path)
