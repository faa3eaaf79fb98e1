"""Listing and replaying failed events: nothing a provider sent is lost.

Replay runs the stored payload through the same validation as ingest, with today's registry and
custom events, so fixing the cause (say, registering a custom event) and replaying recovers it.
"""

from __future__ import annotations

import json
from datetime import date, datetime

from shared.errors import ApiError, validate_request
from shared.ingest.activities import build_activity
from shared.ingest.events import EventResolver, Rejection, build_event, insert_checked, replay_payload
from shared.schema.provider import (
    FAILED_STATUSES,
    FailedEventOut,
    FailedEventPage,
    ReplayItem,
    ReplayRequest,
    ReplayResponse,
)
from shared.store.port import Store
from shared.store.records import Activity, Event, FailedEvent


def failed_out(f: FailedEvent) -> FailedEventOut:
    try:
        payload = json.loads(f.payload)
    except ValueError:
        payload = f.payload
    return FailedEventOut(
        failedId=f.failed_id,
        receivedAt=f.received_at,
        code=f.code,
        message=f.message,
        details=f.details,
        payload=payload,
        envelope=f.envelope,
        status=f.status,
        replayedAt=f.replayed_at,
        replayedEventId=f.replayed_event_id,
        payloadTruncated=f.truncated,
        payloadBytes=f.payload_bytes,
        payloadDigest=f.payload_digest,
    )


def list_failed(
    store: Store, provider_id: str, status: str | None, limit: int, cursor: str | None
) -> FailedEventPage:
    if status is not None and status not in FAILED_STATUSES:
        raise ApiError(400, "invalid_query", f"status must be one of {', '.join(FAILED_STATUSES)}")
    try:
        page = store.list_failed_events(provider_id, status, limit, cursor)
    except ValueError as exc:
        raise ApiError(400, "invalid_cursor", "the cursor is not one this API issued") from exc
    return FailedEventPage(items=[failed_out(f) for f in page.items], nextCursor=page.next_cursor)


def _replay_one(
    store: Store, resolver: EventResolver, failed: FailedEvent, now: datetime, keep_from: date | None
) -> ReplayItem:
    if failed.truncated:
        # Only its start was kept (it was far over the size any event may have): nothing to rebuild.
        return ReplayItem(
            failedId=failed.failed_id,
            status="rejected",
            error={
                "code": "payload_truncated",
                "message": "only the first 64 KiB of this payload were kept; the provider must send it again",
                "details": [],
            },
        )
    if failed.envelope.get("kind") == "activity":
        built = build_activity(failed.provider_id, json.loads(failed.payload), now, keep_from)
        if isinstance(built, Activity):
            store.upsert_activities([built])
            store.mark_failed_replayed(failed.provider_id, failed.failed_id, built.activity_id, now)
            return ReplayItem(failedId=failed.failed_id, status="accepted", eventId=built.activity_id)
    else:
        envelope, raw = replay_payload(failed)
        built = build_event(failed.provider_id, envelope, raw, resolver, now, keep_from)
        if isinstance(built, Event):
            # A reused eventId stays a conflict on replay: marking it replayed would drop it.
            outcome = insert_checked(store, [built])[0]
            if not isinstance(outcome, Rejection):
                store.mark_failed_replayed(failed.provider_id, failed.failed_id, built.event_id, now)
                return ReplayItem(
                    failedId=failed.failed_id,
                    status="accepted" if outcome else "duplicate",
                    eventId=built.event_id,
                )
            built = outcome
    assert isinstance(built, Rejection)
    return ReplayItem(
        failedId=failed.failed_id,
        status="rejected",
        error={"code": built.code, "message": built.message, "details": built.details},
    )


def replay(
    store: Store, provider_id: str, body: dict | None, now: datetime, keep_from: date | None = None
) -> ReplayResponse:
    req = validate_request(ReplayRequest, body or {})
    resolver = EventResolver(store, provider_id)
    results: list[ReplayItem] = []
    if req.failedIds is not None:
        targets = []
        for failed_id in req.failedIds:
            failed = store.get_failed_event(provider_id, failed_id)
            if failed is None:
                results.append(ReplayItem(failedId=failed_id, status="not_found"))
            elif failed.status == "replayed":
                results.append(
                    ReplayItem(
                        failedId=failed_id, status="already_replayed", eventId=failed.replayed_event_id
                    )
                )
            elif failed.status == "erased":
                # A customer erasure redacted it: there is nothing left to replay.
                results.append(ReplayItem(failedId=failed_id, status="erased"))
            else:
                targets.append(failed)
    else:
        targets = store.list_failed_events(provider_id, "open", req.limit).items
    results.extend(_replay_one(store, resolver, f, now, keep_from) for f in targets)
    return ReplayResponse(
        replayed=sum(r.status in ("accepted", "duplicate") for r in results),
        stillFailing=sum(r.status == "rejected" for r in results),
        results=results,
    )
