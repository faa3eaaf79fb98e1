"""503 ``store_unavailable``: the embedded store made genuinely unavailable by another connection's
lock, and a client that retries after 503 ending with every event stored exactly once."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from shared.config import reset_settings
from shared.store import forget_stores, store_for
from shared.store.errors import StoreUnavailable
from tests.http.support import assert_error, batch, conversation, custom, event, stored_events

BUSY_MS = 50


@pytest.fixture
def locked_world(world, env, monkeypatch):
    """The world with a 50 ms busy timeout (``?busy_timeout_ms=``), so a held lock fails fast."""
    url = f"{env['ANALYTICS_STORE']}?busy_timeout_ms={BUSY_MS}"
    monkeypatch.setenv("ANALYTICS_STORE", url)
    reset_settings()
    forget_stores()
    world.store = store_for(url)
    world.path = env["ANALYTICS_STORE"].removeprefix("sqlite:///")
    return world


@contextmanager
def write_lock(path: str) -> Iterator[sqlite3.Connection]:
    """Another process's writer holding the database (WAL: readers go on, writers wait)."""
    other = sqlite3.connect(path, isolation_level=None, timeout=1)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield other
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_store_url_options_are_checked(locked_world):
    """Only ``busy_timeout_ms=<ms>`` is understood; a typo fails loudly instead of being ignored."""
    for query in ("timeout=5", "busy_timeout_ms=fast", "busy_timeout_ms=1&busy_timeout_ms=2"):
        with pytest.raises(ValueError, match="busy_timeout_ms"):
            store_for(f"sqlite:///{locked_world.path}?{query}")


def test_firestore_url_options_are_checked():
    """``deadline_s`` bounds a Firestore call, retries included; anything else fails loudly."""
    from shared.store import open_store

    store = open_store("firestore://demo-project/analytics?deadline_s=2.5")
    try:
        assert store._rpc["timeout"] == 2.5 and store._rpc["retry"].timeout == 2.5
    finally:
        store.close()
    for query in (
        "timeout=5",
        "deadline_s=soon",
        "deadline_s=0",
        "deadline_s=1&deadline_s=2",
        "deadline_s=900",
    ):
        with pytest.raises(ValueError, match="deadline_s"):
            open_store(f"firestore://demo-project?{query}")


def test_locked_store_answers_503_with_retry_after_and_stores_nothing(locked_world, acme):
    body = batch(event(eventId="e-1"), event("NoSuchEvent", eventId="e-2"))
    # The function waits the URL's short busy timeout, not the 5 s default (read back from SQLite
    # rather than timed: a busy machine must not fail this test).
    with locked_world.store._read() as db:
        assert db.execute("PRAGMA busy_timeout").fetchone()[0] == BUSY_MS
    with write_lock(locked_world.path):
        resp = locked_world.ingest.post("/v1/events", json=body, headers=acme)
        err = assert_error(resp, 503, "store_unavailable")
        assert "retry" in err["message"]
        assert int(resp.headers["Retry-After"]) >= 1
        assert_error(
            locked_world.ingest.post("/v1/conversations", json=conversation(), headers=acme),
            503,
            "store_unavailable",
        )
        assert_error(
            locked_world.providers.patch(
                "/v1/providers/acme", json={"enableAnalytics": False}, headers=locked_world.admin
            ),
            503,
            "store_unavailable",
        )
    assert locked_world.store.get_event("acme", "e-1") is None
    assert locked_world.failed("acme") == []
    # The same request, retried once the store is back, does everything exactly once.
    resp = locked_world.ingest.post("/v1/events", json=body, headers=acme)
    assert (resp.json["accepted"], resp.json["rejected"]) == (1, 1)
    assert len(locked_world.failed("acme")) == 1


def test_reads_go_on_while_a_writer_holds_the_store(locked_world, acme):
    """WAL mode: an operator can still read while a long write holds the lock; writes get 503."""
    with write_lock(locked_world.path):
        assert locked_world.providers.get("/v1/providers/acme", headers=locked_world.admin).status_code == 200
        assert locked_world.failed("acme") == []
        assert locked_world.ingest.get("/v1/event-definitions", headers=acme).status_code == 200
        resp = locked_world.providers.post("/v1/providers/acme/keys", headers=locked_world.admin)
        assert_error(resp, 503, "store_unavailable")
    assert (
        len(locked_world.providers.get("/v1/providers/acme/keys", headers=locked_world.admin).json["items"])
        == 1
    )


def test_retry_after_honours_the_configured_floor(locked_world, acme, monkeypatch):
    monkeypatch.setenv("ANALYTICS_RETRY_AFTER_SECONDS", "7")
    reset_settings()
    with write_lock(locked_world.path):
        resp = locked_world.ingest.post("/v1/events", json=batch(event()), headers=acme)
    assert_error(resp, 503, "store_unavailable")
    assert resp.headers["Retry-After"] == "7"


def _send_until_accepted(world, headers, body, lock_plan: Iterator[bool]) -> tuple[dict, int]:
    """A well-behaved client: on 503 it waits (here: not at all) and sends the same request again."""
    attempts = 0
    while True:
        attempts += 1
        locked = next(lock_plan)
        if locked:
            with write_lock(world.path):
                resp = world.ingest.post("/v1/events", json=body, headers=headers)
            assert_error(resp, 503, "store_unavailable")
            assert resp.headers["Retry-After"]
            continue
        resp = world.ingest.post("/v1/events", json=body, headers=headers)
        assert resp.status_code == 200
        return resp.json, attempts


def test_client_retrying_after_503_stores_every_event_exactly_once(locked_world, acme):
    rng = random.Random(20261123)
    lock_plan = iter(lambda: rng.random() < 0.5, None)
    unique = {}
    batches = []
    for b in range(12):
        events = []
        for i in range(rng.randint(1, 8)):
            if rng.random() < 0.5:
                e = event(
                    "MessageSent",
                    offset_s=b * 100 + i,
                    eventId=f"m-{b}-{i}",
                    customData=custom(sender="agent"),
                )
            else:
                e = event("UserInteracted", offset_s=b * 100 + i)
            events.append(e)
        batches.append(batch(*events, session_id=f"s-{b % 3}"))
    # A client that also re-sends some whole batches (it lost the 200 on the way back).
    sends = batches + rng.sample(batches, 4)
    rng.shuffle(sends)

    total_attempts = accepted = duplicates = 0
    ids_by_content: dict[tuple, set[str]] = {}
    for body in sends:
        result, attempts = _send_until_accepted(locked_world, acme, body, lock_plan)
        total_attempts += attempts
        accepted += result["accepted"]
        duplicates += result["duplicates"]
        assert result["rejected"] == 0
        for e, r in zip(body["events"], result["results"], strict=True):
            key = (body["providerSessionId"], tuple(sorted((k, str(v)) for k, v in e.items())))
            ids_by_content.setdefault(key, set()).add(r["eventId"])
            unique[key] = r["eventId"]
    assert total_attempts > len(sends)  # the lock really did bite
    assert all(len(ids) == 1 for ids in ids_by_content.values())
    stored = sorted(e.event_id for e in stored_events(locked_world.store, "acme"))
    assert stored == sorted(unique.values())
    assert accepted == len(unique)
    assert accepted + duplicates == sum(len(b["events"]) for b in sends)


def test_retry_after_a_failure_half_way_through_a_batch(locked_world, acme, monkeypatch):
    """The store fails after storing part of a batch: the retry reports those as duplicates and
    stores the rest, so each event is stored once and counted once."""
    store = locked_world.store
    real_insert = store.insert_events
    calls = {"n": 0}

    def insert_then_fail(events):
        calls["n"] += 1
        if calls["n"] == 1:
            real_insert(events[: len(events) // 2])
            raise StoreUnavailable("connection reset half-way")
        return real_insert(events)

    monkeypatch.setattr(store, "insert_events", insert_then_fail)
    body = batch(*[event("ChatStarted", offset_s=i, eventId=f"e-{i}") for i in range(6)], event("Nope"))
    assert_error(locked_world.ingest.post("/v1/events", json=body, headers=acme), 503, "store_unavailable")
    assert len(stored_events(store, "acme")) == 3
    retry = locked_world.ingest.post("/v1/events", json=body, headers=acme).json
    assert (retry["accepted"], retry["duplicates"], retry["rejected"]) == (3, 3, 1)
    assert sorted(e.event_id for e in stored_events(store, "acme")) == [f"e-{i}" for i in range(6)]
    assert len(locked_world.failed("acme")) == 1  # the rejected event was kept on the first try, once
