"""Operator bodies of the report subscriptions and the alert thresholds (pydantic: validated, and
in the OpenAPI document of ``functions/providers``), and the report function's request and answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, EmailStr, Field, StringConstraints

from shared.aggregate.wire import Day
from shared.schema.fields import Str100, WireModel

SliceValue = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100),
    Field(strict=True, description="a value of the dimension, or '*' for every value (one alert each)"),
]


class SliceIn(WireModel):
    """Which kpi_daily rows a threshold watches. A dimension left out means "all" (the row where it
    is NULL); ``{}`` is the provider's total. The combination must be a slice the KPI is computed at."""

    channel: SliceValue | None = None
    queueId: SliceValue | None = None
    agentId: SliceValue | None = None
    experienceId: SliceValue | None = None


class ThresholdIn(WireModel):
    """A KPI breach rule, e.g. ``abandon_rate > 0.1`` for every queue."""

    kpi: Annotated[str, StringConstraints(min_length=1, max_length=64), Field(strict=True)]
    operator: Literal[">", ">=", "<", "<="]
    value: float = Field(
        strict=True, description="in the KPI's unit: a fraction for ratios, seconds, -100..100 for scores"
    )
    slice: SliceIn = Field(default_factory=SliceIn)
    minDenominator: float | None = Field(
        None, ge=0, strict=True, description="skip rows measured over fewer cases (the KPI's denominator)"
    )


class ThresholdOut(BaseModel):
    thresholdId: str
    kpi: str
    unit: str
    operator: str
    value: float
    slice: dict[str, str]
    minDenominator: float | None
    createdAt: datetime
    createdBy: str


class SubscriptionIn(WireModel):
    """Subscribe a recipient to the provider's daily report (or one chatbot experience's)."""

    email: EmailStr = Field(max_length=254)
    experienceId: Str100 | None = None


class SubscriptionOut(BaseModel):
    subscriptionId: str
    email: str
    experienceId: str | None
    createdAt: datetime
    createdBy: str


class ReportRequest(WireModel):
    """Body of ``POST /`` of functions/report (optional): the UTC day to report on."""

    day: Day | None = Field(None, description="default: yesterday (UTC)")


class ReportAnswer(BaseModel):
    day: str = Field(description="the UTC day reported on")
    subscriptions: int
    queued: int = Field(description="deliveries created by this run (one per subscription and day)")
    sent: int
    failed: int = Field(description="kept and retried by the next run")
    retried: int = Field(description="of the sent and failed, how many had been tried before")
    cancelled: int = Field(description="due deliveries whose subscription was removed meanwhile")
    status: Literal["ok", "busy"] = "ok"
