"""``POST /v1/conversations`` (``initLogAnalytics``): create, idempotent repeat, merge across calls,
and object-level authorization between providers."""

from __future__ import annotations

import pytest

from tests.http.support import assert_error, batch, conversation, custom, event, participant, session, ts


def test_create_then_repeat_is_idempotent(world, acme):
    body = conversation("conv-1", session=session("s-1", participant("agent-7")), customerId="cust-9")
    first = world.ingest.post("/v1/conversations", json=body, headers=acme)
    assert first.status_code == 201
    assert first.json == {"conversationId": "conv-1", "created": True, "sessions": 1}
    stored = world.store.get_conversation("acme", "conv-1")

    again = world.ingest.post("/v1/conversations", json=body, headers=acme)
    assert again.status_code == 200
    assert again.json == {"conversationId": "conv-1", "created": False, "sessions": 1}
    # Nothing changed, so nothing was rewritten (the aggregator has nothing to restate).
    assert world.store.get_conversation("acme", "conv-1") == stored
    assert stored.data["customerId"] == "cust-9"
    assert stored.data["conversationTimestamp"] == body["conversation"]["conversationTimestamp"]


def test_later_calls_merge_sessions_and_participants(world, acme):
    bot_leg = session("s-bot", participant("bot-1", "bot"), participant("cust-1", "customer"))
    world.ingest.post("/v1/conversations", json=conversation(session=bot_leg), headers=acme)

    # The agent leg arrives later, and the bot leg gains a consult participant.
    agent_leg = session(
        "s-agent", participant("agent-7"), sessionAgentAssignedTimestamp=ts(30), queueId="q-1"
    )
    bot_update = {
        "sessionId": "s-bot",
        "sessionCreatedTimestamp": ts(1),
        "participants": [participant("agent-2", "agent", "consult")],
    }
    resp = world.ingest.post(
        "/v1/conversations",
        json=conversation(sessions=[bot_update, agent_leg], closedTimestamp=ts(600), platform="mobile"),
        headers=acme,
    )
    assert resp.status_code == 200 and resp.json["sessions"] == 2

    data = world.store.get_conversation("acme", "conv-1").data
    sessions = {s["sessionId"]: s for s in data["sessions"]}
    assert set(sessions) == {"s-bot", "s-agent"}
    assert [p["participantId"] for p in sessions["s-bot"]["participants"]] == ["bot-1", "cust-1", "agent-2"]
    assert sessions["s-agent"]["queueId"] == "q-1"
    assert sessions["s-agent"]["participants"][0]["participantMode"] == "primary"
    assert (data["closedTimestamp"], data["platform"], data["channel"]) == (ts(600), "mobile", "chat")


def test_sent_fields_win_and_unsent_fields_are_kept(world, acme):
    world.ingest.post("/v1/conversations", json=conversation(customerId="c-1", regionData="EU"), headers=acme)
    world.ingest.post(
        "/v1/conversations", json=conversation(regionData="US", customData=custom(tier="gold")), headers=acme
    )
    data = world.store.get_conversation("acme", "conv-1").data
    assert (data["customerId"], data["regionData"]) == ("c-1", "US")
    assert data["customData"] == [{"attribute": "tier", "value": "gold"}]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"additionalData": "x" * 1001}, "conversation.additionalData"),
        ({"customerId": "x" * 101}, "conversation.customerId"),
        ({"closedTimestamp": ts(-10)}, "conversation"),
        ({"customData": custom(a=1) + custom(a=2)}, "conversation"),
        ({"session": session("a"), "sessions": [session("b")]}, "conversation"),
        ({"sessions": [session("a"), session("a")]}, "conversation"),
        ({"session": session("a", participant("p"), participant("p"))}, "conversation.session"),
        (
            {"session": {**session("a"), "participants": [{**participant("p"), "participantType": "robot"}]}},
            "conversation.session.participants.0.participantType",
        ),
        ({"conversationTimestamp": "2026-01-01T00:00:00"}, "conversation.conversationTimestamp"),
        ({"conversationTimestamp": "1999-12-31T23:59:59Z"}, "conversation.conversationTimestamp"),
        ({"conversationTimestamp": "1767225600"}, "conversation.conversationTimestamp"),
    ],
)
def test_invalid_conversations_are_422_with_the_field(world, acme, fields, field):
    resp = world.ingest.post("/v1/conversations", json=conversation(**fields), headers=acme)
    err = assert_error(resp, 422, "validation_failed")
    assert field in {d["field"] for d in err["details"]}, err["details"]
    assert world.store.get_conversation("acme", "conv-1") is None


def test_cif_limits_hold_at_the_boundary(world, acme):
    body = conversation("c" * 100, additionalData="x" * 1000, channel="y" * 100)
    assert world.ingest.post("/v1/conversations", json=body, headers=acme).status_code == 201


def test_provider_b_can_never_touch_provider_a_objects(world, acme):
    """Same ids under another key address that provider's own objects, never A's."""
    a_conv = conversation(
        "shared-id", customerId="a-customer", session=session("s-1", participant("a-agent"))
    )
    assert world.ingest.post("/v1/conversations", json=a_conv, headers=acme).status_code == 201
    a_event = event("SessionStarted", eventId="shared-event", kpiEventReason="A's")
    a_resp = world.ingest.post(
        "/v1/events", json=batch(a_event, conversation_id="shared-id", session_id="s-1"), headers=acme
    )
    assert a_resp.json["accepted"] == 1
    a_conv_before = world.store.get_conversation("acme", "shared-id")
    a_event_before = world.store.get_event("acme", "shared-event")

    _, b = world.provider("bravo")
    b_conv = conversation(
        "shared-id",
        customerId="b-customer",
        direction="outbound",
        session=session("s-1", participant("b-agent")),
    )
    b_resp = world.ingest.post("/v1/conversations", json=b_conv, headers=b)
    assert (b_resp.status_code, b_resp.json["created"]) == (201, True)  # B's own object, not an update of A's
    b_event = event("SessionClosed", eventId="shared-event", kpiEventReason="Completed")
    b_events = world.ingest.post(
        "/v1/events", json=batch(b_event, conversation_id="shared-id", session_id="s-1"), headers=b
    )
    assert b_events.json["results"][0]["status"] == "accepted"  # not a duplicate of A's event

    assert world.store.get_conversation("acme", "shared-id") == a_conv_before
    assert world.store.get_event("acme", "shared-event") == a_event_before
    assert world.store.get_conversation("bravo", "shared-id").data["customerId"] == "b-customer"
    assert world.store.get_event("bravo", "shared-event").name == "SessionClosed"
    assert world.store.get_event("acme", "shared-event").name == "SessionStarted"

    # A's custom events and failed events are invisible to B.
    world.providers.put("/v1/providers/acme/event-definitions/AcmeOnly", json={}, headers=world.admin)
    b_custom = world.ingest.post("/v1/events", json=batch(event("AcmeOnly")), headers=b)
    assert b_custom.json["results"][0]["error"]["code"] == "unknown_event"
    b_names = {d["name"] for d in world.ingest.get("/v1/event-definitions", headers=b).json["items"]}
    assert "AcmeOnly" not in b_names
    assert world.failed("acme") == []
    assert [f["payload"]["kpiEventName"] for f in world.failed("bravo")] == ["AcmeOnly"]
    # B's key opens nothing on the operator function, A's objects included.
    assert_error(world.providers.get("/v1/providers/acme/failed-events", headers=b), 403, "admin_only")
