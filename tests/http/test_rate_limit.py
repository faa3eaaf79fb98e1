"""The per-provider request rate: 429 rate_limited with Retry-After, per provider, on provider routes only."""

from __future__ import annotations

import importlib
import re
import threading

import pytest

from shared.config import reset_settings, settings
from shared.errors import ApiError
from shared.http.ratelimit import RateLimiter, provider_limiter
from shared.openapi.spec import openapi_document
from shared.store.sqlite import SqliteStore
from tests.http.support import assert_error, bearer, conversation

CHEAP = "/v1/event-definitions"  # a provider route that changes nothing


@pytest.fixture
def limited(env, monkeypatch):
    """Half a request a second per provider, bursts of 3: a test never sees the bucket refill."""
    monkeypatch.setenv("ANALYTICS_PROVIDER_RATE_LIMIT", "0.5")
    monkeypatch.setenv("ANALYTICS_PROVIDER_RATE_BURST", "3")
    reset_settings()
    provider_limiter.cache_clear()
    yield
    provider_limiter.cache_clear()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_provider_past_its_burst_gets_a_429_with_retry_after(world, limited):
    provider, auth = world.provider()
    for _ in range(3):
        assert world.ingest.get(CHEAP, headers=auth).status_code == 200
    refused = world.ingest.get(CHEAP, headers=auth)
    error = assert_error(refused, 429, "rate_limited")
    assert refused.headers["Retry-After"] in {"1", "2"}, "one token comes back every 2 s"
    assert "retry after" in error["message"]
    # Another provider has its own bucket; operator routes are not limited.
    _, other = world.provider()
    assert world.ingest.get(CHEAP, headers=other).status_code == 200
    for _ in range(5):
        assert world.providers.get(f"/v1/providers/{provider}", headers=world.admin).status_code == 200


def test_writes_are_limited_like_reads_and_a_refused_one_stores_nothing(world, limited):
    provider, auth = world.provider()
    statuses = [
        world.ingest.post("/v1/conversations", json=conversation(f"c-{n}"), headers=auth) for n in range(4)
    ]
    assert [r.status_code for r in statuses] == [201, 201, 201, 429]
    assert world.store.get_conversation(provider, "c-2") is not None
    assert world.store.get_conversation(provider, "c-3") is None


def test_only_authenticated_requests_spend_a_providers_budget(world, limited, monkeypatch):
    provider, auth = world.provider()
    key = world.keys[provider]
    wrong = bearer(key[:-4] + ("aaaa" if not key.endswith("aaaa") else "bbbb"))  # its key id, a wrong secret
    assert world.ingest.get(CHEAP, headers=auth).status_code == 200
    for _ in range(10):  # a stranger who knows the key id
        assert_error(world.ingest.get(CHEAP, headers=wrong), 401, "invalid_credentials")
    assert world.ingest.get(CHEAP, headers=auth).status_code == 200
    assert world.ingest.get(CHEAP, headers=auth).status_code == 200
    assert_error(world.ingest.get(CHEAP, headers=auth), 429, "rate_limited")
    # Once the bucket is empty, a request with one of its key ids is refused before any key lookup.
    lookups = []
    original = SqliteStore.get_api_key
    monkeypatch.setattr(SqliteStore, "get_api_key", lambda self, k: lookups.append(k) or original(self, k))
    assert_error(world.ingest.get(CHEAP, headers=auth), 429, "rate_limited")
    assert_error(world.ingest.get(CHEAP, headers=wrong), 429, "rate_limited")
    assert lookups == []


def test_the_limit_is_off_by_default(world):
    assert settings().provider_rate_limit == 0 and provider_limiter(0.0, 0) is None
    _, auth = world.provider()
    assert all(world.ingest.get(CHEAP, headers=auth).status_code == 200 for _ in range(30))


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "many"])
def test_an_invalid_setting_is_refused(monkeypatch, value):
    monkeypatch.setenv("ANALYTICS_PROVIDER_RATE_LIMIT", value)
    reset_settings()
    try:
        with pytest.raises(ValueError):
            settings()
    finally:
        monkeypatch.delenv("ANALYTICS_PROVIDER_RATE_LIMIT")
        reset_settings()


def test_the_bucket_refills_at_the_rate_up_to_the_burst():
    clock = Clock()
    limiter = RateLimiter(2.0, 4, clock=clock)
    for _ in range(4):
        limiter.take("p")
    with pytest.raises(ApiError) as refused:
        limiter.take("p")
    assert (refused.value.status, refused.value.code) == (429, "rate_limited")
    assert refused.value.headers == {"Retry-After": "1"}
    clock.now += 0.5  # one token back
    limiter.take("p")
    with pytest.raises(ApiError):
        limiter.take("p")
    clock.now += 3600  # never more than the burst
    for _ in range(4):
        limiter.take("p")
    with pytest.raises(ApiError):
        limiter.take("p")


def test_retry_after_is_the_wait_for_the_next_token_rounded_up():
    clock = Clock()
    limiter = RateLimiter(0.1, 1, clock=clock)
    limiter.take("p")
    for elapsed, expected in ((0.0, "10"), (4.5, "6"), (9.9, "1")):
        clock.now = 1000.0 + elapsed
        with pytest.raises(ApiError) as refused:
            limiter.take("p")
        assert refused.value.headers["Retry-After"] == expected, elapsed


def test_memory_is_bounded_by_the_providers_it_tracks():
    limiter = RateLimiter(1.0, 1, clock=Clock(), max_tracked=3)
    for n in range(10):
        limiter.take(f"p{n}", key_id=f"{n:016x}")
    assert len(limiter._tokens) == 3 and len(limiter._owners) == 3


def test_concurrent_requests_never_spend_more_than_the_burst():
    limiter = RateLimiter(1e-9, 100)
    admitted = []

    def hammer() -> None:
        for _ in range(50):
            try:
                limiter.take("p")
                admitted.append(1)
            except ApiError:
                pass

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(admitted) == 100


def test_configuration_errors_are_refused():
    with pytest.raises(ValueError):
        RateLimiter(0, 1)
    with pytest.raises(ValueError):
        RateLimiter(1, 0)
    assert provider_limiter(5.0, 0).burst == 10, "burst 0 means twice the rate"
    assert provider_limiter(0.2, 0).burst == 1


@pytest.mark.parametrize("function", ["ingest", "providers", "aggregate"])
def test_every_provider_route_documents_the_429(function):
    """The OpenAPI document promises 429 + Retry-After on exactly the routes the limiter guards."""
    routes = importlib.import_module(f"shared.endpoints.{function}").ROUTES
    paths = openapi_document(function)["paths"]
    for route in routes:
        path = re.sub(r"<([a-z_]+)>", lambda m: "{" + _camel(m[1]) + "}", route.rule)
        responses = paths[path][route.method.lower()]["responses"]
        if route.auth == "provider":
            assert "Retry-After" in responses["429"]["headers"], (route.method, route.rule)
        else:
            assert "429" not in responses, (route.method, route.rule)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)
