"""What the dashboard and the report read from the warehouse, through the documented BI views.

Reads go through ``Warehouse.query`` (DuckDB or BigQuery alike). Tables another part of the product
fills (chat_module_visits, relationship_*) may be absent or empty: their readers answer ``None`` for
an absent table, and the panels say "no data for this period".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlglot import exp

from shared.warehouse.port import Warehouse

Row = dict[str, Any]

# Contact-center KPIs of the queue and agent tables, chatbot KPIs of the funnel and the tiles.
QUEUE_KPIS = (
    "incoming_conversations",
    "conversations_handled",
    "conversations_abandoned",
    "abandon_rate",
    "avg_speed_to_answer_s",
    "service_level_20s_rate",
    "avg_handle_time_s",
)
AGENT_KPIS = (
    "incoming_sessions",
    "sessions_engaged",
    "sessions_rejected",
    "session_rejection_rate",
    "avg_session_time_to_accept_s",
    "avg_session_handle_time_s",
)
CHATBOT_KPIS = (
    "chat_sessions",
    "chat_sessions_with_conversation",
    "chat_bounces",
    "chat_bounce_rate",
    "chat_starts",
    "participants",
    "participations",
    "new_customers",
    "webpush_asked",
    "webpush_optins_single",
    "webpush_optins_double",
    "reminder_optins_single",
    "reminder_optins_double",
    "screen_time_min",
    "chat_nps",
    "pins_sent",
    "pins_succeeded",
    "pins_failed",
)


def sql_string(value: str, warehouse: Warehouse) -> str:
    """A string literal of the warehouse's dialect (quotes escaped): ids never become SQL."""
    return exp.Literal.string(value).sql(dialect=warehouse.dialect)


def _days(start: date, end: date) -> str:
    return f"day BETWEEN DATE '{start.isoformat()}' AND DATE '{end.isoformat()}'"


def existing_tables(warehouse: Warehouse) -> set[str]:
    """Names of the tables and views of the warehouse's dataset (or DuckDB main schema)."""
    if warehouse.dialect == "duckdb":
        sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
    else:
        dataset = warehouse.table_id("x").rsplit(".", 1)[0]
        sql = f"SELECT table_name FROM `{dataset}`.INFORMATION_SCHEMA.TABLES"
    return {row["table_name"] for row in warehouse.query(sql)}


def kpi_rows(
    warehouse: Warehouse,
    provider_id: str,
    start: date,
    end: date,
    *,
    view: str = "kpi_provider_daily",
    dimension: str | None = None,
    value: str | None = None,
    kpis: Sequence[str] | None = None,
) -> list[Row]:
    """Rows of a grain view (day, kpi, value, numerator, denominator, unit, and the dimension)."""
    where = [f"provider_id = {sql_string(provider_id, warehouse)}", _days(start, end)]
    if dimension is not None and value is not None:
        where.append(f"{dimension} = {sql_string(value, warehouse)}")
    if kpis:
        where.append("kpi IN (" + ", ".join(sql_string(k, warehouse) for k in kpis) + ")")
    extra = f"{dimension}, " if dimension else ""
    rows = warehouse.query(
        f"SELECT day, {extra}kpi, value, numerator, denominator, unit FROM {warehouse.name(view)} "
        f"WHERE {' AND '.join(where)} ORDER BY day, kpi"
    )
    for row in rows:
        row["day"] = row["day"].isoformat()
    return rows


def optional_rows(warehouse: Warehouse, table: str, sql: str, present: set[str]) -> list[Row] | None:
    """``sql`` over ``table`` when the warehouse has it, else ``None``; dates become ISO text."""
    if table not in present:
        return None
    rows = warehouse.query(sql)
    for row in rows:
        for key, value in row.items():
            if isinstance(value, date):
                row[key] = value.isoformat()
    return rows
