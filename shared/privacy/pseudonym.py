"""Customer pseudonyms: a keyed hash (HMAC-SHA256) of a customer identifier, per provider.

The warehouse never sees a raw customer identifier, only its pseudonym. The key (the *salt*) is a
server-side secret, so nobody holding the warehouse alone can recompute a pseudonym from a guessed
identifier; the provider id is part of the hashed message, so the same customer id of two providers
gives two unrelated pseudonyms (domain separation).

Where the salt comes from, in order:
1. ``ANALYTICS_PSEUDONYM_SALT`` (Secret Manager in the cloud);
2. the embedded setup only (a ``sqlite:///`` store file): a random salt created once beside the store
   file (``pseudonym_salt``, mode 0600), so ``make run`` and ``make serve`` need no setup and every
   local process derives the same pseudonyms;
3. otherwise ``PseudonymSaltMissing``: the cloud refuses to copy customer data without a key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from shared.config import Settings, settings

SALT_FILE = "pseudonym_salt"
PREFIX = "ps_"
_MIN_SALT_LENGTH = 16
_memory_salt = secrets.token_hex(32)  # an in-memory store lives as long as the process: so does this
_file_lock = threading.Lock()


class PseudonymSaltMissing(RuntimeError):
    """No salt is configured where one must be: customer identifiers cannot be pseudonymised."""


@dataclass(frozen=True)
class Pseudonymizer:
    """Turns a provider's customer identifier into its pseudonym (``ps_`` + 32 hex characters)."""

    salt: bytes

    def __post_init__(self) -> None:
        if len(self.salt) < _MIN_SALT_LENGTH:
            raise ValueError(f"the pseudonym salt must be at least {_MIN_SALT_LENGTH} bytes long")

    def __call__(self, provider_id: str, identifier: str) -> str:
        message = f"{provider_id}\x1f{identifier}".encode()
        return PREFIX + hmac.new(self.salt, message, hashlib.sha256).hexdigest()[:32]

    def optional(self, provider_id: str, identifier: str | None) -> str | None:
        return None if identifier is None else self(provider_id, identifier)


def _embedded_salt_path(store_url: str) -> Path | None:
    """The salt file of an embedded store, or ``None`` when the store is not a local SQLite file."""
    if not store_url.startswith("sqlite:///"):
        return None
    path = store_url[len("sqlite:///") :].split("?", 1)[0]
    if path in ("", ":memory:"):
        return None
    return Path(path).parent / SALT_FILE


def _read_or_create(path: Path) -> str:
    """The salt in ``path``, created once: written to a private temporary file and linked into
    place, so processes starting together never read a half-written salt and all end up with one."""
    with _file_lock:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            draft = path.with_name(f".{SALT_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
            fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32) + "\n")
            try:
                os.link(draft, path)
            except FileExistsError:
                pass  # another process won: use its salt
            finally:
                draft.unlink()
        return path.read_text().strip()


def pseudonymizer(config: Settings | None = None) -> Pseudonymizer:
    """The pseudonymizer of this deployment; ``PseudonymSaltMissing`` when the cloud has no salt."""
    config = config or settings()
    if config.pseudonym_salt:
        return Pseudonymizer(config.pseudonym_salt.encode())
    if config.store_url in ("sqlite:///:memory:", "sqlite://"):
        return Pseudonymizer(_memory_salt.encode())
    path = _embedded_salt_path(config.store_url)
    if path is None:
        raise PseudonymSaltMissing(
            "ANALYTICS_PSEUDONYM_SALT is not set: customer identifiers cannot be pseudonymised, so "
            "nothing is copied to the warehouse and no erasure is recorded (docs/privacy.md)"
        )
    return Pseudonymizer(_read_or_create(path).encode())
