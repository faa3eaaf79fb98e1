"""The standard event registry: every event the KPIs understand, its typed ``customData`` and its
SchemaVer version (``MODEL-REVISION-ADDITION``; a breaking change bumps MODEL).

Providers may add their own events (kind ``Custom``) through ``/v1/providers/{id}/event-definitions``;
those carry free-form ``customData`` and are versioned by the provider.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from shared.errors import validation_details
from shared.schema.events import KpiEvent

VENDOR = "io.channelanalytics"

# The SchemaVer of every standard event's wire shape, and what each version added to ``KpiEvent``
# (the schema files of earlier versions stay published: events stored under them still resolve).
STANDARD_VERSION = "1-0-1"
ADDED_IN: dict[str, tuple[str, ...]] = {
    # ADDITION: CIF logAnalyticsEvent's per-event correlation id; and notificationResponseAction on
    # every event, as CIF's event has it (NotificationResponse had it, required, from 1-0-0).
    "1-0-1": ("externalCorrelationId", "notificationResponseAction"),
}


class _Custom(BaseModel):
    """``customData`` of a standard event: typed attributes are checked (lax, since CIF values are
    often strings), others are kept as sent."""

    model_config = ConfigDict(extra="allow")


class MessageSentData(_Custom):
    sender: Literal["agent", "bot", "customer"]


def _not_bool(value: Any) -> Any:
    # Lax int parsing would read true as 1: a yes/no is not a survey score.
    if isinstance(value, bool):
        raise ValueError("must be a number, not true or false")
    return value


def _score(low: int, high: int) -> Any:
    return Annotated[
        int, Field(ge=low, le=high), BeforeValidator(_not_bool)
    ]  # this order keeps min/max in the JSON Schema


class SurveyAnsweredData(_Custom):
    model_config = ConfigDict(json_schema_extra={"anyOf": [{"required": ["csat"]}, {"required": ["nps"]}]})

    csat: _score(1, 5) | None = None
    nps: _score(0, 10) | None = None

    @model_validator(mode="after")
    def _one_answer(self) -> SurveyAnsweredData:
        if self.csat is None and self.nps is None:
            raise ValueError("a SurveyAnswered event needs 'csat' (1-5) and/or 'nps' (0-10)")
        return self


class ModuleVisitedData(_Custom):
    moduleId: str = Field(min_length=1, max_length=100)
    moduleName: str | None = Field(None, max_length=100)


class OptInGivenData(_Custom):
    topic: Literal["webpush", "reminder"]
    level: Literal["single", "double"]


class SharedData(_Custom):
    via: Literal["facebook", "email", "native", "twitter", "whatsapp"]


class PinVerifiedData(_Custom):
    success: bool


class DataEnteredData(_Custom):
    field: str = Field(min_length=1, max_length=100)


class UserInteractedData(_Custom):
    interaction: Literal["typed", "clicked"] | None = None


@dataclass(frozen=True)
class EventSpec:
    name: str
    family: Literal["cif", "contact_center", "chatbot", "custom"]
    description: str
    version: str = STANDARD_VERSION
    kind: Literal["System", "Custom"] = "System"
    vendor: str = VENDOR
    custom_data: type[_Custom] | None = None
    requires_action: bool = False
    reasons: tuple[str, ...] = ()

    @cached_property  # read for every ingested event
    def schema_uri(self) -> str:
        return f"iglu:{self.vendor}/{self.name}/jsonschema/{self.version}"


STANDARD_EVENTS: dict[str, EventSpec] = {
    spec.name: spec
    for spec in (
        # CIF system events
        EventSpec("NotificationReceived", "cif", "An agent was offered the session."),
        EventSpec(
            "NotificationResponse",
            "cif",
            "The agent answered the offer; notificationResponseAction is Accept or Reject.",
            requires_action=True,
        ),
        EventSpec("NotificationTimedOut", "cif", "The offer expired unanswered."),
        EventSpec("SessionStarted", "cif", "The agent's session started."),
        EventSpec("SessionInFocus", "cif", "The session's tab gained focus."),
        EventSpec("SessionOutOfFocus", "cif", "The session's tab lost focus."),
        EventSpec(
            "SessionClosed",
            "cif",
            "The session ended; kpiEventReason says why.",
            reasons=("Completed", "Transferred", "CustomerLeft", "AgentLeft", "Rejected", "TimedOut"),
        ),
        EventSpec("NewTabOpened", "cif", "The agent opened a new tab in the session."),
        # contact center
        EventSpec("CallHold", "contact_center", "The customer was put on hold."),
        EventSpec("CallUnhold", "contact_center", "The customer was taken off hold."),
        EventSpec("WrapUpStarted", "contact_center", "After-call work started."),
        EventSpec(
            "ConversationClosed",
            "contact_center",
            "The conversation ended; kpiEventReason e.g. Resolved.",
            reasons=("Resolved", "Unresolved", "Abandoned", "Completed"),
        ),
        EventSpec(
            "MessageSent",
            "contact_center",
            "A chat message; customData sender is agent, bot or customer.",
            custom_data=MessageSentData,
        ),
        EventSpec(
            "SurveyAnswered",
            "contact_center",
            "A survey answer; customData csat 1-5 and/or nps 0-10.",
            custom_data=SurveyAnsweredData,
        ),
        # chatbot
        EventSpec("ChatStarted", "chatbot", "The customer opened the chat."),
        EventSpec(
            "UserInteracted",
            "chatbot",
            "The customer typed or clicked.",
            custom_data=UserInteractedData,
        ),
        EventSpec(
            "ModuleVisited", "chatbot", "A module of the experience was shown.", custom_data=ModuleVisitedData
        ),
        EventSpec("EmailCaptured", "chatbot", "A new customer signed up with an e-mail address."),
        EventSpec("WebPushAsked", "chatbot", "The web-push opt-in was asked for."),
        EventSpec("OptInGiven", "chatbot", "An opt-in was given.", custom_data=OptInGivenData),
        EventSpec("Shared", "chatbot", "The experience was shared.", custom_data=SharedData),
        EventSpec("ParticipationCompleted", "chatbot", "A participation (e.g. a raffle entry)."),
        EventSpec("AdventCalendarOpened", "chatbot", "An advent calendar door was opened."),
        EventSpec("PinSent", "chatbot", "An e-mail with a PIN was sent."),
        EventSpec("PinVerified", "chatbot", "A PIN was entered.", custom_data=PinVerifiedData),
        EventSpec("DataEntered", "chatbot", "The customer entered data.", custom_data=DataEnteredData),
        EventSpec("CustomerDeleted", "chatbot", "A customer was deleted."),
    )
}


def custom_spec(provider_id: str, name: str, version: str) -> EventSpec:
    return EventSpec(
        name=name,
        family="custom",
        description="provider-defined event",
        version=version,
        kind="Custom",
        vendor=f"provider.{provider_id}",
    )


def check_event_rules(spec: EventSpec, event: KpiEvent, custom: dict[str, Any]) -> dict[str, Any]:
    """Apply the registry's rules to a structurally valid event; returns typed ``customData``.

    Raises ``EventRuleError`` with per-field details when a rule is broken.
    """
    if spec.requires_action and event.notificationResponseAction is None:
        raise EventRuleError(
            "missing_response_action",
            f"{spec.name} needs notificationResponseAction (Accept or Reject)",
            [{"field": "notificationResponseAction", "code": "missing", "message": "Field required"}],
        )
    # On any other event notificationResponseAction is kept as sent: CIF's event has the field, and
    # only NotificationResponse's answer counts in the KPIs.
    if spec.custom_data is None:
        return custom
    try:
        return spec.custom_data.model_validate(custom).model_dump(exclude_none=True)
    except ValidationError as exc:
        raise EventRuleError(
            "invalid_custom_data",
            f"customData does not match {spec.schema_uri}",
            validation_details(exc, ("customData",)),
        ) from exc


class EventRuleError(Exception):
    def __init__(self, code: str, message: str, details: list[dict[str, Any]]):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details
