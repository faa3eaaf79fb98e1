"""The run's ONE warehouse transaction, built from what was staged.

In order, all or nothing:

1. raw tables from staging: the latest version of each key wins (conversations replace their
   sessions and participants); events are create-only; failed events and activities are upserted;
2. ``touched_conversations``: conversations staged now, conversations of events staged now and, when
   days are restated, every conversation with a start, close or event on those days;
3. ``affected_days_before``: the (provider, day) pairs the touched conversations' facts count on now;
4. fact rows of the touched conversations replaced (sessions first: conversations read them);
5. ``affected_days``: the days before ∪ the days after ∪ restated days for every provider;
6. ``kpi_daily`` rows of exactly those (provider, day) pairs replaced by a fresh computation.

Every step replaces state by key instead of adding increments, so applying the same input twice
gives the same tables: together with a watermark that only moves after the commit, at-least-once
reading becomes exactly-once results. The KPI and fact SQL comes from ``shared.kpi.sql``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields, replace
from datetime import UTC, date, datetime

from shared.aggregate.orphans import orphan_statements
from shared.aggregate.rows import VERSION
from shared.kpi.sql import (
    TableNames,
    affected_days_query,
    fact_conversation_query,
    fact_session_query,
    kpi_query,
)
from shared.privacy.warehouse import erasure_days_sql, erasure_statements, retention_statements
from shared.warehouse.ddl import declared_tables
from shared.warehouse.port import ReplaceScope, Transaction, Warehouse
from shared.warehouse.tables import (
    CUSTOMER_ERASURES,
    FACT_CONVERSATIONS,
    FACT_SESSIONS,
    KPI_DAILY,
    RAW_ACTIVITIES,
    RAW_CONVERSATIONS,
    RAW_EVENTS,
    RAW_FAILED_EVENTS,
    RAW_PARTICIPANTS,
    RAW_SESSIONS,
    Table,
)

TOUCHED = "touched_conversations"
AFFECTED = "affected_days"
AFFECTED_BEFORE = "affected_days_before"
KPI_NEW = "kpi_new"
PRUNE_DAYS = "affected_day_list"  # BigQuery script variable: the partitions kpi_daily's MERGE may touch
CONVERSATION_KEY = ("provider_id", "conversation_id")


def table_names(warehouse: Warehouse) -> TableNames:
    """The KPI SQL's table names in this warehouse; the run's temporary tables stay unqualified."""
    declared = {t.name for t in declared_tables()}
    names = TableNames()
    changes = {
        f.name: warehouse.table_id(getattr(names, f.name))
        for f in fields(names)
        if getattr(names, f.name) in declared
    }
    return replace(names, **changes, touched=TOUCHED, affected=AFFECTED)


def _utc_day(warehouse: Warehouse, column: str) -> str:
    if warehouse.dialect == "duckdb":
        return f"CAST(timezone('UTC', {column}) AS DATE)"
    return f"DATE({column})"


def _timestamp(warehouse: Warehouse, at: datetime) -> str:
    text = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")
    return f"TIMESTAMPTZ '{text}'" if warehouse.dialect == "duckdb" else f"TIMESTAMP '{text}'"


def _date_list(days: Sequence[date]) -> str:
    # date objects only, never request text: these literals cannot carry anything but a date.
    return ", ".join(f"DATE '{d.isoformat()}'" for d in days)


def _from_staging(warehouse: Warehouse, raw: Table, newest_first: bool = True) -> str:
    """One row per key from the staged rows of ``raw``: the latest version (or the first one)."""
    columns = ", ".join(
        f"PARSE_JSON({c.name}) AS {c.name}"
        if c.type == "JSON" and warehouse.dialect == "bigquery"
        else c.name
        for c in raw.columns
    )
    order = "DESC" if newest_first else "ASC"
    return (
        f"SELECT {columns} FROM {warehouse.staging_name(raw.name)} WHERE TRUE\n"
        f"QUALIFY ROW_NUMBER() OVER (PARTITION BY {', '.join(raw.key)} ORDER BY {VERSION} {order}) = 1"
    )


def _children_of_latest(warehouse: Warehouse, child: Table) -> str:
    """Sessions or participants of the latest staged version of each conversation."""
    columns = ", ".join(f"x.{c.name}" for c in child.columns)
    return (
        f"SELECT {columns} FROM {warehouse.staging_name(child.name)} AS x\n"
        f"JOIN (SELECT provider_id, conversation_id, MAX({VERSION}) AS v\n"
        f"      FROM {warehouse.staging_name(RAW_CONVERSATIONS.name)} GROUP BY provider_id, conversation_id) AS l\n"
        f"ON x.provider_id = l.provider_id AND x.conversation_id = l.conversation_id AND x.{VERSION} = l.v"
    )


def _raw_statements(warehouse: Warehouse, staged: set[str]) -> list[str]:
    statements: list[str] = []
    if RAW_CONVERSATIONS.name in staged:
        statements += warehouse.upsert(RAW_CONVERSATIONS, _from_staging(warehouse, RAW_CONVERSATIONS))
        conversations = (
            f"SELECT DISTINCT provider_id, conversation_id "
            f"FROM {warehouse.staging_name(RAW_CONVERSATIONS.name)}"
        )
        for child in (RAW_SESSIONS, RAW_PARTICIPANTS):
            statements += warehouse.replace(
                ReplaceScope(
                    child,
                    warehouse.name(child.name),
                    _children_of_latest(warehouse, child),
                    conversations,
                    CONVERSATION_KEY,
                )
            )
    if RAW_EVENTS.name in staged:
        # Create-only: an event id, once stored, never changes.
        statements += warehouse.insert_missing(RAW_EVENTS, _from_staging(warehouse, RAW_EVENTS, False))
    for upserted in (RAW_FAILED_EVENTS, RAW_ACTIVITIES):
        if upserted.name in staged:
            statements += warehouse.upsert(upserted, _from_staging(warehouse, upserted))
    return statements


def _touched_sql(warehouse: Warehouse, staged: set[str], days: Sequence[date]) -> str:
    parts = [
        f"SELECT provider_id, conversation_id FROM {warehouse.staging_name(raw.name)}"
        for raw in (RAW_CONVERSATIONS, RAW_EVENTS)
        if raw.name in staged
    ]
    if days:
        listed = _date_list(days)
        conversations = warehouse.name(RAW_CONVERSATIONS.name)
        parts.append(
            f"SELECT provider_id, conversation_id FROM {conversations} "
            f"WHERE {_utc_day(warehouse, 'conversation_ts')} IN ({listed}) "
            f"OR {_utc_day(warehouse, 'closed_ts')} IN ({listed})"
        )
        parts.append(
            f"SELECT provider_id, conversation_id FROM {warehouse.name(RAW_EVENTS.name)} "
            f"WHERE {_utc_day(warehouse, 'event_ts')} IN ({listed})"
        )
    if not parts:  # only erasures: no conversation is touched
        parts.append(
            f"SELECT provider_id, conversation_id FROM {warehouse.name(RAW_CONVERSATIONS.name)} WHERE FALSE"
        )
    union = "\n  UNION ALL ".join(parts)
    return f"SELECT DISTINCT provider_id, conversation_id FROM (\n  {union}\n) AS u"


def _restated_sql(warehouse: Warehouse, days: Sequence[date]) -> str:
    """Every restated day for every provider the warehouse knows."""
    providers = " UNION ALL ".join(
        f"SELECT provider_id FROM {warehouse.name(t.name)}"
        for t in (RAW_CONVERSATIONS, RAW_EVENTS, KPI_DAILY)
    )
    listed = " UNION ALL ".join(f"SELECT DATE '{d.isoformat()}' AS day" for d in days)
    return (
        f"SELECT p.provider_id, d.day FROM (SELECT DISTINCT provider_id FROM ({providers}) AS x) AS p\n"
        f"CROSS JOIN ({listed}) AS d"
    )


def build_transaction(
    warehouse: Warehouse,
    staged: set[str],
    days: Sequence[date],
    computed_at: datetime,
    retention_cutoff: date | None = None,
) -> Transaction:
    """The statements for what was staged (raw table names with rows) and the restated ``days``;
    staged erasures are applied, and rows of days before ``retention_cutoff`` dropped (DuckDB)."""
    statements = _raw_statements(warehouse, staged)
    erasing = CUSTOMER_ERASURES.name in staged
    if erasing:
        statements += erasure_statements(warehouse)
    touched = TOUCHED
    recompute = bool(days) or erasing or bool(staged & {RAW_CONVERSATIONS.name, RAW_EVENTS.name})
    summary_parts = ["0 AS conversations_touched", "0 AS provider_days", "0 AS kpi_rows", "'' AS days"]
    declarations: tuple[str, ...] = ()
    if recompute:
        dialect = warehouse.dialect
        names = table_names(warehouse)
        statements.append(warehouse.temp_table(TOUCHED, _touched_sql(warehouse, staged, days)))
        statements.append(warehouse.temp_table(AFFECTED_BEFORE, affected_days_query(dialect, names)))
        scope = f"SELECT DISTINCT provider_id, conversation_id FROM {touched}"
        for fact, query in (
            (FACT_SESSIONS, fact_session_query),
            (FACT_CONVERSATIONS, fact_conversation_query),
        ):
            statements += warehouse.replace(
                ReplaceScope(fact, warehouse.name(fact.name), query(dialect, names), scope, CONVERSATION_KEY)
            )
        # Events still waiting for their conversation, for the same conversations (shared.aggregate.orphans).
        statements += orphan_statements(warehouse, scope)
        sources = [
            f"SELECT provider_id, day FROM {AFFECTED_BEFORE}",
            f"SELECT provider_id, day FROM ({affected_days_query(dialect, names)}) AS after_facts",
        ]
        if days:
            sources.append(f"SELECT provider_id, day FROM ({_restated_sql(warehouse, days)}) AS restated")
        if erasing:
            sources.append(erasure_days_sql(warehouse, _utc_day(warehouse, "requested_at")))
        union = "\n  UNION ALL ".join(sources)
        statements.append(
            warehouse.temp_table(AFFECTED, f"SELECT DISTINCT provider_id, day FROM (\n  {union}\n) AS u")
        )
        statements.append(
            warehouse.temp_table(KPI_NEW, kpi_query(dialect, names, _timestamp(warehouse, computed_at)))
        )
        prune = None
        if dialect == "bigquery":
            declarations = (f"DECLARE {PRUNE_DAYS} ARRAY<DATE> DEFAULT []",)
            statements.append(f"SET {PRUNE_DAYS} = ARRAY(SELECT DISTINCT day FROM {AFFECTED})")
            prune = PRUNE_DAYS
        statements += warehouse.replace(
            ReplaceScope(
                KPI_DAILY,
                warehouse.name(KPI_DAILY.name),
                f"SELECT * FROM {KPI_NEW}",
                f"SELECT DISTINCT provider_id, day FROM {AFFECTED}",
                ("provider_id", "day"),
                prune_days=prune,
            )
        )
        summary_parts = [
            f"(SELECT COUNT(*) FROM {TOUCHED}) AS conversations_touched",
            f"(SELECT COUNT(*) FROM {AFFECTED}) AS provider_days",
            f"(SELECT COUNT(*) FROM {KPI_NEW}) AS kpi_rows",
            f"(SELECT STRING_AGG(d, ',' ORDER BY d) FROM "
            f"(SELECT DISTINCT CAST(day AS STRING) AS d FROM {AFFECTED}) AS x) AS days",
        ]
    if retention_cutoff is not None:
        statements += retention_statements(warehouse, retention_cutoff)
    return Transaction(tuple(statements), "SELECT " + ", ".join(summary_parts), declarations)
