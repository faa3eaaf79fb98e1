"""``POST /v1/events`` (``logAnalyticsEvent``): per-event results, exactly-once ids, out-of-order
arrival, the standard event rules, and the failed-events store with replay."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from tests.http.support import assert_error, batch, conversation, custom, event, stored_events, ts


def _post(world, headers, *events, **env):
    resp = world.ingest.post("/v1/events", json=batch(*events, **env), headers=headers)
    assert resp.status_code == 200, resp.json
    return resp.json


def _statuses(body):
    return [(r["status"], r["error"]["code"] if r["error"] else None) for r in body["results"]]


def test_per_event_results_and_counts(world, acme):
    body = _post(
        world,
        acme,
        event("SessionStarted", eventId="e-1"),
        event("NoSuchEvent", eventId="e-2"),
        event("SessionClosed", kpiEventReason="Completed"),
        "not an object",
        event("SessionStarted", eventId="e-1"),
    )
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (2, 1, 2)
    assert [r["index"] for r in body["results"]] == [0, 1, 2, 3, 4]
    assert _statuses(body) == [
        ("accepted", None),
        ("rejected", "unknown_event"),
        ("accepted", None),
        ("rejected", "invalid_event"),
        ("duplicate", None),
    ]
    ids = [r["eventId"] for r in body["results"]]
    assert ids[0] == ids[4] == "e-1" and ids[1] == "e-2" and ids[3] is None
    assert ids[2].startswith("auto-")
    rejected = body["results"][1]["error"]
    assert rejected["message"] and rejected["details"][0]["field"] == "kpiEventName"

    stored = world.store.get_event("acme", "e-1")
    assert (stored.name, stored.conversation_id, stored.provider_session_id) == (
        "SessionStarted",
        "conv-1",
        "sess-1",
    )
    assert stored.schema == "iglu:io.channelanalytics/SessionStarted/jsonschema/1-0-1"
    assert world.store.get_event("acme", ids[2]).reason == "Completed"


def test_derived_ids_are_deterministic_across_requests(world, acme):
    a = event("MessageSent", offset_s=5, customData=custom(sender="customer"))
    b = event("MessageSent", offset_s=6, customData=custom(sender="agent"))
    first = _post(world, acme, a, b)
    # The same content, keys in another order, in another request: the same ids, counted once.
    reordered = {k: a[k] for k in reversed(list(a))}
    second = _post(world, acme, b, reordered)
    assert (second["accepted"], second["duplicates"]) == (0, 2)
    assert [r["eventId"] for r in second["results"]] == [
        first["results"][1]["eventId"],
        first["results"][0]["eventId"],
    ]
    # Different content or a different envelope gives a different id.
    other_session = _post(world, acme, a, session_id="sess-2")
    other_time = _post(world, acme, event("MessageSent", offset_s=7, customData=custom(sender="customer")))
    ids = {
        first["results"][0]["eventId"],
        other_session["results"][0]["eventId"],
        other_time["results"][0]["eventId"],
    }
    assert len(ids) == 3
    assert len(stored_events(world.store, "acme")) == 4


def test_duplicates_within_and_across_requests(world, acme):
    e = event("CallHold", eventId="hold-1")
    body = _post(world, acme, e, e, e)
    assert _statuses(body) == [("accepted", None), ("duplicate", None), ("duplicate", None)]
    # eventId is the key: the first write wins; the same id with other content is a conflict, kept.
    body = _post(world, acme, {**e, "eventTimestamp": ts(99)})
    assert _statuses(body) == [("rejected", "event_id_conflict")]
    assert world.store.get_event("acme", "hold-1").event_ts == datetime.fromisoformat(
        e["eventTimestamp"].replace("Z", "+00:00")
    )
    assert [ev.event_id for ev in stored_events(world.store, "acme")] == ["hold-1"]


def test_a_reused_event_id_with_other_content_is_rejected_and_kept_never_dropped(world, acme):
    """A provider numbering events per conversation (1, 2, 3 ...) reuses ids across conversations."""
    first = _post(world, acme, event("CallHold", eventId="1"), event("CallUnhold", eventId="2"))
    assert (first["accepted"], first["rejected"]) == (2, 0)
    second = _post(
        world,
        acme,
        event("CallHold", eventId="1"),
        event("CallUnhold", eventId="2"),
        conversation_id="conv-2",
    )
    assert (second["accepted"], second["duplicates"], second["rejected"]) == (0, 0, 2)
    assert _statuses(second) == [("rejected", "event_id_conflict")] * 2
    detail = second["results"][0]["error"]["details"][0]
    assert detail["storedDigest"] != detail["receivedDigest"]
    assert world.store.get_event("acme", "1").digest == detail["storedDigest"]

    kept = world.failed("acme", "open")
    assert {f["code"] for f in kept} == {"event_id_conflict"} and len(kept) == 2
    assert {f["envelope"]["conversationId"] for f in kept} == {"conv-2"}
    assert {f["payload"]["eventId"] for f in kept} == {"1", "2"}
    # Retrying the conflicting request keeps each conflict once; retrying the first is a duplicate.
    _post(
        world,
        acme,
        event("CallHold", eventId="1"),
        event("CallUnhold", eventId="2"),
        conversation_id="conv-2",
    )
    assert len(world.failed("acme")) == 2
    retry = _post(world, acme, event("CallHold", eventId="1"), event("CallUnhold", eventId="2"))
    assert (retry["accepted"], retry["duplicates"], retry["rejected"]) == (0, 2, 0)
    # Replay cannot resolve it: the stored event keeps its id, the conflict stays open and visible.
    replay = world.providers.post(
        "/v1/providers/acme/failed-events/replay", json={"limit": 10}, headers=world.admin
    ).json
    assert {r["status"] for r in replay["results"]} == {"rejected"}
    assert len(world.failed("acme", "open")) == 2


def test_the_same_content_in_another_spelling_is_still_a_duplicate(world, acme):
    """Same canonical content: the instant, not its spelling; customData pairs in any order."""
    sent = event(
        "CallHold", eventId="h", eventTimestamp="2026-01-01T10:00:00Z", customData=custom(a=1, b="x")
    )
    assert _post(world, acme, sent)["accepted"] == 1
    again = {**sent, "eventTimestamp": "2026-01-01T11:00:00+01:00", "customData": custom(b="x", a=1)}
    assert _statuses(_post(world, acme, again)) == [("duplicate", None)]


def test_an_event_stored_before_digests_existed_is_compared_by_its_content(world, acme):
    e = event("CallHold", eventId="old")
    _post(world, acme, e)
    with sqlite3.connect(world.store._path) as db:  # as a store written by the previous version
        db.execute("UPDATE events SET digest = NULL")
    assert _statuses(_post(world, acme, e)) == [("duplicate", None)]
    assert _statuses(_post(world, acme, {**e, "kpiEventReason": "other"})) == [
        ("rejected", "event_id_conflict")
    ]


def test_events_before_their_conversation_are_kept(world, acme):
    early = _post(world, acme, event("SessionStarted", eventId="early"), conversation_id="late-conv")
    assert early["accepted"] == 1
    assert world.store.get_conversation("acme", "late-conv") is None
    assert world.store.get_event("acme", "early").conversation_id == "late-conv"
    assert (
        world.ingest.post("/v1/conversations", json=conversation("late-conv"), headers=acme).status_code
        == 201
    )
    assert world.store.get_event("acme", "early") is not None
    assert world.failed("acme") == []


def test_participant_and_additional_data_are_stored(world, acme):
    _post(
        world,
        acme,
        event(
            "MessageSent",
            eventId="m-1",
            additionalData="x" * 2000,
            customData=custom(sender="bot", lang="de"),
        ),
        participantId="agent-7",
    )
    stored = world.store.get_event("acme", "m-1")
    assert stored.participant_id == "agent-7" and stored.additional_data == "x" * 2000
    assert stored.custom_data == {"sender": "bot", "lang": "de"}


@pytest.mark.parametrize(
    ("evt", "code", "field"),
    [
        (event(eventTimestamp="2026-01-01T00:00:00"), "invalid_event", "eventTimestamp"),
        (event(eventTimestamp="2026-01-01"), "invalid_event", "eventTimestamp"),
        (event(eventTimestamp="1767225600"), "invalid_event", "eventTimestamp"),
        (event(eventTimestamp=1767225600), "invalid_event", "eventTimestamp"),
        (event(eventTimestamp="1999-12-31T23:59:59Z"), "invalid_event", "eventTimestamp"),
        (event(eventTimestamp="0001-01-01T00:00:00+01:00"), "invalid_event", "eventTimestamp"),
        (event(eventTimestamp="9999-12-31T23:59:59-01:00"), "invalid_event", "eventTimestamp"),
        (
            event(eventTimestamp=(datetime.now(UTC) + timedelta(hours=25)).isoformat()),
            "invalid_event",
            "eventTimestamp",
        ),
        (event(additionalData="x" * 2001), "invalid_event", "additionalData"),
        (event(kpiEventReason="x" * 101), "invalid_event", "kpiEventReason"),
        (event(externalCorrelationId="x" * 101), "invalid_event", "externalCorrelationId"),
        (event(eventTimestamp=""), "invalid_event", "eventTimestamp"),
        (event(eventId="x" * 101), "invalid_event", "eventId"),
        (event(unknown=1), "invalid_event", "unknown"),
        (event(customData=[{"attribute": "a"}]), "invalid_event", "customData.0.value"),
        (event(customData=custom(big=2**63)), "invalid_event", "customData.0.value"),
        (event(customData=custom(nested={"a": 1})), "invalid_event", "customData.0.value"),
        # too long for text, and never silently read as the number it spells
        (event(customData=custom(digits="0" * 1001)), "invalid_event", "customData.0.value"),
        (event(customData=custom(a=1) + custom(a=2)), "invalid_custom_data", "customData"),
        (
            event(customData=[{"attribute": f"k{i}", "value": i} for i in range(51)]),
            "invalid_event",
            "customData",
        ),
        (event("Bad Name"), "invalid_event", "kpiEventName"),
        (event("SurveyAnswered", customData=custom(csat=0)), "invalid_custom_data", "customData.csat"),
        (event("SurveyAnswered", customData=custom(csat=6)), "invalid_custom_data", "customData.csat"),
        (event("SurveyAnswered", customData=custom(csat=True)), "invalid_custom_data", "customData.csat"),
        (event("SurveyAnswered", customData=custom(csat="4.5")), "invalid_custom_data", "customData.csat"),
        (event("SurveyAnswered", customData=custom(nps=11)), "invalid_custom_data", "customData.nps"),
        (event("SurveyAnswered", customData=custom(nps=-1)), "invalid_custom_data", "customData.nps"),
        (event("SurveyAnswered", customData=custom(comment="great")), "invalid_custom_data", "customData"),
        (event("SurveyAnswered"), "invalid_custom_data", "customData"),
        (event("MessageSent"), "invalid_custom_data", "customData.sender"),
        (event("MessageSent", customData=custom(sender="robot")), "invalid_custom_data", "customData.sender"),
        (event("NotificationResponse"), "missing_response_action", "notificationResponseAction"),
        (
            event("NotificationResponse", notificationResponseAction="Maybe"),
            "invalid_event",
            "notificationResponseAction",
        ),
        (event("OptInGiven", customData=custom(topic="webpush")), "invalid_custom_data", "customData.level"),
        (
            event("OptInGiven", customData=custom(topic="sms", level="single")),
            "invalid_custom_data",
            "customData.topic",
        ),
        (
            event("OptInGiven", customData=custom(topic="reminder", level="triple")),
            "invalid_custom_data",
            "customData.level",
        ),
        (event("Shared", customData=custom(via="myspace")), "invalid_custom_data", "customData.via"),
        (
            event("PinVerified", customData=custom(success="perhaps")),
            "invalid_custom_data",
            "customData.success",
        ),
        (event("PinVerified"), "invalid_custom_data", "customData.success"),
        (
            event("ModuleVisited", customData=custom(moduleName="Quiz")),
            "invalid_custom_data",
            "customData.moduleId",
        ),
        (event("DataEntered", customData=custom(field="")), "invalid_custom_data", "customData.field"),
        (
            event("UserInteracted", customData=custom(interaction="swiped")),
            "invalid_custom_data",
            "customData.interaction",
        ),
    ],
)
def test_invalid_events_are_rejected_with_a_reason_and_kept(world, acme, evt, code, field):
    body = _post(world, acme, event("ChatStarted", eventId="neighbour"), evt)
    assert _statuses(body) == [("accepted", None), ("rejected", code)]
    err = body["results"][1]["error"]
    fields = {d["field"] for d in err["details"]}
    assert any(f == field or f.startswith(f"{field}.") for f in fields), err
    [failed] = world.failed("acme")
    assert (failed["code"], failed["message"], failed["details"]) == (code, err["message"], err["details"])
    assert failed["payload"] == evt
    assert failed["envelope"] == {
        "kind": "event",
        "conversationId": "conv-1",
        "providerSessionId": "sess-1",
        "participantId": None,
    }
    assert failed["status"] == "open" and failed["replayedAt"] is None


@pytest.mark.parametrize(
    ("evt", "typed"),
    [
        (event("SurveyAnswered", customData=custom(csat=5)), {"csat": 5}),
        (event("SurveyAnswered", customData=custom(csat="4", nps="10")), {"csat": 4, "nps": 10}),
        (event("SurveyAnswered", customData=custom(nps=0, comment="ok")), {"nps": 0, "comment": "ok"}),
        (event("MessageSent", customData=custom(sender="customer")), {"sender": "customer"}),
        (event("NotificationResponse", notificationResponseAction="Accept"), {}),
        (event("NotificationResponse", notificationResponseAction="Reject"), {}),
        (
            event("OptInGiven", customData=custom(topic="reminder", level="double")),
            {"topic": "reminder", "level": "double"},
        ),
        (event("Shared", customData=custom(via="whatsapp")), {"via": "whatsapp"}),
        (event("PinVerified", customData=custom(success=False)), {"success": False}),
        (event("PinVerified", customData=custom(success="true")), {"success": True}),
        (
            event("ModuleVisited", customData=custom(moduleId="m-1", moduleName="Quiz")),
            {"moduleId": "m-1", "moduleName": "Quiz"},
        ),
        (event("DataEntered", customData=custom(field="zip")), {"field": "zip"}),
        (event("UserInteracted"), {}),
        (event("SessionClosed", kpiEventReason="SomethingNew"), {}),
        (event("ChatStarted", eventTimestamp="2026-11-23T08:15:00.123456+01:00"), {}),
        # The first day the warehouse keeps (730 days by default) is accepted from its first instant.
        (
            event(
                "ChatStarted", eventTimestamp=f"{datetime.now(UTC).date() - timedelta(days=730)}T00:00:00Z"
            ),
            {},
        ),
        (event("ChatStarted", eventTimestamp=(datetime.now(UTC) + timedelta(hours=23)).isoformat()), {}),
    ],
)
def test_valid_standard_events_are_stored_typed(world, acme, evt, typed):
    body = _post(world, acme, evt)
    assert _statuses(body) == [("accepted", None)], body
    stored = world.store.get_event("acme", body["results"][0]["eventId"])
    assert stored.custom_data == typed
    assert stored.event_ts.tzinfo is not None and stored.event_ts.utcoffset() == timedelta(0)


def test_failed_events_list_pages_and_filters(world, acme):
    bad = [event("Unknown", offset_s=i) for i in range(5)]
    _post(world, acme, *bad)
    _post(world, acme, *bad)  # the same bad request again is kept once
    pages, seen, cursor = 0, [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        resp = world.providers.get(
            "/v1/providers/acme/failed-events", query_string=query, headers=world.admin
        )
        pages += 1
        seen.extend(resp.json["items"])
        cursor = resp.json["nextCursor"]
        if not cursor:
            break
    assert pages == 3 and len(seen) == 5
    assert sorted(f["payload"]["eventTimestamp"] for f in seen) == sorted(e["eventTimestamp"] for e in bad)
    assert len({f["failedId"] for f in seen}) == 5
    assert world.failed("acme", status="open") == world.failed("acme")
    assert world.failed("acme", status="replayed") == []


def test_replay_after_registering_the_missing_custom_event(world, acme):
    loyalty = event("LoyaltyPointsRedeemed", customData=custom(points=120))
    body = _post(world, acme, loyalty, event("LoyaltyPointsRedeemed", eventId="with-id", offset_s=11))
    assert _statuses(body) == [("rejected", "unknown_event"), ("rejected", "unknown_event")]
    failed = world.failed("acme")
    assert {f["code"] for f in failed} == {"unknown_event"}

    # Replaying before the cause is fixed changes nothing.
    still = world.providers.post("/v1/providers/acme/failed-events/replay", headers=world.admin).json
    assert (still["replayed"], still["stillFailing"]) == (0, 2)
    assert len(world.failed("acme", status="open")) == 2

    world.providers.put(
        "/v1/providers/acme/event-definitions/LoyaltyPointsRedeemed", json={}, headers=world.admin
    )
    ids = [f["failedId"] for f in failed]
    replay = world.providers.post(
        "/v1/providers/acme/failed-events/replay", json={"failedIds": ids}, headers=world.admin
    )
    assert replay.status_code == 200
    assert (replay.json["replayed"], replay.json["stillFailing"]) == (2, 0)
    assert {r["status"] for r in replay.json["results"]} == {"accepted"}
    event_ids = {r["eventId"] for r in replay.json["results"]}
    assert "with-id" in event_ids
    stored = world.store.get_event("acme", "with-id")
    assert stored.schema == "iglu:provider.acme/LoyaltyPointsRedeemed/jsonschema/1-0-0"
    [derived] = event_ids - {"with-id"}
    assert world.store.get_event("acme", derived).custom_data == {"points": 120}

    replayed = world.failed("acme", status="replayed")
    assert len(replayed) == 2 and world.failed("acme", status="open") == []
    assert {f["replayedEventId"] for f in replayed} == event_ids and all(f["replayedAt"] for f in replayed)

    # A second replay of the same ids, an unknown id, and a retry of the original request.
    again = world.providers.post(
        "/v1/providers/acme/failed-events/replay",
        json={"failedIds": [*ids, "failed-nope"]},
        headers=world.admin,
    ).json
    assert [r["status"] for r in again["results"]] == ["already_replayed", "already_replayed", "not_found"]
    by_id = {r["failedId"]: r for r in again["results"]}
    assert by_id["failed-nope"]["status"] == "not_found"
    assert {by_id[i]["eventId"] for i in ids} == event_ids
    assert again["replayed"] == 0
    retry = _post(world, acme, loyalty, event("LoyaltyPointsRedeemed", eventId="with-id", offset_s=11))
    assert (retry["accepted"], retry["duplicates"]) == (0, 2)  # the retried request counts nothing twice
    assert len(stored_events(world.store, "acme")) == 2


def test_inactive_custom_event_is_rejected_until_activated(world, acme):
    world.providers.put(
        "/v1/providers/acme/event-definitions/Escalated", json={"active": False}, headers=world.admin
    )
    body = _post(world, acme, event("Escalated", eventId="esc-1"))
    assert _statuses(body) == [("rejected", "event_inactive")]
    world.providers.put(
        "/v1/providers/acme/event-definitions/Escalated", json={"active": True}, headers=world.admin
    )
    replay = world.providers.post(
        "/v1/providers/acme/failed-events/replay", json={}, headers=world.admin
    ).json
    assert [(r["status"], r["eventId"]) for r in replay["results"]] == [("accepted", "esc-1")]
    assert _statuses(_post(world, acme, event("Escalated", eventId="esc-2"))) == [("accepted", None)]


def test_replay_of_a_still_invalid_event_stays_open(world, acme):
    _post(world, acme, event("SurveyAnswered", customData=custom(csat=9)))
    replay = world.providers.post("/v1/providers/acme/failed-events/replay", headers=world.admin).json
    [result] = replay["results"]
    assert (result["status"], result["error"]["code"]) == ("rejected", "invalid_custom_data")
    assert len(world.failed("acme", status="open")) == 1


def test_analytics_switched_off_stops_ingest_but_not_the_operator(world, acme):
    _post(world, acme, event("Unknown"))
    world.providers.patch("/v1/providers/acme", json={"enableAnalytics": False}, headers=world.admin)
    assert_error(
        world.ingest.post("/v1/events", json=batch(event()), headers=acme), 403, "analytics_disabled"
    )
    assert len(world.failed("acme")) == 1


def test_replay_of_an_event_the_provider_already_resent_counts_it_once(world, acme):
    _post(world, acme, event("Escalated", offset_s=1))
    world.providers.put("/v1/providers/acme/event-definitions/Escalated", json={}, headers=world.admin)
    resent = _post(world, acme, event("Escalated", offset_s=1))  # the provider retried after the fix
    assert resent["accepted"] == 1
    replay = world.providers.post("/v1/providers/acme/failed-events/replay", headers=world.admin).json
    [result] = replay["results"]
    assert (result["status"], result["eventId"]) == ("duplicate", resent["results"][0]["eventId"])
    assert replay["replayed"] == 1
    assert len(stored_events(world.store, "acme")) == 1
    assert world.failed("acme", status="open") == []


def test_replay_only_reaches_the_named_provider(world, acme):
    _, other = world.provider("other")
    _post(world, other, event("Escalated"))
    [theirs] = world.failed("other")
    world.providers.put("/v1/providers/acme/event-definitions/Escalated", json={}, headers=world.admin)
    replay = world.providers.post(
        "/v1/providers/acme/failed-events/replay",
        json={"failedIds": [theirs["failedId"]]},
        headers=world.admin,
    ).json
    assert [r["status"] for r in replay["results"]] == ["not_found"]
    assert world.failed("other", status="open") == [theirs]
    assert stored_events(world.store, "acme") == stored_events(world.store, "other") == []


def test_replay_limit_takes_the_oldest_open_ones(world, acme):
    for i in range(3):
        _post(world, acme, event("Escalated", offset_s=i))
    world.providers.put("/v1/providers/acme/event-definitions/Escalated", json={}, headers=world.admin)
    first = world.providers.post(
        "/v1/providers/acme/failed-events/replay", json={"limit": 2}, headers=world.admin
    ).json
    assert first["replayed"] == 2
    rest = world.providers.post("/v1/providers/acme/failed-events/replay", headers=world.admin).json
    assert rest["replayed"] == 1
    assert len(stored_events(world.store, "acme")) == 3
