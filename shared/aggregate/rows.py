"""Store records as warehouse rows: dicts keyed by the raw tables' column names.

A conversation is one store document with its sessions and participants embedded (CIF field names,
as the ingest function stored them); it becomes one ``raw_conversations`` row plus one row per
session and per participant. Free text (``regionData``, ``additionalData``, ``sessionAdditionalData``)
and names (``participantName``, ``externalParticipantName``, ``clientSessionName``) stay in the store
(docs/privacy.md). Every row also carries ``_version``, the store timestamp that orders
versions of the same key, so staging can keep the latest version when a key appears twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.store.records import SETTINGS_FIELDS, Activity, Conversation, Event, FailedEvent, ProviderSettings

VERSION = "_version"

Row = dict[str, Any]


def _instant(text: str | None) -> datetime | None:
    """The ISO 8601 text the ingest models stored (always with an offset) as an aware datetime."""
    return None if text is None else datetime.fromisoformat(text)


def _custom(items: list[dict[str, Any]] | None) -> dict[str, Any] | None:
    """CIF ``customData`` pairs as stored (attributes unique, checked at ingest) -> ``{attribute: value}``."""
    return None if items is None else {item["attribute"]: item["value"] for item in items}


@dataclass
class ConversationRows:
    conversations: list[Row] = field(default_factory=list)
    sessions: list[Row] = field(default_factory=list)
    participants: list[Row] = field(default_factory=list)


def conversation_rows(records: list[Conversation]) -> ConversationRows:
    out = ConversationRows()
    for record in records:
        data = record.data
        keys = {"provider_id": record.provider_id, "conversation_id": record.conversation_id}
        out.conversations.append(
            {
                **keys,
                "channel": data["channel"],
                "direction": data.get("direction", "inbound"),
                "conversation_ts": _instant(data["conversationTimestamp"]),
                "closed_ts": _instant(data.get("closedTimestamp")),
                "customer_id": data.get("customerId"),
                "account_id": data.get("accountId"),
                "contact_id": data.get("contactId"),
                "experience_id": data.get("experienceId"),
                "platform": data.get("platform"),
                "updated_at": record.updated_at,
                "backend_conversation_id": data.get("backendConversationId"),
                "channel_context": data.get("channelContext"),
                "external_correlation_id": data.get("externalCorrelationId"),
                "cif_provider_id": data.get("providerId"),
                "cif_provider_name": data.get("providerName"),
                "external_provider_id": data.get("externalProviderId"),
                "external_provider_name": data.get("externalProviderName"),
                "external_account_id": data.get("externalAccountId"),
                "external_contact_id": data.get("externalContactId"),
                "custom_data": _custom(data.get("customData")),
                VERSION: record.updated_at,
            }
        )
        for session in data.get("sessions", []):
            session_keys = {**keys, "session_id": session["sessionId"]}
            out.sessions.append(
                {
                    **session_keys,
                    "created_ts": _instant(session["sessionCreatedTimestamp"]),
                    "queue_assigned_ts": _instant(session.get("sessionQueueAssignedTimestamp")),
                    "agent_assigned_ts": _instant(session.get("sessionAgentAssignedTimestamp")),
                    "queue_id": session.get("queueId"),
                    "queue_name": session.get("queueName"),
                    "session_channel": session.get("sessionChannel"),
                    "session_name": session.get("sessionName"),
                    "client_session_id": session.get("clientSessionId"),
                    "creation_reason": session.get("sessionCreationReason"),
                    "external_correlation_id": session.get("externalCorrelationId"),
                    "custom_data": _custom(session.get("customData")),
                    VERSION: record.updated_at,
                }
            )
            for participant in session.get("participants", []):
                out.participants.append(
                    {
                        **session_keys,
                        "participant_id": participant["participantId"],
                        "participant_type": participant["participantType"],
                        "participant_mode": participant["participantMode"],
                        "added_ts": _instant(participant["participantAddedTimestamp"]),
                        "external_participant_id": participant.get("externalParticipantId"),
                        "assign_reason": participant.get("participantAssignReason"),
                        "custom_data": _custom(participant.get("customData")),
                        VERSION: record.updated_at,
                    }
                )
    return out


def event_rows(records: list[Event]) -> list[Row]:
    return [
        {
            "provider_id": e.provider_id,
            "event_id": e.event_id,
            "conversation_id": e.conversation_id,
            # Resolved in the warehouse for events sent with a clientSessionId (event_sessions.py).
            "session_id": e.provider_session_id,
            "participant_id": e.participant_id,
            "name": e.name,
            "reason": e.reason,
            "event_ts": e.event_ts,
            "response_action": e.response_action,
            "custom_data": e.custom_data,
            "schema": e.schema,
            "ingested_at": e.ingested_at,
            "provider_session_id": e.provider_session_id,
            "client_session_id": e.client_session_id,
            "external_correlation_id": e.external_correlation_id,
            VERSION: e.ingested_at,
        }
        for e in records
    ]


def failed_event_rows(records: list[FailedEvent]) -> list[Row]:
    """Reason and status only: the payload stays in the store, where an operator replays it."""
    return [
        {
            "provider_id": f.provider_id,
            "failed_id": f.failed_id,
            "received_at": f.received_at,
            "code": f.code,
            "message": f.message,
            "kind": f.envelope.get("kind", "event"),
            "status": f.status,
            "replayed_at": f.replayed_at,
            VERSION: f.replayed_at or f.received_at,
        }
        for f in records
    ]


@dataclass
class ActivityRows:
    activities: list[Row] = field(default_factory=list)
    parties: list[Row] = field(default_factory=list)


def activity_rows(records: list[Activity]) -> ActivityRows:
    out = ActivityRows()
    for a in records:
        data = a.data
        parties = data["parties"]
        # Ingest admits an activity only with exactly one party in role "from": its initiator.
        initiator = next(p for p in parties if p["role"] == "from")
        out.activities.append(
            {
                "provider_id": a.provider_id,
                "activity_id": a.activity_id,
                "activity_type": data["activityType"],
                "regarding_type": data["regardingType"],
                "regarding_id": data["regardingId"],
                "account_id": data.get("accountId"),
                "status": data.get("status", "completed"),
                "start_ts": _instant(data["startTimestamp"]),
                "end_ts": _instant(data.get("endTimestamp")),
                "in_reply_to": data.get("inReplyToActivityId"),
                "initiated_by": initiator["side"],
                "parties": parties,
                "ingested_at": a.ingested_at,
                VERSION: a.ingested_at,
            }
        )
        # One row per party; a party listed twice (two roles) takes part once, as its first role.
        seen: set[str] = set()
        for party in parties:
            if party["partyId"] in seen:
                continue
            seen.add(party["partyId"])
            out.parties.append(
                {
                    "provider_id": a.provider_id,
                    "activity_id": a.activity_id,
                    "party_id": party["partyId"],
                    "side": party["side"],
                    "role": party["role"],
                    VERSION: a.ingested_at,
                }
            )
    return out


def provider_settings_rows(records: list[ProviderSettings]) -> list[Row]:
    """``provider_settings`` rows: the record's fields are the table's columns."""
    return [
        {
            "provider_id": r.provider_id,
            "updated_at": r.updated_at,
            **{f: getattr(r, f) for f in SETTINGS_FIELDS},
            VERSION: r.updated_at,
        }
        for r in records
    ]
