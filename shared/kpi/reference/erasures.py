"""The erasure family's reference: erasure receipts by the day requested (no experience) and the
chatbot's CustomerDeleted events by the day of the event, in their conversation's experience."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from shared.kpi.reference.chat_events import EXPERIENCE_GROUPINGS, chat_events
from shared.kpi.reference.common import Measures, Raw, kpi_rows

UNITS = {"customers_deleted": "count"}


@dataclass(frozen=True)
class Deletion:
    provider_id: str
    at: datetime
    experience_id: str | None


def deletions(raw: Raw) -> list[Deletion]:
    receipts = {(e["provider_id"], e["erasure_id"]): e for e in raw.get("customer_erasures", ())}
    out = [Deletion(p, e["requested_at"], None) for (p, _), e in receipts.items()]
    out += [
        Deletion(e.provider_id, e.event_ts, e.experience_id)
        for e in chat_events(raw)
        if e.name == "CustomerDeleted"
    ]
    return out


def measures(rows: Sequence[Deletion]) -> Measures:
    return {"customers_deleted": (float(len(rows)), None)}


def reference_rows(raw: Raw, days: set[tuple[str, date]] | None = None) -> list[dict[str, Any]]:
    """kpi_daily rows of ``customers_deleted``; only for ``days`` when given."""
    return kpi_rows(deletions(raw), lambda d: d.at, measures, UNITS, EXPERIENCE_GROUPINGS, days)
