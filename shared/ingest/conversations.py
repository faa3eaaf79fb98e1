"""``POST /v1/conversations``: create or update a conversation with its sessions (idempotent).

A repeated call overlays the fields it sends on what is stored; sessions merge by ``sessionId`` and
participants by ``participantId``, so a provider can add the agent leg of a conversation later.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from shared.errors import ApiError, validate_request
from shared.ingest.events import too_old
from shared.schema.conversation import ConversationRequest, ConversationResponse
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
        return incoming
    merged = {**old, **{k: v for k, v in incoming.items() if k != "sessions"}}
    merged["sessions"] = _merge_by(
        old.get("sessions", []), incoming.get("sessions", []), "sessionId", "participants"
    )
    return merged


def register_conversation(
    store: Store, provider: Provider, body: dict[str, Any], now: datetime, keep_from: date | None = None
) -> tuple[int, ConversationResponse]:
    request = validate_request(ConversationRequest, body)
    conv = request.conversation
    # A conversation counts on the days it started and closed: refused only when even the later one
    # is a day the warehouse no longer keeps.
    latest = conv.closedTimestamp or conv.conversationTimestamp
    field = "closedTimestamp" if conv.closedTimestamp else "conversationTimestamp"
    old = too_old("conversation_too_old", f"conversation.{field}", latest, keep_from)
    if old is not None:
        raise ApiError(422, old.code, old.message, old.details)
    data = conv.model_dump(mode="json", exclude_none=True, exclude={"session", "sessions"})
    data["sessions"] = [s.model_dump(mode="json", exclude_none=True) for s in conv.all_sessions()]
    record, created = store.upsert_conversation(
        provider.provider_id, conv.conversationId, lambda old: merge_conversation(old, data), now
    )
    response = ConversationResponse(
        conversationId=conv.conversationId, created=created, sessions=len(record.data.get("sessions", []))
    )
    return (201 if created else 200), response
