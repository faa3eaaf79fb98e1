"""The BigQuery SQL: parsed by sqlglot, pinned by snapshots, and — transpiled back to DuckDB — giving
the same KPI rows as the DuckDB SQL.

Snapshots live in tests/kpi/snapshots/. After an intended change to the SQL, regenerate them with
``UPDATE_SNAPSHOTS=1 python -m pytest tests/kpi/test_dialects.py`` and review the diff.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlglot

from shared.kpi.dialects import render
from shared.kpi.reference import reference_kpi_rows
from shared.kpi.sql import (
    TableNames,
    affected_days_query,
    fact_conversation_query,
    fact_session_query,
    kpi_query,
)
from tests.kpi.compare import assert_same_rows
from tests.kpi.test_session_kpis import offered_day
from tests.kpi.warehouse import KpiWarehouse

SNAPSHOTS = Path(__file__).parent / "snapshots"
QUERIES: dict[str, Callable[..., str]] = {
    "fact_sessions": fact_session_query,
    "fact_conversations": fact_conversation_query,
    "affected_days": affected_days_query,
    "kpi_daily": kpi_query,
}
BIGQUERY_NAMES = TableNames().qualified("my-project.analytics.")


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_bigquery_sql_matches_its_snapshot(name: str) -> None:
    sql = QUERIES[name]("bigquery", BIGQUERY_NAMES) + "\n"
    path = SNAPSHOTS / f"{name}.bigquery.sql"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(sql, encoding="utf-8")
    assert path.exists(), f"no snapshot {path.name}; run with UPDATE_SNAPSHOTS=1"
    assert sql == path.read_text(encoding="utf-8"), (
        f"{path.name} drifted from the generated SQL; review and regenerate with UPDATE_SNAPSHOTS=1"
    )


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_bigquery_sql_parses_and_names_every_table_fully(name: str) -> None:
    tree = sqlglot.parse_one(QUERIES[name]("bigquery", BIGQUERY_NAMES), read="bigquery")
    ctes = {cte.alias_or_name for cte in tree.find_all(sqlglot.exp.CTE)}
    for table in tree.find_all(sqlglot.exp.Table):
        if table.name in ctes or not table.name:
            continue
        assert (table.catalog, table.db) == ("my-project", "analytics"), table.sql("bigquery")


def test_kpi_query_carries_the_computed_at_expression() -> None:
    sql = kpi_query("bigquery", TableNames(), "@computed_at")
    assert "@computed_at AS computed_at" in sql
    assert "CURRENT_TIMESTAMP" in kpi_query("duckdb", TableNames())


def test_duckdb_attributes_by_utc_day_whatever_the_session_time_zone() -> None:
    assert "CAST(TIMEZONE('UTC', f.close_ts) AS DATE)" in kpi_query("duckdb", TableNames())
    assert "DATE(f.close_ts)" in kpi_query("bigquery", TableNames())


def test_a_cte_may_not_shadow_a_warehouse_table() -> None:
    with pytest.raises(ValueError, match="shadow"):
        render(
            "WITH raw_events AS (SELECT 1 AS x) SELECT x FROM raw_events", "duckdb", TableNames().mapping()
        )


def _transpiled(query: Callable[..., str]) -> str:
    return sqlglot.transpile(query("bigquery", TableNames()), read="bigquery", write="duckdb")[0]


def test_bigquery_sql_transpiled_to_duckdb_gives_the_same_rows() -> None:
    """Run the BigQuery text itself (via sqlglot) in a UTC DuckDB: its semantics equal the oracle's."""
    warehouse = KpiWarehouse(time_zone="UTC")
    raw = offered_day().raw()
    touched = warehouse.load(raw)
    con = warehouse.con
    con.execute(
        "INSERT INTO touched_conversations SELECT DISTINCT provider_id, conversation_id FROM raw_conversations"
    )
    assert {c for _, c in touched} == {"c1"}
    con.execute(f"INSERT INTO fact_sessions BY NAME {_transpiled(fact_session_query)}")
    con.execute(f"INSERT INTO fact_conversations BY NAME {_transpiled(fact_conversation_query)}")
    con.execute(f"INSERT INTO affected_days BY NAME {_transpiled(affected_days_query)}")
    con.execute(f"INSERT INTO kpi_daily BY NAME {_transpiled(kpi_query)}")
    rows = warehouse.kpi_rows()
    assert rows
    assert_same_rows(rows, reference_kpi_rows(raw))


def test_table_names_qualify_every_table() -> None:
    names = TableNames().qualified("p.d.")
    assert names.raw_events == "p.d.raw_events"
    assert names.affected == "p.d.affected_days"
    assert set(names.mapping()) == {
        "raw_conversations",
        "raw_sessions",
        "raw_participants",
        "raw_events",
        "fact_sessions",
        "fact_conversations",
        "customer_erasures",
        "touched_conversations",
        "affected_days",
    }
