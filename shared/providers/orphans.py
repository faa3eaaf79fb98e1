"""What an operator sees of the events whose conversation never arrived (``shared.aggregate.orphans``
counts them in each aggregation run; this reads the run's per-provider summary from the store)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from shared.schema.provider import OrphanConversation, OrphanEventsOut
from shared.store.port import Store


def orphan_events(store: Store, provider_id: str, retention_days: int | None) -> OrphanEventsOut:
    summary = store.get_orphan_summary(provider_id)
    if summary is None:
        return OrphanEventsOut(
            providerId=provider_id,
            events=0,
            conversations=0,
            oldestEventTimestamp=None,
            oldestIngestedAt=None,
            waitsUntil=None,
            computedAt=None,
            examples=[],
        )
    waits_until = None
    if retention_days is not None:
        # The day's partition is dropped once the day is older than the retention.
        last_day = summary.oldest_event_ts.astimezone(UTC).date() + timedelta(days=retention_days + 1)
        waits_until = datetime.combine(last_day, time(), tzinfo=UTC)
    return OrphanEventsOut(
        providerId=provider_id,
        events=summary.events,
        conversations=summary.conversations,
        oldestEventTimestamp=summary.oldest_event_ts,
        oldestIngestedAt=summary.oldest_ingested_at,
        waitsUntil=waits_until,
        computedAt=summary.computed_at,
        examples=[OrphanConversation(**example) for example in summary.examples],
    )
