"""What only the Firestore adapter has: its document layout, TTL, index declarations, the 503 path,
and the HTTP functions running on it (against the real emulator)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.config import reset_settings
from shared.store import forget_stores, open_store, store_for
from shared.store.errors import StoreUnavailable
from shared.store.firestore import FirestoreStore
from shared.store.firestore_indexes import (
    COMPOSITE_INDEXES,
    FIELD_OVERRIDES,
    LISTING_INDEXES,
    SCAN_FIELDS,
    SCAN_INDEXES,
    TTL_FIELD,
)
from shared.store.records import Conversation
from tests.store.records import T0, at, event, failed, provider
from tests.support.firestore_emulator import free_port

STORE_COLLECTIONS = {
    "events",
    "conversations",
    "activities",
    "failed_events",
    "providers",
    "api_keys",
    "audit",
    "event_definitions",
    "leases",
    "watermarks",
    "report_subscriptions",
    "alert_thresholds",
    "deliveries",
    "orphan_summaries",
    "provider_settings",
}


def test_store_url_selects_project_and_database():
    store = open_store("firestore://acme-prod/analytics")
    assert isinstance(store, FirestoreStore)
    assert (store._project, store._database) == ("acme-prod", "analytics")
    assert open_store("firestore://acme-prod")._database == "(default)"


def test_unreachable_firestore_answers_store_unavailable_quickly(monkeypatch):
    """Nothing listens on the port: every kind of call gives up within its deadline, with a 503 error."""
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{free_port()}")
    store = FirestoreStore("demo-unreachable", deadline_s=0.5)
    calls = {
        "read": lambda: store.get_provider("acme"),
        "create": lambda: store.create_provider(*provider("acme")),
        "bulk create": lambda: store.insert_events([event("e-1")]),
        "read-modify-write": lambda: store.upsert_conversation("acme", "c-1", lambda old: {"n": 1}, T0),
        "lease": lambda: store.acquire_lease("aggregate", "run-1", T0, 60),
        "query": lambda: store.list_failed_events("acme", None, 10),
        "scan": lambda: list(store.scan_events(None, T0, 100)),
    }
    try:
        for name, call in calls.items():
            started = time.monotonic()
            with pytest.raises(StoreUnavailable):
                call()
            # A hang would be the client's own retry budget (minutes); 30x the deadline is no race.
            assert time.monotonic() - started < 15, f"{name} hung instead of failing fast"
    finally:
        store.close()


def test_index_declarations_serve_the_queries():
    for collection, field in SCAN_FIELDS.items():
        assert any(
            i.collection == collection and [p for p, _ in i.fields] == ["shard", field, "__name__"]
            for i in SCAN_INDEXES
        ), collection
    for index in COMPOSITE_INDEXES:
        assert index.collection in STORE_COLLECTIONS
        assert index.fields[-1] == ("__name__", "ASCENDING")
    queried = {(i.collection, p) for i in COMPOSITE_INDEXES for p, _ in i.fields}
    for override in FIELD_OVERRIDES:
        assert override.collection in STORE_COLLECTIONS
        # An exempt field may be served by a composite index, but never by an equality we filter on.
        if not override.indexed:
            assert override.field_path not in {"shard", "provider_id", "status"}
    assert [(o.collection, o.field_path) for o in FIELD_OVERRIDES if o.ttl] == [
        ("events", TTL_FIELD),
        ("failed_events", TTL_FIELD),
    ]
    assert ("failed_events", "received_at") in queried and len(LISTING_INDEXES) == 3


@pytest.mark.emulator
def test_documents_are_laid_out_for_sharded_scans_and_ttl(firestore_emulator):
    firestore_emulator.reset()
    store = FirestoreStore(firestore_emulator.project, retention_days=30, failed_retention_days=7)
    client = firestore.Client(project=firestore_emulator.project)
    try:
        e = event("e-1", ingested=5)
        store.insert_events([e])
        doc = client.collection("events").document(e.doc_id).get()
        assert doc.exists
        assert doc.get("shard") == e.shard
        assert doc.get(TTL_FIELD) == at(5) + timedelta(days=30)
        assert isinstance(doc.get("custom_data"), str)  # opaque JSON, exempt from indexing

        conversation, _ = store.upsert_conversation("acme", "c-1", lambda old: {"n": 1}, at(1))
        stored = client.collection("conversations").document(conversation.doc_id).get()
        assert (stored.get("shard"), stored.get("updated_at")) == (conversation.shard, at(1))
        assert Conversation("acme", "c-1", {}, T0).doc_id == conversation.doc_id

        store.add_failed_events([failed("f-1", received=2)])
        (doc,) = client.collection("failed_events").where(filter=FieldFilter("failed_id", "==", "f-1")).get()
        assert doc.get("changed_at") == at(2) and 0 <= doc.get("shard") < 16
        assert doc.get(TTL_FIELD) == at(2) + timedelta(days=7)  # the TTL backstop of failed events
        store.mark_failed_replayed("acme", "f-1", "e-1", at(9))
        assert doc.reference.get().get(TTL_FIELD) == at(9) + timedelta(days=7)  # from the last change
        # Ids are hashes: no provider or event id shows up as a document path.
        ids = {
            d.id for c in ("events", "conversations", "failed_events") for d in client.collection(c).stream()
        }
        assert ids and all(len(i) == 40 and set(i) <= set("0123456789abcdef") for i in ids)
    finally:
        client.close()
        store.close()


@pytest.mark.emulator
def test_the_same_client_recovers_when_firestore_comes_back(firestore_emulator):
    """One client per process: an outage answers 503 meanwhile, and no restart is needed after it."""
    firestore_emulator.reset()
    store = FirestoreStore(firestore_emulator.project, deadline_s=1)
    try:
        assert store.insert_events([event("e-1")]) == [True]
        firestore_emulator.stop()
        with pytest.raises(StoreUnavailable):
            store.insert_events([event("e-2")])
        with pytest.raises(StoreUnavailable):
            store.get_event("acme", "e-1")
        firestore_emulator.start()  # same port, empty again (the emulator keeps data in memory)
        # gRPC reconnects with a backoff of a few seconds: retry on 503, as a provider's client does.
        assert retry_until_available(lambda: store.get_event("acme", "e-1")) is None  # restarted empty
        # A retry whose earlier attempt landed unseen reports duplicates; each event is stored once.
        retry_until_available(lambda: store.insert_events([event("e-1"), event("e-2")]))
        assert store.insert_events([event("e-1"), event("e-2")]) == [False, False]
        assert store.get_event("acme", "e-2") == event("e-2")
    finally:
        store.close()
        if not firestore_emulator.running:
            firestore_emulator.start()


def retry_until_available(call, within_s: float = 30.0):
    deadline = time.monotonic() + within_s
    while True:
        try:
            return call()
        except StoreUnavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)


@pytest.fixture
def firestore_env(env, monkeypatch, firestore_emulator):
    """The functions configured with ``ANALYTICS_STORE=firestore://PROJECT`` on the emulator."""
    firestore_emulator.reset()
    url = f"firestore://{firestore_emulator.project}"
    monkeypatch.setenv("ANALYTICS_STORE", url)
    reset_settings()
    forget_stores()
    env["ANALYTICS_STORE"] = url
    return env


@pytest.mark.emulator
def test_ingest_on_firestore_accepts_a_batch_and_dedups_its_retry(firestore_env, provider_key, ingest_client):
    auth = {"Authorization": f"Bearer {provider_key}"}
    conversation = {
        "conversation": {
            "conversationId": "c-1",
            "channel": "voice",
            "direction": "inbound",
            "conversationTimestamp": "2026-11-23T09:00:00Z",
            "session": {
                "sessionId": "s-1",
                "sessionCreatedTimestamp": "2026-11-23T09:00:00Z",
                "participants": [
                    {
                        "participantId": "agent-7",
                        "participantType": "agent",
                        "participantMode": "primary",
                        "participantAddedTimestamp": "2026-11-23T09:00:20Z",
                    }
                ],
            },
        }
    }
    assert ingest_client.post("/v1/conversations", json=conversation, headers=auth).status_code in (200, 201)
    body = {
        "conversationId": "c-1",
        "providerSessionId": "s-1",
        "participantId": "agent-7",
        "events": [
            {
                "eventId": "e-1",
                "kpiEventName": "NotificationReceived",
                "eventTimestamp": "2026-11-23T09:00:20Z",
            },
            {
                "eventId": "e-2",
                "kpiEventName": "NotificationResponse",
                "notificationResponseAction": "Accept",
                "eventTimestamp": "2026-11-23T09:00:31Z",
            },
            {"kpiEventName": "NoSuchEvent", "eventTimestamp": "2026-11-23T09:00:40Z"},
        ],
    }
    first = ingest_client.post("/v1/events", json=body, headers=auth)
    assert first.status_code == 200, first.json
    assert (first.json["accepted"], first.json["duplicates"], first.json["rejected"]) == (2, 0, 1)
    retry = ingest_client.post("/v1/events", json=body, headers=auth)
    assert (retry.json["accepted"], retry.json["duplicates"], retry.json["rejected"]) == (0, 2, 1)

    store = store_for(firestore_env["ANALYTICS_STORE"])
    assert isinstance(store, FirestoreStore)
    assert store.get_event("acme", "e-2").response_action == "Accept"
    assert [f.code for f in store.list_failed_events("acme", None, 10).items] == [
        first.json["results"][2]["error"]["code"]
    ]
    assert len([e for page in store.scan_events(None, at(10**9), 50) for e in page]) == 2
