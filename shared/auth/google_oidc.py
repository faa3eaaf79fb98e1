"""Google-signed ID tokens on operator routes: how Cloud Scheduler authenticates.

Cloud Scheduler can only authenticate with an OIDC token of a service account, sent as
``Authorization: Bearer <JWT>``; it cannot send the operator token. Cloud Run's IAM check
(``roles/run.invoker``) admits the call first; the app verifies the same token again (signature,
issuer, expiry, audience) and then requires the caller's e-mail to be one of
``ANALYTICS_ADMIN_INVOKERS``, so a function made public by mistake still runs nothing for strangers.
"""

from __future__ import annotations

import base64
import json
from functools import lru_cache

import google.auth.exceptions
import google.auth.transport.requests
import requests
from flask import Request
from google.oauth2 import id_token

from shared.errors import ApiError

# Where Google publishes the keys its ID tokens are signed with (tests point it at their own keys).
GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
GOOGLE_ISSUERS = frozenset({"accounts.google.com", "https://accounts.google.com"})
CLOCK_SKEW_SECONDS = 30


def looks_like_id_token(token: str) -> bool:
    """A JWT with an RS256 header: worth verifying, rather than a mistyped operator token."""
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        return False
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(header, dict) and header.get("alg") == "RS256"


def expected_audiences(request: Request, configured: tuple[str, ...]) -> tuple[str, ...]:
    """The audiences a token for this function may carry.

    Cloud Scheduler's token is minted for the URL it calls, which Terraform cannot hand to the
    function it belongs to (the URL exists only once the function does), so by default the function
    accepts its own URL as the caller addressed it. ``ANALYTICS_ADMIN_AUDIENCES`` replaces that.
    """
    if configured:
        return configured
    root = f"https://{request.host}"
    return (root, f"{root}/", f"{root}{request.path}")


@lru_cache(maxsize=1)
def _transport() -> google.auth.transport.requests.Request:
    # One pooled HTTPS session per process for fetching Google's signing keys.
    return google.auth.transport.requests.Request(session=requests.Session())


def verified_invoker(token: str, audiences: tuple[str, ...], invokers: frozenset[str]) -> str:
    """The e-mail of the service account that signed in, if it is an allowed invoker."""
    try:
        claims = id_token.verify_token(
            token,
            _transport(),
            audience=list(audiences),
            certs_url=GOOGLE_CERTS_URL,
            clock_skew_in_seconds=CLOCK_SKEW_SECONDS,
        )
    except google.auth.exceptions.TransportError as exc:
        raise ApiError(
            503,
            "admin_auth_unavailable",
            "Google's token signing keys could not be fetched; retry shortly",
            headers={"Retry-After": "30"},
        ) from exc
    except (ValueError, google.auth.exceptions.GoogleAuthError) as exc:
        raise ApiError(
            401,
            "invalid_credentials",
            "the ID token is not valid for this function (signature, expiry or audience)",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from exc
    email = claims.get("email")
    if claims.get("iss") not in GOOGLE_ISSUERS or not isinstance(email, str):
        raise ApiError(
            401,
            "invalid_credentials",
            "the ID token is not a Google service-account token",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    if claims.get("email_verified") is not True or email.lower() not in invokers:
        raise ApiError(403, "invoker_not_allowed", "this identity may not call operator routes")
    return email.lower()
