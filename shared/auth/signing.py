"""Optional request signing, Stripe-style: proof that a request body comes from the provider's own
systems and was sent just now, on top of the API key that says who the provider is.

A signed request carries ``X-Analytics-Signature: t=<unix seconds>,v1=<hex>`` where ``<hex>`` is
``HMAC-SHA256(signing secret, "<t>.<raw body>")``. Several ``v1=`` entries may be sent (one per secret
while a rotation is under way); one matching entry is enough. Other ``<scheme>=`` entries are ignored,
so a later scheme can be added without breaking today's clients.

``sign()`` is the client side; ``verify_request()`` is what the ingest routes call on the raw body
after the API key has identified the provider and before the body is parsed.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from shared.auth.sealing import SecretUnreadable, unseal
from shared.config import Settings
from shared.errors import ApiError
from shared.store.port import Store
from shared.store.records import Provider, SigningSecret

log = logging.getLogger("channel_analytics.signing")

HEADER = "X-Analytics-Signature"
SCHEME = "v1"
SECRET_PREFIX = "cas_"
# Bounds on what a header may hold, so a hostile one costs no more than a few HMACs to refuse.
MAX_HEADER_CHARS = 1024
MAX_SIGNATURES = 8

_CHALLENGE = f'AnalyticsSignature header="{HEADER}"'
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_HEX = re.compile(r"[0-9a-fA-F]{64}")
_NAME = re.compile(r"[a-z][a-z0-9]{0,15}")


def new_signing_secret() -> tuple[str, str]:
    """A fresh ``(secret_id, secret)``; the secret is 256 random bits behind ``cas_``."""
    return secrets.token_hex(8), f"{SECRET_PREFIX}{secrets.token_urlsafe(32)}"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``v1`` signature: hex HMAC-SHA256 of ``"<timestamp>.<body>"`` keyed by the whole secret."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def sign(secret: str | Sequence[str], body: bytes, timestamp: int | None = None) -> str:
    """The ``X-Analytics-Signature`` value for ``body`` (the exact bytes sent), signed now unless
    ``timestamp`` says otherwise; with several secrets, one ``v1=`` entry each."""
    keys = [secret] if isinstance(secret, str) else list(secret)
    t = str(int(time.time()) if timestamp is None else timestamp)
    return ",".join([f"t={t}", *(f"{SCHEME}={signature(k, t, body)}" for k in keys)])


@dataclass(frozen=True)
class SignatureHeader:
    timestamp: str
    signatures: tuple[str, ...]


def _malformed(why: str) -> ApiError:
    return ApiError(
        400,
        "signature_malformed",
        f"{HEADER} must be 't=<unix seconds>,{SCHEME}=<64 hex>[,{SCHEME}=...]': {why}",
    )


def _refused(code: str, message: str) -> ApiError:
    return ApiError(401, code, message, headers={"WWW-Authenticate": f'{_CHALLENGE}, error="{code}"'})


def parse_header(value: str) -> SignatureHeader:
    """The timestamp and ``v1`` signatures of a header value; ``signature_malformed`` otherwise."""
    if len(value) > MAX_HEADER_CHARS:
        raise _malformed(f"longer than {MAX_HEADER_CHARS} characters")
    timestamps: list[str] = []
    found: list[str] = []
    for item in value.split(","):
        name, sep, text = item.strip().partition("=")
        if not sep or not _NAME.fullmatch(name):
            raise _malformed("every element is '<scheme>=<value>'")
        if name == "t":
            if not _TIMESTAMP.fullmatch(text):
                raise _malformed("t is a whole number of seconds since 1970")
            timestamps.append(text)
        elif name == SCHEME:
            if not _HEX.fullmatch(text):
                raise _malformed(f"{SCHEME} is 64 hexadecimal digits")
            found.append(text.lower())
    if len(timestamps) != 1:
        raise _malformed("exactly one t= element")
    if not found:
        raise _malformed(f"at least one {SCHEME}= element")
    if len(found) > MAX_SIGNATURES:
        raise _malformed(f"at most {MAX_SIGNATURES} {SCHEME}= elements")
    return SignatureHeader(timestamps[0], tuple(found))


def live_secrets(store: Store, provider_id: str, now: datetime) -> list[SigningSecret]:
    return [s for s in store.list_signing_secrets(provider_id) if s.expires_at is None or s.expires_at > now]


def _opened(provider: Provider, sealed: list[SigningSecret], pepper: str) -> list[str]:
    """The usable secrets; one that does not open is logged (by id only) and skipped."""
    opened = []
    for s in sealed:
        try:
            opened.append(unseal(s.sealed, provider.provider_id, s.secret_id, pepper))
        except SecretUnreadable as exc:
            log.error(
                "signing secret %s of provider %s is unreadable: %s", s.secret_id, provider.provider_id, exc
            )
    return opened


def verify_request(
    headers: list[str], body: bytes, provider: Provider, store: Store, cfg: Settings, now: datetime
) -> None:
    """Accept or refuse a provider request by its ``X-Analytics-Signature`` values (``headers``).

    A provider that requires signing must sign; any other provider may, and a signature it sends is
    checked all the same, so it can prove its signing works before an operator switches it on.
    """
    if not headers:
        if provider.require_signature:
            raise _refused(
                "signature_missing", f"provider {provider.provider_id!r} must sign requests: send {HEADER}"
            )
        return
    if len(headers) > 1:
        raise _malformed(f"send one {HEADER} header")
    parsed = parse_header(headers[0])
    stored = live_secrets(store, provider.provider_id, now)
    keys = _opened(provider, stored, cfg.key_pepper)
    if stored and not keys:
        # Our fault (the pepper changed under the stored secrets), and an operator can fix it.
        raise ApiError(
            503,
            "signature_unverifiable",
            "the signing secrets of this provider cannot be read by the server; an operator must issue a new one",
            headers={"Retry-After": "60"},
        )
    # Every candidate against every secret, without stopping early: the time taken says nothing
    # about which signature or secret came close.
    matched = False
    for key in keys:
        expected = signature(key, parsed.timestamp, body)
        for candidate in parsed.signatures:
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise _refused(
            "signature_invalid",
            f"no {SCHEME} signature matches a live signing secret of the provider over 't.<body>'",
        )
    # Checked after the signature, so "expired" only ever describes a genuine request: a replay, or a
    # clock that is off. A timestamp from the future is refused too: it would stretch the window.
    skew = abs(now.timestamp() - int(parsed.timestamp))
    if skew > cfg.signature_tolerance_seconds:
        raise _refused(
            "signature_expired",
            f"the signature's time t is {int(skew)} s away from the server's; "
            f"the tolerance is {cfg.signature_tolerance_seconds} s",
        )
