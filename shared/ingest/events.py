"""``POST /v1/events`` (``logAnalyticsEvent``): validate each event on its own, store accepted events
exactly once, keep rejected ones with their reason and payload.

Exactly once: the document id is derived from ``(provider, eventId)``; without an ``eventId`` the
id comes from the event's content, so a retried request maps onto the same documents. An event
found already stored is a ``duplicate`` only when its content is the same (``content_digest``); a
reused ``eventId`` with other content is rejected as ``event_id_conflict`` and kept, never dropped.
Out of order: events are stored even when their conversation or session has not arrived; the
aggregator joins them once it does. An event is stored with the session ids it was sent with
(``providerSessionId`` and CIF's ``clientSessionId``); which session it counts on is decided in the
warehouse, where the conversation's sessions are known (``shared.aggregate.event_sessions``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Any

from pydantic import ValidationError

from shared.errors import ApiError, validation_details
from shared.ingest.canonical import canonical_json, text_id
from shared.schema.events import (
    MAX_EVENT_BYTES,
    MAX_EVENTS_PER_REQUEST,
    BatchResponse,
    EventEnvelope,
    KpiEvent,
)
from shared.schema.fields import custom_data_dict
from shared.schema.registry import STANDARD_EVENTS, EventRuleError, EventSpec, check_event_rules, custom_spec
from shared.store.port import Store
from shared.store.records import Event, FailedEvent, Provider, kept_payload


@dataclass(frozen=True)
class Rejection:
    code: str
    message: str
    details: list[dict[str, Any]]


def too_old(code: str, field: str, at: datetime, keep_from: date | None) -> Rejection | None:
    """The rejection of data whose day the warehouse no longer keeps: it would be accepted, then
    dropped by the next aggregation's retention (``keep_from``: the first day kept; None: all)."""
    if keep_from is None or at.astimezone(UTC).date() >= keep_from:
        return None
    message = (
        f"{field} {at.isoformat()} is before {keep_from.isoformat()}, the first day the warehouse keeps"
        " (ANALYTICS_WAREHOUSE_RETENTION_DAYS): it would be dropped at once"
    )
    return Rejection(code, message, [{"field": field, "code": code, "message": message}])


class EventResolver:
    """Finds the spec for an event name: the registry, then the provider's active custom events."""

    def __init__(self, store: Store, provider_id: str):
        self._store = store
        self._provider_id = provider_id
        self._custom: dict[str, EventSpec | Rejection] = {}

    def __call__(self, name: str) -> EventSpec | Rejection:
        spec = STANDARD_EVENTS.get(name)
        if spec is not None:
            return spec
        if name not in self._custom:
            definition = self._store.get_event_definition(self._provider_id, name)
            if definition is None:
                self._custom[name] = Rejection(
                    "unknown_event",
                    f"{name!r} is neither a standard event nor a custom event registered for this provider",
                    [{"field": "kpiEventName", "code": "unknown_event", "message": "not registered"}],
                )
            elif not definition.active:
                self._custom[name] = Rejection(
                    "event_inactive",
                    f"the custom event {name!r} is registered but not active",
                    [{"field": "kpiEventName", "code": "event_inactive", "message": "inactive"}],
                )
            else:
                self._custom[name] = custom_spec(self._provider_id, name, definition.version)
        return self._custom[name]


@dataclass(frozen=True)
class Envelope:
    conversation_id: str
    provider_session_id: str
    participant_id: str | None
    client_session_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out = {
            "kind": "event",
            "conversationId": self.conversation_id,
            "providerSessionId": self.provider_session_id,
            "participantId": self.participant_id,
        }
        # Only when sent: the envelope of a batch without it hashes (derived event ids, failed ids)
        # exactly as before clientSessionId was accepted, so retries of such batches stay duplicates.
        if self.client_session_id is not None:
            out["clientSessionId"] = self.client_session_id
        return out

    @cached_property
    def canonical(self) -> str:
        """``canonical_json(as_dict())``, once per request: it is hashed into every derived id."""
        return canonical_json(self.as_dict())


def derive_event_id(envelope: Envelope, raw: dict[str, Any], text: str | None = None) -> str:
    """A deterministic id for an event sent without ``eventId``: same content, same id.

    ``text`` is ``canonical_json(raw)`` where the caller has it already."""
    return text_id("auto-", envelope.canonical, canonical_json(raw) if text is None else text)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def content_digest(event: Event) -> str:
    """sha256 of what the provider said about the event, as stored: the envelope (conversation,
    session, participant) and the event's own fields, timestamps as UTC instants and ``customData``
    as the validated mapping (so the order of its pairs does not matter). Left out: the ``eventId``
    (the key being compared), and what the server derives — ``ingested_at``, the schema URI (a custom
    event's version may change between a send and its retry)."""
    return _digest(
        event.conversation_id,
        event.provider_session_id,
        event.participant_id,
        event.name,
        event.reason,
        event.event_ts,
        event.response_action,
        event.additional_data,
        event.custom_data,
        event.client_session_id,
        event.external_correlation_id,
    )


def _digest(
    conversation_id: str,
    session_id: str,
    participant_id: str | None,
    name: str,
    reason: str | None,
    event_ts: datetime,
    response_action: str | None,
    additional_data: str | None,
    custom_data: dict[str, Any],
    client_session_id: str | None,
    external_correlation_id: str | None,
) -> str:
    # One JSON array: unambiguous whatever the text holds, keys of customData sorted. The instant is
    # whole microseconds since the epoch (the same instant in any offset or spelling, the same number).
    text = canonical_json(
        [
            conversation_id,
            session_id,
            participant_id,
            name,
            reason,
            (event_ts - _EPOCH) // _MICROSECOND,
            response_action,
            additional_data,
            custom_data,
            client_session_id,
            external_correlation_id,
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()


def build_event(
    provider_id: str,
    envelope: Envelope,
    raw: Any,
    resolve: EventResolver,
    now: datetime,
    keep_from: date | None = None,
) -> Event | Rejection:
    """Turn one raw event into a storable ``Event`` or say exactly why not."""
    if not isinstance(raw, dict):
        return Rejection("invalid_event", "each event must be a JSON object", [])
    text = canonical_json(raw)  # once: the size check and, without an eventId, the derived id
    # ASCII text (the usual case) has as many bytes as characters: no need to encode it to count.
    if (len(text) if text.isascii() else len(text.encode())) > MAX_EVENT_BYTES:
        return Rejection("event_too_large", f"the event exceeds {MAX_EVENT_BYTES} bytes", [])
    try:
        event = KpiEvent.model_validate(raw)
    except ValidationError as exc:
        return Rejection("invalid_event", "the event has invalid fields", validation_details(exc))
    old = too_old("event_too_old", "eventTimestamp", event.eventTimestamp, keep_from)
    if old is not None:
        return old
    spec = resolve(event.kpiEventName)
    if isinstance(spec, Rejection):
        return spec
    try:
        custom = check_event_rules(spec, event, custom_data_dict(event.customData))
    except EventRuleError as exc:
        return Rejection(exc.code, exc.message, exc.details)
    except ValueError as exc:
        return Rejection(
            "invalid_custom_data",
            str(exc),
            [{"field": "customData", "code": "duplicate_attribute", "message": str(exc)}],
        )
    ts = event.eventTimestamp
    return Event(
        provider_id=provider_id,
        event_id=event.eventId or derive_event_id(envelope, raw, text),
        conversation_id=envelope.conversation_id,
        provider_session_id=envelope.provider_session_id,
        participant_id=envelope.participant_id,
        name=event.kpiEventName,
        reason=event.kpiEventReason,
        event_ts=ts,
        response_action=event.notificationResponseAction,
        additional_data=event.additionalData,
        custom_data=custom,
        schema=spec.schema_uri,
        ingested_at=now,
        client_session_id=envelope.client_session_id,
        external_correlation_id=event.externalCorrelationId,
        digest=_digest(
            envelope.conversation_id,
            envelope.provider_session_id,
            envelope.participant_id,
            event.kpiEventName,
            event.kpiEventReason,
            ts,
            event.notificationResponseAction,
            event.additionalData,
            custom,
            envelope.client_session_id,
            event.externalCorrelationId,
        ),
    )


def conflict_rejection(stored: Event, received: Event) -> Rejection | None:
    """``None`` when ``received`` is the stored event again (a retry); else why it is refused."""
    stored_digest = stored.digest or content_digest(stored)  # events stored before digests existed
    if stored_digest == received.digest:
        return None
    return Rejection(
        "event_id_conflict",
        f"eventId {received.event_id!r} is already stored with other content; the stored event is kept"
        " and this one is not counted: give every distinct event its own eventId and send it again",
        [
            {
                "field": "eventId",
                "code": "event_id_conflict",
                "message": "the same eventId with different content",
                "storedDigest": stored_digest,
                "receivedDigest": received.digest,
            }
        ],
    )


def insert_checked(store: Store, events: list[Event]) -> list[bool | Rejection]:
    """Store ``events`` exactly once: per event ``True`` (stored now), ``False`` (a duplicate: the
    same content was stored before) or the ``event_id_conflict`` rejection. Only events found stored
    already cost a read, so the usual request pays nothing for the check."""
    stored: list[bool | Rejection] = list(store.insert_events(events))
    again = [i for i, fresh in enumerate(stored) if not fresh]
    if not again:
        return stored
    provider_id = events[again[0]].provider_id
    found: dict[str, Event] = {}
    ids = list(dict.fromkeys(events[i].event_id for i in again))
    for start in range(0, len(ids), 500):
        found.update(store.get_events(provider_id, ids[start : start + 500]))
    for i in again:
        earlier = found.get(events[i].event_id)
        if earlier is not None:
            stored[i] = conflict_rejection(earlier, events[i]) or False
    return stored


def failed_record(
    provider_id: str, envelope: Envelope, raw: Any, why: Rejection, now: datetime
) -> FailedEvent:
    payload = canonical_json(raw)
    kept, size, digest = kept_payload(payload)  # the id still covers all of it
    # A conflict is its own failure: the same payload rejected earlier for another reason stays apart.
    salt = ("event_id_conflict",) if why.code == "event_id_conflict" else ()
    return FailedEvent(
        provider_id=provider_id,
        failed_id=text_id("failed-", envelope.canonical, canonical_json(payload), *salt),
        received_at=now,
        code=why.code,
        message=why.message,
        details=why.details,
        payload=kept,
        payload_bytes=size,
        payload_digest=digest,
        envelope=envelope.as_dict(),
    )


def parse_envelope(body: Any) -> EventEnvelope:
    if (
        isinstance(body, dict)
        and isinstance(body.get("events"), list)
        and len(body["events"]) > MAX_EVENTS_PER_REQUEST
    ):
        raise ApiError(
            413,
            "too_many_events",
            f"a request may carry at most {MAX_EVENTS_PER_REQUEST} events; split the batch",
        )
    if not isinstance(body, dict):
        raise ApiError(422, "body_not_object", "the body must be a JSON object")
    try:
        return EventEnvelope.model_validate(body)
    except ValidationError as exc:
        raise ApiError(
            422, "invalid_envelope", "the batch envelope has invalid fields", validation_details(exc)
        ) from exc


# Stores accepted events: per event True (new), False (a duplicate) or an event_id_conflict rejection.
Insert = Callable[[Store, list[Event]], list[bool | Rejection]]


def log_events(
    store: Store,
    provider: Provider,
    body: Any,
    now: datetime,
    keep_from: date | None = None,
    insert: Insert | None = None,
) -> BatchResponse:
    """``insert``: where accepted events go (default: the store, ``insert_checked``; the event sink
    mode passes ``shared.ingest.sink``'s, whose deduplication is deferred to the warehouse)."""
    env = parse_envelope(body)
    envelope = Envelope(env.conversationId, env.providerSessionId, env.participantId, env.clientSessionId)
    resolve = EventResolver(store, provider.provider_id)
    built = [build_event(provider.provider_id, envelope, raw, resolve, now, keep_from) for raw in env.events]

    accepted = [b for b in built if isinstance(b, Event)]
    failures = [
        failed_record(provider.provider_id, envelope, raw, b, now)
        for raw, b in zip(env.events, built, strict=True)
        if isinstance(b, Rejection)
    ]
    # Rejects first: if the store fails after this, the retry finds them already kept.
    store.add_failed_events(failures)
    outcomes = iter((insert or insert_checked)(store, accepted))
    conflicts: list[FailedEvent] = []

    # Plain dicts, validated into the response model in one call (one model per event costs more).
    results: list[dict[str, Any]] = []
    counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
    for index, item in enumerate(built):
        raw = env.events[index]
        if isinstance(item, Event):
            outcome = next(outcomes)
            if not isinstance(outcome, Rejection):
                status = "accepted" if outcome else "duplicate"
                results.append({"index": index, "eventId": item.event_id, "status": status})
                counts[status] += 1
                continue
            conflicts.append(failed_record(provider.provider_id, envelope, raw, outcome, now))
            item = outcome
        event_id = (
            raw.get("eventId") if isinstance(raw, dict) and isinstance(raw.get("eventId"), str) else None
        )
        results.append(
            {
                "index": index,
                "eventId": event_id,
                "status": "rejected",
                "error": {"code": item.code, "message": item.message, "details": item.details},
            }
        )
        counts["rejected"] += 1
    # Kept like any rejection (a retry of the request finds the same conflict and keeps it once).
    store.add_failed_events(conflicts)
    return BatchResponse.model_validate(
        {
            "accepted": counts["accepted"],
            "duplicates": counts["duplicate"],
            "rejected": counts["rejected"],
            "results": results,
            "deduplication": "synchronous" if insert is None else "deferred",
        }
    )


def replay_payload(failed: FailedEvent) -> tuple[Envelope, Any]:
    env = failed.envelope
    return (
        Envelope(
            env["conversationId"],
            env["providerSessionId"],
            env.get("participantId"),
            env.get("clientSessionId"),
        ),
        json.loads(failed.payload),
    )
