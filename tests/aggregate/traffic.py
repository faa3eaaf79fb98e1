"""Contact-center traffic for the aggregation tests, sent through the ingest function over HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask.testing import FlaskClient

TODAY = datetime.now(UTC).date()
# Past days only: ingest refuses timestamps more than a day ahead of its clock.
DAY_1 = TODAY - timedelta(days=4)
DAY_2 = TODAY - timedelta(days=3)
DAY_3 = TODAY - timedelta(days=2)


def at(day: date, seconds: float) -> str:
    instant = datetime.combine(day, time(9, 0), tzinfo=UTC) + timedelta(seconds=seconds)
    return instant.isoformat().replace("+00:00", "Z")


@dataclass
class Provider:
    client: FlaskClient
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def conversation(
        self,
        conversation_id: str,
        day: date,
        *,
        agent: str = "agent-1",
        queue: str = "billing",
        closed: bool = False,
    ) -> None:
        body: dict[str, Any] = {
            "conversationId": conversation_id,
            "channel": "voice",
            "direction": "inbound",
            "conversationTimestamp": at(day, 0),
            "customerId": f"cust-{conversation_id}",
            "session": {
                "sessionId": f"{conversation_id}-s1",
                "sessionCreatedTimestamp": at(day, 1),
                "sessionQueueAssignedTimestamp": at(day, 2),
                "queueId": queue,
                "participants": [
                    {
                        "participantId": agent,
                        "participantType": "agent",
                        "participantMode": "primary",
                        "participantAddedTimestamp": at(day, 5),
                    }
                ],
            },
        }
        if closed:
            body["closedTimestamp"] = at(day, 400)
        resp = self.client.post("/v1/conversations", json={"conversation": body}, headers=self.headers)
        assert resp.status_code in (200, 201), resp.json

    def events(self, conversation_id: str, *events: dict[str, Any], agent: str = "agent-1") -> None:
        resp = self.client.post(
            "/v1/events",
            json={
                "conversationId": conversation_id,
                "providerSessionId": f"{conversation_id}-s1",
                "participantId": agent,
                "events": list(events),
            },
            headers=self.headers,
        )
        assert resp.status_code == 200, resp.json
        assert resp.json["rejected"] == 0, resp.json

    def handled_call(
        self,
        conversation_id: str,
        day: date,
        *,
        answer_s: float = 15,
        csat: int | None = None,
        agent: str = "agent-1",
    ) -> None:
        """An inbound call offered, accepted after ``answer_s``, closed and resolved."""
        self.conversation(conversation_id, day, agent=agent)
        self.events(conversation_id, *handled_events(conversation_id, day, answer_s, csat), agent=agent)


def ev(event_id: str, name: str, day: date, seconds: float, **fields: Any) -> dict[str, Any]:
    return {"eventId": event_id, "kpiEventName": name, "eventTimestamp": at(day, seconds), **fields}


def handled_events(
    conversation_id: str, day: date, answer_s: float = 15, csat: int | None = None
) -> list[dict]:
    c = conversation_id
    events = [
        ev(f"{c}-offer", "NotificationReceived", day, 5),
        ev(f"{c}-accept", "NotificationResponse", day, 5 + answer_s, notificationResponseAction="Accept"),
        ev(f"{c}-close", "SessionClosed", day, 300, kpiEventReason="Completed"),
        ev(f"{c}-done", "ConversationClosed", day, 310, kpiEventReason="Resolved"),
    ]
    if csat is not None:
        events.append(
            ev(f"{c}-csat", "SurveyAnswered", day, 320, customData=[{"attribute": "csat", "value": csat}])
        )
    return events


def rejected_events(conversation_id: str, day: date) -> list[dict]:
    c = conversation_id
    return [
        ev(f"{c}-offer", "NotificationReceived", day, 5),
        ev(f"{c}-reject", "NotificationResponse", day, 12, notificationResponseAction="Reject"),
        ev(f"{c}-done", "ConversationClosed", day, 60, kpiEventReason="CustomerLeft"),
    ]
