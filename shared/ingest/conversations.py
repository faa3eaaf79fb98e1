"""``POST /v1/conversations``: create or update a conversation with its sessions (idempotent).

A repeated call overlays the fields it sends on what is stored; sessions merge by ``sessionId`` and
participants by ``participantId``, so a provider can add the agent leg of a conversation later.
A field that is not sent (or sent as ``""``) keeps its stored value; ``direction`` is ``inbound`` when
the conversation is created without one.

The CIF ``providerId`` / ``providerName`` of the body (and their ``external`` forms) are stored as the
integration's own labels: whose conversation it is comes from the API key alone.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from shared.errors import ApiError
from shared.ingest.events import too_old
from shared.schema.conversation import (
    REPEATED_IDS,
    ConversationRequest,
    ConversationResponse,
    parent_mismatches,
)
from shared.schema.revisions import conversation_details
from shared.store.port import Store
from shared.store.records import Provider


def _merge_by(
    old: list[dict[str, Any]], new: list[dict[str, Any]], key: str, nested: str | None = None
) -> list[dict[str, Any]]:
    """Merge two lists of objects by ``key``; sent fields win, unsent ones are kept."""
    merged = {item[key]: item for item in old}
    for item in new:
        previous = merged.get(item[key])
        if previous is None:
            merged[item[key]] = item
            continue
        combined = {**previous, **item}
        if nested:
            combined[nested] = _merge_by(previous.get(nested, []), item.get(nested, []), "participantId")
        merged[item[key]] = combined
    return list(merged.values())


def merge_conversation(old: dict[str, Any] | None, incoming: dict[str, Any]) -> dict[str, Any]:
    if old is None:
        return {"direction": "inbound", **incoming}
    merged = {**old, **{k: v for k, v in incoming.items() if k != "sessions"}}
    merged["sessions"] = _merge_by(
        old.get("sessions", []), incoming.get("sessions", []), "sessionId", "participants"
    )
    return merged


# The parent ids CIF repeats inside sessions and participants: checked above, stored once.
_REPEATED: Any = {
    **dict.fromkeys(REPEATED_IDS["session"], True),
    "participants": {"__all__": set(REPEATED_IDS["participant"])},
}


def register_conversation(
    store: Store, provider: Provider, body: dict[str, Any], now: datetime, keep_from: date | None = None
) -> tuple[int, ConversationResponse]:
    try:
        request = ConversationRequest.model_validate(body)
    except ValidationError as exc:
        raise ApiError(
            422, "validation_failed", "the body has invalid fields", conversation_details(exc)
        ) from exc
    conv = request.conversation
    # A conversation counts on the days it started and closed: refused only when even the later one
    # is a day the warehouse no longer keeps.
    latest = conv.closedTimestamp or conv.conversationTimestamp
    field = "closedTimestamp" if conv.closedTimestamp else "conversationTimestamp"
    old = too_old("conversation_too_old", f"conversation.{field}", latest, keep_from)
    if old is not None:
        raise ApiError(422, old.code, old.message, old.details)
    mismatches = parent_mismatches(conv)
    if mismatches:
        raise ApiError(
            422, "validation_failed", "a repeated id differs from its parent object's id", mismatches
        )
    # Only what was sent: an update never resets a stored field to its default.
    data = conv.model_dump(
        mode="json", exclude_none=True, exclude_unset=True, exclude={"session", "sessions"}
    )
    data["sessions"] = [
        {
            "participants": [],
            **s.model_dump(mode="json", exclude_none=True, exclude_unset=True, exclude=_REPEATED),
        }
        for s in conv.all_sessions()
    ]
    record, created = store.upsert_conversation(
        provider.provider_id, conv.conversationId, lambda old: merge_conversation(old, data), now
    )
    response = ConversationResponse(
        conversationId=conv.conversationId, created=created, sessions=len(record.data.get("sessions", []))
    )
    return (201 if created else 200), response
