"""Signing secrets at rest: sealed with AES-256-GCM under a key derived from the server-side pepper.

An HMAC can only be checked by someone holding the secret, so signing secrets cannot be stored as
hashes the way API keys are. They are encrypted instead:

- the wrapping key is HKDF-SHA256 of ``ANALYTICS_KEY_PEPPER`` with its own ``info`` label, so it is
  independent of the keyed hashes the same pepper makes for API keys; whoever reads the store but
  not the pepper (a leaked backup, an over-broad IAM grant) learns no signing secret;
- the provider id and secret id are the AES-GCM associated data: a sealed value copied onto another
  provider's record, or onto another secret id, does not open.
"""

from __future__ import annotations

import base64
import binascii
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# The sealed text is "<version>:<base64url(nonce || ciphertext || tag)>"; the version names the
# scheme, so a later one can be told apart from this one.
VERSION = "v1"
_NONCE_BYTES = 12
_SALT = b"channel-analytics"
_INFO = b"channel-analytics/signing-secrets/v1"


class SecretUnreadable(Exception):
    """A sealed secret does not open: another pepper sealed it, or the record was altered."""


@lru_cache(maxsize=4)
def _cipher(pepper: str) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(pepper.encode())
    return AESGCM(key)


def _context(provider_id: str, secret_id: str) -> bytes:
    return f"{provider_id}\x1f{secret_id}".encode()


def seal(secret: str, provider_id: str, secret_id: str, pepper: str) -> str:
    """The secret encrypted for storage, bound to its provider and id."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _cipher(pepper).encrypt(nonce, secret.encode(), _context(provider_id, secret_id))
    return f"{VERSION}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def unseal(sealed: str, provider_id: str, secret_id: str, pepper: str) -> str:
    """The secret back; ``SecretUnreadable`` when it was sealed otherwise or has been tampered with."""
    version, _, payload = sealed.partition(":")
    if version != VERSION:
        raise SecretUnreadable(f"unknown sealing scheme {version[:10]!r}")
    try:
        raw = base64.urlsafe_b64decode(payload.encode())
        opened = _cipher(pepper).decrypt(
            raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _context(provider_id, secret_id)
        )
    except (binascii.Error, ValueError, InvalidTag) as exc:
        raise SecretUnreadable("the sealed secret does not open with this server's pepper") from exc
    return opened.decode()
