"""The erasure family: customers deleted, whichever way it happened.

``customers_deleted`` counts both the erasure receipts of ``DELETE /v1/customers/{id}``
(docs/privacy.md; one per customer, by the UTC day it was requested, with no experience: the receipt
keeps nothing that would say where the customer came from) and the chatbot's own ``CustomerDeleted``
events (seed 002; by the day of the event, in the experience of its conversation). Nothing is stored
for this family: its rows are a relation over ``customer_erasures`` and ``fact_chat_events``, whose
changes already mark the days it moves.
"""

from __future__ import annotations

from shared.kpi.families.chat_events import EXPERIENCE_DIMENSIONS, EXPERIENCE_GROUPING_SETS
from shared.kpi.model import Family, Kpi, counted
from shared.warehouse.tables import C, Table

CUSTOMER_DELETIONS = Table(
    "customer_deletions",
    "A relation, not a table: erasure receipts and CustomerDeleted events.",
    (
        C("provider_id", "STRING", "Provider", True),
        C("deleted_at", "TIMESTAMP", "When the erasure was requested, or the event's time", True),
        C("experience_id", "STRING", "Experience of the CustomerDeleted event's conversation"),
        C("source", "STRING", "erasure or event", True),
    ),
    key=("provider_id", "deleted_at"),
)

CUSTOMER_DELETIONS_SQL = """
SELECT provider_id, requested_at AS deleted_at, CAST(NULL AS STRING) AS experience_id, 'erasure' AS source
FROM customer_erasures
UNION ALL
SELECT provider_id, event_ts AS deleted_at, experience_id, 'event' AS source
FROM fact_chat_events WHERE name = 'CustomerDeleted'
"""

ERASURE = Family(
    "erasure",
    CUSTOMER_DELETIONS,
    "deleted_at",
    EXPERIENCE_DIMENSIONS,
    EXPERIENCE_GROUPING_SETS,
    source_sql=CUSTOMER_DELETIONS_SQL,
    depends_on=("chat_event",),
    description="Customers deleted: erasure requests by the day requested, CustomerDeleted events by "
    "the day of the event.",
)

ERASURE_KPIS: tuple[Kpi, ...] = (
    counted(
        "customers_deleted",
        "erasure",
        "Customers deleted that day: erased on the provider's request (DELETE /v1/customers/{id}; "
        "erasing a customer again counts once) or deleted in the chatbot (CustomerDeleted events).",
        None,
    ),
)
