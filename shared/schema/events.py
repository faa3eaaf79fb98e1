"""``logAnalyticsEvent``: the batch envelope, one KPI event, and the per-event results.

The fields are those of the current CIF reference of ``logAnalyticsEvent`` (docs/api.md, "CIF
compatibility"), plus ``eventId``, our idempotency key. CIF's ``clientSessionId`` names the session by
the agent desktop's id, which ``initLogAnalytics`` registered on it (``Session.clientSessionId``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from shared.schema.fields import CifModel, CustomData, Identifier, Str100, Timestamp, WireModel

MAX_EVENTS_PER_REQUEST = 500
MAX_EVENT_BYTES = 32 * 1024

EventName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$"),
    Field(strict=True),
]


class KpiEvent(CifModel):
    eventId: Identifier | None = Field(
        None, description="idempotency key; derived from the content when absent"
    )
    kpiEventName: EventName
    kpiEventReason: Str100 | None = None
    eventTimestamp: Timestamp
    notificationResponseAction: Literal["Accept", "Reject"] | None = None
    additionalData: Annotated[str, StringConstraints(max_length=2000), Field(strict=True)] | None = None
    externalCorrelationId: Identifier | None = None
    customData: CustomData | None = None


class _EnvelopeFields(CifModel):
    conversationId: Identifier
    providerSessionId: Identifier = Field(
        description="the session's sessionId; an event whose providerSessionId names no session of "
        "the conversation counts on the session registered with its clientSessionId"
    )
    clientSessionId: Identifier | None = Field(
        None, description="the agent desktop's session id (initLogAnalytics session clientSessionId)"
    )
    participantId: Identifier | None = None


class EventBatch(_EnvelopeFields):
    """Body of ``POST /v1/events`` as documented."""

    events: Annotated[list[KpiEvent], Field(min_length=1, max_length=MAX_EVENTS_PER_REQUEST)]


class EventEnvelope(_EnvelopeFields):
    """The same body as parsed: each event is validated on its own afterwards, so one bad event
    is rejected (and kept) without failing its neighbours."""

    events: Annotated[list[Any], Field(min_length=1)]


class ItemError(WireModel):
    code: str
    message: str
    details: list[dict[str, Any]] = []


class ItemResult(WireModel):
    index: int
    eventId: str | None
    status: Literal["accepted", "duplicate", "rejected"] = Field(
        description="'accepted': stored (or, with deduplication 'deferred', durably appended) and counted "
        "once; 'duplicate': this eventId with the same content was stored before (deferred: earlier in "
        "this request) and is not counted again; 'rejected': see error"
    )
    error: ItemError | None = None


class BatchResponse(WireModel):
    accepted: int
    duplicates: int
    rejected: int
    results: list[ItemResult]
    deduplication: Literal["synchronous", "deferred"] = Field(
        "synchronous",
        description="'synchronous': each event was checked against every event stored before, so "
        "'duplicate' and event_id_conflict are final. 'deferred' (the deployment appends events "
        "straight to the warehouse, docs/scale.md): only events repeated within this request are "
        "answered 'duplicate' or event_id_conflict; a retry of an earlier request answers 'accepted' "
        "again and the warehouse still counts each eventId once (first write wins), and a reused "
        "eventId with other content is refused there, as event_id_conflict in raw_failed_events",
    )
