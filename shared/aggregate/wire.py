"""The aggregate function's request and response bodies (pydantic: validated, and in the OpenAPI)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field

from shared.schema.fields import EARLIEST, WireModel

MAX_RESTATED_DAYS = 366
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _day_text(value: object) -> object:
    # Only the documented YYYY-MM-DD text: pydantic alone would also take a number as Unix time.
    if not isinstance(value, str) or not _DAY.match(value):
        raise ValueError("must be a day as YYYY-MM-DD, e.g. 2026-11-23")
    return value


def _day_in_range(value: date) -> date:
    if value < EARLIEST.date():
        raise ValueError("is before 2000-01-01")
    if value > (datetime.now(UTC) + timedelta(days=1)).date():
        raise ValueError("is in the future")
    return value


Day = Annotated[
    date,
    BeforeValidator(_day_text),
    AfterValidator(_day_in_range),
    Field(json_schema_extra={"format": "date"}),
]


class AggregateRequest(WireModel):
    """Body of ``POST /`` (optional): UTC days to restate for every provider, on top of what is new."""

    days: (
        Annotated[
            list[Day],
            Field(
                min_length=1,
                max_length=MAX_RESTATED_DAYS,
                description="UTC days (YYYY-MM-DD) whose KPI rows are recomputed for every provider",
            ),
        ]
        | None
    ) = None


class AggregateReport(BaseModel):
    """What one run did."""

    status: Literal["ok", "busy"] = Field(
        description="'busy': another run holds the lease; this one did nothing (it will pick up everything)"
    )
    runId: str
    startedAt: str
    read: dict[str, int] = Field(description="records read per store collection since its watermark")
    stagedRows: int = Field(description="rows loaded into staging (conversations count with their sessions)")
    conversationsTouched: int
    providerDays: int = Field(description="(provider, day) pairs whose KPI rows were replaced")
    days: list[str] = Field(description="UTC days whose KPI rows were replaced")
    daysRestated: list[str] = Field(description="days asked for in the request")
    kpiRowsWritten: int
    watermark: str | None = Field(description="everything stamped up to here is in the warehouse")
    more: bool = Field(
        default=False,
        description="the run stopped at ANALYTICS_AGGREGATE_MAX_RECORDS with more to read: run again",
    )
    alerts: dict[str, int] = Field(
        default_factory=dict,
        description="KPI breach alerts: rows evaluated, opened, resolved, and messages sent, failed, retried",
    )
    orphanEvents: int = Field(
        default=0,
        description="events whose conversation was never registered (all providers): they count in no "
        "KPI until it arrives; GET /v1/providers/{id}/orphan-events on the providers function lists them",
    )
    orphanConversations: int = Field(default=0, description="the conversation ids those events name")
    durationMs: int
