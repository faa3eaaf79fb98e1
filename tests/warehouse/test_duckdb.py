"""The DuckDB adapter: schema from the declarations, Arrow staging, one all-or-nothing transaction."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.aggregate.rows import event_rows
from shared.aggregate.staging import staging_table
from shared.store.records import Event
from shared.warehouse import open_warehouse
from shared.warehouse.arrow import to_arrow
from shared.warehouse.ddl import declared_tables, declared_views
from shared.warehouse.duckdb import DuckDbWarehouse
from shared.warehouse.port import Transaction
from shared.warehouse.tables import RAW_EVENTS

AT = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)


@pytest.fixture
def warehouse(tmp_path):
    wh = open_warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    assert isinstance(wh, DuckDbWarehouse)
    wh.ensure_schema()
    yield wh
    wh.close()


def _events(*ids: str) -> list[Event]:
    return [
        Event(
            "acme", i, "c-1", "s-1", None, "SurveyAnswered", None, AT, None, None, {"csat": 5}, "iglu:x", AT
        )
        for i in ids
    ]


def test_every_declared_table_and_view_exists_with_its_columns(warehouse):
    warehouse.ensure_schema()  # twice: idempotent
    for table in declared_tables():
        rows = warehouse.query(
            f"SELECT column_name FROM information_schema.columns WHERE table_name = '{table.name}' "
            "ORDER BY ordinal_position"
        )
        assert [r["column_name"] for r in rows] == [c.name for c in table.columns], table.name
    for view in declared_views():
        assert warehouse.query(f"SELECT COUNT(*) AS n FROM {view.name}") == [{"n": 0}]


def test_staged_pages_insert_and_keep_types(warehouse):
    table = staging_table(RAW_EVENTS)
    warehouse.load_staging(table, to_arrow(table, event_rows(_events("e-1", "e-2"))))
    warehouse.load_staging(table, to_arrow(table, event_rows(_events("e-3"))))
    assert warehouse.flush_staging().rows == {"raw_events": 3}
    rows = warehouse.query(
        "SELECT event_id, event_ts, custom_data->>'csat' AS csat, "
        "CAST(timezone('UTC', event_ts) AS DATE) AS day FROM stg_raw_events ORDER BY event_id"
    )
    assert [r["event_id"] for r in rows] == ["e-1", "e-2", "e-3"]
    assert rows[0]["event_ts"] == AT and rows[0]["csat"] == "5" and rows[0]["day"] == AT.date()


def test_a_failure_before_commit_leaves_nothing(warehouse):
    insert = "INSERT INTO raw_failed_events VALUES ('acme', 'f-1', TIMESTAMPTZ '2026-11-23 10:00:00+00', 'x', 'm', 'event', 'open', NULL)"

    def crash() -> None:
        raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError):
        warehouse.apply(Transaction((insert,), "SELECT 1 AS n"), before_commit=crash)
    assert warehouse.query("SELECT COUNT(*) AS n FROM raw_failed_events") == [{"n": 0}]
    assert warehouse.apply(Transaction((insert,), "SELECT COUNT(*) AS n FROM raw_failed_events")) == {"n": 1}


def test_a_column_declared_later_is_added(tmp_path):
    path = tmp_path / "old.duckdb"
    wh = open_warehouse(f"duckdb:///{path}")
    wh.ensure_schema()
    wh.apply(Transaction(("ALTER TABLE raw_events DROP COLUMN schema",), "SELECT 1 AS ok"))
    wh.ensure_schema()
    names = [
        r["column_name"]
        for r in wh.query(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'raw_events'"
        )
    ]
    assert "schema" in names
    wh.close()


@pytest.mark.parametrize(
    "url", ["duckdb://", "duckdb:///x.duckdb?nope=1", "sqlite:///x", "duckdb:///x?lock_timeout_s="]
)
def test_bad_urls_are_refused(url):
    with pytest.raises(ValueError):
        open_warehouse(url)
