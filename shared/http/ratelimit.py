"""The per-provider request rate of the provider routes: ``429 rate_limited`` with ``Retry-After``.

A token bucket per provider in each function instance (docs/deploy.md, "Abuse limits"): a provider
may send ``ANALYTICS_PROVIDER_RATE_LIMIT`` requests a second, in bursts of up to
``ANALYTICS_PROVIDER_RATE_BURST``, to one instance; the request past that is answered
``429 rate_limited`` with the seconds until the bucket holds a token again. Off (``0``) by default.

Why per instance and not one shared counter: a shared counter is one document written per request,
which Firestore sustains at about one write a second (a hot document), and it would add a store
round trip to every request. Per instance the limit is approximate: a provider spread over N
instances gets up to N times the rate, and the instance cap (``max_instances``) bounds N. An exact
per-key limit at the edge is Cloud Armor's job (infra/edge.tf).

Only authenticated requests take a token, so a stranger who knows a key id cannot spend a provider's
budget. Once a provider's bucket is empty, a request presenting one of its key ids is answered 429
before the key is looked up: a flooding provider costs no store reads.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache

from flask import Request

from shared.auth.api_keys import split_api_key
from shared.errors import ApiError

# Providers (and key ids) one instance keeps a bucket for; the least recently seen are forgotten
# first (a forgotten provider starts again with a full bucket).
MAX_TRACKED = 10_000


class RateLimiter:
    """Token buckets by provider id: ``rate`` tokens a second, at most ``burst`` held."""

    def __init__(
        self,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_tracked: int = MAX_TRACKED,
    ):
        if not rate > 0 or not math.isfinite(rate):
            raise ValueError("the provider rate limit must be a positive number of requests a second")
        if burst < 1:
            raise ValueError("the provider rate burst must be at least 1")
        self.rate, self.burst = float(rate), int(burst)
        self._clock, self._max = clock, max_tracked
        self._tokens: OrderedDict[str, tuple[float, float]] = OrderedDict()  # provider -> (tokens, at)
        self._owners: OrderedDict[str, str] = OrderedDict()  # key id -> provider, once authenticated
        self._lock = threading.Lock()

    def _level(self, provider: str, now: float) -> float:
        tokens, at = self._tokens.get(provider, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - at) * self.rate)

    def _refused(self, tokens: float) -> ApiError:
        wait = max(1, math.ceil((1.0 - tokens) / self.rate))
        return ApiError(
            429,
            "rate_limited",
            f"too many requests from this provider (more than {self.rate:g} a second); retry after {wait} s",
            headers={"Retry-After": str(wait)},
        )

    def before_auth(self, request: Request) -> str | None:
        """The presented key id (read without the store; None: no key of ours). Raises the 429 when
        that key belongs to a provider whose bucket is empty, taking no token."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        parts = split_api_key(token.strip()) if scheme.lower() == "bearer" else None
        if parts is None:
            return None
        key_id = parts[0]
        with self._lock:
            provider = self._owners.get(key_id)
            tokens = self._level(provider, self._clock()) if provider is not None else 1.0
        if tokens < 1.0:
            raise self._refused(tokens)
        return key_id

    def take(self, provider: str, key_id: str | None = None) -> None:
        """Spend one token of ``provider`` (authenticated with ``key_id``), or raise the 429."""
        with self._lock:
            now = self._clock()
            tokens = self._level(provider, now)
            allowed = tokens >= 1.0
            self._tokens[provider] = (tokens - 1.0 if allowed else tokens, now)
            self._tokens.move_to_end(provider)
            if key_id is not None:
                self._owners[key_id] = provider
                self._owners.move_to_end(key_id)
            for table in (self._tokens, self._owners):
                while len(table) > self._max:
                    table.popitem(last=False)
        if not allowed:
            raise self._refused(tokens)


@lru_cache(maxsize=8)
def provider_limiter(rate: float, burst: int) -> RateLimiter | None:
    """The process's limiter for these settings; ``None`` when the limit is off (rate 0).
    A burst of 0 means twice the rate (at least 1)."""
    if rate <= 0:
        return None
    return RateLimiter(rate, burst if burst > 0 else max(1, math.ceil(2 * rate)))
