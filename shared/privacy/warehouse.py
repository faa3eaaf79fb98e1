"""Privacy in the warehouse: applying erasures and dropping partitions past their retention.

Both run inside the aggregation's ONE transaction, with one statement per table per run however
many customers were erased (BigQuery allows a few DML statements per table at once and ~1,500 table
operations a day). The run marks its erasures applied only after the commit, like the watermark:
a crash re-applies them, and every statement here is idempotent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from shared.aggregate.rows import VERSION
from shared.aggregate.staging import staging_table
from shared.schema.registry import STANDARD_EVENTS
from shared.store.erasure import Erasure
from shared.warehouse import first_kept_day
from shared.warehouse.ddl import declared_tables, partition_expression
from shared.warehouse.port import Warehouse
from shared.warehouse.tables import CUSTOMER_ERASURES, EVENT_LANDING, RAW_EVENTS, Column, Table

# Staging only: the pseudonyms an erasure covers travel with the run, never into customer_erasures.
ERASURE_STAGING: Table = replace(
    staging_table(CUSTOMER_ERASURES),
    columns=(
        *staging_table(CUSTOMER_ERASURES).columns,
        Column(
            "pseudonym", "STRING", "A pseudonym of the erased customer (its id or a participant id)", True
        ),
    ),
)
# Erasures applied per run at most; the rest wait for the next run.
MAX_ERASURES_PER_RUN = 1000


def erasure_rows(erasures: Sequence[Erasure], applied_at: datetime) -> list[dict[str, Any]]:
    """One staging row per pseudonym of each erasure."""
    return [
        {
            "provider_id": e.provider_id,
            "erasure_id": e.erasure_id,
            "requested_at": e.requested_at,
            "applied_at": applied_at,
            "pseudonym": pseudonym,
            VERSION: e.requested_at,
        }
        for e in erasures
        for pseudonym in (e.pseudonym, *e.participant_pseudonyms)
    ]


def _erased_pairs(warehouse: Warehouse) -> str:
    staged = warehouse.staging_name(CUSTOMER_ERASURES.name)
    return f"SELECT CONCAT(provider_id, '|', pseudonym) FROM {staged}"


def erasure_statements(warehouse: Warehouse) -> list[str]:
    """Events the erased customers logged lose their participant link and custom-event attributes, in
    ``raw_events`` and in the event sink's ``event_landing``
    (everything else of them is replaced through the conversations the erasure rewrote in the store);
    the receipts are upserted into ``customer_erasures``."""
    standard = ", ".join(f"'{name}'" for name in sorted(STANDARD_EVENTS))
    # raw_events, and the event sink's landing table (event sink mode: the events as appended).
    updates = [
        f"UPDATE {warehouse.name(table.name)} SET participant_id = NULL,\n"
        f"  custom_data = CASE WHEN name IN ({standard}) THEN custom_data ELSE NULL END\n"
        f"WHERE CONCAT(provider_id, '|', participant_id) IN ({_erased_pairs(warehouse)})"
        for table in (RAW_EVENTS, EVENT_LANDING)
    ]
    columns = ", ".join(c.name for c in CUSTOMER_ERASURES.columns)
    receipts = (
        f"SELECT {columns} FROM {warehouse.staging_name(CUSTOMER_ERASURES.name)} WHERE TRUE\n"
        f"QUALIFY ROW_NUMBER() OVER (PARTITION BY provider_id, erasure_id ORDER BY pseudonym) = 1"
    )
    return [*updates, *warehouse.upsert(CUSTOMER_ERASURES, receipts)]


def erasure_days_sql(warehouse: Warehouse, utc_day: str) -> str:
    """(provider_id, day) whose ``customers_deleted`` the staged erasures change."""
    staged = warehouse.staging_name(CUSTOMER_ERASURES.name)
    return f"SELECT DISTINCT provider_id, {utc_day} AS day FROM {staged}"


def retention_cutoff(today: date, retention_days: int) -> date:
    """The first day kept: partitions of earlier days are dropped."""
    return first_kept_day(today, retention_days)


def retention_statements(warehouse: Warehouse, cutoff: date) -> list[str]:
    """DuckDB: delete the rows of every day-partitioned table before ``cutoff``. BigQuery drops
    expired partitions itself (``partition_expiration_days``), so it needs no statement."""
    if warehouse.dialect != "duckdb":
        return []
    statements = []
    for table in declared_tables():
        partition = partition_expression(table)
        if partition is None:
            continue
        column = next(c for c in table.columns if c.name == table.partition_by)
        day = partition if column.type == "DATE" else f"CAST(timezone('UTC', {table.partition_by}) AS DATE)"
        statements.append(
            f"DELETE FROM {warehouse.name(table.name)} WHERE {day} < DATE '{cutoff.isoformat()}'"
        )
    return statements
