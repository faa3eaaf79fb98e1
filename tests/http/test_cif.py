"""CIF compatibility over HTTP: a provider already integrated with the Channel Integration Framework
sends its documented initLogAnalytics and logAnalyticsEvent payloads unchanged.

Every field of the current reference is accepted within CIF's limits and stored; ids CIF repeats
inside nested objects must agree with their parent; undocumented fields are still refused; the earlier
revision's names are refused with the current name; the body never says whose data it is; CIF's
correlationId travels as ``X-Correlation-Id``.
"""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator

from shared.ingest.canonical import canonical_json, text_id
from shared.ingest.events import Envelope, derive_event_id
from shared.openapi.schemas import schema_documents
from shared.openapi.spec import openapi_document
from shared.schema.conversation import Conversation, Participant, Session
from shared.schema.events import EventBatch, KpiEvent
from tests.http.support import NOW, assert_error
from tests.support.cif import (
    CIF_PROVIDER_ID,
    CONVERSATION_FIELDS,
    ENVELOPE_FIELDS,
    EVENT_FIELDS,
    PARTICIPANT_FIELDS,
    REQUIRED,
    SESSION_FIELDS,
    cif_event,
    handled_call_events,
    init_log_analytics,
    log_analytics_event,
)

START = NOW - timedelta(hours=2)


def _init(conversation_id: str = "cif-1") -> dict[str, Any]:
    return init_log_analytics(conversation_id, START)


def _events(conversation_id: str = "cif-1", provider_session_id: str = "cif-1-s1") -> dict[str, Any]:
    return log_analytics_event(
        conversation_id,
        provider_session_id,
        f"{conversation_id}-desk",
        "agent-7",
        handled_call_events(START, 20),
    )


def _post(world, headers, body, path="/v1/conversations", **kw):
    return world.ingest.post(path, json=body, headers={**headers, **kw.pop("extra_headers", {})}, **kw)


def _fields(error: dict[str, Any]) -> dict[str, str]:
    return {d["field"]: d["code"] for d in error["details"]}


# -- the published field lists ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "cif_fields", "ours"),
    [
        (
            Conversation,
            CONVERSATION_FIELDS,
            {"direction", "customerId", "experienceId", "platform", "closedTimestamp", "sessions"},
        ),
        (Session, SESSION_FIELDS, set()),
        (Participant, PARTICIPANT_FIELDS, set()),
        (EventBatch, ENVELOPE_FIELDS, set()),
        (KpiEvent, EVENT_FIELDS, {"eventId"}),
    ],
)
def test_every_reference_field_is_a_field_of_the_api_and_nothing_else_is_added(model, cif_fields, ours):
    assert set(model.model_fields) == set(cif_fields) | ours
    # The OpenAPI document shows each of them.
    schemas = openapi_document("ingest")["components"]["schemas"]
    assert set(schemas[model.__name__]["properties"]) == set(model.model_fields)


def test_the_test_payloads_carry_every_reference_field():
    conversation = _init()["conversation"]
    assert tuple(conversation) == CONVERSATION_FIELDS
    assert tuple(conversation["session"]) == SESSION_FIELDS
    assert all(tuple(p) == PARTICIPANT_FIELDS for p in conversation["session"]["participants"])
    events = _events()
    assert tuple(events) == ENVELOPE_FIELDS
    assert all(tuple(e) == EVENT_FIELDS for e in events["events"])


# -- initLogAnalytics -------------------------------------------------------------------------------


def test_the_documented_init_log_analytics_payload_is_accepted_and_kept_whole(world, acme):
    body = _init()
    resp = _post(world, acme, body)
    assert resp.status_code == 201, resp.json
    assert resp.json == {"conversationId": "cif-1", "created": True, "sessions": 1}

    sent = copy.deepcopy(body["conversation"])
    session = sent.pop("session")
    del session["conversationId"]  # repeated parent ids are checked, then stored once
    for person in session["participants"]:
        del person["sessionId"], person["conversationId"]
    stored = world.store.get_conversation("acme", "cif-1").data
    assert stored == {**sent, "direction": "inbound", "sessions": [session]}

    again = _post(world, acme, body)
    assert (again.status_code, again.json["created"]) == (200, False)


def test_direction_is_inbound_unless_sent_and_an_update_without_it_keeps_it(world, acme):
    _post(world, acme, _init("in-1"))
    assert world.store.get_conversation("acme", "in-1").data["direction"] == "inbound"

    outbound = _init("out-1")
    outbound["conversation"]["direction"] = "outbound"
    assert _post(world, acme, outbound).status_code == 201
    later = {
        "conversation": {
            k: outbound["conversation"][k] for k in ("conversationId", "channel", "conversationTimestamp")
        }
    }
    later["conversation"]["closedTimestamp"] = (START + timedelta(minutes=9)).isoformat()
    assert _post(world, acme, later).status_code == 200
    data = world.store.get_conversation("acme", "out-1").data
    assert data["direction"] == "outbound" and data["closedTimestamp"]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("session", "conversationId"),
        ("participant", "sessionId"),
        ("participant", "conversationId"),
    ],
)
def test_a_repeated_id_must_agree_with_its_parent(world, acme, path, field):
    body = _init()
    target = body["conversation"]["session"]
    name = "conversation.session"
    if path == "participant":
        target, name = target["participants"][1], "conversation.session.participants.1"
    target[field] = "someone-else"
    error = assert_error(_post(world, acme, body), 422, "validation_failed")
    assert _fields(error) == {f"{name}.{field}": "parent_mismatch"}
    assert "someone-else" in error["details"][0]["message"]
    assert world.store.get_conversation("acme", "cif-1") is None


def test_repeated_ids_are_optional(world, acme):
    body = _init()
    session = body["conversation"]["session"]
    del session["conversationId"]
    for person in session["participants"]:
        del person["sessionId"], person["conversationId"]
    assert _post(world, acme, body).status_code == 201


# (object, field, CIF limit): msdyn_conversationdata / msdyn_sessiondata / msdyn_kpieventdata MaxLength;
# the participant entity has no published limits: 100, CIF's length for every other string.
LIMITS = [
    *(("conversation", f, 100) for f in CONVERSATION_FIELDS if f not in ("regionData", "additionalData")),
    ("conversation", "regionData", 1000),
    ("conversation", "additionalData", 1000),
    *(("session", f, 100) for f in SESSION_FIELDS),
    *(("participant", f, 100) for f in PARTICIPANT_FIELDS),
]
LIMITS = [
    (kind, field, limit)
    for kind, field, limit in LIMITS
    if not field.endswith("Timestamp")
    and field not in ("customData", "session", "participants", "participantMode", "participantType")
    and not (kind != "conversation" and field in ("conversationId", "sessionId"))  # repeated parent ids
]


@pytest.mark.parametrize(("kind", "field", "limit"), LIMITS)
def test_cif_string_limits(world, acme, kind, field, limit):
    def body(value: str) -> dict[str, Any]:
        b = _init()
        target = {"conversation": b["conversation"], "session": b["conversation"]["session"]}.get(kind)
        if kind == "participant":
            target = b["conversation"]["session"]["participants"][0]
        if (kind, field) == ("conversation", "conversationId"):
            b["conversation"]["session"]["conversationId"] = value
            for p in b["conversation"]["session"]["participants"]:
                p["conversationId"] = value
        if (kind, field) == ("session", "sessionId"):
            for p in b["conversation"]["session"]["participants"]:
                p["sessionId"] = value
        target[field] = value
        return b

    assert _post(world, acme, body("y" * limit)).status_code in (200, 201)
    error = assert_error(_post(world, acme, body("y" * (limit + 1))), 422, "validation_failed")
    where = {"conversation": "conversation", "session": "conversation.session"}.get(
        kind, "conversation.session.participants.0"
    )
    assert f"{where}.{field}" in _fields(error)


@pytest.mark.parametrize(
    ("where", "key"),
    [
        ("conversation", "initialQueueName"),  # CIF's analytics source has it; the reference does not
        ("conversation", "isAdmin"),
        ("session", "ownerId"),
        ("participant", "role"),
    ],
)
def test_fields_the_reference_does_not_document_are_still_refused(world, acme, where, key):
    body = _init()
    target = {"conversation": body["conversation"], "session": body["conversation"]["session"]}.get(
        where, body["conversation"]["session"]["participants"][0]
    )
    target[key] = "x"
    error = assert_error(_post(world, acme, body), 422, "validation_failed")
    path = {"conversation": "conversation", "session": "conversation.session"}.get(
        where, "conversation.session.participants.0"
    )
    assert _fields(error) == {f"{path}.{key}": "extra_forbidden"}


def test_the_earlier_revision_is_refused_with_the_current_names(world, acme):
    """The payload of the earlier initLogAnalytics reference (late 2019), as such integrations send it."""
    at = START.isoformat()
    earlier = {
        "conversation": {
            "conversationId": "old-1",
            "channel": "voice",
            "regionData": {
                "addressLine1": "1 Main St",
                "city": "Seattle",
                "state": "WA",
                "country": "US",
                "zip": "98101",
            },
            "providerId": CIF_PROVIDER_ID,
            "providerName": "Contoso Voice",
            "accountId": "account-42",
            "contactId": "contact-9",
            "additionalData": "campaign=spring",
            "externalCorrelationId": "pbx-call-old-1",
            "createdTimestamp": at,
            "customData": [{"attribute": "name", "value": "value"}],
            "session": {
                "providerSessionId": "old-1-s1",
                "clientSessionId": "desk-1",
                "clientSessionName": "Caller",
                "channel": "voice",
                "creationReason": "IncomingCall",
                "additionalData": "x",
                "externalCorrelationId": "leg-1",
                "createdTimestamp": at,
                "agentAssignedTimestamp": at,
                "queueAssignedTimestamp": at,
                "queueId": "billing",
                "queueName": "Billing",
                "customData": [{"attribute": "name", "value": "value"}],
                "participants": [
                    {
                        "participantId": "agent-7",
                        "externalId": "ext-7",
                        "name": "Agent Seven",
                        "mode": "primary",
                        "type": "agent",
                        "addedTimestamp": at,
                        "assignReason": "Routed",
                        "customData": [{"attribute": "name", "value": "value"}],
                    }
                ],
            },
        }
    }
    error = assert_error(_post(world, acme, earlier), 422, "validation_failed")
    details = {d["field"]: d for d in error["details"]}
    renamed = {
        "conversation.createdTimestamp": "conversationTimestamp",
        "conversation.session.providerSessionId": "sessionId",
        "conversation.session.channel": "sessionChannel",
        "conversation.session.creationReason": "sessionCreationReason",
        "conversation.session.additionalData": "sessionAdditionalData",
        "conversation.session.createdTimestamp": "sessionCreatedTimestamp",
        "conversation.session.agentAssignedTimestamp": "sessionAgentAssignedTimestamp",
        "conversation.session.queueAssignedTimestamp": "sessionQueueAssignedTimestamp",
        "conversation.session.participants.0.externalId": "externalParticipantId",
        "conversation.session.participants.0.name": "participantName",
        "conversation.session.participants.0.mode": "participantMode",
        "conversation.session.participants.0.type": "participantType",
        "conversation.session.participants.0.addedTimestamp": "participantAddedTimestamp",
        "conversation.session.participants.0.assignReason": "participantAssignReason",
    }
    for field, current in renamed.items():
        assert details[field]["code"] == "cif_field_renamed", field
        assert repr(current) in details[field]["message"]
    region = details["conversation.regionData"]
    assert region["code"] == "cif_field_changed" and "string" in region["message"]
    assert not any(d["code"] == "extra_forbidden" for d in error["details"])
    assert world.store.get_conversation("acme", "old-1") is None


def test_empty_optional_strings_count_as_not_sent(world, acme):
    """CIF's own field list shows "" for every value; integrations send it for what they do not fill."""
    body = _init()
    conversation = body["conversation"]
    for key in (
        "backendConversationId",
        "channelContext",
        "externalAccountId",
        "regionData",
        "additionalData",
    ):
        conversation[key] = ""
    conversation["session"]["sessionAgentAssignedTimestamp"] = ""
    conversation["session"]["conversationId"] = ""
    conversation["session"]["participants"][0]["participantName"] = ""
    assert _post(world, acme, body).status_code == 201
    data = world.store.get_conversation("acme", "cif-1").data
    assert not {
        "backendConversationId",
        "channelContext",
        "externalAccountId",
        "regionData",
        "additionalData",
    } & set(data)
    assert "sessionAgentAssignedTimestamp" not in data["sessions"][0]
    assert "participantName" not in data["sessions"][0]["participants"][0]
    # A required field still needs a value.
    conversation["channel"] = ""
    assert "conversation.channel" in _fields(assert_error(_post(world, acme, body), 422, "validation_failed"))


def test_the_body_never_says_whose_data_it_is(world, acme):
    globex_id, globex = world.provider("globex")
    body = _init()
    body["conversation"]["providerId"] = globex_id  # names another provider of this deployment
    body["conversation"]["providerName"] = "Globex"
    assert _post(world, acme, body).status_code == 201
    assert world.store.get_conversation(globex_id, "cif-1") is None
    stored = world.store.get_conversation("acme", "cif-1")
    assert (stored.provider_id, stored.data["providerId"], stored.data["providerName"]) == (
        "acme",
        globex_id,
        "Globex",
    )

    # Globex's own conversation of the same id is a different object, and its own.
    assert _post(world, globex, _init()).status_code == 201
    assert world.store.get_conversation("acme", "cif-1").data["providerId"] == globex_id
    assert world.store.get_conversation(globex_id, "cif-1").data["providerId"] == CIF_PROVIDER_ID
    # A body that names acme, sent with globex's key, writes globex's events.
    answer = _post(world, globex, _events(), path="/v1/events").json
    assert answer["accepted"] == 6
    event_id = answer["results"][0]["eventId"]
    assert world.store.get_event(globex_id, event_id) is not None
    assert world.store.get_event("acme", event_id) is None


# -- logAnalyticsEvent ------------------------------------------------------------------------------


def test_the_documented_log_analytics_event_payload_is_accepted_and_kept(world, acme):
    body = _events(provider_session_id=CIF_PROVIDER_ID)
    answer = _post(world, acme, body, path="/v1/events").json
    assert (answer["accepted"], answer["rejected"]) == (6, 0), answer
    stored = [world.store.get_event("acme", r["eventId"]) for r in answer["results"]]
    for sent, event in zip(body["events"], stored, strict=True):
        assert (event.provider_session_id, event.client_session_id, event.participant_id) == (
            CIF_PROVIDER_ID,
            "cif-1-desk",
            "agent-7",
        )
        assert (event.name, event.reason, event.additional_data, event.external_correlation_id) == (
            sent["kpiEventName"],
            sent["kpiEventReason"],
            sent["additionalData"],
            sent["externalCorrelationId"],
        )
        # CIF's event carries notificationResponseAction whatever its name: kept as sent.
        assert event.response_action == "Accept"
    again = _post(world, acme, body, path="/v1/events").json
    assert (again["accepted"], again["duplicates"]) == (0, 6)


def test_envelope_and_event_fields_keep_their_limits_and_refuse_the_undocumented(world, acme):
    body = _events()
    body["clientSessionId"] = "x" * 101
    error = assert_error(_post(world, acme, body, path="/v1/events"), 422, "invalid_envelope")
    assert _fields(error) == {"clientSessionId": "string_too_long"}
    body = _events()
    body["sessionId"] = "cif-1-s1"  # CIF's analytics source names it so; the reference does not
    assert _fields(assert_error(_post(world, acme, body, path="/v1/events"), 422, "invalid_envelope")) == {
        "sessionId": "extra_forbidden"
    }
    events = [
        {**cif_event("SessionStarted", START), "externalCorrelationId": "x" * 101},
        {**cif_event("SessionStarted", START), "additionalData": "x" * 2001},
        {**cif_event("SessionStarted", START), "tabId": "t-1"},
        {
            **cif_event("SessionStarted", START),
            "externalCorrelationId": "x" * 100,
            "additionalData": "x" * 2000,
        },
    ]
    answer = _post(
        world, acme, log_analytics_event("cif-1", "cif-1-s1", "desk", "agent-7", events), path="/v1/events"
    ).json
    assert [r["status"] for r in answer["results"]] == ["rejected", "rejected", "rejected", "accepted"]
    assert [r["error"]["details"][0]["field"] for r in answer["results"][:3]] == [
        "externalCorrelationId",
        "additionalData",
        "tabId",
    ]


def test_a_replayed_cif_event_keeps_its_client_session_and_its_id(world, acme):
    """A rejected event is kept with its envelope: once the cause is fixed, the replay stores what a
    direct send would have stored, under the same derived id (a later retry is a duplicate)."""
    body = log_analytics_event(
        "cif-1", CIF_PROVIDER_ID, "cif-1-desk", "agent-7", [cif_event("CallbackScheduled", START)]
    )
    answer = _post(world, acme, body, path="/v1/events").json
    assert answer["results"][0]["error"]["code"] == "unknown_event"
    world.providers.put(
        "/v1/providers/acme/event-definitions/CallbackScheduled", json={}, headers=world.admin
    )
    replay = world.providers.post("/v1/providers/acme/failed-events/replay", headers=world.admin).json
    [result] = replay["results"]
    event = world.store.get_event("acme", result["eventId"])
    assert (event.client_session_id, event.provider_session_id, event.external_correlation_id) == (
        "cif-1-desk",
        CIF_PROVIDER_ID,
        body["events"][0]["externalCorrelationId"],
    )
    retry = _post(world, acme, body, path="/v1/events").json
    assert (retry["duplicates"], retry["results"][0]["eventId"]) == (1, result["eventId"])


def test_derived_event_ids_of_batches_without_client_session_id_are_unchanged():
    """Retries of payloads sent before clientSessionId was accepted must stay duplicates: the derived
    id of such a batch is the hash it always was (value pinned from the earlier release)."""
    raw = {
        "kpiEventName": "SessionClosed",
        "kpiEventReason": "Completed",
        "eventTimestamp": "2026-11-23T09:12:00Z",
    }
    envelope = Envelope("c-1", "s-1", "agent-7")
    earlier = text_id(
        "auto-",
        canonical_json(
            {"kind": "event", "conversationId": "c-1", "providerSessionId": "s-1", "participantId": "agent-7"}
        ),
        canonical_json(raw),
    )
    assert derive_event_id(envelope, raw) == earlier == "auto-cfaa6fa2e5bd3be0c6fc8b6cec7ebef9"
    # The clientSessionId is part of what identifies an event: another desk session, another event.
    desk_1 = derive_event_id(Envelope("c-1", "s-1", "agent-7", "desk-1"), raw)
    desk_2 = derive_event_id(Envelope("c-1", "s-1", "agent-7", "desk-2"), raw)
    assert len({earlier, desk_1, desk_2}) == 3


def test_standard_event_schemas_add_the_cif_fields_in_a_new_version():
    docs = schema_documents()
    event = {
        "kpiEventName": "SessionClosed",
        "eventTimestamp": "2026-11-23T09:12:00Z",
        "externalCorrelationId": "pbx-1",
        "notificationResponseAction": "Accept",
    }
    body = {
        k: v
        for k, v in docs["io.channelanalytics/SessionClosed/jsonschema/1-0-1.json"].items()
        if k not in ("$schema", "self")
    }
    assert not list(Draft4Validator(body).iter_errors(event))
    older = {
        k: v
        for k, v in docs["io.channelanalytics/SessionClosed/jsonschema/1-0-0.json"].items()
        if k not in ("$schema", "self")
    }
    assert {e.validator for e in Draft4Validator(older).iter_errors(event)} == {"additionalProperties"}


# -- correlationId ----------------------------------------------------------------------------------

GUID = "9d2f8b3e-4c1a-4e5b-8f7d-2a6c1b0e9f34"


def _log_lines(capsys) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def test_the_correlation_id_is_echoed_and_logged_on_every_answer(world, acme, capsys):
    headers = {"X-Correlation-Id": GUID}
    created = _post(world, acme, _init(), extra_headers=headers)
    events = _post(world, acme, _events(), path="/v1/events", extra_headers=headers)
    invalid = _post(world, acme, {"conversation": {}}, extra_headers=headers)
    unknown = world.ingest.get("/v1/nothing", headers={**acme, **headers})
    anonymous = world.ingest.post("/v1/events", json=_events(), headers=headers)
    answers = [created, events, invalid, unknown, anonymous]
    assert [a.status_code for a in answers] == [201, 200, 422, 404, 401]
    assert all(a.headers["X-Correlation-Id"] == GUID for a in answers)

    lines = _log_lines(capsys)
    assert [(line["path"], line["status"]) for line in lines] == [
        ("/v1/conversations", 201),
        ("/v1/events", 200),
        ("/v1/conversations", 422),
        ("/v1/nothing", 404),
        ("/v1/events", 401),
    ]
    assert all(line["correlationId"] == GUID and line["function"] == "ingest" for line in lines)
    assert [line.get("providerId") for line in lines] == ["acme", "acme", "acme", None, None]
    assert [line["severity"] for line in lines] == ["INFO", "INFO", "WARNING", "WARNING", "WARNING"]
    assert lines[2]["errorCode"] == "validation_failed" and lines[4]["errorCode"] == "missing_credentials"

    # A call without one is neither echoed nor logged.
    plain = _post(world, acme, _init("cif-2"))
    assert "X-Correlation-Id" not in plain.headers and _log_lines(capsys) == []


@pytest.mark.parametrize("value", ["", "has space", "x" * 129, 'quote"d', "ünïcode"])
def test_a_malformed_correlation_id_is_refused_once_the_caller_is_known(world, acme, capsys, value):
    headers = {"X-Correlation-Id": value.encode().decode("latin-1")}
    error = assert_error(_post(world, acme, _init(), extra_headers=headers), 400, "invalid_correlation_id")
    assert "X-Correlation-Id" in error["message"]
    assert world.store.get_conversation("acme", "cif-1") is None
    # Credentials come first: without them the answer is 401, as for any other request.
    assert_error(
        world.ingest.post("/v1/conversations", json=_init(), headers=headers), 401, "missing_credentials"
    )
    assert _log_lines(capsys) == []


def test_the_operator_functions_take_the_correlation_id_too(world, admin, capsys):
    resp = world.providers.get("/v1/providers/acme", headers={**admin, "X-Correlation-Id": GUID})
    assert resp.headers["X-Correlation-Id"] == GUID
    [line] = _log_lines(capsys)
    assert (line["function"], line["correlationId"], line["actor"]) == ("providers", GUID, "operator")


# -- properties -------------------------------------------------------------------------------------


def _optional(level: str, fields: tuple[str, ...]) -> list[str]:
    return [f for f in fields if f not in REQUIRED[level] and f not in ("session", "participants", "events")]


@st.composite
def cif_subsets(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """The documented payloads with any subset of their optional fields left out, at every level."""
    init = _init()
    conversation = init["conversation"]
    for key in draw(st.sets(st.sampled_from(_optional("conversation", CONVERSATION_FIELDS)))):
        del conversation[key]
    session = conversation["session"]
    for key in draw(st.sets(st.sampled_from(_optional("session", SESSION_FIELDS)))):
        del session[key]
    for person in session["participants"]:
        for key in draw(st.sets(st.sampled_from(_optional("participant", PARTICIPANT_FIELDS)))):
            del person[key]
    if draw(st.booleans()):
        del session["participants"]
    events = _events()
    for key in draw(st.sets(st.sampled_from(_optional("envelope", ENVELOPE_FIELDS)))):
        del events[key]
    for event in events["events"]:
        for key in draw(st.sets(st.sampled_from(_optional("event", EVENT_FIELDS)))):
            # (the registry's rules: NotificationResponse needs its action, SurveyAnswered an answer)
            needed = {"NotificationResponse": "notificationResponseAction", "SurveyAnswered": "customData"}
            if needed.get(event["kpiEventName"]) != key:
                del event[key]
    return init, events


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(bodies=cif_subsets())
def test_any_subset_of_the_optional_cif_fields_is_accepted_and_stored_as_sent(world, bodies):
    init, events = bodies
    provider_id, key = world.provider()
    resp = _post(world, key, init)
    assert resp.status_code == 201, resp.json
    data = world.store.get_conversation(provider_id, "cif-1").data
    sent = init["conversation"]
    assert {k for k in data if k not in ("direction", "sessions")} == set(sent) - {"session"}
    stored_session = data["sessions"][0]
    assert set(stored_session) - {"participants"} == set(sent["session"]) - {"participants", "conversationId"}
    for person, kept in zip(
        sent["session"].get("participants", []), stored_session["participants"], strict=True
    ):
        assert set(kept) == set(person) - {"sessionId", "conversationId"}

    answer = _post(world, key, events, path="/v1/events").json
    assert (answer["accepted"], answer["rejected"]) == (len(events["events"]), 0), answer
    for sent_event, result in zip(events["events"], answer["results"], strict=True):
        event = world.store.get_event(provider_id, result["eventId"])
        assert event.client_session_id == events.get("clientSessionId")
        assert event.external_correlation_id == sent_event.get("externalCorrelationId")
