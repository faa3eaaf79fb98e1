"""Record builders for the store tests: realistic values, every optional field exercised."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shared.store.records import Activity, ApiKey, AuditEntry, Event, FailedEvent, Provider

T0 = datetime(2026, 11, 23, 9, 0, 0, 123456, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def provider(provider_id: str = "acme", enabled: bool = False) -> tuple[Provider, ApiKey, AuditEntry]:
    p = Provider(provider_id, provider_id.title(), enabled, T0, T0)
    key = ApiKey(f"{provider_id}-k0", provider_id, f"hash-{provider_id}-0", T0)
    audit = AuditEntry(
        f"{provider_id}-a0", provider_id, T0, "operator", "provider.created", "enableAnalytics", None, enabled
    )
    return p, key, audit


def event(event_id: str, provider_id: str = "acme", ingested: float = 0.0, **fields: Any) -> Event:
    values: dict[str, Any] = {
        "provider_id": provider_id,
        "event_id": event_id,
        "conversation_id": "c-1",
        "provider_session_id": "s-1",
        "participant_id": "agent-7",
        "name": "MessageSent",
        "reason": None,
        "event_ts": at(-60),
        "response_action": None,
        "additional_data": '{"note": "ünïcode ✓"}',
        "custom_data": {"sender": "agent", "nested": {"list": [1, 2.5, None, True], "": "empty key"}},
        "schema": "iglu:channel/MessageSent/1-0-0",
        "ingested_at": at(ingested),
    }
    values.update(fields)
    return Event(**values)


def activity(activity_id: str, provider_id: str = "acme", ingested: float = 0.0, **data: Any) -> Activity:
    body = {"type": "email", "direction": "sent", "subject": "Renewal", **data}
    return Activity(provider_id, activity_id, body, at(ingested))


def failed(failed_id: str, provider_id: str = "acme", received: float = 0.0) -> FailedEvent:
    return FailedEvent(
        provider_id=provider_id,
        failed_id=failed_id,
        received_at=at(received),
        code="unknown_event",
        message="kpiEventName 'Nope' is neither standard nor registered",
        details=[{"loc": ["events", 0, "kpiEventName"], "msg": "unknown"}],
        payload='{"kpiEventName": "Nope"}',
        envelope={"kind": "event", "conversationId": "c-1", "providerSessionId": "s-1"},
    )
