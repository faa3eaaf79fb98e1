"""Provider API keys: ``cak_<16 hex key id>_<secret>``.

The key id is the lookup handle; only an HMAC-SHA256 of the secret (keyed by a server-side pepper)
is stored. Keys are 256-bit random, so a fast keyed hash is enough: there is nothing to brute-force.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

PREFIX = "cak_"
_KEY_ID_LEN = 16


def new_api_key() -> tuple[str, str, str]:
    """A fresh key as ``(key_id, secret, full_key)``."""
    key_id = secrets.token_hex(_KEY_ID_LEN // 2)
    secret = secrets.token_urlsafe(32)
    return key_id, secret, f"{PREFIX}{key_id}_{secret}"


def split_api_key(full_key: str) -> tuple[str, str] | None:
    """``(key_id, secret)``, or ``None`` when the text is not shaped like one of our keys."""
    if not full_key.startswith(PREFIX) or len(full_key) < len(PREFIX) + _KEY_ID_LEN + 2:
        return None
    key_id = full_key[len(PREFIX) : len(PREFIX) + _KEY_ID_LEN]
    if full_key[len(PREFIX) + _KEY_ID_LEN] != "_":
        return None
    secret = full_key[len(PREFIX) + _KEY_ID_LEN + 1 :]
    if not all(c in "0123456789abcdef" for c in key_id) or len(secret) > 128:
        return None
    return key_id, secret


def hash_secret(secret: str, pepper: str) -> str:
    return hmac.new(pepper.encode(), secret.encode(), hashlib.sha256).hexdigest()


def secret_matches(secret: str, stored_hash: str, pepper: str) -> bool:
    """Constant-time comparison of the presented secret with the stored hash."""
    return hmac.compare_digest(hash_secret(secret, pepper), stored_hash)
