"""DKIM signatures (dkimpy) on the site's digest and subscription mail, when a key is set.

``DAILYPAPERS_DKIM_PRIVATE_KEY_FILE`` (PEM, RSA), ``DAILYPAPERS_DKIM_SELECTOR`` and
``DAILYPAPERS_DKIM_DOMAIN`` (default: the From address's domain). Headers and body are
canonicalised "relaxed", so the re-folding a relay may do keeps the signature valid. The
signed headers include both unsubscribe headers (``List-Unsubscribe`` and
``List-Unsubscribe-Post``), as RFC 8058 requires for one-click unsubscribing to be trusted,
and ``List-Id``. A key that cannot be read is a permanent :class:`MailError` (sending stops
and says so; no address is blamed).

dkimpy computes its RSA signatures in pure Python (about 10 ms each on the benchmark
machine, more than assembling and sending a digest); the site's keys are signed with
OpenSSL instead (``cryptography``, about 1 ms): :func:`_rsa_sign` takes the place of dkimpy's
``RSASSA_PKCS1_v1_5_sign``, the one function its signing calls for the RSA step, for the
keys this module loaded, and hands any other key back to dkimpy's own. The signature bytes
are the same (RSASSA-PKCS1-v1_5 is deterministic); the tests verify them with dkimpy. Its
parse of the PEM key, also done at each signature, is kept for the next one.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from functools import lru_cache
from pathlib import Path
from typing import Any

import dkim
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from dailypapers.mail import MailError, sender_address
from dailypapers.settings import Settings

SIGNED = (
    "From", "To", "Subject", "Date", "Message-ID", "Reply-To", "MIME-Version", "Content-Type",
    "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post",
)  # fmt: skip


_dkimpy_sign = dkim.RSASSA_PKCS1_v1_5_sign
_OPENSSL_KEYS: dict[int, rsa.RSAPrivateKey] = {}  # by modulus, as dkimpy's parsed key has it


def _rsa_sign(digest: Any, private_key: dict[str, int]) -> bytes:
    """dkimpy's RSA step, through OpenSSL for a key :func:`_key` loaded."""
    key = _OPENSSL_KEYS.get(private_key["modulus"])
    if key is None or digest.name.lower() != "sha256":
        signature: bytes = _dkimpy_sign(digest, private_key)
        return signature
    return key.sign(digest.digest(), padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))


dkim.RSASSA_PKCS1_v1_5_sign = _rsa_sign
# dkimpy parses the PEM key (in Python) at every signature; the site has one key.
dkim.parse_pem_private_key = lru_cache(maxsize=4)(dkim.parse_pem_private_key)


def _remember_for_openssl(pem: bytes) -> None:
    try:
        key = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        return  # dkimpy says what is wrong with it when it signs
    if isinstance(key, rsa.RSAPrivateKey):
        _OPENSSL_KEYS[key.private_numbers().public_numbers.n] = key


@lru_cache(maxsize=4)
def _key(path: Path) -> bytes:
    try:
        key = path.read_bytes()
    except OSError as error:
        message = f"cannot read DAILYPAPERS_DKIM_PRIVATE_KEY_FILE {path}: {error.strerror}"
        raise MailError(message, temporary=False) from None
    if b"PRIVATE KEY" not in key:
        raise MailError(f"{path} is not a PEM private key", temporary=False)
    _remember_for_openssl(key)
    return key


def sign(settings: Settings, message: EmailMessage) -> EmailMessage:
    """Add a ``DKIM-Signature`` to ``message`` (in place) when a key is set; returns it."""
    if settings.dkim_private_key_file is None:
        return message
    domain = settings.dkim_domain or sender_address(settings).domain
    present = [name for name in SIGNED if name in message]
    try:
        signature = dkim.sign(
            message.as_bytes(policy=SMTP), settings.dkim_selector.encode(), domain.encode(),
            _key(settings.dkim_private_key_file),
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=[name.encode() for name in present],
        )  # fmt: skip
    except dkim.DKIMException as error:
        raise MailError(f"DKIM signing failed: {error}", temporary=False) from None
    name, _, value = signature.decode().partition(":")
    # Prepended as the first header with dkimpy's own folding, as a raw (name, value) pair:
    # ``message[name] = value`` would parse and refold it (and could encode its long words).
    message._headers.insert(0, (name, value.strip()))  # type: ignore[attr-defined]
    return message


def sign_bytes(settings: Settings, data: bytes, headers: tuple[str, ...]) -> bytes:
    """``data`` (a flattened message) with a ``DKIM-Signature`` first, when a key is set;
    ``headers`` are the names it holds (those of :data:`SIGNED` among them are signed)."""
    if settings.dkim_private_key_file is None:
        return data
    domain = settings.dkim_domain or sender_address(settings).domain
    present = {name.lower() for name in headers}
    try:
        signature: bytes = dkim.sign(
            data, settings.dkim_selector.encode(), domain.encode(),
            _key(settings.dkim_private_key_file),
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=[name.encode() for name in SIGNED if name.lower() in present],
        )  # fmt: skip
    except dkim.DKIMException as error:
        raise MailError(f"DKIM signing failed: {error}", temporary=False) from None
    return signature + data
