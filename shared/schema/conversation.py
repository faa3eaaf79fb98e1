"""``initLogAnalytics``: conversation, session and participant records (CIF names and limits).

The fields are those of the current CIF reference of ``initLogAnalytics`` (docs/api.md, "CIF
compatibility", names the revision and maps every field), plus our own: ``direction``, ``customerId``,
``experienceId``, ``platform``, ``closedTimestamp`` and ``sessions``. Lengths follow the CIF entity
reference: 100 characters, except the conversation's ``additionalData`` and ``regionData`` (1000).

CIF repeats the parent's id inside nested objects (a session's ``conversationId``, a participant's
``sessionId`` and ``conversationId``): they are optional and must agree with the parent
(``parent_mismatches``); the stored record keeps the parent's id only.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from shared.schema.fields import (
    CifModel,
    CustomData,
    Identifier,
    Str100,
    Text1000,
    Timestamp,
    WireModel,
    custom_data_dict,
)

Region = Annotated[str, StringConstraints(min_length=1, max_length=1000), Field(strict=True)]

# Ids CIF repeats from the parent object: checked against it, never stored twice.
REPEATED_IDS = {"session": ("conversationId",), "participant": ("sessionId", "conversationId")}


def _repeated(description: str) -> Any:
    return Field(None, description=f"CIF repeats the {description} here; when sent it must be the same")


class Participant(CifModel):
    sessionId: Identifier | None = _repeated("session's sessionId")
    conversationId: Identifier | None = _repeated("conversation's conversationId")
    participantId: Identifier
    externalParticipantId: Identifier | None = Field(None, description="the participant's id elsewhere")
    participantName: Str100 | None = None
    externalParticipantName: Str100 | None = None
    participantMode: Literal["primary", "consult", "monitor"]
    participantType: Literal["agent", "bot", "customer"]
    participantAddedTimestamp: Timestamp
    participantAssignReason: Str100 | None = Field(None, description="why the participant was added")
    customData: CustomData | None = None

    @model_validator(mode="after")
    def _custom(self) -> Participant:
        custom_data_dict(self.customData)  # a repeated attribute would make the value ambiguous
        return self


class Session(CifModel):
    """One session of a conversation: a bot leg, an agent leg, a transfer target, ..."""

    conversationId: Identifier | None = _repeated("conversation's conversationId")
    sessionId: Identifier
    sessionName: Str100 | None = None
    clientSessionId: Identifier | None = Field(
        None,
        description="the agent desktop's session id; events that name it (logAnalyticsEvent "
        "clientSessionId) count on this session",
    )
    clientSessionName: Str100 | None = None
    sessionChannel: Str100 | None = None
    sessionCreationReason: Str100 | None = None
    sessionAdditionalData: Str100 | None = None
    externalCorrelationId: Identifier | None = None
    sessionCreatedTimestamp: Timestamp
    sessionAgentAssignedTimestamp: Timestamp | None = None
    sessionQueueAssignedTimestamp: Timestamp | None = None
    queueId: Str100 | None = None
    queueName: Str100 | None = None
    customData: CustomData | None = None
    participants: Annotated[list[Participant], Field(max_length=50)] = []

    @model_validator(mode="after")
    def _unique_participants(self) -> Session:
        ids = [p.participantId for p in self.participants]
        if len(ids) != len(set(ids)):
            raise ValueError("participantId values must be unique within a session")
        custom_data_dict(self.customData)
        return self


class Conversation(CifModel):
    conversationId: Identifier
    backendConversationId: Identifier | None = None
    channel: Str100
    channelContext: Str100 | None = None
    direction: Literal["inbound", "outbound"] = Field(
        "inbound", description="not a CIF field; a conversation registered without it is inbound"
    )
    regionData: Region | None = Field(None, description="free text, up to 1000 characters")
    providerId: Identifier | None = Field(
        None, description="the integration's own label; the API key alone decides whose data it is"
    )
    externalProviderId: Identifier | None = None
    providerName: Str100 | None = None
    externalProviderName: Str100 | None = None
    accountId: Identifier | None = None
    externalAccountId: Identifier | None = None
    contactId: Identifier | None = None
    externalContactId: Identifier | None = None
    additionalData: Text1000 | None = None
    externalCorrelationId: Identifier | None = None
    conversationTimestamp: Timestamp
    customData: CustomData | None = None
    customerId: Identifier | None = None
    experienceId: Identifier | None = None
    platform: Str100 | None = Field(None, description="e.g. 'mobile' or 'desktop' for chatbots")
    closedTimestamp: Timestamp | None = None
    session: Session | None = None
    sessions: Annotated[list[Session], Field(max_length=100)] | None = None

    @model_validator(mode="after")
    def _sessions(self) -> Conversation:
        if self.session is not None and self.sessions is not None:
            raise ValueError("send either 'session' or 'sessions', not both")
        ids = [s.sessionId for s in self.all_sessions()]
        if len(ids) != len(set(ids)):
            raise ValueError("sessionId values must be unique within a conversation")
        if self.closedTimestamp is not None and self.closedTimestamp < self.conversationTimestamp:
            raise ValueError("closedTimestamp is before conversationTimestamp")
        custom_data_dict(self.customData)  # a repeated attribute would make the value ambiguous
        return self

    def all_sessions(self) -> list[Session]:
        if self.session is not None:
            return [self.session]
        return list(self.sessions or [])

    def session_paths(self) -> list[tuple[str, Session]]:
        """Each session with the path a field error names it by (``conversation.session``...)."""
        if self.session is not None:
            return [("conversation.session", self.session)]
        return [(f"conversation.sessions.{i}", s) for i, s in enumerate(self.sessions or [])]


def parent_mismatches(conversation: Conversation) -> list[dict[str, Any]]:
    """Per-field details where a repeated parent id differs from its parent (``[]`` when none)."""
    out = []

    def check(path: str, field: str, sent: str | None, parent: str, what: str) -> None:
        if sent is not None and sent != parent:
            out.append(
                {
                    "field": f"{path}.{field}",
                    "code": "parent_mismatch",
                    "message": f"{sent!r} differs from the {what} {parent!r}",
                }
            )

    conversation_id = conversation.conversationId
    for path, session in conversation.session_paths():
        check(path, "conversationId", session.conversationId, conversation_id, "conversationId")
        for index, person in enumerate(session.participants):
            at = f"{path}.participants.{index}"
            check(at, "sessionId", person.sessionId, session.sessionId, "session's sessionId")
            check(at, "conversationId", person.conversationId, conversation_id, "conversationId")
    return out


class ConversationRequest(WireModel):
    """Body of ``POST /v1/conversations`` (the ``data`` of CIF's ``initLogAnalytics``)."""

    conversation: Conversation


class ConversationResponse(WireModel):
    conversationId: str
    created: bool
    sessions: int = Field(description="sessions the stored conversation now holds")
