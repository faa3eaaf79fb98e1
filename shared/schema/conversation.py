"""``initLogAnalytics``: conversation, session and participant records (CIF names and limits)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from shared.schema.fields import CustomData, Identifier, Str100, Timestamp, WireModel, custom_data_dict


class Participant(WireModel):
    participantId: Identifier
    participantType: Literal["agent", "bot", "customer"]
    participantMode: Literal["primary", "consult", "monitor"]
    participantAddedTimestamp: Timestamp
    participantName: Str100 | None = None


class Session(WireModel):
    """One session of a conversation: a bot leg, an agent leg, a transfer target, ..."""

    sessionId: Identifier
    sessionCreatedTimestamp: Timestamp
    sessionQueueAssignedTimestamp: Timestamp | None = None
    sessionAgentAssignedTimestamp: Timestamp | None = None
    queueId: Str100 | None = None
    queueName: Str100 | None = None
    sessionChannel: Str100 | None = None
    participants: Annotated[list[Participant], Field(max_length=50)] = []

    @model_validator(mode="after")
    def _unique_participants(self) -> Session:
        ids = [p.participantId for p in self.participants]
        if len(ids) != len(set(ids)):
            raise ValueError("participantId values must be unique within a session")
        return self


class Conversation(WireModel):
    conversationId: Identifier
    channel: Str100
    direction: Literal["inbound", "outbound"]
    conversationTimestamp: Timestamp
    accountId: Identifier | None = None
    contactId: Identifier | None = None
    customerId: Identifier | None = None
    experienceId: Identifier | None = None
    platform: Str100 | None = Field(None, description="e.g. 'mobile' or 'desktop' for chatbots")
    regionData: Str100 | None = None
    additionalData: Annotated[str, StringConstraints(max_length=1000), Field(strict=True)] | None = None
    customData: CustomData | None = None
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


class ConversationRequest(WireModel):
    """Body of ``POST /v1/conversations``."""

    conversation: Conversation


class ConversationResponse(WireModel):
    conversationId: str
    created: bool
    sessions: int = Field(description="sessions the stored conversation now holds")
