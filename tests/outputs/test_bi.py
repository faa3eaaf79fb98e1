"""The BI-ready warehouse: grain views that hide NULL-means-all, wide views, kpi_catalog, comments,
and the documented rollup recipe answering "abandon rate per queue last week" in one query."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
import sqlglot

from shared.kpi.bi import GRAINS, bi_views, catalog_rows, load_catalog, prepare_warehouse, rollup_sql
from shared.kpi.catalog import CATALOG, by_name
from shared.warehouse.bigquery import BigQueryWarehouse
from shared.warehouse.duckdb import DuckDbWarehouse
from tests.outputs.world import DAYS, END, PROVIDER, build, counts

# The query docs/bi.md gives for "abandon rate per queue last week", word for word.
ABANDON_PER_QUEUE = """
SELECT queue_id, SUM(numerator) / SUM(denominator) AS abandon_rate
FROM kpi_queue_daily
WHERE kpi = 'abandon_rate' AND day BETWEEN DATE '2026-11-16' AND DATE '2026-11-22'
GROUP BY queue_id ORDER BY queue_id
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build(tmp_path_factory.mktemp("bi") / "bi.duckdb")


@pytest.fixture
def warehouse(built, tmp_path):
    """A copy per test: some tests change it."""
    copy = tmp_path / "bi.duckdb"
    shutil.copy(built, copy)
    wh = DuckDbWarehouse(str(copy))
    yield wh
    wh.close()


def test_the_documented_query_answers_abandon_rate_per_queue_last_week(warehouse):
    week = DAYS[7:]
    assert (week[0].isoformat(), week[-1].isoformat()) == ("2026-11-16", "2026-11-22")
    rows = warehouse.query(ABANDON_PER_QUEUE)
    # Each queue's rate over the week: its abandoned over its incoming, summed, not averaged.
    assert {r["queue_id"]: round(r["abandon_rate"], 6) for r in rows} == {"billing": 0.2, "sales": 0.2}
    docs = (__import__("pathlib").Path(__file__).resolve().parents[2] / "docs" / "bi.md").read_text()
    assert " ".join(ABANDON_PER_QUEUE.split()) in " ".join(docs.split())


def test_grain_views_hold_exactly_their_slice(warehouse):
    total = warehouse.query(f"SELECT COUNT(*) AS n FROM kpi_daily WHERE provider_id = '{PROVIDER}'")[0]["n"]
    seen = 0
    for grain in GRAINS:
        rows = warehouse.query(f"SELECT * FROM {grain.view} WHERE provider_id = '{PROVIDER}'")
        seen += len(rows)
        for row in rows:
            assert all(row[d] is not None for d in grain.dimensions), grain
            assert not {"channel", "queue_id", "agent_id", "experience_id"} - set(grain.dimensions) & set(row)
    assert seen == total, "every kpi_daily row is in exactly one grain view"
    queues = warehouse.query("SELECT DISTINCT queue_id FROM kpi_queue_daily ORDER BY queue_id")
    assert [r["queue_id"] for r in queues] == ["billing", "sales"]


def test_wide_views_have_one_column_per_kpi_and_a_grain(warehouse):
    [row] = warehouse.query(
        f"SELECT * FROM kpi_conversation_daily_wide WHERE grain = 'provider' AND provider_id = '{PROVIDER}' "
        f"AND day = DATE '{END.isoformat()}'"
    )
    expected = counts(END)
    assert row["incoming_conversations"] == expected["incoming_conversations"][0]
    assert row["abandon_rate"] == pytest.approx(10 / expected["abandon_rate"][1])
    assert {k.name for k in CATALOG if k.family == "conversation"} <= set(row)
    grains = {r["grain"] for r in warehouse.query("SELECT DISTINCT grain FROM kpi_conversation_daily_wide")}
    assert grains == {"provider", "queue"}


def test_kpi_catalog_is_loaded_and_only_rewritten_when_it_changes(warehouse):
    stored = warehouse.query("SELECT * FROM kpi_catalog ORDER BY name")
    assert len(stored) == len(CATALOG)
    nps = next(r for r in stored if r["name"] == "nps")
    assert (nps["unit"], nps["rollup"], nps["wide_view"]) == (
        "score",
        "100 * SUM(numerator) / NULLIF(SUM(denominator), 0)",
        "kpi_conversation_daily_wide",
    )
    assert load_catalog(warehouse) is False
    warehouse.query("DELETE FROM kpi_catalog WHERE name = 'nps' RETURNING name")
    warehouse.query(
        "INSERT INTO kpi_catalog SELECT 'gone_kpi', family, kind, unit, description, formula, rollup, wide_view FROM kpi_catalog LIMIT 1 RETURNING name"
    )
    assert load_catalog(warehouse) is True
    names = [r["name"] for r in warehouse.query("SELECT name FROM kpi_catalog ORDER BY name")]
    assert names == sorted(k.name for k in CATALOG)
    assert catalog_rows()[0]["formula"] == CATALOG[0].formula_in_words()


def test_every_table_view_and_column_has_the_comment_bigquery_has(warehouse):
    prepare_warehouse(warehouse)  # again: comments already in place stay
    columns = warehouse.query(
        "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE schema_name = 'main' AND NOT internal "
        "AND table_name NOT IN ('chat_module_visits', 'relationship_snapshot', 'relationship_daily_activity')"
    )
    missing = [(r["table_name"], r["column_name"]) for r in columns if not r["comment"]]
    assert missing == []
    tables = warehouse.query("SELECT table_name, comment FROM duckdb_tables() WHERE table_name = 'kpi_daily'")
    assert tables[0]["comment"].startswith("One row per KPI, provider, day and slice")
    views = warehouse.query(
        "SELECT view_name, comment FROM duckdb_views() WHERE view_name = 'kpi_queue_daily'"
    )
    assert "per queue" in views[0]["comment"]


def test_the_rollup_recipe_follows_the_kind():
    assert rollup_sql(by_name()["incoming_conversations"]) == "SUM(numerator)"
    assert rollup_sql(by_name()["avg_handle_time_s"]) == "SUM(numerator) / NULLIF(SUM(denominator), 0)"


def test_bigquery_gets_the_same_views_qualified_and_described():
    adapter = BigQueryWarehouse("my-project-1", "analytics")
    statements = [s for s in adapter.schema_statements(bi_views()) if s.startswith("CREATE VIEW")]
    assert len(statements) == 1 + len(bi_views())
    for statement in statements:
        sqlglot.parse_one(statement, read="bigquery")  # parses as BigQuery SQL
    queue = next(s for s in statements if "kpi_queue_daily" in s.split("\n")[0])
    assert (
        "`my-project-1`.`analytics`.`kpi_daily`" in queue and "OPTIONS(description=" in queue.split("\n")[0]
    )


def test_days_outside_the_data_give_no_rows(warehouse):
    before = DAYS[0] - timedelta(days=30)
    assert warehouse.query(f"SELECT * FROM kpi_queue_daily WHERE day = DATE '{before.isoformat()}'") == []
