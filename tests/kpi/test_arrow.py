"""Rows to Arrow with the schema of the table declarations (the DuckDB bulk-load path)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import duckdb
import pyarrow as pa
import pytest

from shared.warehouse.arrow import arrow_schema, to_arrow
from shared.warehouse.tables import KPI_DAILY, RAW_EVENTS

EVENT = {
    "provider_id": "acme",
    "event_id": "e-1",
    "conversation_id": "c-1",
    "session_id": "s-1",
    "name": "SurveyAnswered",
    "event_ts": datetime(2026, 3, 2, 23, 30, tzinfo=timezone(timedelta(hours=-5))),
    "custom_data": {"nps": 9, "csat": 5},
    "ingested_at": datetime(2026, 3, 3, 4, 31, tzinfo=UTC),
}


def test_types_come_from_the_declaration():
    schema = arrow_schema(RAW_EVENTS)
    assert schema.field("event_ts").type == pa.timestamp("us", tz="UTC")
    assert schema.field("custom_data").type == pa.string()
    assert not schema.field("provider_id").nullable
    assert schema.field("reason").nullable
    assert arrow_schema(KPI_DAILY).field("day").type == pa.date32()


def test_rows_load_into_duckdb_typed_and_in_utc():
    table = to_arrow(RAW_EVENTS, [EVENT])
    con = duckdb.connect()
    con.register("batch", table)
    row = con.execute(
        "SELECT CAST(timezone('UTC', event_ts) AS VARCHAR), custom_data ->> '$.nps', reason FROM batch"
    ).fetchone()
    assert row == ("2026-03-03 04:30:00", "9", None)
    assert table.column("custom_data").to_pylist() == ['{"csat":5,"nps":9}']


def test_an_empty_batch_still_has_the_schema():
    assert to_arrow(KPI_DAILY, []).schema == arrow_schema(KPI_DAILY)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"event_ts": datetime(2026, 3, 2, 9, 0)}, "aware datetime"),
        ({"provider_id": None}, "provider_id is required"),
        ({"evnt_ts": EVENT["event_ts"]}, "unknown columns"),
    ],
)
def test_bad_rows_are_refused_not_loaded_as_null(change, message):
    with pytest.raises(ValueError, match=message):
        to_arrow(RAW_EVENTS, [{**EVENT, **change}])


def test_dates_must_be_dates():
    row = {"day": datetime(2026, 3, 2, tzinfo=UTC), "provider_id": "a", "kpi": "k", "unit": "count",
           "computed_at": datetime(2026, 3, 2, tzinfo=UTC)}  # fmt: skip
    with pytest.raises(ValueError, match="DATE"):
        to_arrow(KPI_DAILY, [row])
    assert to_arrow(KPI_DAILY, [{**row, "day": date(2026, 3, 2)}]).num_rows == 1
