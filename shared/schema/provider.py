"""Operator-facing models: providers, keys, audit, custom event definitions, failed events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints, field_validator, model_validator
from pydantic_core import PydanticCustomError

from shared.schema.events import EventName
from shared.schema.fields import ProviderId, Str100, WireModel


class ProviderCreate(WireModel):
    providerId: ProviderId
    name: Str100
    enableAnalytics: bool = Field(False, strict=True)


def _boolean_only(schema: dict[str, Any]) -> None:
    """Document an optional switch as a plain boolean: it may be left out, but never sent as null."""
    schema.pop("anyOf", None)
    schema.pop("default", None)
    schema["type"] = "boolean"


class ProviderPatch(WireModel):
    """The operator's two switches; send either or both. Any other field is refused (no mass
    assignment), and so is an empty body."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    enableAnalytics: bool | None = Field(
        None, strict=True, description="the analytics flag", json_schema_extra=_boolean_only
    )
    requireSignature: bool | None = Field(
        None,
        strict=True,
        description="refuse the provider's unsigned ingest requests; needs a live signing secret",
        json_schema_extra=_boolean_only,
    )

    @field_validator("enableAnalytics", "requireSignature", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise PydanticCustomError(
                "bool_type", "Input should be a valid boolean; leave the field out to keep it as it is"
            )
        return value

    @model_validator(mode="after")
    def _changes_something(self) -> ProviderPatch:
        if not self.model_fields_set:
            raise PydanticCustomError("missing", "send enableAnalytics, requireSignature or both")
        return self


class KeyRotate(WireModel):
    """Body of both rotations: API keys and request-signing secrets."""

    revokeOthers: bool = Field(
        False,
        strict=True,
        description="end every other key (or signing secret) now instead of after the grace period",
    )


class SigningSecretOut(WireModel):
    secretId: str
    createdAt: datetime
    expiresAt: datetime | None
    active: bool


class SigningSecretCreated(WireModel):
    providerId: str
    secretId: str
    signingSecret: str = Field(description="shown once; sign requests with it (docs/api.md, Request signing)")
    createdAt: datetime
    otherSecretsExpireAt: datetime | None


class ProviderOut(WireModel):
    providerId: str
    name: str
    enableAnalytics: bool
    requireSignature: bool
    signingSecrets: list[SigningSecretOut] = Field(description="metadata only, never a secret")
    createdAt: datetime
    updatedAt: datetime


class ProviderCreated(ProviderOut):
    apiKey: str = Field(description="shown once; only its hash is stored")
    keyId: str


class KeyCreated(WireModel):
    providerId: str
    keyId: str
    apiKey: str = Field(description="shown once; only its hash is stored")
    otherKeysExpireAt: datetime | None


class KeyOut(WireModel):
    keyId: str
    createdAt: datetime
    expiresAt: datetime | None
    active: bool


class AuditOut(WireModel):
    auditId: str
    at: datetime
    actor: str
    action: str
    field: str
    old: Any
    new: Any


class AuditPage(WireModel):
    items: list[AuditOut]
    nextCursor: str | None


SchemaVer = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]*-[0-9]+-[0-9]+$"), Field(strict=True)]


class EventDefinitionBody(WireModel):
    """Body of ``PUT .../event-definitions/{name}``: the name is the path's, so the body cannot carry
    a second, conflicting one."""

    version: SchemaVer = "1-0-0"
    active: bool = Field(True, strict=True)
    description: Annotated[str, StringConstraints(max_length=500), Field(strict=True)] = ""


class EventDefinitionIn(EventDefinitionBody):
    """A provider's custom KPI event (System events come from the registry and cannot be redefined)."""

    name: EventName


class EventDefinitionOut(WireModel):
    name: str
    kind: Literal["System", "Custom"]
    version: str
    active: bool
    description: str
    schema_: str = Field(alias="schema")


FailedStatus = Literal["open", "replayed", "erased"]
"""``erased``: a customer erasure redacted its payload, envelope and details (docs/privacy.md)."""
FAILED_STATUSES: tuple[str, ...] = FailedStatus.__args__


class FailedEventOut(WireModel):
    failedId: str
    receivedAt: datetime
    code: str
    message: str
    details: list[dict[str, Any]]
    payload: Any
    envelope: dict[str, Any]
    status: FailedStatus
    replayedAt: datetime | None
    replayedEventId: str | None
    payloadTruncated: bool = Field(
        False, description="only the start of a payload over 64 KiB is kept: payload is then that text"
    )
    payloadBytes: int | None = Field(None, description="size of the whole payload received, when truncated")
    payloadDigest: str | None = Field(None, description="sha256 (hex) of the whole payload, when truncated")


class FailedEventPage(WireModel):
    items: list[FailedEventOut]
    nextCursor: str | None


class ReplayRequest(WireModel):
    failedIds: Annotated[list[Str100], Field(max_length=500)] | None = Field(
        None, description="replay these; omit to replay every open failed event (up to 'limit')"
    )
    limit: int = Field(500, ge=1, le=500, strict=True)


class ReplayItem(WireModel):
    failedId: str
    status: Literal["accepted", "duplicate", "rejected", "not_found", "already_replayed", "erased"]
    eventId: str | None = None
    error: dict[str, Any] | None = None


class ReplayResponse(WireModel):
    replayed: int
    stillFailing: int
    results: list[ReplayItem]


class OrphanConversation(WireModel):
    conversationId: str
    events: int
    firstEventTimestamp: datetime


class OrphanEventsOut(WireModel):
    """Events logged under a conversation id that was never registered: stored, counted in no KPI
    until the conversation arrives (then the next aggregation run counts them)."""

    providerId: str
    events: int = Field(description="events waiting for their conversation")
    conversations: int = Field(description="distinct conversation ids they name")
    oldestEventTimestamp: datetime | None
    oldestIngestedAt: datetime | None
    waitsUntil: datetime | None = Field(
        description="the oldest of them leaves the warehouse then (its day passes the retention); "
        "null: kept forever, or nothing waits"
    )
    computedAt: datetime | None = Field(description="the aggregation run these figures come from")
    examples: list[OrphanConversation] = Field(description="the longest-waiting conversation ids, up to 10")


class RelationshipWeights(WireModel):
    """Health-score weights per activity type: each within ±50% of the default 1 (seed 001)."""

    email: float = Field(1.0, ge=0.5, le=1.5)
    meeting: float = Field(1.0, ge=0.5, le=1.5)
    phonecall: float = Field(1.0, ge=0.5, le=1.5)


class AnalyticsSettings(WireModel):
    """A provider's analytics settings (``PUT`` replaces them all: a field left out is its default).
    They apply to what each aggregation run recomputes from then on; restate past days to apply them
    to history (``POST /`` of the aggregate function with ``{"days": [...]}``)."""

    chatSessionGapMinutes: int = Field(
        30, ge=1, le=24 * 60, strict=True, description="a gap of more than this starts a new chat session"
    )
    relationshipWindowDays: int = Field(
        90, ge=7, le=365, strict=True, description="trailing window of the relationship snapshots"
    )
    relationshipContactDays: int = Field(
        7, ge=1, le=90, strict=True, description="expected contact frequency of a healthy relationship"
    )
    relationshipWeights: RelationshipWeights = Field(default_factory=RelationshipWeights)


class AnalyticsSettingsOut(AnalyticsSettings):
    providerId: str
    updatedAt: datetime | None = Field(description="when an operator last changed them; null: the defaults")
