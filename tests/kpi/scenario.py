"""Readable raw rows for KPI tests: conversations, sessions, participants and events as the
aggregator loads them (dicts keyed by raw_* column names, aware UTC datetimes, custom_data a dict)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared.aggregate.rows import VERSION, activity_rows
from shared.store.records import Activity

DAY = date(2026, 3, 2)


def at(clock: str, day: date = DAY) -> datetime:
    """``at("09:00:30")`` on the test day, UTC; ``at("23:59:59", DAY + timedelta(days=1))``."""
    hours, minutes, seconds = (int(part) for part in clock.split(":"))
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
        hours=hours, minutes=minutes, seconds=seconds
    )


@dataclass
class Scenario:
    provider_id: str = "acme"
    raw_conversations: list[dict[str, Any]] = field(default_factory=list)
    raw_sessions: list[dict[str, Any]] = field(default_factory=list)
    raw_participants: list[dict[str, Any]] = field(default_factory=list)
    raw_events: list[dict[str, Any]] = field(default_factory=list)
    raw_activities: list[dict[str, Any]] = field(default_factory=list)
    raw_activity_parties: list[dict[str, Any]] = field(default_factory=list)

    def conversation(
        self,
        conversation_id: str,
        start: datetime,
        *,
        channel: str = "voice",
        direction: str = "inbound",
        closed: datetime | None = None,
        customer_id: str | None = None,
        contact_id: str | None = None,
        experience_id: str | None = None,
        platform: str | None = None,
    ) -> Scenario:
        self.raw_conversations.append(
            {
                "provider_id": self.provider_id,
                "conversation_id": conversation_id,
                "channel": channel,
                "direction": direction,
                "conversation_ts": start,
                "closed_ts": closed,
                "customer_id": customer_id,
                "contact_id": contact_id,
                "experience_id": experience_id,
                "platform": platform,
                "updated_at": start,
            }
        )
        return self

    def session(
        self,
        conversation_id: str,
        session_id: str,
        created: datetime,
        *,
        agent: str | None = "agent-1",
        queue_id: str | None = "billing",
        queued: datetime | None = None,
        assigned: datetime | None = None,
        consults: Sequence[str] = (),
        channel: str | None = None,
    ) -> Scenario:
        self.raw_sessions.append(
            {
                "provider_id": self.provider_id,
                "conversation_id": conversation_id,
                "session_id": session_id,
                "created_ts": created,
                "queue_assigned_ts": queued,
                "agent_assigned_ts": assigned,
                "queue_id": queue_id,
                "session_channel": channel,
            }
        )
        people = [("customer-1", "customer", "primary")]
        if agent is not None:
            people.append((agent, "agent", "primary"))
        people += [(consult, "agent", "consult") for consult in consults]
        for participant_id, kind, mode in people:
            self.raw_participants.append(
                {
                    "provider_id": self.provider_id,
                    "conversation_id": conversation_id,
                    "session_id": session_id,
                    "participant_id": participant_id,
                    "participant_type": kind,
                    "participant_mode": mode,
                    "added_ts": created,
                }
            )
        return self

    def event(
        self,
        conversation_id: str,
        session_id: str,
        name: str,
        when: datetime,
        *,
        reason: str | None = None,
        action: str | None = None,
        participant_id: str | None = None,
        data: dict[str, Any] | None = None,
        event_id: str | None = None,
    ) -> Scenario:
        self.raw_events.append(
            {
                "provider_id": self.provider_id,
                "event_id": event_id or f"{conversation_id}/{session_id}/{len(self.raw_events)}",
                "conversation_id": conversation_id,
                "session_id": session_id,
                "participant_id": participant_id,
                "name": name,
                "reason": reason,
                "event_ts": when,
                "response_action": action,
                "custom_data": data or {},
                "schema": f"iglu:io.channelanalytics/{name}/jsonschema/1-0-0",
                "ingested_at": when,
            }
        )
        return self

    def activity(
        self,
        activity_id: str,
        kind: str,
        start: datetime,
        parties: Sequence[tuple[str, str, str]],
        *,
        record: tuple[str, str] = ("opportunity", "opp-1"),
        minutes: float | None = None,
        status: str = "completed",
        reply_to: str | None = None,
    ) -> Scenario:
        """An e-mail, meeting or phone call as the extraction stages it; ``parties`` are
        (party_id, side, role) and the first one is the ``from`` party."""
        data: dict[str, Any] = {
            "activityId": activity_id,
            "activityType": kind,
            "regardingType": record[0],
            "regardingId": record[1],
            "status": status,
            "startTimestamp": start.isoformat(),
            "parties": [{"partyId": p, "side": side, "role": role} for p, side, role in parties],
        }
        if minutes is not None:
            data["endTimestamp"] = (start + timedelta(minutes=minutes)).isoformat()
        if reply_to is not None:
            data["inReplyToActivityId"] = reply_to
        rows = activity_rows([Activity(self.provider_id, activity_id, data, start)])
        self.raw_activities += [{k: v for k, v in r.items() if k != VERSION} for r in rows.activities]
        self.raw_activity_parties += [{k: v for k, v in r.items() if k != VERSION} for r in rows.parties]
        return self

    def raw(self) -> dict[str, list[dict[str, Any]]]:
        return {
            "raw_conversations": self.raw_conversations,
            "raw_sessions": self.raw_sessions,
            "raw_participants": self.raw_participants,
            "raw_events": self.raw_events,
            "raw_activities": self.raw_activities,
            "raw_activity_parties": self.raw_activity_parties,
        }
