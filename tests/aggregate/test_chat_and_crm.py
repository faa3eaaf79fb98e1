"""Chatbot and relationship traffic over HTTP, through the real store, extraction (pseudonyms
included) and the DuckDB warehouse: what a chatbot or CRM provider sees in the pinned tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.aggregate.conftest import read_rows
from tests.aggregate.traffic import DAY_1, Provider, at


def chat(provider: Provider, conversation_id: str, seconds: float, customer: str, experience: str) -> None:
    body = {
        "conversationId": conversation_id,
        "channel": "chatbot",
        "conversationTimestamp": at(DAY_1, seconds),
        "customerId": customer,
        "experienceId": experience,
        "platform": "mobile",
        "session": {"sessionId": f"{conversation_id}-s1", "sessionCreatedTimestamp": at(DAY_1, seconds)},
    }
    resp = provider.client.post("/v1/conversations", json={"conversation": body}, headers=provider.headers)
    assert resp.status_code == 201, resp.json


def log(provider: Provider, conversation_id: str, *events: tuple[str, float, dict[str, Any]]) -> dict:
    """Events without ids (the server derives them from the content)."""
    body = {
        "conversationId": conversation_id,
        "providerSessionId": f"{conversation_id}-s1",
        "events": [
            {
                "kpiEventName": name,
                "eventTimestamp": at(DAY_1, seconds),
                **({"customData": [{"attribute": k, "value": v} for k, v in data.items()]} if data else {}),
            }
            for name, seconds, data in events
        ],
    }
    resp = provider.client.post("/v1/events", json=body, headers=provider.headers)
    assert resp.status_code == 200 and resp.json["rejected"] == 0, resp.json
    return resp.json


def totals(env: dict[str, str], experience: str | None = None) -> dict[str, float]:
    where = "experience_id IS NULL" if experience is None else f"experience_id = '{experience}'"
    rows = read_rows(
        env["ANALYTICS_WAREHOUSE"],
        f"SELECT kpi, value FROM kpi_daily WHERE day = DATE '{DAY_1}' AND {where} "
        "AND channel IS NULL AND queue_id IS NULL AND agent_id IS NULL",
    )
    return {r["kpi"]: r["value"] for r in rows}


def test_a_chatbot_day_over_http_with_retries_early_events_and_a_provider_gap(
    acme, aggregate, env, providers_client, admin
) -> None:
    # Early events: logged before their conversation is registered; retried without ids.
    early = ("ChatStarted", 0, {}), ("UserInteracted", 30, {"interaction": "typed"})
    log(acme, "c1", *early)
    assert log(acme, "c1", *early)["duplicates"] == 2
    aggregate()
    assert "chat_sessions" not in totals(env)  # they wait for their conversation
    chat(acme, "c1", 0, "visitor-1", "exp-a")
    chat(acme, "c2", 1200, "visitor-1", "exp-b")  # the same visitor 20 minutes later
    log(acme, "c2", ("ChatStarted", 1230, {}), ("ModuleVisited", 1260, {"moduleId": "door"}))
    aggregate()
    assert totals(env)["chat_sessions"] == 1 and totals(env)["chat_bounces"] == 0
    assert totals(env, "exp-a")["chat_sessions"] == 1 and totals(env, "exp-b")["chat_starts"] == 1
    assert totals(env)["participants"] == 1
    # The provider shortens its gap to 10 minutes and restates the day: two sessions now.
    resp = providers_client.put(
        "/v1/providers/acme/settings", json={"chatSessionGapMinutes": 10}, headers=admin
    )
    assert resp.status_code == 200 and resp.json["chatSessionGapMinutes"] == 10, resp.json
    aggregate([DAY_1])
    assert totals(env)["chat_sessions"] == 2 and totals(env)["chat_bounces"] == 1
    visits = read_rows(
        env["ANALYTICS_WAREHOUSE"],
        "SELECT experience_id, module_id, visits, sessions FROM chat_module_visits",
    )
    assert visits == [{"experience_id": "exp-b", "module_id": "door", "visits": 1, "sessions": 1}]
    # No raw visitor id reaches the warehouse: the customer key holds its pseudonym.
    keys = read_rows(env["ANALYTICS_WAREHOUSE"], "SELECT DISTINCT customer_key FROM fact_chat_events")
    assert len(keys) == 1 and "visitor-1" not in keys[0]["customer_key"]


def activity(
    activity_id: str, kind: str, start: datetime, parties: list[tuple[str, str, str]], **more: Any
) -> dict:
    return {
        "activityId": activity_id,
        "activityType": kind,
        "regardingType": "opportunity",
        "regardingId": "opp-42",
        "startTimestamp": start.isoformat().replace("+00:00", "Z"),
        "parties": [{"partyId": p, "side": side, "role": role} for p, side, role in parties],
        **more,
    }


def test_relationship_activities_over_http_give_todays_snapshot(acme, aggregate, env) -> None:
    now = datetime.now(UTC)
    base = now.replace(minute=0, second=0, microsecond=0) - timedelta(days=2)
    activities = [
        activity("e1", "email", base, [("contact-9", "customer", "from"), ("seller-1", "us", "to")]),
        activity(
            "r1",
            "email",
            base + timedelta(hours=2),
            [("seller-1", "us", "from"), ("contact-9", "customer", "to")],
            inReplyToActivityId="e1",
        ),
        activity(
            "m1",
            "meeting",
            base + timedelta(days=1),
            [
                ("seller-1", "us", "from"),
                ("seller-2", "us", "attendee"),
                ("contact-9", "customer", "attendee"),
            ],
            endTimestamp=(base + timedelta(days=1, minutes=30)).isoformat(),
        ),
        activity(
            "next",
            "meeting",
            now + timedelta(days=3),
            [("seller-1", "us", "from"), ("contact-9", "customer", "attendee")],
            status="scheduled",
        ),
    ]
    resp = acme.client.post("/v1/activities", json={"activities": activities}, headers=acme.headers)
    assert resp.status_code == 200 and resp.json["created"] == 4, resp.json
    aggregate()
    (row,) = read_rows(
        env["ANALYTICS_WAREHOUSE"], "SELECT * FROM relationship_snapshot WHERE regarding_id = 'opp-42'"
    )
    assert (row["emails_sent"], row["emails_received"], row["meetings_by_us"]) == (1, 1, 1)
    assert row["response_time_us_s"] == 7200
    assert row["hours_us"] == (5 + 2.5 + 60) / 60 and row["hours_customer"] == (5 + 2.5 + 30) / 60
    assert row["next_interaction_ts"] is not None and row["health_band"] in ("good", "fair", "poor")
    contacts = read_rows(
        env["ANALYTICS_WAREHOUSE"],
        "SELECT side, rank, party_id, interactions FROM relationship_contacts ORDER BY side, rank",
    )
    assert [(c["side"], c["party_id"], c["interactions"]) for c in contacts][-2:] == [
        ("us", "seller-1", 3),
        ("us", "seller-2", 1),
    ]
    # The customer's contact is pseudonymous in the warehouse.
    assert contacts[0]["side"] == "customer" and contacts[0]["party_id"] != "contact-9"
    days = read_rows(
        env["ANALYTICS_WAREHOUSE"], "SELECT SUM(activities) AS n FROM relationship_daily_activity"
    )
    assert days == [{"n": 3}]
