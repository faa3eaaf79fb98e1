"""A real DuckDB warehouse for the KPI tests, driven through the same steps the aggregator runs
(``shared.kpi.sql`` documents them): load raw rows with Arrow, stage the touched conversations,
replace their facts, collect the affected days before and after, replace those days' KPI rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import duckdb
import pyarrow as pa

from shared.kpi.sql import (
    TableNames,
    affected_days_query,
    fact_conversation_query,
    fact_session_query,
    kpi_query,
)
from shared.warehouse.arrow import to_arrow
from shared.warehouse.tables import (
    CUSTOMER_ERASURES,
    FACT_CONVERSATIONS,
    FACT_SESSIONS,
    KPI_DAILY,
    RAW_CONVERSATIONS,
    RAW_EVENTS,
    RAW_PARTICIPANTS,
    RAW_SESSIONS,
    Table,
)

DUCKDB_TYPES = {
    "STRING": "VARCHAR",
    "INT64": "BIGINT",
    "FLOAT64": "DOUBLE",
    "BOOL": "BOOLEAN",
    "TIMESTAMP": "TIMESTAMPTZ",
    "DATE": "DATE",
    "JSON": "JSON",
}
RAW_TABLES = (RAW_CONVERSATIONS, RAW_SESSIONS, RAW_PARTICIPANTS, RAW_EVENTS)
KPI_COLUMNS = tuple(c.name for c in KPI_DAILY.columns)

Raw = Mapping[str, Sequence[Mapping[str, Any]]]  # raw table name -> rows


def ddl(table: Table) -> str:
    columns = ", ".join(
        f"{c.name} {DUCKDB_TYPES[c.type]}{' NOT NULL' if c.required else ''}" for c in table.columns
    )
    return f"CREATE TABLE {table.name} ({columns})"


class KpiWarehouse:
    """DuckDB with the raw, fact, staging and kpi_daily tables. The session time zone is deliberately
    not UTC, so a day computed in local time instead of UTC shows up as a test failure."""

    def __init__(self, time_zone: str = "America/Los_Angeles") -> None:
        self.con = duckdb.connect()
        self.con.execute(f"SET TimeZone = '{time_zone}'")
        self.names = TableNames()
        for table in (*RAW_TABLES, FACT_SESSIONS, FACT_CONVERSATIONS, CUSTOMER_ERASURES, KPI_DAILY):
            self.con.execute(ddl(table))
        self.con.execute("CREATE TABLE touched_conversations (provider_id VARCHAR, conversation_id VARCHAR)")
        self.con.execute("CREATE TABLE affected_days (provider_id VARCHAR, day DATE)")

    def reset(self) -> None:
        """Empty every table, so one connection can serve many generated examples."""
        for (name,) in self.con.execute("SELECT table_name FROM duckdb_tables()").fetchall():
            self.con.execute(f"DELETE FROM {name}")

    def load(self, raw: Raw) -> set[tuple[str, str]]:
        """Upsert raw rows by key (the latest version wins); returns the conversations touched."""
        touched: set[tuple[str, str]] = set()
        for table in RAW_TABLES:
            rows = raw.get(table.name, ())
            if not rows:
                continue
            self.con.register("batch", to_arrow(table, rows))
            match = " AND ".join(f"t.{k} = b.{k}" for k in table.key)
            self.con.execute(
                f"DELETE FROM {table.name} AS t WHERE EXISTS (SELECT 1 FROM batch AS b WHERE {match})"
            )
            self.con.execute(f"INSERT INTO {table.name} SELECT * FROM batch")
            touched |= {(r["provider_id"], r["conversation_id"]) for r in rows}
        return touched

    def aggregate(self, touched: Iterable[tuple[str, str]]) -> set[tuple[str, date]]:
        """Recompute facts and KPI rows for ``touched`` conversations; returns the affected days."""
        con = self.con
        pairs = sorted(touched)
        con.register(
            "staged",
            pa.table({"provider_id": [p for p, _ in pairs], "conversation_id": [c for _, c in pairs]}),
        )
        con.execute("DELETE FROM touched_conversations")
        con.execute("INSERT INTO touched_conversations SELECT * FROM staged")
        before = self._affected()
        scope = "(provider_id, conversation_id) IN (SELECT provider_id, conversation_id FROM touched_conversations)"
        con.execute(f"DELETE FROM fact_sessions WHERE {scope}")
        con.execute(f"INSERT INTO fact_sessions BY NAME {fact_session_query('duckdb', self.names)}")
        con.execute(f"DELETE FROM fact_conversations WHERE {scope}")
        con.execute(f"INSERT INTO fact_conversations BY NAME {fact_conversation_query('duckdb', self.names)}")
        days = before | self._affected()
        ordered = sorted(days)
        con.register(
            "staged_days",
            pa.table(
                {
                    "provider_id": [p for p, _ in ordered],
                    "day": pa.array([d for _, d in ordered], pa.date32()),
                }
            ),
        )
        con.execute("DELETE FROM affected_days")
        con.execute("INSERT INTO affected_days SELECT * FROM staged_days")
        con.execute(
            "DELETE FROM kpi_daily WHERE (provider_id, day) IN (SELECT provider_id, day FROM affected_days)"
        )
        con.execute(f"INSERT INTO kpi_daily BY NAME {kpi_query('duckdb', self.names)}")
        return days

    def _affected(self) -> set[tuple[str, date]]:
        return {(p, d) for p, d in self.con.execute(affected_days_query("duckdb", self.names)).fetchall()}

    def run(self, raw: Raw) -> list[dict[str, Any]]:
        """Load and aggregate in one go; returns every kpi_daily row."""
        self.aggregate(self.load(raw))
        return self.kpi_rows()

    def kpi_rows(self) -> list[dict[str, Any]]:
        return self.con.sql(f"SELECT {', '.join(KPI_COLUMNS)} FROM kpi_daily").to_arrow_table().to_pylist()

    def facts(self, table: Table) -> list[dict[str, Any]]:
        # Through Arrow: fetching TIMESTAMPTZ as Python objects directly would need pytz.
        return self.con.sql(f"SELECT * FROM {table.name}").to_arrow_table().to_pylist()
