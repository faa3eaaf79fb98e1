"""The store contract: every adapter (SQLite, Firestore on the emulator) behaves the same.

The services and the aggregator are written against ``shared.store.port.Store``; these tests pin the
behaviour they rely on, method by method, for each backend.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from shared.store.errors import AlreadyExists, NotFound
from shared.store.records import (
    INGEST_SHARDS,
    AlertThreshold,
    ApiKey,
    AuditEntry,
    Conversation,
    Delivery,
    EventDefinition,
    ProviderSettings,
    ReportSubscription,
    SigningSecret,
    Watermark,
    shard_of,
)
from tests.store.records import T0, activity, at, event, failed, provider

# -- providers, flag, audit ------------------------------------------------------------------------


def test_provider_is_created_once_and_read_back(store):
    p, key, audit = provider("acme")
    store.create_provider(p, key, audit)
    assert store.get_provider("acme") == p
    assert store.get_api_key(key.key_id) == key
    assert store.list_audit("acme", 10).items == [audit]
    other_key = ApiKey("acme-k9", "acme", "hash-other", T0)
    with pytest.raises(AlreadyExists):
        store.create_provider(p, other_key, audit)
    # Nothing of the refused create was kept.
    assert store.get_api_key("acme-k9") is None
    assert store.list_api_keys("acme") == [key]


@pytest.mark.parametrize("odd", ["nobody", "../acme", "__acme__", "a/b", "", "x" * 2000])
def test_unknown_or_odd_ids_read_as_absent(store, odd):
    store.create_provider(*provider("acme"))
    assert store.get_provider(odd) is None
    assert store.get_api_key(odd) is None
    assert store.get_event(odd, odd) is None
    assert store.get_conversation(odd, odd) is None
    assert store.get_failed_event(odd, odd) is None
    assert store.get_event_definition(odd, odd) is None


def test_analytics_flag_changes_are_audited_and_paged(store):
    store.create_provider(*provider("acme"))
    store.create_provider(*provider("globex"))
    flips = [True, True, False, True, False, False, True]
    changes = []
    for i, enabled in enumerate(flips):
        updated, audit = store.set_analytics_flag("acme", enabled, f"op-{i}", at(i + 1), f"audit-{i}")
        assert updated.enable_analytics is enabled
        if audit is None:
            assert updated.updated_at == (changes[-1].at if changes else T0)  # unchanged: nothing written
        else:
            assert (audit.old, audit.new, audit.actor, audit.at) == (
                not enabled,
                enabled,
                f"op-{i}",
                at(i + 1),
            )
            assert updated.updated_at == at(i + 1)
            changes.append(audit)
    assert store.get_provider("acme").enable_analytics is True
    assert len(changes) == 5

    seen, cursor, pages = [], None, 0
    while True:
        page = store.list_audit("acme", 2, cursor)
        assert len(page.items) <= 2
        seen.extend(page.items)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == 3
    assert [a.audit_id for a in seen] == ["acme-a0"] + [a.audit_id for a in changes]
    assert all(a.provider_id == "acme" for a in seen)
    assert [a.audit_id for a in store.list_audit("globex", 10).items] == ["globex-a0"]
    with pytest.raises(NotFound):
        store.set_analytics_flag("nobody", True, "op", T0, "audit-x")
    for bad in ("not-a-cursor", "WyJhIl0=", "WzEsMl0="):  # junk, ["a"], [1,2]
        with pytest.raises(ValueError):
            store.list_audit("acme", 2, bad)


# -- keys -----------------------------------------------------------------------------------------


def test_key_rotation_expires_the_other_keys(store):
    p, first, audit = provider("acme")
    store.create_provider(p, first, audit)
    store.create_provider(*provider("globex"))
    grace_end = at(3600)
    second = ApiKey("acme-k1", "acme", "hash-1", at(10))
    store.add_api_key(second, grace_end)
    assert store.get_api_key(first.key_id).expires_at == grace_end
    assert store.get_api_key(second.key_id).expires_at is None

    # Revoking (expire now) ends both older keys at once, whatever their grace was.
    third = ApiKey("acme-k2", "acme", "hash-2", at(20))
    store.add_api_key(third, at(20))
    assert [(k.key_id, k.expires_at) for k in store.list_api_keys("acme")] == [
        ("acme-k0", at(20)),
        ("acme-k1", at(20)),
        ("acme-k2", None),
    ]
    # A later, longer grace never extends an expiry already set.
    store.add_api_key(ApiKey("acme-k3", "acme", "hash-3", at(30)), at(7200))
    assert store.get_api_key("acme-k0").expires_at == at(20)
    assert store.get_api_key("acme-k2").expires_at == at(7200)
    # Adding without an expiry leaves the others alone; other providers are never touched.
    store.add_api_key(ApiKey("acme-k4", "acme", "hash-4", at(40)), None)
    assert store.get_api_key("acme-k3").expires_at is None
    assert [k.expires_at for k in store.list_api_keys("globex")] == [None]


def test_concurrent_rotations_leave_one_unexpired_key(store):
    store.create_provider(*provider("acme"))
    keys = [ApiKey(f"acme-r{i}", "acme", f"hash-r{i}", at(i + 1)) for i in range(4)]
    run_threads([lambda k=k: store.add_api_key(k, at(100)) for k in keys])
    unexpired = [k.key_id for k in store.list_api_keys("acme") if k.expires_at is None]
    assert len(unexpired) == 1  # each rotation saw (and expired) every key stored before it


# -- request signing --------------------------------------------------------------------------------


def _secret_audit(provider_id: str, secret_id: str, seconds: float) -> AuditEntry:
    return AuditEntry(
        f"{provider_id}-{secret_id}", provider_id, at(seconds), "operator", "provider.signing_secret_created",
        "signingSecrets", None, {"secretId": secret_id, "revokeOthers": False},
    )  # fmt: skip


def test_signing_secrets_rotate_like_keys_and_are_audited(store):
    store.create_provider(*provider("acme"))
    store.create_provider(*provider("globex"))
    first = SigningSecret("s0", "acme", "v1:sealed-0", at(1))
    store.add_signing_secret(first, at(3601), _secret_audit("acme", "s0", 1))
    assert store.list_signing_secrets("acme") == [first]  # no other secret: nothing to expire
    store.add_signing_secret(
        SigningSecret("s0", "globex", "v1:globex-0", at(2)), None, _secret_audit("globex", "s0", 2)
    )

    store.add_signing_secret(
        SigningSecret("s1", "acme", "v1:sealed-1", at(10)), at(3610), _secret_audit("acme", "s1", 10)
    )
    assert [(s.secret_id, s.expires_at) for s in store.list_signing_secrets("acme")] == [
        ("s0", at(3610)),
        ("s1", None),
    ]
    # Revoking ends every older secret now; a later, longer grace never extends an expiry already set.
    store.add_signing_secret(
        SigningSecret("s2", "acme", "v1:sealed-2", at(20)), at(20), _secret_audit("acme", "s2", 20)
    )
    store.add_signing_secret(
        SigningSecret("s3", "acme", "v1:sealed-3", at(30)), at(7200), _secret_audit("acme", "s3", 30)
    )
    assert [(s.secret_id, s.sealed, s.expires_at) for s in store.list_signing_secrets("acme")] == [
        ("s0", "v1:sealed-0", at(20)),
        ("s1", "v1:sealed-1", at(20)),
        ("s2", "v1:sealed-2", at(7200)),
        ("s3", "v1:sealed-3", None),
    ]
    # The same secret id under another provider is another record, untouched by acme's rotations.
    assert store.list_signing_secrets("globex") == [SigningSecret("s0", "globex", "v1:globex-0", at(2))]
    assert store.list_signing_secrets("nobody") == []
    assert [a.audit_id for a in store.list_audit("acme", 10).items] == [
        "acme-a0", "acme-s0", "acme-s1", "acme-s2", "acme-s3"
    ]  # fmt: skip
    assert store.list_audit("acme", 10).items[1] == _secret_audit("acme", "s0", 1)
    # Signing secrets are no API keys.
    assert [k.key_id for k in store.list_api_keys("acme")] == ["acme-k0"]


def test_concurrent_signing_secret_rotations_leave_one_live_secret(store):
    store.create_provider(*provider("acme"))
    secrets = [SigningSecret(f"r{i}", "acme", f"v1:sealed-r{i}", at(i + 1)) for i in range(4)]
    run_threads(
        [
            lambda s=s: store.add_signing_secret(s, at(100), _secret_audit("acme", s.secret_id, 1))
            for s in secrets
        ]
    )
    assert len(store.list_signing_secrets("acme")) == 4
    assert len([s for s in store.list_signing_secrets("acme") if s.expires_at is None]) == 1


def test_signature_requirement_is_its_own_audited_switch(store):
    store.create_provider(*provider("acme"))
    store.create_provider(*provider("globex"))
    assert store.get_provider("acme").require_signature is False
    on, audit = store.set_signature_required("acme", True, "op:alice", at(5), "sig-1")
    assert (on.require_signature, on.enable_analytics, on.updated_at) == (True, False, at(5))
    assert (audit.action, audit.field, audit.old, audit.new, audit.actor, audit.at) == (
        "provider.signature_requirement_changed", "requireSignature", False, True, "op:alice", at(5)
    )  # fmt: skip
    assert store.set_signature_required("acme", True, "op", at(6), "sig-2") == (on, None)
    # Flipping analytics keeps the requirement, and the requirement keeps the analytics flag.
    flipped, _ = store.set_analytics_flag("acme", True, "op", at(7), "flag-1")
    assert (flipped.enable_analytics, flipped.require_signature) == (True, True)
    off, _ = store.set_signature_required("acme", False, "op", at(8), "sig-3")
    assert (off.enable_analytics, off.require_signature) == (True, False)
    assert store.get_provider("acme") == off
    assert store.get_provider("globex").require_signature is False
    assert [a.audit_id for a in store.list_audit("acme", 10).items] == ["acme-a0", "sig-1", "flag-1", "sig-3"]
    with pytest.raises(NotFound):
        store.set_signature_required("nobody", True, "op", T0, "sig-x")
    # A provider created with the requirement reads back with it.
    p, key, created = provider("initech")
    store.create_provider(replace(p, require_signature=True), key, created)
    assert store.get_provider("initech").require_signature is True


# -- event definitions ----------------------------------------------------------------------------


def test_event_definitions_upsert_keeps_created_at(store):
    first = EventDefinition("acme", "RefundIssued", "1-0-0", True, "a refund", T0, T0)
    store.put_event_definition(first)
    store.put_event_definition(EventDefinition("acme", "Escalated", "1-0-0", True, "", T0, T0))
    store.put_event_definition(EventDefinition("globex", "RefundIssued", "2-0-0", True, "", T0, T0))
    changed = EventDefinition("acme", "RefundIssued", "1-1-0", False, "retired", at(60), at(60))
    store.put_event_definition(changed)
    got = store.get_event_definition("acme", "RefundIssued")
    assert got == EventDefinition("acme", "RefundIssued", "1-1-0", False, "retired", T0, at(60))
    assert [d.name for d in store.list_event_definitions("acme")] == ["Escalated", "RefundIssued"]
    assert store.get_event_definition("globex", "RefundIssued").version == "2-0-0"
    assert store.get_event_definition("acme", "Unknown") is None


# -- conversations --------------------------------------------------------------------------------


def test_conversation_upsert_merges_and_skips_unchanged_writes(store):
    seen: list[Any] = []

    def add_session(session_id: str) -> Callable[[dict | None], dict]:
        def merge(old: dict | None) -> dict:
            seen.append(old)
            data = (
                {"channel": "voice", "sessions": {}}
                if old is None
                else {**old, "sessions": dict(old["sessions"])}
            )
            data["sessions"][session_id] = {"queueId": "billing", "participants": [{"id": "agent-7"}]}
            return data

        return merge

    record, created = store.upsert_conversation("acme", "c-1", add_session("s-1"), at(1))
    assert created and seen[-1] is None
    assert record == Conversation(
        "acme", "c-1", {"channel": "voice", "sessions": {"s-1": ANY_SESSION}}, at(1)
    )
    again, created = store.upsert_conversation("acme", "c-1", add_session("s-1"), at(2))
    assert not created and again.updated_at == at(1)  # same data: nothing written
    assert seen[-1] == record.data
    grown, created = store.upsert_conversation("acme", "c-1", add_session("s-2"), at(3))
    assert not created and grown.updated_at == at(3) and set(grown.data["sessions"]) == {"s-1", "s-2"}
    assert store.get_conversation("acme", "c-1") == grown
    assert store.get_conversation("globex", "c-1") is None
    assert [c.updated_at for page in store.scan_conversations(None, at(10), 10) for c in page] == [at(3)]


ANY_SESSION = {"queueId": "billing", "participants": [{"id": "agent-7"}]}


def test_concurrent_conversation_upserts_lose_no_update(store):
    def add(session_id: str) -> Callable[[dict | None], dict]:
        return lambda old: {"sessions": sorted({*((old or {}).get("sessions", [])), session_id})}

    sessions = [f"s-{i}" for i in range(6)]
    results: list[bool] = []
    run_threads(
        [
            lambda s=s: results.append(store.upsert_conversation("acme", "c-1", add(s), at(1))[1])
            for s in sessions
        ]
    )
    assert store.get_conversation("acme", "c-1").data == {"sessions": sessions}
    assert sorted(results) == [False] * 5 + [True]


# -- events ---------------------------------------------------------------------------------------


def test_insert_events_dedups_across_and_within_batches(store):
    e1, e2, e3 = event("e-1"), event("e-2", participant_id=None, reason="Completed"), event("e-3")
    assert store.insert_events([e1, e2]) == [True, True]
    # A retry with one new event; a duplicate inside one batch counts once (the first one).
    other_content = event("e-3", name="ChatStarted")
    assert store.insert_events([e2, e3, e1, other_content]) == [False, True, False, False]
    assert store.get_event("acme", "e-3") == e3
    assert store.get_event("acme", "e-2") == e2
    assert store.insert_events([]) == []
    # Event ids are scoped by provider: the same id from another provider is another event.
    assert store.insert_events([event("e-1", provider_id="globex")]) == [True]
    assert store.get_event("globex", "e-1").provider_id == "globex"


def test_cif_event_fields_round_trip_and_survive_a_rewrite(store):
    """logAnalyticsEvent's clientSessionId (of the envelope) and externalCorrelationId (of the event)."""
    cif = event("e-cif", client_session_id="desk-1", external_correlation_id="pbx-7")
    plain = event("e-plain")
    assert store.insert_events([cif, plain]) == [True, True]
    assert store.get_event("acme", "e-cif") == cif
    assert (store.get_event("acme", "e-plain").client_session_id, plain.external_correlation_id) == (
        None,
        None,
    )
    assert {e.event_id: e for page in store.scan_events(None, at(10), 10) for e in page}["e-cif"] == cif
    # An erasure rewrites other fields of the event; these stay.
    assert store.rewrite_events("acme", "c-1", lambda e: replace(e, additional_data=None)) == 2
    assert store.get_event("acme", "e-cif") == replace(cif, additional_data=None)


def test_a_cif_conversation_document_round_trips(store):
    """initLogAnalytics as stored: nested sessions and participants, customData at every level."""
    custom = [
        {"attribute": "tier", "value": "gold"},
        {"attribute": "vip", "value": True},
        {"attribute": "n", "value": 2.5},
    ]
    data = {
        "channel": "voice",
        "direction": "inbound",
        "providerId": "5f3c1c2e-8d4b-4b8e-9a51-0c2f6d1e7a10",
        "externalContactId": "erp-contact-9",
        "regionData": "Seattle, WA, US ✓",
        "customData": custom,
        "sessions": [
            {
                "sessionId": "s-1",
                "clientSessionId": "desk-1",
                "sessionName": "Call",
                "customData": custom,
                "participants": [
                    {"participantId": "agent-7", "participantAssignReason": "Routed", "customData": custom}
                ],
            }
        ],
    }
    record, created = store.upsert_conversation("acme", "c-cif", lambda old: data, at(1))
    assert created and record.data == data
    assert store.get_conversation("acme", "c-cif").data == data


def test_events_keep_their_digest_and_are_read_back_by_id(store):
    with_digest = event("d-1", digest="ab" * 32)
    without = event("d-2")  # stored before digests existed
    store.insert_events([with_digest, without, event("d-1", provider_id="globex", digest="cd" * 32)])
    found = store.get_events("acme", ["d-1", "d-2", "missing", "d-1"])
    assert found == {"d-1": with_digest, "d-2": without}
    assert found["d-2"].digest is None
    # Scoped by provider, and nothing for nothing.
    assert store.get_events("globex", ["d-1", "d-2"])["d-1"].digest == "cd" * 32
    assert store.get_events("acme", []) == {}
    # A rewrite (erasure) keeps the digest of what was sent.
    store.rewrite_events("acme", "c-1", lambda e: replace(e, additional_data=None))
    assert store.get_event("acme", "d-1").digest == "ab" * 32


def test_large_batches_are_split_and_every_event_decided(store):
    # More than one request's worth (500 writes), with duplicates on both sides of the split.
    events = [event(f"bulk-{i}", ingested=i / 1000) for i in range(520)]
    assert store.insert_events(events[490:510]) == [True] * 20
    stored = store.insert_events(events)
    assert stored == [True] * 490 + [False] * 20 + [True] * 10
    assert sum(len(page) for page in store.scan_events(None, at(10), 500)) == 520


def test_concurrent_inserts_of_the_same_events_store_each_once(store):
    events = [event(f"race-{i}", ingested=i) for i in range(40)]
    results: list[list[bool]] = []
    lock = threading.Lock()

    def insert(seed: int) -> None:
        batch = events[:]
        random.Random(seed).shuffle(batch)
        flags = store.insert_events(batch)
        with lock:
            results.append([e.event_id for e, new in zip(batch, flags, strict=True) if new])

    run_threads([lambda s=s: insert(s) for s in range(6)])
    winners = [event_id for stored in results for event_id in stored]
    assert sorted(winners) == sorted(e.event_id for e in events)  # each exactly once, over all threads
    assert sum(len(p) for p in store.scan_events(None, at(100), 100)) == 40


# -- activities -----------------------------------------------------------------------------------


def test_activities_upsert_replaces_and_reports_new_ones(store):
    assert store.upsert_activities([activity("a-1"), activity("a-2")]) == [True, True]
    replaced = activity("a-1", ingested=5, subject="Renewal (updated)")
    flags = store.upsert_activities(
        [replaced, activity("a-3", subject="first"), activity("a-3", subject="last")]
    )
    assert flags == [False, True, False]
    scanned = {a.activity_id: a for page in store.scan_activities(None, at(10), 10) for a in page}
    assert scanned["a-1"] == replaced
    assert scanned["a-3"].data["subject"] == "last"  # the last occurrence in a call wins
    assert store.upsert_activities([]) == []


# -- failed events --------------------------------------------------------------------------------


def test_failed_events_are_kept_once_listed_and_replayed(store):
    batch = [failed(f"f-{i}", received=i) for i in range(5)]
    assert store.add_failed_events([*batch[:3], batch[0]]) == [True, True, True, False]
    assert store.add_failed_events(batch) == [False, False, False, True, True]
    store.add_failed_events([failed("f-x", provider_id="globex")])
    assert store.get_failed_event("acme", "f-2") == batch[2]
    assert store.get_failed_event("globex", "f-2") is None

    store.mark_failed_replayed("acme", "f-1", "e-77", at(100))
    store.mark_failed_replayed("acme", "f-3", "e-78", at(101))
    replayed = store.get_failed_event("acme", "f-1")
    assert (replayed.status, replayed.replayed_at, replayed.replayed_event_id) == (
        "replayed",
        at(100),
        "e-77",
    )
    with pytest.raises(NotFound):
        store.mark_failed_replayed("acme", "f-x", "e-1", at(100))  # globex's, not acme's

    assert [f.failed_id for f in list_all(store, "acme", None, 2)] == [f"f-{i}" for i in range(5)]
    assert [f.failed_id for f in list_all(store, "acme", "open", 2)] == ["f-0", "f-2", "f-4"]
    assert [f.failed_id for f in list_all(store, "acme", "replayed", 1)] == ["f-1", "f-3"]
    assert [f.failed_id for f in list_all(store, "globex", None, 10)] == ["f-x"]
    with pytest.raises(ValueError):
        store.list_failed_events("acme", None, 2, "bogus")


def list_all(store, provider_id: str, status: str | None, limit: int) -> list:
    items, cursor = [], None
    while True:
        page = store.list_failed_events(provider_id, status, limit, cursor)
        assert len(page.items) <= limit
        items.extend(page.items)
        if page.next_cursor is None:
            return items
        cursor = page.next_cursor


# -- aggregator scans -----------------------------------------------------------------------------


def scanned(pages, page_size: int) -> list:
    """Flatten a scan, checking its pages are bounded and never empty."""
    out = []
    for page in pages:
        assert 0 < len(page) <= page_size
        out.extend(page)
    return out


def test_event_scan_reads_every_record_once_within_bounds(store):
    # Two events per second over 40 s, spread across every shard, some sharing a timestamp.
    events = [event(f"scan-{i}", provider_id=("acme", "globex")[i % 2], ingested=i // 2) for i in range(80)]
    assert {e.shard for e in events} == set(range(INGEST_SHARDS))
    store.insert_events(events)
    for since, until, page_size in [
        (None, at(35), 7),
        (at(10), at(20), 3),
        (at(-1), at(1000), 1),
        (at(39), at(99), 5),
    ]:
        got = scanned(store.scan_events(since, until, page_size), page_size)
        expected = [e for e in events if (since is None or e.ingested_at > since) and e.ingested_at <= until]
        assert sorted(e.event_id for e in got) == sorted(e.event_id for e in expected)
        assert len(got) == len({e.event_id for e in got})
        assert [e.ingested_at for e in got] == sorted(e.ingested_at for e in got)  # merged in time order
    assert list(store.scan_events(at(1000), at(2000), 10)) == []


def test_conversation_activity_and_failed_scans_follow_their_timestamps(store):
    for i in range(20):
        store.upsert_conversation("acme", f"c-{i}", lambda old, i=i: {"n": i}, at(i))
    store.upsert_activities([activity(f"a-{i}", ingested=i) for i in range(20)])
    store.add_failed_events([failed(f"f-{i}", received=i) for i in range(20)])
    # A replay moves a failed event to the time it was replayed, where the next scan picks it up.
    store.mark_failed_replayed("acme", "f-3", "e-3", at(50))

    convs = scanned(store.scan_conversations(at(4), at(14), 3), 3)
    assert [c.conversation_id for c in convs] == [f"c-{i}" for i in range(5, 15)]
    acts = scanned(store.scan_activities(None, at(9), 4), 4)
    assert sorted(a.activity_id for a in acts) == sorted(f"a-{i}" for i in range(10))
    before = scanned(store.scan_failed_events(None, at(19), 6), 6)
    assert sorted(f.failed_id for f in before) == sorted(f"f-{i}" for i in range(20) if i != 3)
    after = scanned(store.scan_failed_events(at(19), at(60), 6), 6)
    assert [(f.failed_id, f.status) for f in after] == [("f-3", "replayed")]


# -- aggregator coordination ----------------------------------------------------------------------


def test_lease_is_exclusive_until_it_expires(store):
    assert store.acquire_lease("aggregate", "run-1", T0, 60)
    assert not store.acquire_lease("aggregate", "run-2", at(30), 60)
    assert store.acquire_lease("aggregate", "run-1", at(30), 60)  # re-entry extends it
    assert not store.acquire_lease("aggregate", "run-2", at(89), 60)
    assert store.acquire_lease("aggregate", "run-2", at(91), 60)  # run-1's lease ran out at 90 s
    assert not store.acquire_lease("aggregate", "run-1", at(92), 60)
    store.release_lease("aggregate", "run-1")  # not the owner: no effect
    assert not store.acquire_lease("aggregate", "run-3", at(93), 60)
    store.release_lease("aggregate", "run-2")
    assert store.acquire_lease("aggregate", "run-3", at(94), 60)
    assert store.acquire_lease("other-job", "run-1", at(94), 60)  # leases are per name


def test_concurrent_lease_takers_get_one_winner(store):
    winners: list[str] = []
    run_threads(
        [
            lambda o=owner: winners.append(o) if store.acquire_lease("aggregate", o, T0, 60) else None
            for owner in ("a", "b", "c", "d", "e")
        ]
    )
    assert len(winners) == 1


def test_watermarks_default_to_empty_and_round_trip(store):
    assert store.get_watermark("events") == Watermark("events", None, {})
    store.set_watermark(Watermark("events", at(5), {"runs": 1, "lag_s": 0.5, "days": ["2026-11-23"]}))
    store.set_watermark(Watermark("conversations", None, {}))
    store.set_watermark(Watermark("events", at(9), {"runs": 2}))
    assert store.get_watermark("events") == Watermark("events", at(9), {"runs": 2})
    assert store.get_watermark("conversations") == Watermark("conversations", None, {})


def test_shards_are_stable_and_cover_the_range():
    ids = [event(f"e-{i}").doc_id for i in range(400)]
    assert {shard_of(i) for i in ids} == set(range(INGEST_SHARDS))
    assert all(event(f"e-{i}").shard == shard_of(ids[i]) for i in range(400))
    assert event("e-1").doc_id != event("e-1", provider_id="globex").doc_id


def run_threads(targets: list[Callable[[], Any]]) -> None:
    """Start every target at once (a barrier) and re-raise the first failure."""
    barrier = threading.Barrier(len(targets))
    errors: list[BaseException] = []

    def run(target: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            target()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    stuck = [t for t in threads if t.is_alive()]
    assert not stuck, f"{len(stuck)} of {len(threads)} threads still running after 60 s: a deadlock?"
    if errors:
        raise errors[0]


# -- supervisor outputs: subscriptions, thresholds, the delivery outbox -----------------------------


def _audit(provider_id: str, audit_id: str, action: str) -> AuditEntry:
    return AuditEntry(audit_id, provider_id, at(5), "operator", action, "reportSubscriptions", None, {"x": 1})


def test_report_subscriptions_are_added_listed_and_removed_with_their_audit(store):
    store.create_provider(*provider("acme"))
    store.create_provider(*provider("globex"))
    ada = ReportSubscription("acme", "sub-1", "ada@example.com", None, at(1), "op")
    bob = ReportSubscription("acme", "sub-2", "bob@example.com", "exp-advent", at(2), "op")
    other = ReportSubscription("globex", "sub-1", "eve@example.com", None, at(3), "op")
    store.add_subscription(ada, _audit("acme", "au-1", "report.subscribed"))
    store.add_subscription(bob, _audit("acme", "au-2", "report.subscribed"))
    store.add_subscription(other, _audit("globex", "au-3", "report.subscribed"))
    with pytest.raises(AlreadyExists):
        store.add_subscription(
            replace(ada, email="x@example.com"), _audit("acme", "au-4", "report.subscribed")
        )
    assert store.list_subscriptions("acme") == [ada, bob]
    assert store.list_subscriptions(None) == [ada, bob, other]
    assert store.list_subscriptions("nobody") == []
    assert store.remove_subscription("acme", "sub-1", _audit("acme", "au-5", "report.unsubscribed")) == ada
    with pytest.raises(NotFound):
        store.remove_subscription("acme", "sub-1", _audit("acme", "au-6", "report.unsubscribed"))
    # A provider can never remove another's subscription, even with the same id.
    with pytest.raises(NotFound):
        store.remove_subscription("acme", "sub-9", _audit("acme", "au-7", "report.unsubscribed"))
    assert store.list_subscriptions("globex") == [other]
    actions = [a.action for a in store.list_audit("acme", 50).items]
    assert actions == ["provider.created", "report.subscribed", "report.subscribed", "report.unsubscribed"]


def test_alert_thresholds_round_trip_and_are_scoped_by_provider(store):
    store.create_provider(*provider("acme"))
    store.create_provider(*provider("globex"))
    rate = AlertThreshold("acme", "th-1", "abandon_rate", ">", 0.1, {"queue_id": "*"}, 20.0, at(1), "op")
    wait = AlertThreshold("acme", "th-2", "avg_speed_to_answer_s", ">=", 60, {}, None, at(2), "op")
    theirs = AlertThreshold("globex", "th-1", "nps", "<", -10, {"channel": "voice"}, None, at(3), "op")
    for i, t in enumerate((rate, wait, theirs)):
        store.add_threshold(t, _audit(t.provider_id, f"au-{i}", "alert.threshold_added"))
    with pytest.raises(AlreadyExists):
        store.add_threshold(rate, _audit("acme", "au-9", "alert.threshold_added"))
    assert store.list_thresholds("acme") == [rate, wait]
    assert store.list_thresholds(None) == [rate, wait, theirs]
    assert (
        store.remove_threshold("globex", "th-1", _audit("globex", "au-8", "alert.threshold_removed"))
        == theirs
    )
    with pytest.raises(NotFound):
        store.remove_threshold("globex", "th-2", _audit("globex", "au-10", "alert.threshold_removed"))
    assert store.list_thresholds("globex") == []
    assert store.list_thresholds("acme") == [rate, wait]


def test_deliveries_are_created_once_and_keep_their_status(store):
    first = Delivery("report", "acme", "d-1", at(1), {"email": "ada@example.com", "day": "2026-11-22"})
    second = Delivery("report", "acme", "d-2", at(2), {"email": "bob@example.com", "day": "2026-11-22"})
    alert = Delivery("alert", "acme", "d-1", at(3), {"kpi": "abandon_rate", "value": 0.25})
    assert store.add_deliveries([first, second, alert]) == [True, True, True]
    sent = replace(first, status="sent", attempts=1, last_attempt_at=at(4), message_id="m-1", sent_at=at(5))
    store.save_delivery(sent)
    # A re-run creates nothing and never resets what was sent.
    assert store.add_deliveries([first, second]) == [False, False]
    assert store.get_delivery("report", "acme", "d-1") == sent
    assert store.get_delivery("report", "globex", "d-1") is None
    assert store.due_deliveries("report", 10) == [second]
    failed_once = replace(second, status="failed", attempts=1, last_attempt_at=at(6), last_error="Throttling")
    store.save_delivery(failed_once)
    assert store.due_deliveries("report", 10) == [failed_once]
    assert store.due_deliveries("alert", 10) == [alert]
    assert store.due_deliveries("alert", 0) == []
    sending = replace(alert, status="sending", attempts=1, last_attempt_at=at(7))
    store.save_delivery(sending)
    assert store.due_deliveries("alert", 10) == [sending], "an attempt whose end is unknown is due again"


def test_orphan_summaries_are_replaced_whole_per_run(store):
    from shared.store.records import OrphanSummary

    example = {"conversationId": "c-9", "events": 3, "firstEventTimestamp": "2026-11-23T09:00:00.000000Z"}
    acme = OrphanSummary("acme", 3, 1, at(-60), at(-50), at(0), (example,))
    globex = OrphanSummary("globex", 1, 1, at(-10), at(-5), at(0))
    store.put_orphan_summaries([acme, globex])
    assert store.get_orphan_summary("acme") == acme
    assert store.get_orphan_summary("globex") == globex
    # The next run: acme's conversations arrived, globex has more waiting.
    later = replace(globex, events=4, computed_at=at(300))
    store.put_orphan_summaries([later])
    assert store.get_orphan_summary("acme") is None
    assert store.get_orphan_summary("globex") == later
    store.put_orphan_summaries([])
    assert store.get_orphan_summary("globex") is None


# -- analytics settings ---------------------------------------------------------------------------


def test_provider_settings_are_replaced_with_their_audit_and_listed(store):
    store.create_provider(*provider("acme"))
    store.create_provider(*provider("globex"))
    assert store.get_provider_settings("acme") is None and store.list_provider_settings() == []
    first = ProviderSettings("acme", at(1), chat_session_gap_s=600, relationship_weight_email=1.5)
    audit = AuditEntry(
        "au-s1", "acme", at(1), "operator", "provider.settings_changed", "settings", None, {"x": 1}
    )
    store.put_provider_settings(first, audit)
    store.put_provider_settings(first, audit)  # the same write, retried
    assert store.get_provider_settings("acme") == first
    # A replacement: what is not set again is back to the default (None).
    second = ProviderSettings("acme", at(2), relationship_window_days=30, relationship_contact_days=3)
    store.put_provider_settings(second, replace(audit, audit_id="au-s2", at=at(2)))
    theirs = ProviderSettings("globex", at(3), relationship_weight_meeting=0.5)
    store.put_provider_settings(theirs, replace(audit, audit_id="au-s3", provider_id="globex"))
    assert store.get_provider_settings("acme") == second
    assert store.list_provider_settings() == [second, theirs]
    actions = [a.action for a in store.list_audit("acme", 50).items]
    assert actions.count("provider.settings_changed") == 2
