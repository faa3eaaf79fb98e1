"""The Firestore indexes the store's queries need, declared as plain data.

``shared/store/firestore.py`` builds its queries from ``SCAN_FIELDS`` and the listing fields below, and
``make infra-gen`` turns ``COMPOSITE_INDEXES`` and ``FIELD_OVERRIDES`` into Terraform input, so the
queries and the indexes that serve them come from one place. This module imports nothing from the
Firestore client: the generator and the tests read it without Google libraries.

Why these and no more (see docs/store.md):

- every aggregator scan is ``shard == s AND since < ts <= until ORDER BY ts, __name__``: one composite
  index per scanned collection, starting with ``shard`` and ending with ``__name__``, so no single
  index on an ever-growing timestamp takes all the writes (Firestore caps such an index near
  500 writes/s);
- the same timestamps are exempt from single-field indexing, which would otherwise be that hotspot;
- big or never-queried fields (raw payloads, custom data, conversation documents) are exempt too:
  indexing them costs write latency and storage and serves no query;
- ``events.expire_at`` is the TTL field (``ANALYTICS_EVENT_RETENTION_DAYS`` after ingestion).
"""

from __future__ import annotations

from dataclasses import dataclass

ASCENDING = "ASCENDING"
DOCUMENT_ID = "__name__"

# Collections the aggregator scans, and the timestamp each is scanned by. Every document of these
# carries a ``shard`` (``records.shard_of(doc_id)``, 0..INGEST_SHARDS-1) next to that timestamp.
SCAN_FIELDS: dict[str, str] = {
    "events": "ingested_at",
    "conversations": "updated_at",
    "activities": "ingested_at",
    "failed_events": "changed_at",
}

# The operator listings: equality on the provider (and status), then a unique chronological order.
AUDIT_ORDER = ("at", "audit_id")
FAILED_ORDER = ("received_at", "failed_id")

# The field Firestore's TTL policy deletes events by.
TTL_FIELD = "expire_at"


@dataclass(frozen=True, slots=True)
class CompositeIndex:
    """A composite index: ``fields`` are ``(field_path, order)`` pairs, ``__name__`` last."""

    collection: str
    fields: tuple[tuple[str, str], ...]
    query_scope: str = "COLLECTION"


@dataclass(frozen=True, slots=True)
class FieldOverride:
    """A single-field setting: ``indexed=False`` exempts the field; ``ttl=True`` makes it a TTL field."""

    collection: str
    field_path: str
    indexed: bool
    ttl: bool = False


def _ascending(*paths: str) -> tuple[tuple[str, str], ...]:
    return tuple((path, ASCENDING) for path in (*paths, DOCUMENT_ID))


SCAN_INDEXES: tuple[CompositeIndex, ...] = tuple(
    CompositeIndex(collection, _ascending("shard", field)) for collection, field in SCAN_FIELDS.items()
)

LISTING_INDEXES: tuple[CompositeIndex, ...] = (
    # list_audit: provider_id == p ORDER BY at, audit_id
    CompositeIndex("audit", _ascending("provider_id", *AUDIT_ORDER)),
    # list_failed_events: provider_id == p [AND status == s] ORDER BY received_at, failed_id
    CompositeIndex("failed_events", _ascending("provider_id", *FAILED_ORDER)),
    CompositeIndex("failed_events", _ascending("provider_id", "status", *FAILED_ORDER)),
)

COMPOSITE_INDEXES: tuple[CompositeIndex, ...] = SCAN_INDEXES + LISTING_INDEXES


def _exempt(collection: str, *paths: str) -> tuple[FieldOverride, ...]:
    return tuple(FieldOverride(collection, path, indexed=False) for path in paths)


FIELD_OVERRIDES: tuple[FieldOverride, ...] = (
    # Growing timestamps (hotspots when indexed alone; the sharded composites serve the scans).
    *_exempt("events", "ingested_at", "event_ts"),
    *_exempt("conversations", "updated_at"),
    *_exempt("activities", "ingested_at"),
    *_exempt("failed_events", "changed_at", "received_at", "replayed_at"),
    # Big or opaque values no query filters on.
    *_exempt(
        "events", "additional_data", "custom_data", "client_session_id", "external_correlation_id", "digest"
    ),
    *_exempt("conversations", "data"),
    *_exempt("activities", "data"),
    *_exempt("failed_events", "payload", "details", "envelope", "message", "payload_digest"),
    *_exempt("orphan_summaries", "examples"),
    *_exempt("provider_settings", "values"),
    # The delivery outbox is queried by kind and status only (docs/outputs.md).
    *_exempt("deliveries", "payload", "last_error"),
    # Raw events and failed events expire; Firestore deletes them within about a day after this time.
    FieldOverride("events", TTL_FIELD, indexed=False, ttl=True),
    FieldOverride("failed_events", TTL_FIELD, indexed=False, ttl=True),
)
