"""Relationship-analytics input: e-mails, meetings and phone calls between our team and a customer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from shared.schema.fields import MAX_CLOCK_SKEW, Identifier, PlannedTimestamp, Str100, WireModel

MAX_ACTIVITIES_PER_REQUEST = 500


class ActivityParty(WireModel):
    partyId: Identifier
    side: Literal["us", "customer"] = Field(description="'us' = our team (seller), else the customer")
    role: Literal["from", "to", "attendee"]
    name: Str100 | None = None


class Activity(WireModel):
    activityId: Identifier
    activityType: Literal["email", "meeting", "phonecall"]
    regardingType: Literal["account", "contact", "lead", "opportunity"]
    regardingId: Identifier
    accountId: Identifier | None = None
    status: Literal["completed", "scheduled", "canceled"] = "completed"
    startTimestamp: PlannedTimestamp = Field(
        description="a scheduled activity may lie ahead (next interaction)"
    )
    endTimestamp: PlannedTimestamp | None = None
    inReplyToActivityId: Identifier | None = Field(None, description="for response times")
    parties: Annotated[list[ActivityParty], Field(min_length=1, max_length=100)]

    @model_validator(mode="after")
    def _shape(self) -> Activity:
        if self.endTimestamp is not None and self.endTimestamp < self.startTimestamp:
            raise ValueError("endTimestamp is before startTimestamp")
        if self.status == "completed" and self.startTimestamp > datetime.now(UTC) + MAX_CLOCK_SKEW:
            raise ValueError("a completed activity cannot start more than 24 hours in the future")
        senders = [p for p in self.parties if p.role == "from"]
        if len(senders) != 1:
            raise ValueError("exactly one party must have role 'from' (who initiated it)")
        return self


class ActivityBatch(WireModel):
    """Body of ``POST /v1/activities`` as documented."""

    activities: Annotated[list[Activity], Field(min_length=1, max_length=MAX_ACTIVITIES_PER_REQUEST)]


class ActivityEnvelope(WireModel):
    activities: Annotated[list[Any], Field(min_length=1)]


class ActivityResult(WireModel):
    index: int
    activityId: str | None
    status: Literal["created", "updated", "rejected"]
    error: dict[str, Any] | None = None


class ActivityResponse(WireModel):
    created: int
    updated: int
    rejected: int
    results: list[ActivityResult]
