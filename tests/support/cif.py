"""The payloads a Channel Integration Framework integration sends, built from the published field lists
of the current CIF reference (initLogAnalytics.md and logAnalyticsEvent.md, docs/api.md names the
revision): every documented field present, with the values a provider would put there.

``data`` of ``Microsoft.CIFramework.initLogAnalytics(data, correlationId)`` is the body of
``POST /v1/conversations``; ``data`` of ``logAnalyticsEvent(data, eventName, correlationId)`` the body of
``POST /v1/events``; ``correlationId`` travels as ``X-Correlation-Id``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

# The published field lists, in the reference's order.
CONVERSATION_FIELDS = (
    "conversationId",
    "backendConversationId",
    "channel",
    "channelContext",
    "regionData",
    "providerId",
    "externalProviderId",
    "providerName",
    "externalProviderName",
    "accountId",
    "externalAccountId",
    "contactId",
    "externalContactId",
    "additionalData",
    "externalCorrelationId",
    "conversationTimestamp",
    "customData",
    "session",
)
SESSION_FIELDS = (
    "conversationId",
    "sessionId",
    "sessionName",
    "clientSessionId",
    "clientSessionName",
    "sessionChannel",
    "sessionCreationReason",
    "sessionAdditionalData",
    "externalCorrelationId",
    "sessionCreatedTimestamp",
    "sessionAgentAssignedTimestamp",
    "sessionQueueAssignedTimestamp",
    "queueId",
    "queueName",
    "customData",
    "participants",
)
PARTICIPANT_FIELDS = (
    "sessionId",
    "conversationId",
    "participantId",
    "externalParticipantId",
    "participantName",
    "externalParticipantName",
    "participantMode",
    "participantType",
    "participantAddedTimestamp",
    "participantAssignReason",
    "customData",
)
ENVELOPE_FIELDS = ("conversationId", "providerSessionId", "clientSessionId", "participantId", "events")
EVENT_FIELDS = (
    "kpiEventName",
    "kpiEventReason",
    "eventTimestamp",
    "additionalData",
    "notificationResponseAction",
    "externalCorrelationId",
    "customData",
)
# What CIF requires (conversationId, providerSessionId) or the KPIs cannot do without.
REQUIRED = {
    "conversation": {"conversationId", "channel", "conversationTimestamp"},
    "session": {"sessionId", "sessionCreatedTimestamp"},
    "participant": {"participantId", "participantMode", "participantType", "participantAddedTimestamp"},
    "envelope": {"conversationId", "providerSessionId", "events"},
    "event": {"kpiEventName", "eventTimestamp"},
}

# The CIF provider record's id (msdyn_ciproviderid): what an integration puts in ``providerId``.
CIF_PROVIDER_ID = "5f3c1c2e-8d4b-4b8e-9a51-0c2f6d1e7a10"


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def cif_participant(
    conversation_id: str,
    session_id: str,
    participant_id: str,
    at: datetime,
    *,
    kind: str = "agent",
    mode: str = "primary",
) -> dict[str, Any]:
    return {
        "sessionId": session_id,
        "conversationId": conversation_id,
        "participantId": participant_id,
        "externalParticipantId": f"ext-{participant_id}",
        "participantName": f"Name of {participant_id}",
        "externalParticipantName": f"External name of {participant_id}",
        "participantMode": mode,
        "participantType": kind,
        "participantAddedTimestamp": iso(at),
        "participantAssignReason": "Routed" if kind == "agent" else "Initiated",
        "customData": [{"attribute": "skill", "value": "billing"}, {"attribute": "level", "value": 2}],
    }


def cif_session(
    conversation_id: str,
    session_id: str,
    client_session_id: str,
    start: datetime,
    *,
    agent: str | None = "agent-7",
    customer: str | None = "caller-1",
    queued_s: float = 2,
    assigned_s: float = 4,
) -> dict[str, Any]:
    participants = []
    if customer is not None:
        participants.append(
            cif_participant(conversation_id, session_id, customer, start, kind="customer", mode="primary")
        )
    if agent is not None:
        participants.append(
            cif_participant(conversation_id, session_id, agent, start + timedelta(seconds=assigned_s))
        )
    return {
        "conversationId": conversation_id,
        "sessionId": session_id,
        "sessionName": f"Call {session_id}",
        "clientSessionId": client_session_id,
        "clientSessionName": "Caller +1 425 555 0100",
        "sessionChannel": "voice",
        "sessionCreationReason": "IncomingCall",
        "sessionAdditionalData": "priority=normal",
        "externalCorrelationId": f"pbx-leg-{session_id}",
        "sessionCreatedTimestamp": iso(start + timedelta(seconds=1)),
        "sessionAgentAssignedTimestamp": iso(start + timedelta(seconds=assigned_s)),
        "sessionQueueAssignedTimestamp": iso(start + timedelta(seconds=queued_s)),
        "queueId": "billing",
        "queueName": "Billing",
        "customData": [{"attribute": "ivrPath", "value": "1-3"}],
        "participants": participants,
    }


def init_log_analytics(
    conversation_id: str,
    start: datetime,
    *,
    session: dict[str, Any] | None = None,
    provider_id: str = CIF_PROVIDER_ID,
) -> dict[str, Any]:
    """The ``data`` of ``initLogAnalytics``: one conversation with its session, every field present."""
    return {
        "conversation": {
            "conversationId": conversation_id,
            "backendConversationId": f"backend-{conversation_id}",
            "channel": "voice",
            "channelContext": "softphone",
            "regionData": "Seattle, WA, US",
            "providerId": provider_id,
            "externalProviderId": "contoso-pbx-eu-1",
            "providerName": "Contoso Voice",
            "externalProviderName": "Contoso PBX",
            "accountId": "account-42",
            "externalAccountId": "erp-account-42",
            "contactId": "contact-9",
            "externalContactId": "erp-contact-9",
            "additionalData": "campaign=spring",
            "externalCorrelationId": f"pbx-call-{conversation_id}",
            "conversationTimestamp": iso(start),
            "customData": [{"attribute": "tier", "value": "gold"}, {"attribute": "vip", "value": True}],
            "session": session
            if session is not None
            else cif_session(conversation_id, f"{conversation_id}-s1", f"{conversation_id}-desk", start),
        }
    }


def cif_event(
    name: str,
    at: datetime,
    *,
    reason: str = "Routine",
    action: str = "Accept",
    custom: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One event of ``logAnalyticsEvent``, every field present (CIF's event carries
    ``notificationResponseAction`` whatever its name; only NotificationResponse's counts)."""
    return {
        "kpiEventName": name,
        "kpiEventReason": reason,
        "eventTimestamp": iso(at),
        "additionalData": f"{name} logged by the softphone",
        "notificationResponseAction": action,
        "externalCorrelationId": f"pbx-{name}-{iso(at)}",
        "customData": custom if custom is not None else [{"attribute": "source", "value": "softphone"}],
    }


def log_analytics_event(
    conversation_id: str,
    provider_session_id: str,
    client_session_id: str,
    participant_id: str,
    events: list[dict[str, Any]],
) -> dict[str, Any]:
    """The ``data`` of ``logAnalyticsEvent``, every field present."""
    return {
        "conversationId": conversation_id,
        "providerSessionId": provider_session_id,
        "clientSessionId": client_session_id,
        "participantId": participant_id,
        "events": events,
    }


def handled_call_events(start: datetime, answer_s: float, *, offered_s: float = 5) -> list[dict[str, Any]]:
    """An agent offered the call, accepted it ``answer_s`` after the start, closed it; the conversation
    resolved and rated."""

    def at(seconds: float) -> datetime:
        return start + timedelta(seconds=seconds)

    return [
        cif_event("NotificationReceived", at(offered_s)),
        cif_event("NotificationResponse", at(answer_s), action="Accept"),
        cif_event("SessionStarted", at(answer_s + 1)),
        cif_event("SessionClosed", at(answer_s + 240), reason="Completed"),
        cif_event("ConversationClosed", at(answer_s + 250), reason="Resolved"),
        cif_event("SurveyAnswered", at(answer_s + 260), custom=[{"attribute": "csat", "value": 5}]),
    ]
