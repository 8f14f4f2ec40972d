"""Self-signed TLS certificates for the embedded profile and for tests.

Owns ``generate_self_signed``: an EC P-256 key and a certificate valid for ten years whose
subject is the first host name and whose subjectAltName lists every name (IP addresses as
IP entries).  The key is written 0600 and the certificate 0644, each atomically.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..policy.files import atomic_write

VALID_DAYS = 3650


def _san(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def generate_self_signed(
    cert_path: Path,
    key_path: Path,
    hostnames: Sequence[str],
    *,
    days: int = VALID_DAYS,
    exclusive: bool = False,
) -> None:
    """Write a new key and self-signed certificate for ``hostnames`` (at least one).

    With ``exclusive`` an existing file is an error (``FileExistsError``) rather than
    replaced; the key is written first, so a failure never leaves a certificate whose key
    is missing.
    """
    if not hostnames:
        raise ValueError("generate_self_signed needs at least one host name")
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([_san(n) for n in hostnames]), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    atomic_write(Path(key_path), key_pem, 0o600, exclusive=exclusive)
    atomic_write(
        Path(cert_path), cert.public_bytes(serialization.Encoding.PEM), 0o644, exclusive=exclusive
    )
