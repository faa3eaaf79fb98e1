"""Data older than the warehouse keeps is refused with a specific code (and kept where it is an event
or an activity), instead of being accepted and then dropped by retention in the same run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.config import reset_settings
from shared.warehouse import kept_from
from tests.http.support import activity, assert_error, batch, conversation, event

DAY = timedelta(days=1)


def _at(days_ago: float) -> str:
    return (datetime.now(UTC) - days_ago * DAY).isoformat().replace("+00:00", "Z")


@pytest.fixture
def thirty_days(monkeypatch, world):
    monkeypatch.setenv("ANALYTICS_WAREHOUSE_RETENTION_DAYS", "30")
    reset_settings()
    return world


def test_events_before_the_first_kept_day_are_refused_and_kept(thirty_days, acme):
    world = thirty_days
    body = world.ingest.post(
        "/v1/events",
        json=batch(
            event("CallHold", eventId="old", eventTimestamp=_at(31)),
            event("CallHold", eventId="recent", eventTimestamp=_at(29)),
        ),
        headers=acme,
    ).json
    assert [(r["status"], r["error"] and r["error"]["code"]) for r in body["results"]] == [
        ("rejected", "event_too_old"),
        ("accepted", None),
    ]
    assert body["results"][0]["error"]["details"][0]["field"] == "eventTimestamp"
    assert [f["code"] for f in world.failed("acme")] == ["event_too_old"]


def test_conversations_are_refused_only_when_even_their_close_is_too_old(thirty_days, acme):
    world = thirty_days
    refused = world.ingest.post(
        "/v1/conversations", json=conversation("c-1", conversationTimestamp=_at(31)), headers=acme
    )
    error = assert_error(refused, 422, "conversation_too_old")
    assert error["details"][0]["field"] == "conversation.conversationTimestamp"
    closed_late = conversation("c-2", conversationTimestamp=_at(31), closedTimestamp=_at(29))
    assert world.ingest.post("/v1/conversations", json=closed_late, headers=acme).status_code == 201
    closed_early = conversation("c-3", conversationTimestamp=_at(33), closedTimestamp=_at(31))
    assert_error(
        world.ingest.post("/v1/conversations", json=closed_early, headers=acme), 422, "conversation_too_old"
    )


def test_activities_before_the_first_kept_day_are_refused_and_kept(thirty_days, acme):
    world = thirty_days
    body = world.ingest.post(
        "/v1/activities",
        json={
            "activities": [
                activity("a-old", startTimestamp=_at(31)),
                activity("a-new", startTimestamp=_at(2)),
            ]
        },
        headers=acme,
    ).json
    assert (body["created"], body["rejected"]) == (1, 1)
    assert body["results"][0]["error"]["code"] == "activity_too_old"
    assert [f["code"] for f in world.failed("acme")] == ["activity_too_old"]


def test_the_default_retention_refuses_what_is_older_than_730_days(world, acme):
    body = world.ingest.post(
        "/v1/events", json=batch(event("CallHold", eventTimestamp=_at(731))), headers=acme
    ).json
    assert body["results"][0]["error"]["code"] == "event_too_old"


def test_the_first_kept_day_follows_the_warehouse_that_drops_the_data(monkeypatch):
    monkeypatch.setenv("ANALYTICS_WAREHOUSE_RETENTION_DAYS", "30")
    reset_settings()
    today = datetime(2026, 11, 23, tzinfo=UTC).date()
    assert kept_from("duckdb:///w.duckdb", today) == today - 30 * DAY
    assert kept_from("bigquery://p/d", today) == today - 30 * DAY
    assert kept_from("bigquery://p/d?partition_expiration_days=400", today) == today - 400 * DAY
    assert kept_from("bigquery://p/d?partition_expiration_days=0", today) is None  # kept forever
    reset_settings()
