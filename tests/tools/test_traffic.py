"""The traffic generator: deterministic, valid where it means to be, and its ground truth adds up."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from shared.ingest.activities import build_activity
from shared.ingest.events import Envelope, EventResolver, Rejection, build_event
from shared.schema.conversation import ConversationRequest
from shared.schema.registry import STANDARD_EVENTS
from tools.traffic import Traffic, generate_day, split_events

DAY = date(2026, 11, 22)
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


class _StandardOnly(EventResolver):
    """The standard registry alone: the demo provider registers no custom events."""

    def __init__(self) -> None:
        self._rejection = Rejection("unknown_event", "not registered", [])

    def __call__(self, name: str):
        return STANDARD_EVENTS.get(name) or self._rejection


@pytest.fixture(scope="module")
def traffic() -> Traffic:
    return generate_day(120, seed=11, day=DAY)


def _valid(body: dict, raw: dict) -> bool:
    envelope = Envelope(body["conversationId"], body["providerSessionId"], body.get("participantId"))
    return not isinstance(build_event("p", envelope, raw, _StandardOnly(), NOW), Rejection)


def _dump(traffic: Traffic) -> str:
    return json.dumps([(r.path, r.body, r.retry) for r in traffic.requests], sort_keys=True)


def test_the_same_seed_gives_the_same_day_and_another_seed_another() -> None:
    first, again = generate_day(40, seed=5, day=DAY), generate_day(40, seed=5, day=DAY)
    assert _dump(first) == _dump(again)
    assert first.truth == again.truth
    assert _dump(generate_day(40, seed=6, day=DAY)) != _dump(first)


def test_the_default_day_is_yesterday_relative_to_the_clock_given() -> None:
    assert generate_day(5, now=NOW).day == date(2026, 11, 22)
    assert generate_day(5, now=datetime(2027, 1, 1, 0, 5, tzinfo=UTC)).day == date(2026, 12, 31)


def test_every_request_matches_the_api_and_exactly_the_planned_events_are_rejected(traffic: Traffic) -> None:
    """Validated by the server's own models: what the generator calls valid is valid, and each
    deliberately broken event or activity fails with the code the ground truth expects."""
    rejected: Counter[str] = Counter()
    activity_rejects: Counter[str] = Counter()
    for request in traffic.requests:
        if request.kind == "conversation":
            ConversationRequest.model_validate(request.body)
        elif request.kind == "events":
            body = request.body
            envelope = Envelope(body["conversationId"], body["providerSessionId"], body.get("participantId"))
            for raw in body["events"]:
                built = build_event("p", envelope, raw, _StandardOnly(), NOW)
                if isinstance(built, Rejection):
                    rejected[built.code] += 1
        else:
            for raw in request.body["activities"]:
                built = build_activity("p", raw, NOW)
                if isinstance(built, Rejection):
                    activity_rejects[built.code] += 1
    assert rejected == traffic.truth.rejected
    assert activity_rejects == traffic.truth.activities_rejected
    assert set(rejected) == {
        "unknown_event",
        "invalid_event",
        "invalid_custom_data",
        "missing_response_action",
    }


def test_the_ground_truth_adds_up(traffic: Traffic) -> None:
    truth = traffic.truth
    assert truth.events_sent == sum(len(r.body["events"]) for r in traffic.requests if r.kind == "events")
    assert truth.events_sent == truth.accepted + truth.duplicates + sum(truth.rejected.values())
    # What the ledger replayed is what the generator planned: no two events share an id or content.
    assert truth.accepted == truth.planned_events
    # Every duplicate comes from a whole request sent again, and every resent valid event is one.
    resent_valid = sum(
        1
        for r in traffic.requests
        if r.kind == "events" and r.retry
        for e in r.body["events"]
        if _valid(r.body, e)
    )
    assert truth.duplicates == resent_valid
    assert truth.activities_sent == (
        truth.activities_created + truth.activities_updated + sum(truth.activities_rejected.values())
    )
    assert sum(truth.requests.values()) == len(traffic.requests)
    # The failed-events listing keeps each distinct rejected payload once, so a retry adds nothing.
    assert set(truth.failed_events) == set(truth.rejected) | set(truth.activities_rejected)
    assert sum(truth.failed_events.values()) <= sum(truth.rejected.values()) + sum(
        truth.activities_rejected.values()
    )


def test_the_day_misbehaves_on_purpose(traffic: Traffic) -> None:
    truth = traffic.truth
    assert truth.retried_requests > 0 and truth.duplicates > 0
    assert truth.out_of_order_events > 0
    assert truth.events_without_id > 0
    assert truth.activities_updated > 0  # the rescheduled meeting
    no_id_retries = [
        r
        for r in traffic.requests
        if r.kind == "events" and r.retry and all("eventId" not in e for e in r.body["events"])
    ]
    assert no_id_retries, "some retried batches carry no eventId: only derived ids can deduplicate them"


def test_the_day_has_the_shape_of_a_contact_center(traffic: Traffic) -> None:
    truth = traffic.truth
    contact_center = {k: v for k, v in truth.channels.items() if not k.startswith("chatbot")}
    assert sum(contact_center.values()) == 120
    assert set(contact_center) == {"voice/inbound", "chat/inbound", "voice/outbound"}
    assert truth.channels["chatbot/inbound"] > 0
    names = {
        e["kpiEventName"] for r in traffic.requests if r.kind == "events" for e in r.body["events"]
    } & set(STANDARD_EVENTS)
    expected = {
        "NotificationReceived", "NotificationResponse", "NotificationTimedOut", "SessionStarted",
        "SessionInFocus", "SessionOutOfFocus", "SessionClosed", "CallHold", "CallUnhold", "WrapUpStarted",
        "ConversationClosed", "MessageSent", "SurveyAnswered", "ChatStarted", "UserInteracted", "ModuleVisited",
    }  # fmt: skip
    assert expected <= names
    reasons = Counter(
        e.get("kpiEventReason") for r in traffic.requests if r.kind == "events" for e in r.body["events"]
    )
    for reason in ("Transferred", "Rejected", "TimedOut", "Abandoned", "Resolved", "Completed"):
        assert reasons[reason] > 0, reason
    consults = [
        p
        for r in traffic.requests
        if r.kind == "conversation"
        for s in r.body["conversation"].get("sessions", [])
        for p in s["participants"]
        if p["participantMode"] == "consult"
    ]
    assert consults
    customers = Counter(
        r.body["conversation"]["customerId"]
        for r in traffic.requests
        if r.kind == "conversation" and "closedTimestamp" in r.body["conversation"]
    )
    assert any(n > 1 for n in customers.values()), "some customers contact us more than once a day"


def test_busy_hours_carry_more_traffic_and_every_timestamp_is_in_the_past(traffic: Traffic) -> None:
    starts = [
        datetime.fromisoformat(r.body["conversation"]["conversationTimestamp"])
        for r in traffic.requests
        if r.kind == "conversation" and not r.retry
    ]
    hours = Counter(s.hour for s in starts)
    assert sum(hours[h] for h in range(9, 12)) > 3 * sum(hours[h] for h in range(0, 3))
    stamps = [
        datetime.fromisoformat(e["eventTimestamp"])
        for r in traffic.requests
        if r.kind == "events"
        for e in r.body["events"]
        if e["eventTimestamp"].endswith("Z")
    ]
    midnight = datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC)
    assert min(stamps) >= midnight
    assert max(stamps) < midnight + timedelta(days=1, hours=3)


def test_a_large_envelope_is_split_into_requests_of_at_most_500_events() -> None:
    body = {"conversationId": "c", "providerSessionId": "s", "events": [{"n": n} for n in range(1201)]}
    parts = list(split_events(body))
    assert [len(p["events"]) for p in parts] == [500, 500, 201]
    assert all(p["conversationId"] == "c" and p["providerSessionId"] == "s" for p in parts)
    assert [e for p in parts for e in p["events"]] == body["events"]


def test_size_must_be_positive() -> None:
    with pytest.raises(ValueError):
        generate_day(0)
