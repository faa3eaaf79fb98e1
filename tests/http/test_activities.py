"""``POST /v1/activities``: relationship-analytics input, upserted by ``activityId``; rejected
activities are kept for replay like rejected events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.ingest.activities import failed_activity
from shared.ingest.events import Rejection
from shared.store.records import Activity
from tests.http.support import activity, custom, stored_events, ts


def _activities(world, provider_id: str) -> dict[str, Activity]:
    out: dict[str, Activity] = {}
    for page in world.store.scan_activities(None, datetime.now(UTC) + timedelta(days=1), 200):
        out.update({a.activity_id: a for a in page if a.provider_id == provider_id})
    return out


def _post(world, headers, *items):
    resp = world.ingest.post("/v1/activities", json={"activities": list(items)}, headers=headers)
    assert resp.status_code == 200, resp.json
    return resp.json


def test_create_update_and_reject(world, acme):
    meeting = activity(
        "m-1",
        activityType="meeting",
        status="scheduled",
        endTimestamp=ts(3600),
        parties=[
            {"partyId": "seller-1", "side": "us", "role": "from", "name": "Sam"},
            {"partyId": "seller-2", "side": "us", "role": "attendee"},
            {"partyId": "buyer-1", "side": "customer", "role": "attendee"},
        ],
    )
    first = _post(world, acme, meeting, activity("e-1"), activity("bad", activityType="fax"))
    assert (first["created"], first["updated"], first["rejected"]) == (2, 0, 1)
    assert [(r["index"], r["activityId"], r["status"]) for r in first["results"]] == [
        (0, "m-1", "created"),
        (1, "e-1", "created"),
        (2, None, "rejected"),
    ]
    assert first["results"][2]["error"]["code"] == "invalid_activity"
    assert {d["field"] for d in first["results"][2]["error"]["details"]} == {"activityType"}

    # The meeting moves: the same activityId updates the record.
    moved = {**meeting, "startTimestamp": ts(7200), "endTimestamp": ts(9000), "status": "completed"}
    second = _post(world, acme, moved)
    assert (second["created"], second["updated"], second["rejected"]) == (0, 1, 0)
    stored = _activities(world, "acme")
    assert set(stored) == {"m-1", "e-1"}
    assert stored["m-1"].data["startTimestamp"] == ts(7200) and stored["m-1"].data["status"] == "completed"
    assert len(stored["m-1"].data["parties"]) == 3

    [failed] = world.failed("acme")
    assert failed["code"] == "invalid_activity" and failed["payload"]["activityType"] == "fax"
    assert failed["envelope"] == {"kind": "activity"}
    assert stored_events(world.store, "acme") == []


def test_activity_rules(world, acme):
    cases = {
        "no-sender": activity("a1", parties=[{"partyId": "x", "side": "us", "role": "to"}]),
        "two-senders": activity(
            "a2",
            parties=[
                {"partyId": "x", "side": "us", "role": "from"},
                {"partyId": "y", "side": "customer", "role": "from"},
            ],
        ),
        "ends-before-start": activity("a3", endTimestamp=ts(-60)),
        "no-parties": activity("a4", parties=[]),
        "naive-time": activity("a5", startTimestamp="2026-01-01T10:00:00"),
        "extra-field": activity("a6", customData=custom(a=1)),
        "not-an-object": "meeting at noon",
    }
    body = _post(world, acme, *cases.values())
    assert body["rejected"] == len(cases) and body["created"] == 0
    assert {r["error"]["code"] for r in body["results"]} == {"invalid_activity"}
    assert len(world.failed("acme")) == len(cases)


def test_scheduled_meetings_may_lie_ahead_completed_ones_may_not(world, acme):
    """ "Next interaction" needs meetings planned days ahead; only a completed one is bound to our clock."""
    next_week = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    planned = activity("next", activityType="meeting", status="scheduled", startTimestamp=next_week)
    canceled = activity("dropped", activityType="meeting", status="canceled", startTimestamp=next_week)
    done = activity("done", activityType="meeting", status="completed", startTimestamp=next_week)
    far = activity(
        "far", status="scheduled", startTimestamp=(datetime.now(UTC) + timedelta(days=6 * 366)).isoformat()
    )
    body = _post(world, acme, planned, canceled, done, far)
    assert [r["status"] for r in body["results"]] == ["created", "created", "rejected", "rejected"]
    assert set(_activities(world, "acme")) == {"next", "dropped"}


def test_still_invalid_activity_stays_open_on_replay(world, acme):
    """A replay re-validates: an activity that is still invalid stays open, with its reason."""
    _post(world, acme, activity("a1", regardingType="planet"))
    replay = world.providers.post("/v1/providers/acme/failed-events/replay", headers=world.admin).json
    assert [r["status"] for r in replay["results"]] == ["rejected"]
    assert replay["results"][0]["error"]["code"] == "invalid_activity"
    assert [f["status"] for f in world.failed("acme")] == ["open"]


def test_activity_kept_under_an_older_rule_replays_into_the_store(world, acme):
    """Replay re-validates with today's rules: an activity a stricter rule refused comes back."""
    valid = activity("rescued", activityType="phonecall")
    why = Rejection("invalid_activity", "refused by an older rule", [])
    world.store.add_failed_events([failed_activity("acme", valid, why, datetime.now(UTC))])
    replay = world.providers.post("/v1/providers/acme/failed-events/replay", headers=world.admin).json
    assert [(r["status"], r["eventId"]) for r in replay["results"]] == [("accepted", "rescued")]
    assert _activities(world, "acme")["rescued"].data["activityType"] == "phonecall"
    [kept] = world.failed("acme")
    assert (kept["status"], kept["replayedEventId"]) == ("replayed", "rescued")
