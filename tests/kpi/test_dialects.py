"""The BigQuery SQL: parsed by sqlglot, pinned by snapshots, and — transpiled back to DuckDB — giving
the same KPI rows as the reference on generated traffic.

Snapshots live in tests/kpi/snapshots/, one per generated query (every family's fact, scope, extra
days and rolled-up table, and kpi_daily). After an intended change to the SQL, regenerate them with
``UPDATE_SNAPSHOTS=1 python -m pytest tests/kpi/test_dialects.py`` and review the diff.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import sqlglot
from hypothesis import given

from shared.kpi import sql as kpi_sql
from shared.kpi.dialects import render
from shared.kpi.families import FAMILIES, scopes
from shared.kpi.reference import reference_kpi_rows, reference_module_visits
from shared.kpi.sql import (
    TableNames,
    extra_days_query,
    fact_query,
    kpi_query,
    output_query,
    scope_query,
    snapshot_query,
)
from shared.warehouse.ddl import declared_tables
from shared.warehouse.tables import CHAT_MODULE_VISITS
from tests.kpi.compare import assert_same_rows
from tests.kpi.test_oracle import PROPERTY
from tests.kpi.traffic import raw_traffic
from tests.kpi.warehouse import KpiWarehouse

SNAPSHOTS = Path(__file__).parent / "snapshots"
# Declared tables qualified as in a real dataset; the run's temporary tables stay bare.
BIGQUERY_NAMES = TableNames.qualified("my-project.analytics.", [t.name for t in declared_tables()])


def _queries() -> dict[str, Callable[[str, TableNames], str]]:
    queries: dict[str, Callable[[str, TableNames], str]] = {"kpi_daily": lambda d, n: kpi_query(d, n)}
    for family in FAMILIES.values():
        if family.stored:
            queries[family.fact.name] = lambda d, n, f=family: fact_query(f, d, n)
        if family.extra_days_sql is not None:
            queries[f"extra_days_{family.name}"] = lambda d, n, f=family: extra_days_query(f, d, n) or ""
        for output in family.outputs:
            queries[output.table.name] = lambda d, n, o=output: output_query(o, d, n)
        for snapshot in family.snapshots:
            queries[snapshot.table.name] = lambda d, n, s=snapshot: snapshot_query(s, d, n)
            queries[f"scope_{snapshot.scope.table}"] = lambda d, n, s=snapshot.scope: scope_query(s, d, n)
    for scope in scopes([f for f in FAMILIES.values() if f.stored]):
        if not scope.root:
            queries[f"scope_{scope.table}"] = lambda d, n, s=scope: scope_query(s, d, n)
    return queries


QUERIES = _queries()


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


def test_every_snapshot_belongs_to_a_query() -> None:
    assert {p.name.removesuffix(".bigquery.sql") for p in SNAPSHOTS.glob("*.bigquery.sql")} == set(QUERIES)


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_bigquery_sql_parses_and_names_every_table_fully(name: str) -> None:
    tree = sqlglot.parse_one(QUERIES[name]("bigquery", BIGQUERY_NAMES), read="bigquery")
    ctes = {cte.alias_or_name for cte in tree.find_all(sqlglot.exp.CTE)}
    declared = {t.name for t in declared_tables()}
    for table in tree.find_all(sqlglot.exp.Table):
        if table.name in ctes or not table.name:
            continue
        if table.name in declared:
            assert (table.catalog, table.db) == ("my-project", "analytics"), table.sql("bigquery")
        else:  # the run's own tables: scopes, affected days, changed rows
            assert not table.db, table.sql("bigquery")


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
            "WITH raw_events AS (SELECT 1 AS x) SELECT x FROM raw_events", "duckdb", {"raw_events": "p.d.e"}
        )


def test_table_names_qualify_the_tables_listed_only() -> None:
    names = TableNames.qualified("p.d.", ["raw_events", "kpi_daily"])
    assert names.mapping() == {"raw_events": "p.d.raw_events", "kpi_daily": "p.d.kpi_daily"}


_CACHED = (
    kpi_sql.scope_query,
    kpi_sql.fact_query,
    kpi_sql.in_scope_query,
    kpi_sql.changed_query,
    kpi_sql.days_query,
    kpi_sql.extra_days_query,
    kpi_sql.output_query,
    kpi_sql.snapshot_query,
    kpi_sql.kpi_query,
)


@contextmanager
def bigquery_text_in_duckdb() -> Iterator[None]:
    """Every query of ``shared.kpi.sql`` rendered for BigQuery, then transpiled to DuckDB by sqlglot
    alone (no override of ours): the BigQuery text itself runs, in a UTC session."""

    def transpiled(canonical: str, dialect: str, tables: Any, computed_at_sql: str | None = None) -> str:
        bigquery = render(canonical, "bigquery", tables, computed_at_sql)
        return sqlglot.transpile(bigquery, read="bigquery", write="duckdb")[0]

    for query in _CACHED:
        query.cache_clear()
    try:
        with mock.patch.object(kpi_sql, "render", transpiled):
            yield
    finally:
        for query in _CACHED:
            query.cache_clear()


_UTC: list[KpiWarehouse] = []


@pytest.fixture(scope="module")
def bigquery_sql() -> Iterator[None]:
    with bigquery_text_in_duckdb():
        yield


@PROPERTY
@given(raw=raw_traffic())
def test_bigquery_sql_transpiled_to_duckdb_gives_the_reference_rows(
    bigquery_sql: None, raw: dict[str, list[dict[str, Any]]]
) -> None:
    """The BigQuery text's semantics equal the oracle's, on the same generated traffic as the DuckDB
    SQL (contact center and chatbot), KPI rows and module visits alike."""
    if not _UTC:
        _UTC.append(KpiWarehouse(time_zone="UTC"))
    warehouse = _UTC[0]
    warehouse.reset()
    assert_same_rows(warehouse.run(raw), reference_kpi_rows(raw))
    key = ("day", "provider_id", "experience_id", "module_id")
    got = sorted(warehouse.rows(CHAT_MODULE_VISITS), key=lambda r: tuple(str(r[k]) for k in key))
    want = sorted(reference_module_visits(raw), key=lambda r: tuple(str(r[k]) for k in key))
    assert got == want
