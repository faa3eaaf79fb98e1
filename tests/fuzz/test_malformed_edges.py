"""The deterministic half of the malformed-input suite: every field of every body route with every
wrong JSON type, every timestamp edge case in every timestamp field, the documented limits at and
past their boundary, and the inputs the random campaigns found to crash the server, pinned.

Same invariants as the campaigns (``test_malformed_bodies``): no 5xx, the exact error code where the
contract fixes it, every item rejected in a 200 kept in the failed-events store with its reason and
raw payload.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.store import store_for
from tests.fuzz.bodies import (
    ACCEPTS,
    ACTIVITY,
    CONVERSATION,
    CUSTOM_ITEM,
    ENVELOPE,
    EVENT,
    FIXED_TIMESTAMPS,
    KEY_ROTATE,
    PARTICIPANT,
    PARTY,
    PROVIDER_CREATE,
    PROVIDER_PATCH,
    RECENT,
    REPLAY,
    SESSION,
    F,
)
from tests.fuzz.harness import (
    Campaign,
    World,
    check_batch,
    contract_problems,
    error_code,
    strict_json,
)

MAX_BODY = 1024 * 1024
TS = f"{RECENT}T12:00:00Z"
JSON = {"Content-Type": "application/json"}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **JSON}


def event(**extra: Any) -> dict[str, Any]:
    return {
        "eventId": "e1",
        "kpiEventName": "ChatStarted",
        "eventTimestamp": TS,
        "kpiEventReason": "r",
        "additionalData": "d",
        "customData": [{"attribute": "a", "value": "v"}],
        **extra,
    }


def conversation() -> dict[str, Any]:
    participant = {
        "participantId": "p1",
        "participantType": "agent",
        "participantMode": "primary",
        "participantAddedTimestamp": TS,
        "participantName": "Ann",
    }
    session = {
        "sessionId": "s1",
        "sessionCreatedTimestamp": TS,
        "sessionQueueAssignedTimestamp": TS,
        "sessionAgentAssignedTimestamp": TS,
        "queueId": "q1",
        "queueName": "Queue",
        "sessionChannel": "chat",
        "participants": [participant],
    }
    return {
        "conversationId": "c1",
        "channel": "chat",
        "direction": "inbound",
        "conversationTimestamp": TS,
        "accountId": "acc",
        "contactId": "con",
        "customerId": "cus",
        "experienceId": "exp",
        "platform": "mobile",
        "regionData": "eu",
        "additionalData": "d",
        "customData": [{"attribute": "a", "value": 1}],
        "closedTimestamp": TS,
        "sessions": [session],
    }


def activity() -> dict[str, Any]:
    return {
        "activityId": "a1",
        "activityType": "meeting",
        "regardingType": "account",
        "regardingId": "r1",
        "accountId": "acc",
        "status": "completed",
        "startTimestamp": TS,
        "endTimestamp": TS,
        "inReplyToActivityId": "a0",
        "parties": [{"partyId": "p1", "side": "us", "role": "from", "name": "Ann"}],
    }


def wrong_values(spec: F) -> list[Any]:
    """Every JSON type the field never takes, plus a wrong value of the right type where one exists."""
    kinds = {"null": None, "bool": True, "number": 7, "string": "text", "list": ["x"], "object": {"k": 1}}
    accepted = ACCEPTS[spec.kind] | ({"null"} if spec.takes_null else set())
    values = [v for k, v in kinds.items() if k not in accepted]
    values += {
        "enum": ["NotAChoice"],
        "ts": [f"{RECENT}T12:00:00"],
        "bool": [0, "true"],
        "int": [0, 501, 5.0],
        "id": ["", "x" * (spec.limit + 1), "a\nb"],
        "str": ["", "x" * (spec.limit + 1)],
        "name": ["Not a name", "UnknownEvent"],
    }.get(spec.kind, [])
    if spec.empty_unsent:  # an optional field of a CIF object: "" means not sent
        values = [v for v in values if v != ""]
    return values


def field_cases(fields: dict[str, F]) -> list[tuple[str, Any]]:
    return [(name, value) for name, spec in fields.items() for value in wrong_values(spec)]


def checked(campaign: Campaign, response: Any, repro: str, expected: tuple[int, str | None]) -> Any:
    status = response.status_code
    payload = response.get_data()
    campaign.case(status)
    problems = contract_problems(status, response.headers.get, payload)
    got = (status, error_code(payload) if status >= 300 else None)
    if got != expected:
        problems.append(f"{got[0]} {got[1]} where {expected[0]} {expected[1]} was due")
    if problems:
        campaign.fail("; ".join(problems), repro)
        return None
    return strict_json(payload) if status < 300 else None


def post(client: Any, path: str, body: Any, token: str, method: str = "POST") -> Any:
    return client.open(path, method=method, data=json.dumps(body), headers=auth(token))


def show(method: str, path: str, body: Any) -> str:
    text = json.dumps(body)
    return f"{method} {path} {text if len(text) < 500 else text[:500] + '...'}"


# -- every field, every wrong type ------------------------------------------------------------------


def test_every_event_field_refuses_every_wrong_type(world: World) -> None:
    """Event-level fields: the event is rejected in a 200 and kept; envelope fields: 422."""
    campaign = Campaign("fields /v1/events")
    cases: list[tuple[str, dict[str, Any], bool]] = []
    for name, value in field_cases(EVENT):
        cases.append((f"events[0].{name}", {"events": [event(**{name: value})]}, True))
    for name, value in field_cases(CUSTOM_ITEM):
        item = {"attribute": "a", "value": "v", name: value}
        cases.append((f"events[0].customData[0].{name}", {"events": [event(customData=[item])]}, True))
    for name, value in field_cases(ENVELOPE):
        cases.append((name, {name: value, "events": [event()]}, False))
    for value in [*wrong_values(F("list", True)), []]:
        cases.append(("events", {"events": value}, False))
    for where, patch, per_event in cases:
        provider_id, key = world.new_provider()
        body = {"conversationId": "c1", "providerSessionId": "s1", **patch}
        repro = f"{where}: " + show("POST", "/v1/events", body)
        response = post(world.ingest, "/v1/events", body, key)
        if per_event:
            answer = checked(campaign, response, repro, (200, None))
            if answer is not None:
                check_batch(campaign, world, provider_id, "event", body, answer, repro, {0: True})
        else:
            checked(campaign, response, repro, (422, "invalid_envelope"))
    campaign.finish()


def test_every_conversation_field_refuses_every_wrong_type(world: World) -> None:
    campaign = Campaign("fields /v1/conversations")
    _, key = world.new_provider()
    targets: list[tuple[str, dict[str, F], Any]] = [
        ("conversation", CONVERSATION, lambda c: c),
        ("conversation.sessions[0]", SESSION, lambda c: c["sessions"][0]),
        (
            "conversation.sessions[0].participants[0]",
            PARTICIPANT,
            lambda c: c["sessions"][0]["participants"][0],
        ),
        ("conversation.customData[0]", CUSTOM_ITEM, lambda c: c["customData"][0]),
    ]
    for where, fields, locate in targets:
        for name, value in field_cases(fields):
            body = {"conversation": conversation()}
            locate(body["conversation"])[name] = value
            repro = f"{where}.{name}: " + show("POST", "/v1/conversations", body)
            checked(
                campaign,
                post(world.ingest, "/v1/conversations", body, key),
                repro,
                (422, "validation_failed"),
            )
    for value in [None, "c1", 1, ["x"], True]:
        body = {"conversation": value}
        checked(
            campaign,
            post(world.ingest, "/v1/conversations", body, key),
            show("POST", "-", body),
            (422, "validation_failed"),
        )
    campaign.finish()


def test_every_activity_field_refuses_every_wrong_type(world: World) -> None:
    campaign = Campaign("fields /v1/activities")
    cases: list[tuple[str, Any]] = []
    for name, value in field_cases(ACTIVITY):
        cases.append((f"activities[0].{name}", {**activity(), name: value}))
    for name, value in field_cases(PARTY):
        a = activity()
        a["parties"][0][name] = value
        cases.append((f"activities[0].parties[0].{name}", a))
    for where, item in cases:
        provider_id, key = world.new_provider()
        body = {"activities": [item]}
        repro = f"{where}: " + show("POST", "/v1/activities", body)
        answer = checked(campaign, post(world.ingest, "/v1/activities", body, key), repro, (200, None))
        if answer is not None:
            check_batch(campaign, world, provider_id, "activity", body, answer, repro, {0: True})
    _, key = world.new_provider()
    for value in [*wrong_values(F("list", True)), []]:
        body = {"activities": value}
        checked(
            campaign,
            post(world.ingest, "/v1/activities", body, key),
            show("POST", "-", body),
            (422, "invalid_envelope"),
        )
    campaign.finish()


OPERATOR_FIELDS: list[tuple[str, str, dict[str, Any], dict[str, F]]] = [
    ("POST", "/v1/providers", {"providerId": "newcomer", "name": "N"}, PROVIDER_CREATE),
    ("PATCH", "/v1/providers/ops1", {"enableAnalytics": True}, PROVIDER_PATCH),
    ("POST", "/v1/providers/ops1/keys", {}, KEY_ROTATE),
    ("POST", "/v1/providers/ops1/failed-events/replay", {}, REPLAY),
    (
        "PUT",
        "/v1/providers/ops1/event-definitions/Custom",
        {},
        {
            "version": F("str", nullable=False),
            "active": F("bool", nullable=False),
            "description": F("text", limit=500, nullable=False),
        },
    ),
]
MASS_ASSIGNMENT = {
    "isAdmin": True,
    "providerId": "other",
    "apiKey": "cak_0123456789abcdef_chosen-by-the-caller",
    "keyId": "0123456789abcdef",
    "createdAt": "2001-01-01T00:00:00Z",
    "enableAnalytics": True,
    "name": "renamed",
}


def test_every_operator_field_refuses_every_wrong_type_and_unknown_fields(world: World) -> None:
    """Wrong types -> 422 validation_failed; any field a route does not take -> 422 (no mass
    assignment), and the provider is left as it was."""
    campaign = Campaign("fields operator routes")
    world.new_provider(provider_id="ops1", analytics=False)
    token = world.admin["Authorization"].removeprefix("Bearer ")
    before = world.providers.get("/v1/providers/ops1", headers=world.admin).json
    for method, path, base, fields in OPERATOR_FIELDS:
        for name, value in field_cases(fields):
            if fields is PROVIDER_CREATE and name == "providerId" and value == "text":
                value = "Not A Valid Id"
            body = {**base, name: value}
            repro = f"{name}: " + show(method, path, body)
            checked(
                campaign, post(world.providers, path, body, token, method), repro, (422, "validation_failed")
            )
        for name, value in MASS_ASSIGNMENT.items():
            if name in fields:
                continue  # ("name" on the PUT: the path names the event; a body may not rename it)
            body = {**base, name: value}
            repro = f"unknown {name}: " + show(method, path, body)
            checked(
                campaign, post(world.providers, path, body, token, method), repro, (422, "validation_failed")
            )
    after = world.providers.get("/v1/providers/ops1", headers=world.admin).json
    assert after == before, "a refused operator request changed the provider"
    campaign.finish()


# -- timestamps -------------------------------------------------------------------------------------

REFUSED_TIMESTAMPS = [text for text, verdict in FIXED_TIMESTAMPS if verdict is True]


@pytest.mark.parametrize("timestamp", REFUSED_TIMESTAMPS)
def test_timestamps_far_off_or_without_a_zone_are_refused_everywhere(world: World, timestamp: str) -> None:
    """In every timestamp field: before 2000, more than a day ahead, not representable in UTC,
    without a zone, or not ISO 8601 -> refused (422 / the item rejected and kept), never a 500."""
    campaign = Campaign(f"timestamp {timestamp!r}")
    provider_id, key = world.new_provider()
    body = {"conversationId": "c1", "providerSessionId": "s1", "events": [event(eventTimestamp=timestamp)]}
    answer = checked(
        campaign, post(world.ingest, "/v1/events", body, key), show("POST", "/v1/events", body), (200, None)
    )
    if answer is not None:
        check_batch(
            campaign, world, provider_id, "event", body, answer, show("POST", "/v1/events", body), {0: True}
        )
    for field, locate in [
        ("conversationTimestamp", lambda c: c),
        ("sessionCreatedTimestamp", lambda c: c["sessions"][0]),
        ("sessionAgentAssignedTimestamp", lambda c: c["sessions"][0]),
        ("participantAddedTimestamp", lambda c: c["sessions"][0]["participants"][0]),
    ]:
        if timestamp == "" and field == "sessionAgentAssignedTimestamp":
            continue  # an optional field of a CIF object: "" means not sent
        conv = conversation()
        conv.pop("closedTimestamp")
        locate(conv)[field] = timestamp
        body = {"conversation": conv}
        repro = f"{field}: " + show("POST", "/v1/conversations", body)
        checked(
            campaign, post(world.ingest, "/v1/conversations", body, key), repro, (422, "validation_failed")
        )
    for field in ("startTimestamp", "endTimestamp"):
        provider_id, key = world.new_provider()  # check_batch reads this provider's failed events
        item = activity()
        item.pop("endTimestamp")
        item[field] = timestamp
        body = {"activities": [item]}
        repro = f"{field}: " + show("POST", "/v1/activities", body)
        answer = checked(campaign, post(world.ingest, "/v1/activities", body, key), repro, (200, None))
        if answer is not None:
            check_batch(campaign, world, provider_id, "activity", body, answer, repro, {0: True})
    campaign.finish()


# -- limits -----------------------------------------------------------------------------------------


def test_batch_and_item_limits(world: World) -> None:
    """<= 500 events (and activities) per request, <= 32 KiB per event, <= 1 MiB per body."""
    provider_id, key = world.new_provider()
    events = [event(eventId=f"e{i}") for i in range(500)]
    body = {"conversationId": "c1", "providerSessionId": "s1", "events": events}
    answer = post(world.ingest, "/v1/events", body, key)
    assert answer.status_code == 200 and answer.json["accepted"] == 500, answer.get_data(as_text=True)[:300]

    body["events"] = [*events, event(eventId="e500")]
    refused = post(world.ingest, "/v1/events", body, key)
    assert (refused.status_code, error_code(refused.get_data())) == (413, "too_many_events")

    activities = [{**activity(), "activityId": f"a{i}"} for i in range(501)]
    refused = post(world.ingest, "/v1/activities", {"activities": activities}, key)
    assert (refused.status_code, error_code(refused.get_data())) == (413, "too_many_activities")

    big = event(eventId="big", customData=[{"attribute": f"pad{i}", "value": "x" * 1000} for i in range(34)])
    body = {"conversationId": "c1", "providerSessionId": "s1", "events": [big, event(eventId="small")]}
    answer = post(world.ingest, "/v1/events", body, key)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    results = answer.json["results"]
    assert results[0]["status"] == "rejected" and results[0]["error"]["code"] == "event_too_large"
    assert results[1]["status"] == "accepted"
    kept = world.failed_events(provider_id)
    assert [f["code"] for f in kept] == ["event_too_large"] and kept[0]["payload"] == big

    for path in ("/v1/events", "/v1/conversations", "/v1/activities"):
        raw = b'{"pad": "' + b"x" * MAX_BODY + b'"}'
        refused = world.ingest.post(path, data=raw, headers=auth(key))
        assert (refused.status_code, error_code(refused.get_data())) == (413, "body_too_large"), path


# -- pinned: inputs the campaigns found to crash the server -----------------------------------------


def ingest_raw(world: World, key: str, path: str, text: str) -> Any:
    return world.ingest.post(path, data=text.encode(), headers=auth(key))


def assert_refused_or_rejected_and_kept(
    world: World, provider_id: str, kind: str, body_text: str, response: Any
) -> None:
    """A 4xx JSON error with a specific code, or a 200 whose item is rejected and kept."""
    problems = contract_problems(response.status_code, response.headers.get, response.get_data())
    assert not problems, f"{problems}: {body_text[:300]} -> {response.get_data(as_text=True)[:300]}"
    if response.status_code == 200:
        campaign = Campaign(f"pinned {kind}")
        campaign.case(200)
        body = json.loads(body_text)
        check_batch(campaign, world, provider_id, kind, body, response.json, body_text, {0: True})
        campaign.finish()
    else:
        assert 400 <= response.status_code < 500


LONE_SURROGATES = [
    ("event", '"additionalData": "\\ud800"'),
    ("event", '"kpiEventReason": "x\\udfff"'),
    ("event", '"eventId": "\\ud83d"'),
    ("event", '"customData": [{"attribute": "a", "value": "\\udc00"}]'),
    ("event", '"kpiEventName": "\\ud800"'),
    ("activity", '"activityId": "\\ud800"'),
    ("activity", '"regardingId": "\\udbff"'),
]


@pytest.mark.parametrize(("kind", "member"), LONE_SURROGATES)
def test_lone_surrogates_escaped_in_an_item_are_not_a_500(world: World, kind: str, member: str) -> None:
    """``\\ud800`` is valid JSON syntax but not a Unicode scalar value: refuse it (400/422) or
    reject the item and keep it — never a 500 (the failed-event store must still hold the payload)."""
    provider_id, key = world.new_provider()
    if kind == "event":
        inner = '{"kpiEventName": "ChatStarted", "eventTimestamp": "' + TS + '", ' + member + "}"
        inner = inner.replace('"kpiEventName": "ChatStarted", ', "") if "kpiEventName" in member else inner
        text = '{"conversationId": "c1", "providerSessionId": "s1", "events": [' + inner + "]}"
        path = "/v1/events"
    else:
        base = dict(activity())
        parts = json.dumps(base)[1:-1].split(", ")
        key_name = member.split(":")[0]
        parts = [p for p in parts if not p.startswith(key_name)]
        text = '{"activities": [{' + ", ".join([*parts, member]) + "}]}"
        path = "/v1/activities"
    response = ingest_raw(world, key, path, text)
    assert_refused_or_rejected_and_kept(world, provider_id, kind, text, response)


@pytest.mark.parametrize(
    "timestamp",
    [
        "9999-12-31T23:59:59.999999-23:59",
        "9999-12-31T23:00:00-01:00",
        "0001-01-01T00:00:00+23:59",
        "0001-01-01T00:30:00+01:00",
    ],
)
def test_timestamps_that_overflow_in_utc_are_not_a_500(world: World, timestamp: str) -> None:
    provider_id, key = world.new_provider()
    text = json.dumps(
        {
            "conversationId": "c1",
            "providerSessionId": "s1",
            "events": [{"kpiEventName": "ChatStarted", "eventTimestamp": timestamp}],
        }
    )
    assert_refused_or_rejected_and_kept(
        world, provider_id, "event", text, ingest_raw(world, key, "/v1/events", text)
    )
    conv = {
        "conversationId": "c1",
        "channel": "chat",
        "direction": "inbound",
        "conversationTimestamp": timestamp,
    }
    response = post(world.ingest, "/v1/conversations", {"conversation": conv}, key)
    assert (response.status_code, error_code(response.get_data())) == (422, "validation_failed"), (
        response.get_data(as_text=True)[:300]
    )


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1E+999"])
def test_numbers_beyond_a_double_are_not_taken_as_infinity(world: World, number: str) -> None:
    """Python reads ``1e400`` as ``inf``: the contract refuses NaN/Infinity, so such a number must
    not be accepted into the store (where it is not JSON) nor listed back as ``null``."""
    provider_id, key = world.new_provider()
    for name in ("ChatStarted", "UnregisteredEvent"):
        text = (
            '{"conversationId": "c1", "providerSessionId": "s1", "events": [{"kpiEventName": "'
            + name
            + '", "eventTimestamp": "'
            + TS
            + '", "customData": [{"attribute": "x", "value": '
            + number
            + "}]}]}"
        )
        response = ingest_raw(world, key, "/v1/events", text)
        assert response.status_code < 500, response.get_data(as_text=True)
        if response.status_code == 200:
            result = response.json["results"][0]
            assert result["status"] == "rejected", f"{text} was {result['status']}: an infinite value got in"
            kept = world.failed_events(provider_id)
            assert kept and all(f["payload"]["customData"][0]["value"] is not None for f in kept), (
                f"the raw payload of {text} was kept as null"
            )
        else:
            assert error_code(response.get_data()) not in (None, "internal_error")


ODD_PATHS = [
    ("ingest", "POST", "/v1/events%0A"),
    ("ingest", "POST", "/v1/events/%0A"),
    ("ingest", "POST", "/v1//events"),
    ("ingest", "POST", "/v1/events//"),
    ("ingest", "GET", "/v1//event-definitions"),
    ("providers", "GET", "/v1/providers/a%0Ab"),
    ("providers", "POST", "/v1/providers/a%0A/keys"),
    ("providers", "GET", "/v1/providers//ops1"),
    ("providers", "POST", "/v1/providers/ops1//keys"),
    ("providers", "PUT", "/v1/providers/ops1/event-definitions/A%0A"),
]


@pytest.mark.parametrize(("function", "method", "path"), ODD_PATHS)
def test_odd_paths_get_a_json_404(world: World, function: str, method: str, path: str) -> None:
    """Newlines (``%0A``) and empty segments (``//``) in a path: a JSON 404 with the security
    headers, like any unknown route — not Flask's HTML page, not a 500."""
    _, key = world.new_provider(provider_id="ops1")
    client = world.ingest if function == "ingest" else world.providers
    token = key if function == "ingest" else world.admin["Authorization"].removeprefix("Bearer ")
    response = client.open(path, method=method, data="{}", headers=auth(token))
    problems = contract_problems(response.status_code, response.headers.get, response.get_data())
    assert response.status_code == 404 and not problems, (
        f"{method} {path} -> {response.status_code} {response.headers.get('Content-Type')}: {problems} "
        f"{response.get_data(as_text=True)[:200]!r}"
    )


def test_a_lone_surrogate_in_a_conversation_id_is_refused(world: World) -> None:
    """An id that is no Unicode text is refused (for the body or the field) and never stored."""
    provider_id, key = world.new_provider()
    conv = '{"conversationId": "\\ud800", "channel": "chat", "direction": "inbound", '
    text = '{"conversation": ' + conv + '"conversationTimestamp": "' + TS + '"}}'
    response = ingest_raw(world, key, "/v1/conversations", text)
    got = (response.status_code, error_code(response.get_data()))
    assert got in {(400, "invalid_utf8"), (422, "validation_failed")}, got
    stored = store_for(world.store_url).scan_conversations(None, datetime.now(UTC), 100)
    assert not [c for page in stored for c in page if c.provider_id == provider_id]


def test_field_tables_cover_every_documented_field() -> None:
    """The tables above are the documented models: a field added to a wire model must be fuzzed."""
    from shared.schema.activity import Activity, ActivityParty
    from shared.schema.conversation import Conversation, Participant, Session
    from shared.schema.events import EventEnvelope, KpiEvent
    from shared.schema.fields import CustomDataItem
    from shared.schema.provider import KeyRotate, ProviderCreate, ProviderPatch, ReplayRequest

    pairs = [
        (KpiEvent, EVENT),
        (CustomDataItem, CUSTOM_ITEM),
        (Conversation, CONVERSATION),
        (Session, SESSION),
        (Participant, PARTICIPANT),
        (Activity, ACTIVITY),
        (ActivityParty, PARTY),
        (ProviderCreate, PROVIDER_CREATE),
        (ProviderPatch, PROVIDER_PATCH),
        (KeyRotate, KEY_ROTATE),
        (ReplayRequest, REPLAY),
    ]
    for model, table in pairs:
        assert set(model.model_fields) == set(table), model.__name__
    assert set(EventEnvelope.model_fields) == {*ENVELOPE, "events"}
