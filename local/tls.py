"""`basketgraph dev --tls`: a local certificate authority kept in the state directory, and a server certificate
it signs for the stack's host names, so https:// and wss:// clients (Amplify v6 always opens wss://) can trust
the stack by trusting one CA file."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

CA_YEARS = 10
SERVER_DAYS = 397  # browsers refuse server certificates valid for longer than 398 days
RENEW_WITHIN = timedelta(days=30)
DEFAULT_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class LocalCertificate:
    ca_file: Path
    cert_file: Path
    key_file: Path

    def trust_help(self) -> str:
        """How to make each kind of client trust the stack's CA."""
        return f"""TLS: the certificate is signed by this stack's own CA, {self.ca_file}
  Node (Amplify, Apollo):  NODE_EXTRA_CA_CERTS={self.ca_file} node examples/...
  Python (requests, gql):  SSL_CERT_FILE={self.ca_file} REQUESTS_CA_BUNDLE={self.ca_file} python ...
  curl:                    curl --cacert {self.ca_file} ...
  Browser:                 import {self.ca_file} as a trusted authority (Chrome: Settings > Privacy and security >
                           Security > Manage certificates > Authorities; Firefox: Settings > Certificates >
                           Authorities; Debian: copy it to /usr/local/share/ca-certificates/basketgraph.crt and
                           run update-ca-certificates)"""


def local_certificate(state_dir: Path, hosts: Iterable[str] = ()) -> LocalCertificate:
    """The CA (made once, reused so trust survives restarts) and a server certificate for `hosts` plus
    localhost/127.0.0.1/::1, issued afresh when missing, near expiry or not covering a host."""
    directory = state_dir / "tls"
    directory.mkdir(parents=True, exist_ok=True)
    names = list(dict.fromkeys([*DEFAULT_NAMES, *(host for host in hosts if host and host != "0.0.0.0")]))  # noqa: S104
    ca_key, ca_cert = _ca(directory)
    certificate = LocalCertificate(directory / "ca.pem", directory / "server.pem", directory / "server-key.pem")
    if not _covers(certificate.cert_file, names, ca_cert):
        _issue_server(certificate, names, ca_key, ca_cert)
    return certificate


def _ca(directory: Path) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key_file, cert_file = directory / "ca-key.pem", directory / "ca.pem"
    if key_file.exists() and cert_file.exists():
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
        if isinstance(key, ec.EllipticCurvePrivateKey) and cert.not_valid_after_utc > datetime.now(UTC) + RENEW_WITHIN:
            return key, cert
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "basketgraph local stack"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"basketgraph local CA ({directory.parent.name})"),
        ]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365 * CA_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(key_file, key)
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert


def _covers(cert_file: Path, names: list[str], ca_cert: x509.Certificate) -> bool:
    if not cert_file.exists():
        return False
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    if cert.issuer != ca_cert.subject or cert.not_valid_after_utc < datetime.now(UTC) + RENEW_WITHIN:
        return False
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):  # signed by an older CA of the same name
        return False
    present = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    have = {str(ip) for ip in present.get_values_for_type(x509.IPAddress)} | set(
        present.get_values_for_type(x509.DNSName)
    )
    return {str(_alt_name(name).value) for name in names} <= have


def _issue_server(
    certificate: LocalCertificate, names: list[str], ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=SERVER_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([_alt_name(name) for name in names]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(certificate.key_file, key)
    certificate.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _alt_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _write_private(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_bytes(pem)
