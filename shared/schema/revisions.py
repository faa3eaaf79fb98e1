"""The earlier CIF revision of ``initLogAnalytics``: its field names, and the errors that point to
the current ones.

The earlier revision (Microsoft Docs, initLogAnalytics.md of late October 2019) named the conversation
start ``createdTimestamp``, sent ``regionData`` as an address object, and used short names inside
``session`` (``providerSessionId``, ``channel``, ``creationReason``, ...) and ``participants``
(``externalId``, ``name``, ``mode``, ``type``, ...). Those payloads are refused, not translated
(docs/api.md explains why): each such field gets a ``422`` detail naming the current field, in place of
the generic ``extra_forbidden``.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

# level -> {earlier name: current name}
RENAMED: dict[str, dict[str, str]] = {
    "conversation": {"createdTimestamp": "conversationTimestamp"},
    "session": {
        "providerSessionId": "sessionId",
        "channel": "sessionChannel",
        "creationReason": "sessionCreationReason",
        "additionalData": "sessionAdditionalData",
        "createdTimestamp": "sessionCreatedTimestamp",
        "agentAssignedTimestamp": "sessionAgentAssignedTimestamp",
        "queueAssignedTimestamp": "sessionQueueAssignedTimestamp",
    },
    "participant": {
        "externalId": "externalParticipantId",
        "name": "participantName",
        "mode": "participantMode",
        "type": "participantType",
        "addedTimestamp": "participantAddedTimestamp",
        "assignReason": "participantAssignReason",
    },
}
RENAMED_CODE = "cif_field_renamed"
CHANGED_CODE = "cif_field_changed"
REGION_MESSAGE = (
    "regionData is text of up to 1000 characters in the current CIF revision, not the earlier "
    "revision's address object (addressLine1, city, state, country, zip): send it as one string, "
    "e.g. 'Seattle, WA, US'"
)


def _level(loc: tuple[int | str, ...]) -> str | None:
    """Which CIF object the last element of ``loc`` belongs to (``conversation.session.name`` ...)."""
    parent = loc[:-1]
    if parent == ("conversation",):
        return "conversation"
    if parent[-1:] == ("session",) or (len(parent) >= 2 and parent[-2] == "sessions"):
        return "session"
    if len(parent) >= 2 and parent[-2] == "participants":
        return "participant"
    return None


def conversation_details(exc: ValidationError) -> list[dict[str, Any]]:
    """The per-field details of an invalid ``initLogAnalytics`` body, with fields of the earlier CIF
    revision explained (same shape as ``shared.errors.validation_details``)."""
    out = []
    for err in exc.errors(include_url=False, include_context=False):
        loc = tuple(err["loc"])
        field = ".".join(str(p) for p in loc)
        level = _level(loc) if loc else None
        current = RENAMED.get(level or "", {}).get(str(loc[-1])) if loc else None
        if err["type"] == "extra_forbidden" and current is not None:
            message = f"{loc[-1]!r} is the earlier CIF revision's name: send {current!r}"
            out.append({"field": field, "code": RENAMED_CODE, "message": message})
        elif level == "conversation" and loc[-1] == "regionData" and isinstance(err.get("input"), dict):
            out.append({"field": field, "code": CHANGED_CODE, "message": REGION_MESSAGE})
        else:
            out.append({"field": field, "code": err["type"], "message": err["msg"]})
    return out
