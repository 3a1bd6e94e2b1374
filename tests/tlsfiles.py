"""
A throw-away certificate authority and server certificate for the TLS
tests, made with C{cryptography} (which pyOpenSSL, from C{twisted[tls]},
brings).
"""

import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _name(common):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


def makeCertificates(directory):
    """
    Write C{ca.pem} (a CA certificate), C{server.pem} (a certificate for
    C{localhost} and C{127.0.0.1} signed by it), C{server.key} (its key) and
    C{server-all.pem} (certificate and key in one file) into C{directory}.

    @return: {name: path}.
    """
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=2)
    caKey = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("exsim test CA")).issuer_name(_name("exsim test CA"))
        .public_key(caKey.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          key_cert_sign=True, crl_sign=True, encipher_only=False,
                          decipher_only=False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(caKey.public_key()), critical=False)
        .sign(caKey, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost")).issuer_name(ca.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(caKey.public_key()), critical=False
        )
        .sign(caKey, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    keyPem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                               serialization.NoEncryption())
    certPem = cert.public_bytes(pem)
    return {
        "ca": _write(os.path.join(directory, "ca.pem"), ca.public_bytes(pem)),
        "cert": _write(os.path.join(directory, "server.pem"), certPem),
        "key": _write(os.path.join(directory, "server.key"), keyPem),
        "combined": _write(os.path.join(directory, "server-all.pem"), certPem + keyPem),
    }
