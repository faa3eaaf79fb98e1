"""Plain records that cross the store port.

Adapters translate these to rows (SQLite) or documents (Firestore); the services never see either.
Times are always timezone-aware UTC datetimes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Events and conversations carry a small random shard so that the aggregator's scan field
# (``ingested_at``) is never a single monotonically increasing index (Firestore caps such an index
# near 500 writes/s). The aggregator queries each shard separately.
INGEST_SHARDS = 16


def scoped_id(provider_id: str, *parts: str) -> str:
    """A document id for a provider-owned object.

    Hashing keeps ids non-sequential (no Firestore hotspot), free of ``/`` and bounded in length,
    and scoping by provider means one provider's ids can never address another's objects.
    """
    raw = "\x1f".join((provider_id, *parts)).encode()
    return hashlib.sha256(raw).hexdigest()[:40]


def shard_of(doc_id: str) -> int:
    """A stable shard derived from a (hash) document id, so a retry lands in the same shard."""
    return int(doc_id[:4], 16) % INGEST_SHARDS


@dataclass(frozen=True, slots=True)
class Provider:
    provider_id: str
    name: str
    enable_analytics: bool
    created_at: datetime
    updated_at: datetime
    # Ingest refuses this provider's unsigned requests (docs/api.md, "Request signing").
    require_signature: bool = False


@dataclass(frozen=True, slots=True)
class ApiKey:
    key_id: str
    provider_id: str
    secret_hash: str
    created_at: datetime
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ProviderFlag:
    """An audited boolean of a provider: its column (and ``Provider`` field), audit field and action."""

    column: str
    field: str
    action: str


# The two switches an operator sets on a provider, each audited under its wire name.
ANALYTICS_FLAG = ProviderFlag("enable_analytics", "enableAnalytics", "provider.analytics_flag_changed")
SIGNATURE_FLAG = ProviderFlag(
    "require_signature", "requireSignature", "provider.signature_requirement_changed"
)


@dataclass(frozen=True, slots=True)
class SigningSecret:
    """A provider's request-signing secret. Verifying an HMAC needs the secret itself, so unlike an
    API key it cannot be stored as a hash: ``sealed`` is the secret encrypted under a server-side key
    (``shared.auth.sealing``), bound to this provider and secret id."""

    secret_id: str
    provider_id: str
    sealed: str
    created_at: datetime
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    audit_id: str
    provider_id: str
    at: datetime
    actor: str
    action: str
    field: str
    old: Any
    new: Any


@dataclass(frozen=True, slots=True)
class EventDefinition:
    """A provider's custom event (the ``msdyn_kpieventdefinition`` of the source system)."""

    provider_id: str
    name: str
    version: str
    active: bool
    description: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Conversation:
    """A conversation with its sessions and participants embedded (one document, < 1 MiB)."""

    provider_id: str
    conversation_id: str
    data: dict[str, Any]
    updated_at: datetime

    @property
    def doc_id(self) -> str:
        return scoped_id(self.provider_id, "conversation", self.conversation_id)

    @property
    def shard(self) -> int:
        return shard_of(self.doc_id)


@dataclass(frozen=True, slots=True)
class Event:
    """One accepted KPI event. ``doc_id`` is the dedup key: create-if-absent gives exactly once."""

    provider_id: str
    event_id: str
    conversation_id: str
    provider_session_id: str
    participant_id: str | None
    name: str
    reason: str | None
    event_ts: datetime
    response_action: str | None
    additional_data: str | None
    custom_data: dict[str, Any]
    schema: str
    ingested_at: datetime
    # CIF ``logAnalyticsEvent``: the agent desktop's session id of the envelope, the event's own
    # external correlation id.
    client_session_id: str | None = None
    external_correlation_id: str | None = None
    # sha256 of the event's content as the provider sent it (``shared.ingest.events.content_digest``):
    # a reused eventId with other content is a conflict, not a duplicate. None: stored before digests.
    digest: str | None = None

    @property
    def doc_id(self) -> str:
        return scoped_id(self.provider_id, "event", self.event_id)

    @property
    def shard(self) -> int:
        return shard_of(self.doc_id)


@dataclass(frozen=True, slots=True)
class Activity:
    """A relationship-analytics activity (e-mail, meeting, phone call)."""

    provider_id: str
    activity_id: str
    data: dict[str, Any]
    ingested_at: datetime

    @property
    def doc_id(self) -> str:
        return scoped_id(self.provider_id, "activity", self.activity_id)

    @property
    def shard(self) -> int:
        return shard_of(self.doc_id)


# What a failed event keeps of its payload at most (UTF-8 bytes): twice the largest event ingest
# accepts, so every payload that could ever be replayed is kept whole, and a document stays far
# below Firestore's 1 MiB whatever a request carried.
MAX_KEPT_PAYLOAD_BYTES = 64 * 1024


def kept_payload(text: str) -> tuple[str, int | None, str | None]:
    """``(payload, payload_bytes, payload_digest)`` of a rejected payload's text: whole when it fits,
    else its first ``MAX_KEPT_PAYLOAD_BYTES`` (cut at a character boundary), size and sha256."""
    if len(text) <= MAX_KEPT_PAYLOAD_BYTES // 4:  # even 4-byte characters fit: no need to encode
        return text, None, None
    data = text.encode()
    if len(data) <= MAX_KEPT_PAYLOAD_BYTES:
        return text, None, None
    head = data[:MAX_KEPT_PAYLOAD_BYTES].decode("utf-8", "ignore")
    return head, len(data), hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class FailedEvent:
    """An event we could not accept, kept whole with its reason so an operator can replay it."""

    provider_id: str
    failed_id: str
    received_at: datetime
    code: str
    message: str
    details: list[dict[str, Any]]
    payload: str
    envelope: dict[str, Any]
    status: str = "open"  # open | replayed | erased
    replayed_at: datetime | None = None
    replayed_event_id: str | None = None
    # Past MAX_KEPT_PAYLOAD_BYTES only the start of the payload is kept (``payload`` is then no JSON):
    # its size and sha256 say what was received. None: the payload is whole.
    payload_bytes: int | None = None
    payload_digest: str | None = None

    @property
    def truncated(self) -> bool:
        return self.payload_digest is not None


@dataclass(frozen=True, slots=True)
class OrphanSummary:
    """A provider's events whose conversation never arrived, as the last aggregation run saw them
    (``shared.aggregate.orphans``): counts, the oldest, and the longest-waiting conversation ids
    (``examples``: ``{"conversationId", "events", "firstEventTimestamp"}``, JSON values)."""

    provider_id: str
    events: int
    conversations: int
    oldest_event_ts: datetime
    oldest_ingested_at: datetime
    computed_at: datetime
    examples: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Any]
    next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class Lease:
    name: str
    owner: str
    expires_at: datetime


@dataclass(slots=True)
class Watermark:
    """How far the aggregator has read, per collection (``ingested_at``/``updated_at`` bound)."""

    name: str
    value: datetime | None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    """A provider's analytics settings (``PUT /v1/providers/{id}/settings``); ``None`` is the default.
    The field names are the columns of the warehouse's ``provider_settings``, which every aggregation
    run copies them to (the family SQL reads them there)."""

    provider_id: str
    updated_at: datetime
    chat_session_gap_s: int | None = None
    relationship_window_days: int | None = None
    relationship_contact_days: int | None = None
    relationship_weight_email: float | None = None
    relationship_weight_meeting: float | None = None
    relationship_weight_phonecall: float | None = None


SETTINGS_FIELDS = (
    "chat_session_gap_s",
    "relationship_window_days",
    "relationship_contact_days",
    "relationship_weight_email",
    "relationship_weight_meeting",
    "relationship_weight_phonecall",
)


def settings_values(settings: ProviderSettings) -> dict[str, Any]:
    """The settings that are set, by field name (what the adapters store)."""
    return {f: getattr(settings, f) for f in SETTINGS_FIELDS if getattr(settings, f) is not None}


def settings_from(provider_id: str, updated_at: datetime, values: dict[str, Any]) -> ProviderSettings:
    return ProviderSettings(provider_id, updated_at, **{f: values.get(f) for f in SETTINGS_FIELDS})


# -- supervisor outputs: report subscriptions, alert thresholds, the delivery outbox ------------------


@dataclass(frozen=True, slots=True)
class ReportSubscription:
    """A recipient of a provider's daily report e-mail (the bell icon); ``experience_id`` narrows it
    to one chatbot experience, ``None`` is the provider's whole report."""

    provider_id: str
    subscription_id: str
    email: str
    experience_id: str | None
    created_at: datetime
    created_by: str


@dataclass(frozen=True, slots=True)
class AlertThreshold:
    """A KPI breach rule of a provider: ``kpi operator value`` on the rows of one slice.

    ``slice`` maps kpi_daily dimensions to a value or ``"*"`` (every value); a dimension it leaves
    out is "all" (NULL). ``min_denominator`` skips rows measured over too few cases.
    """

    provider_id: str
    threshold_id: str
    kpi: str
    operator: str
    value: float
    slice: dict[str, str]
    min_denominator: float | None
    created_at: datetime
    created_by: str


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message to send exactly once (a report e-mail, an alert): written before it is sent,
    confirmed after (the outbox, docs/outputs.md). ``status``: pending, sending (an attempt began;
    after a crash it is sent again), sent, failed (retried by the next run) or cancelled."""

    kind: str
    provider_id: str
    delivery_id: str
    created_at: datetime
    payload: dict[str, Any]
    status: str = "pending"
    attempts: int = 0
    last_attempt_at: datetime | None = None
    last_error: str | None = None
    message_id: str | None = None
    sent_at: datetime | None = None


DELIVERY_DUE = ("pending", "sending", "failed")
