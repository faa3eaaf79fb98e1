"""``POST /v1/activities``: relationship-analytics input, upserted by ``activityId`` (a meeting can
be rescheduled). Each activity is validated on its own; rejected ones are kept for replay."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from shared.errors import ApiError, validation_details
from shared.ingest.canonical import canonical_json, content_id
from shared.ingest.events import Rejection, too_old
from shared.schema.activity import (
    MAX_ACTIVITIES_PER_REQUEST,
    Activity,
    ActivityEnvelope,
    ActivityResponse,
    ActivityResult,
)
from shared.schema.events import MAX_EVENT_BYTES
from shared.store.port import Store
from shared.store.records import Activity as ActivityRecord
from shared.store.records import FailedEvent, Provider, kept_payload

ENVELOPE = {"kind": "activity"}


def build_activity(
    provider_id: str, raw: Any, now: datetime, keep_from: date | None = None
) -> ActivityRecord | Rejection:
    if not isinstance(raw, dict):
        return Rejection("invalid_activity", "each activity must be a JSON object", [])
    if len(canonical_json(raw).encode()) > MAX_EVENT_BYTES:
        return Rejection("activity_too_large", f"the activity exceeds {MAX_EVENT_BYTES} bytes", [])
    try:
        activity = Activity.model_validate(raw)
    except ValidationError as exc:
        return Rejection("invalid_activity", "the activity has invalid fields", validation_details(exc))
    old = too_old("activity_too_old", "startTimestamp", activity.startTimestamp, keep_from)
    if old is not None:
        return old
    return ActivityRecord(
        provider_id=provider_id,
        activity_id=activity.activityId,
        data=activity.model_dump(mode="json", exclude_none=True),
        ingested_at=now,
    )


def failed_activity(provider_id: str, raw: Any, why: Rejection, now: datetime) -> FailedEvent:
    payload = canonical_json(raw)
    kept, size, digest = kept_payload(payload)  # the id still covers all of it
    return FailedEvent(
        provider_id=provider_id,
        failed_id=content_id("failed-", ENVELOPE, payload),
        received_at=now,
        code=why.code,
        message=why.message,
        details=why.details,
        payload=kept,
        payload_bytes=size,
        payload_digest=digest,
        envelope=dict(ENVELOPE),
    )


def log_activities(
    store: Store, provider: Provider, body: Any, now: datetime, keep_from: date | None = None
) -> ActivityResponse:
    if (
        isinstance(body, dict)
        and isinstance(body.get("activities"), list)
        and len(body["activities"]) > MAX_ACTIVITIES_PER_REQUEST
    ):
        raise ApiError(
            413,
            "too_many_activities",
            f"a request may carry at most {MAX_ACTIVITIES_PER_REQUEST} activities",
        )
    if not isinstance(body, dict):
        raise ApiError(422, "body_not_object", "the body must be a JSON object")
    try:
        env = ActivityEnvelope.model_validate(body)
    except ValidationError as exc:
        raise ApiError(
            422, "invalid_envelope", "the body has invalid fields", validation_details(exc)
        ) from exc

    built = [build_activity(provider.provider_id, raw, now, keep_from) for raw in env.activities]
    failures = [
        failed_activity(provider.provider_id, raw, b, now)
        for raw, b in zip(env.activities, built, strict=True)
        if isinstance(b, Rejection)
    ]
    store.add_failed_events(failures)
    created = iter(store.upsert_activities([b for b in built if isinstance(b, ActivityRecord)]))

    results = []
    counts = {"created": 0, "updated": 0, "rejected": 0}
    for index, item in enumerate(built):
        if isinstance(item, ActivityRecord):
            status = "created" if next(created) else "updated"
            results.append(ActivityResult(index=index, activityId=item.activity_id, status=status))
        else:
            status = "rejected"
            results.append(
                ActivityResult(
                    index=index,
                    activityId=None,
                    status=status,
                    error={"code": item.code, "message": item.message, "details": item.details},
                )
            )
        counts[status] += 1
    return ActivityResponse(**counts, results=results)
