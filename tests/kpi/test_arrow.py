"""Rows to Arrow with the schema of the table declarations (the DuckDB bulk-load path)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

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


def _one_by_one(rows: list[dict]) -> pa.Table:
    """The conversion value by value, as the bulk path was first written: what it must equal."""
    arrays = []
    for column in RAW_EVENTS.columns:
        values = []
        for row in rows:
            value = row.get(column.name)
            if value is not None and column.type == "JSON" and not isinstance(value, str):
                value = json.dumps(value, sort_keys=True, separators=(",", ":"))
            elif value is not None and column.type == "TIMESTAMP":
                value = value.astimezone(UTC)
            values.append(value)
        arrays.append(pa.array(values, type=arrow_schema(RAW_EVENTS).field(column.name).type))
    return pa.Table.from_arrays(arrays, schema=arrow_schema(RAW_EVENTS))


_offsets = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
_instants = st.datetimes(
    min_value=datetime(2000, 1, 2), max_value=datetime(2100, 1, 1), timezones=st.just(UTC) | _offsets
)
_events = st.fixed_dictionaries(
    {
        "provider_id": st.text(min_size=1, max_size=5),
        "event_id": st.text(min_size=1, max_size=5),
        "conversation_id": st.text(min_size=1, max_size=5),
        "session_id": st.text(min_size=1, max_size=5),
        "name": st.sampled_from(["SessionStarted", "MessageSent"]),
        "event_ts": _instants,
        "custom_data": st.dictionaries(st.text(max_size=3), st.integers() | st.text(max_size=3), max_size=3)
        | st.just('{"raw":"text"}'),
        "ingested_at": _instants,
    },
    optional={"reason": st.none() | st.text(max_size=4), "participant_id": st.none() | st.text(max_size=4)},
)


@given(st.lists(_events, max_size=20))
def test_column_wise_conversion_equals_the_value_by_value_one(rows):
    table = to_arrow(RAW_EVENTS, rows)
    assert table.schema == arrow_schema(RAW_EVENTS)
    assert table.equals(_one_by_one(rows))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-03-02T09:00:00Z", "aware datetime, got '2026"),
        (date(2026, 3, 2), "aware datetime, got datetime.date"),
    ],
)
def test_a_timestamp_must_be_an_aware_datetime_in_any_row(value, message):
    rows = [EVENT, {**EVENT, "event_ts": value}]
    with pytest.raises(ValueError, match=f"row 1: event_ts needs an {message}"):
        to_arrow(RAW_EVENTS, rows)


def test_the_first_bad_row_is_named():
    rows = [EVENT, EVENT, {**EVENT, "conversation_id": None}, {**EVENT, "typo": 1}]
    with pytest.raises(ValueError, match="row 3: unknown columns \\['typo'\\]"):
        to_arrow(RAW_EVENTS, rows)
    with pytest.raises(ValueError, match="row 2: conversation_id is required"):
        to_arrow(RAW_EVENTS, rows[:3])
    with pytest.raises(ValueError, match="row 1: day needs a date, got 'x'"):
        to_arrow(KPI_DAILY, [{"day": date(2026, 3, 2)}, {"day": "x"}])
