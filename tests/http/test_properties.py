"""Property: retries, duplicate batches, re-batching and any arrival order never change what is
stored. Whatever way a provider delivers a set of events, the store holds each unique event exactly
once, the per-request counts add up, and every rejected event is kept exactly once."""

from __future__ import annotations

import threading
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.ingest.canonical import canonical_json
from tests.http.support import conversation, custom, event, participant, session, stored_events
from tests.support.functions import function_client

NAMES_WITHOUT_DATA = ["SessionStarted", "CallHold", "CallUnhold", "ChatStarted", "WrapUpStarted"]

valid_event = st.one_of(
    st.builds(
        lambda name, offset, reason: event(name, offset, **({"kpiEventReason": reason} if reason else {})),
        st.sampled_from(NAMES_WITHOUT_DATA),
        st.integers(0, 50),
        st.sampled_from([None, "Completed", "Transferred"]),
    ),
    st.builds(
        lambda offset, sender: event("MessageSent", offset, customData=custom(sender=sender)),
        st.integers(0, 50),
        st.sampled_from(["agent", "bot", "customer"]),
    ),
    st.builds(
        lambda offset, csat: event("SurveyAnswered", offset, customData=custom(csat=csat)),
        st.integers(0, 50),
        st.integers(1, 5),
    ),
)
invalid_event = st.builds(lambda offset: event("NotRegistered", offset), st.integers(0, 50))


@st.composite
def deliveries(draw: st.DrawFn) -> dict[str, Any]:
    """A set of events for a few conversations, and a messy way of delivering them."""
    conversations = draw(st.integers(1, 3))
    events: list[tuple[int, dict[str, Any]]] = []  # (conversation index, event)
    serial = 0
    for c in range(conversations):
        for _ in range(draw(st.integers(1, 6))):
            e = draw(st.one_of(valid_event, valid_event, invalid_event))
            if draw(st.booleans()):
                serial += 1
                e = {**e, "eventId": f"evt-{c}-{serial}"}
            events.append((c, e))
    # First delivery: each conversation's events in random chunks.
    sends: list[tuple[str, Any]] = []
    for c in range(conversations):
        mine = [e for ci, e in events if ci == c]
        mine = draw(st.permutations(mine))
        while mine:
            size = draw(st.integers(1, len(mine)))
            sends.append(("events", (c, mine[:size])))
            mine = mine[size:]
    # Retries: whole batches again, and re-batched subsets (a client that lost the 200s).
    for _ in range(draw(st.integers(0, 4))):
        sends.append(draw(st.sampled_from(sends)))
    for _ in range(draw(st.integers(0, 3))):
        c = draw(st.integers(0, conversations - 1))
        mine = [e for ci, e in events if ci == c]
        sends.append(("events", (c, draw(st.lists(st.sampled_from(mine), min_size=1, max_size=len(mine))))))
    # Conversations arrive anywhere, before or after their events, sometimes twice.
    for c in range(conversations):
        sends.append(("conversation", c))
        if draw(st.booleans()):
            sends.append(("conversation", c))
    return {"conversations": conversations, "events": events, "sends": draw(st.permutations(sends))}


def _identity(c: int, e: dict[str, Any]) -> str:
    """What makes two sent events the same event: its eventId, else its envelope and content."""
    return f"id:{e['eventId']}" if "eventId" in e else f"content:{c}:{canonical_json(e)}"


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=deliveries())
def test_retries_and_reordering_never_change_what_is_stored(world, plan):
    provider_id, key = world.provider()  # a fresh provider per example: one store, no cross-talk
    valid = {_identity(c, e): (c, e) for c, e in plan["events"] if e["kpiEventName"] != "NotRegistered"}
    invalid = {_identity(c, e): (c, e) for c, e in plan["events"] if e["kpiEventName"] == "NotRegistered"}

    accepted = duplicates = rejected = sent = 0
    ids: dict[str, set[str]] = {}
    for kind, what in plan["sends"]:
        if kind == "conversation":
            body = conversation(f"conv-{what}", session=session(f"sess-{what}", participant("agent-1")))
            resp = world.ingest.post("/v1/conversations", json=body, headers=key)
            assert resp.status_code in (200, 201)
            continue
        c, batch_events = what
        body = {"conversationId": f"conv-{c}", "providerSessionId": f"sess-{c}", "events": batch_events}
        resp = world.ingest.post("/v1/events", json=body, headers=key)
        assert resp.status_code == 200
        result = resp.json
        accepted += result["accepted"]
        duplicates += result["duplicates"]
        rejected += result["rejected"]
        sent += len(batch_events)
        assert result["accepted"] + result["duplicates"] + result["rejected"] == len(batch_events)
        for e, r in zip(batch_events, result["results"], strict=True):
            if r["status"] != "rejected":
                ids.setdefault(_identity(c, e), set()).add(r["eventId"])

    # Each unique event got one id, whatever the batch, the retry or the order.
    assert set(ids) == set(valid)
    assert all(len(v) == 1 for v in ids.values())
    expected_ids = {identity: next(iter(v)) for identity, v in ids.items()}
    assert len(set(expected_ids.values())) == len(valid)
    # The counts add up: accepted once per unique event, the rest duplicates or rejected.
    assert accepted == len(valid)
    assert accepted + duplicates + rejected == sent

    # Read back through the store port: exactly the unique events, each once, as sent.
    stored = stored_events(world.store, provider_id)
    assert sorted(e.event_id for e in stored) == sorted(expected_ids.values())
    by_id = {e.event_id: e for e in stored}
    for identity, (c, e) in valid.items():
        got = by_id[expected_ids[identity]]
        assert (got.name, got.conversation_id, got.provider_session_id) == (
            e["kpiEventName"],
            f"conv-{c}",
            f"sess-{c}",
        )
        assert got.event_ts.isoformat().replace("+00:00", "Z") == e["eventTimestamp"]
        assert got.reason == e.get("kpiEventReason")
        assert world.store.get_event(provider_id, got.event_id) == got  # the two read paths agree
    for c in range(plan["conversations"]):
        assert world.store.get_conversation(provider_id, f"conv-{c}") is not None

    # Every rejected event is kept once, whatever the number of times it was sent.
    failed = world.failed(provider_id)
    assert sorted((f["envelope"]["conversationId"], canonical_json(f["payload"])) for f in failed) == sorted(
        (f"conv-{c}", canonical_json(e)) for c, e in invalid.values()
    )


def test_concurrent_retries_store_each_event_once(world, env):
    """The same batches sent at the same time by several workers (a client's parallel retries)."""
    provider_id, key = world.provider()
    batches = [
        {
            "conversationId": f"conv-{b}",
            "providerSessionId": "sess-1",
            "events": [event("ChatStarted", offset_s=i) for i in range(10)]
            + [
                event("MessageSent", offset_s=i, eventId=f"m-{b}-{i}", customData=custom(sender="bot"))
                for i in range(5)
            ],
        }
        for b in range(4)
    ]
    start = threading.Barrier(8)
    results: list[dict[str, Any]] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        client = function_client("ingest")  # one client per thread, like separate instances
        start.wait()
        for body in batches[n % 4 :] + batches[: n % 4]:
            resp = client.post("/v1/events", json=body, headers=key)
            assert resp.status_code == 200, resp.get_data(as_text=True)
            with lock:
                results.append(resp.json)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    errors: list[BaseException] = []
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
        if t.is_alive():
            errors.append(TimeoutError(t.name))
    assert not errors and len(results) == 8 * 4
    assert sum(r["accepted"] for r in results) == 4 * 15
    assert sum(r["duplicates"] for r in results) == 7 * 4 * 15
    assert len(stored_events(world.store, provider_id)) == 4 * 15
