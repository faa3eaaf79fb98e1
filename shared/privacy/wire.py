"""The erasure receipt as the ingest function answers it (pydantic: validated, and in the OpenAPI)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from shared.store.erasure import Erasure


class ErasureCounts(BaseModel):
    conversations: int = Field(0, description="conversations the customer's data was removed from")
    events: int = Field(0, description="events that lost the customer's participant id or free text")
    activities: int = Field(0, description="activities the customer was removed from")
    failedEvents: int = Field(0, description="rejected events whose raw payload was redacted")


class ErasureReceipt(BaseModel):
    """``202``: the store no longer holds the customer's personal data; the warehouse follows with the
    next aggregation run (``status`` turns ``applied``). Repeating the request returns this receipt."""

    erasureId: str = Field(description="the same for every request about this customer")
    status: Literal["pending", "applied"] = Field(description="'applied' once the warehouse is erased too")
    requestedAt: datetime = Field(description="the first request; customers_deleted counts on its UTC day")
    appliedAt: datetime | None = None
    counts: ErasureCounts

    @classmethod
    def of(cls, erasure: Erasure) -> ErasureReceipt:
        return cls(
            erasureId=erasure.erasure_id,
            status="applied" if erasure.status == "applied" else "pending",
            requestedAt=erasure.requested_at,
            appliedAt=erasure.applied_at,
            counts=ErasureCounts(**erasure.counts),
        )
