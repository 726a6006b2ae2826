"""`basketgraph dev --tls`: the local CA is made once and kept; the server certificate covers the stack's hosts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cryptography import x509

from local.tls import local_certificate

if TYPE_CHECKING:
    from pathlib import Path


def alt_names(cert_file: Path) -> set[str]:
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(ip) for ip in names.get_values_for_type(x509.IPAddress)} | set(names.get_values_for_type(x509.DNSName))


def test_the_ca_is_kept_and_signs_a_server_certificate_for_every_host(tmp_path: Path) -> None:
    first = local_certificate(tmp_path, ["127.0.0.1"])
    ca = x509.load_pem_x509_certificate(first.ca_file.read_bytes())
    server = x509.load_pem_x509_certificate(first.cert_file.read_bytes())

    server.verify_directly_issued_by(ca)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert alt_names(first.cert_file) == {"localhost", "127.0.0.1", "::1"}
    assert (first.key_file.stat().st_mode & 0o777) == 0o600

    # A restart reuses both; a new host keeps the CA (trust survives) and reissues the server certificate
    again = local_certificate(tmp_path, ["127.0.0.1"])
    assert again.cert_file.read_bytes() == first.cert_file.read_bytes()
    wider = local_certificate(tmp_path, ["basket.localhost", "192.168.1.7"])
    assert wider.ca_file.read_bytes() == first.ca_file.read_bytes()
    assert alt_names(wider.cert_file) == {"localhost", "127.0.0.1", "::1", "basket.localhost", "192.168.1.7"}
    x509.load_pem_x509_certificate(wider.cert_file.read_bytes()).verify_directly_issued_by(ca)
