"""Who is calling: a provider (API key) or an operator (admin token)."""

from __future__ import annotations

import hmac
import re
from datetime import datetime

from flask import Request

from shared.auth.api_keys import hash_secret, secret_matches, split_api_key
from shared.auth.google_oidc import expected_audiences, looks_like_id_token, verified_invoker
from shared.config import Settings
from shared.errors import ApiError
from shared.store.port import Store
from shared.store.records import Provider

_ACTOR = re.compile(r"^[\x20-\x7e]{1,100}$")
# Compared against when a key id is unknown, so a miss costs the same as a hit.
_DUMMY_HASH = hash_secret("not-a-key", "")


def bearer_token(request: Request) -> str:
    header = request.headers.get("Authorization", "")
    if not header:
        raise ApiError(
            401,
            "missing_credentials",
            "send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401,
            "invalid_credentials",
            "the Authorization header must be 'Bearer <token>'",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return token.strip()


def _invalid() -> ApiError:
    return ApiError(
        401,
        "invalid_credentials",
        "the API key is not valid",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def provider_for_key(token: str, store: Store, cfg: Settings, now: datetime) -> Provider | None:
    """The provider a live key belongs to, else ``None``. Constant time in the secret."""
    parts = split_api_key(token)
    if parts is None:
        return None
    key_id, secret = parts
    key = store.get_api_key(key_id)
    matches = secret_matches(secret, key.secret_hash if key else _DUMMY_HASH, cfg.key_pepper)
    if key is None or not matches:
        return None
    if key.expires_at is not None and key.expires_at <= now:
        return None
    return store.get_provider(key.provider_id)


def authenticate_provider(request: Request, store: Store, cfg: Settings, now: datetime) -> Provider:
    provider = provider_for_key(bearer_token(request), store, cfg, now)
    if provider is None:
        raise _invalid()
    return provider


def authenticate_admin(request: Request, cfg: Settings) -> str:
    """Who the operator is, for the audit trail.

    The operator token (``X-Analytics-Actor`` names the person, else ``operator``), or a Google ID
    token of one of ``ANALYTICS_ADMIN_INVOKERS`` (``invoker:<e-mail>``): Cloud Scheduler's.
    """
    if not cfg.admin_token and not cfg.admin_invokers:
        raise ApiError(
            503,
            "admin_auth_not_configured",
            "neither ANALYTICS_ADMIN_TOKEN nor ANALYTICS_ADMIN_INVOKERS is set, so operator routes are closed",
            headers={"Retry-After": "60"},
        )
    token = bearer_token(request)
    if cfg.admin_token and hmac.compare_digest(token.encode(), cfg.admin_token.encode()):
        actor = request.headers.get("X-Analytics-Actor", "operator")
        if not _ACTOR.match(actor):
            raise ApiError(
                400, "invalid_actor", "X-Analytics-Actor must be 1..100 printable ASCII characters"
            )
        return f"operator:{actor}" if actor != "operator" else "operator"
    if split_api_key(token) is not None:
        raise ApiError(403, "admin_only", "provider API keys cannot call operator routes")
    if cfg.admin_invokers and looks_like_id_token(token):
        audiences = expected_audiences(request, cfg.admin_audiences)
        return f"invoker:{verified_invoker(token, audiences, cfg.admin_invokers)}"
    raise ApiError(
        401,
        "invalid_credentials",
        "the operator token is not valid",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )
