"""The store's privacy operations, on every adapter (SQLite file, Firestore emulator): finding a
customer's documents, rewriting and redacting them, erasure receipts and expiring raw events."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from shared.store.erasure import Erasure
from shared.store.port import Store
from shared.store.records import Event
from tests.store.records import T0, activity, at, event, failed


def _conversation(customer: str | None) -> dict:
    data = {"channel": "chat", "direction": "inbound", "conversationTimestamp": "2026-11-23T09:00:00+00:00"}
    return data if customer is None else {**data, "customerId": customer}


def test_a_customer_is_found_only_in_its_own_providers_documents(store: Store):
    store.upsert_conversation("acme", "c-1", lambda old: _conversation("cust-1"), at(0))
    store.upsert_conversation("acme", "c-2", lambda old: _conversation("cust-2"), at(0))
    store.upsert_conversation("globex", "c-1", lambda old: _conversation("cust-1"), at(0))
    parties = [
        {"partyId": "seller-1", "side": "us", "role": "from"},
        {"partyId": "cust-1", "side": "customer", "role": "to"},
    ]
    store.upsert_activities(
        [
            activity("a-1", regardingType="account", regardingId="acc-1", parties=parties),
            activity("a-2", regardingType="contact", regardingId="cust-1", parties=parties[:1]),
            activity("a-3", regardingType="account", regardingId="acc-1", parties=parties[:1]),
            activity("a-1", "globex", regardingType="account", regardingId="acc-1", parties=parties),
        ]
    )
    assert [c.conversation_id for c in store.customer_conversations("acme", "cust-1")] == ["c-1"]
    assert [a.activity_id for a in store.customer_activities("acme", "cust-1")] == ["a-1", "a-2"]
    # Once the identifier is gone from the document, the customer is no longer found there.
    store.upsert_conversation("acme", "c-1", lambda old: _conversation(None), at(1))
    assert store.customer_conversations("acme", "cust-1") == []
    assert [c.conversation_id for c in store.customer_conversations("globex", "cust-1")] == ["c-1"]


def test_events_are_rewritten_in_place_per_conversation(store: Store):
    store.insert_events(
        [event("e-1", participant_id="cust-1"), event("e-2"), event("e-3", conversation_id="c-9")]
    )
    store.insert_events([event("e-1", "globex", participant_id="cust-1")])

    def scrub(e: Event) -> Event:
        return replace(
            e, participant_id=None if e.participant_id == "cust-1" else e.participant_id, additional_data=None
        )

    assert store.rewrite_events("acme", "c-1", scrub) == 2
    assert store.get_event("acme", "e-1").participant_id is None
    assert store.get_event("acme", "e-2").participant_id == "agent-7"
    assert store.get_event("acme", "e-2").additional_data is None
    assert store.get_event("acme", "e-1").ingested_at == at(0)  # not re-read by the aggregation
    assert store.get_event("acme", "e-3").additional_data is not None  # another conversation
    assert store.get_event("globex", "e-1").participant_id == "cust-1"  # another provider
    assert store.rewrite_events("acme", "c-1", scrub) == 0  # nothing left to change


def test_failed_events_are_redacted_and_rescanned(store: Store):
    store.add_failed_events([failed("f-1"), failed("f-2"), failed("f-1", "globex")])
    erased = store.erase_failed_events("acme", lambda f: f.failed_id == "f-1", at(5))
    assert erased == 1
    redacted = store.get_failed_event("acme", "f-1")
    assert (redacted.status, redacted.payload, redacted.envelope, redacted.details) == (
        "erased",
        "null",
        {},
        [],
    )
    assert store.get_failed_event("acme", "f-2").status == "open"
    assert store.get_failed_event("globex", "f-1").status == "open"
    rescanned = [f.failed_id for page in store.scan_failed_events(at(1), at(10), 10) for f in page]
    assert rescanned == ["f-1"]  # the aggregation sees its new status
    assert store.erase_failed_events("acme", lambda f: True, at(6)) == 1  # f-2; f-1 already erased


def test_erasure_receipts_count_once_and_go_pending_again_when_more_was_erased(store: Store):
    first = Erasure("acme", "er_1", "ps_a", T0, {"conversations": 2}, participant_pseudonyms=("ps_b",))
    assert store.record_erasure(first) == first
    assert store.get_erasure("acme", "er_1") == first
    assert store.get_erasure("globex", "er_1") is None
    assert store.pending_erasures(T0 - timedelta(seconds=1), 10) == []
    assert store.pending_erasures(T0, 10) == [first]

    store.mark_erasures_applied([first], at(60))
    applied = store.get_erasure("acme", "er_1")
    assert (applied.status, applied.applied_at) == ("applied", at(60))
    assert store.pending_erasures(at(100), 10) == []

    again = store.record_erasure(Erasure("acme", "er_1", "ps_a", at(90), {"conversations": 1, "events": 3}))
    assert again.requested_at == T0  # counted on the first request's day, once
    assert again.counts == {"conversations": 3, "events": 3}
    assert again.status == "pending" and again.participant_pseudonyms == ("ps_b",)
    assert store.pending_erasures(at(100), 10) == [again]


def test_expired_events_are_purged_oldest_first_within_the_limit(store: Store):
    store.insert_events([event(f"e-{i}", ingested=float(i)) for i in range(6)])
    assert store.purge_events(at(3), limit=2) == 2
    assert store.purge_events(at(3), limit=10) == 1
    left = sorted(e.event_id for page in store.scan_events(None, at(100), 10) for e in page)
    assert left == ["e-3", "e-4", "e-5"]


def test_failed_events_past_their_retention_are_purged_by_last_change(store: Store):
    store.add_failed_events([failed(f"f-{i}", received=float(i)) for i in range(5)])
    store.mark_failed_replayed("acme", "f-0", "e-0", at(50))  # a late change keeps it
    assert store.purge_failed_events(at(3), limit=1) == 1
    assert store.purge_failed_events(at(3), limit=10) == 1
    left = sorted(f.failed_id for f in store.list_failed_events("acme", None, 10).items)
    assert left == ["f-0", "f-3", "f-4"]


def test_a_truncated_payload_keeps_its_size_and_digest_until_erased(store: Store):
    big = replace(failed("big"), payload='{"x": "cut', payload_bytes=200_000, payload_digest="ef" * 32)
    store.add_failed_events([big, failed("small")])
    assert store.get_failed_event("acme", "big") == big and big.truncated
    assert not store.get_failed_event("acme", "small").truncated
    assert store.erase_failed_events("acme", lambda f: f.failed_id == "big", at(9)) == 1
    erased = store.get_failed_event("acme", "big")
    assert (erased.payload, erased.payload_bytes, erased.payload_digest) == ("null", None, None)
