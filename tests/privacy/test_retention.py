"""Retention: raw events leave the store once aggregated and expired; warehouse partitions older than
the retention are dropped (DuckDB by the aggregation, BigQuery by partition expiration)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb

from shared.config import reset_settings
from shared.store.records import Event
from shared.warehouse import open_warehouse
from shared.warehouse.bigquery import BigQueryWarehouse


def _event(event_id: str, ingested: datetime) -> Event:
    return Event(
        provider_id="acme",
        event_id=event_id,
        conversation_id="c-1",
        provider_session_id="c-1-s1",
        participant_id="agent-1",
        name="SessionStarted",
        reason=None,
        event_ts=ingested,
        response_action=None,
        additional_data=None,
        custom_data={},
        schema="iglu:io.channelanalytics/SessionStarted/jsonschema/1-0-0",
        ingested_at=ingested,
    )


def test_expired_events_leave_the_store_only_once_the_warehouse_has_them(env, monkeypatch, store, aggregate):
    monkeypatch.setenv("ANALYTICS_EVENT_RETENTION_DAYS", "2")
    reset_settings()
    now = datetime.now(UTC)
    store.insert_events([_event("old", now - timedelta(days=3)), _event("new", now - timedelta(hours=1))])

    report = aggregate()
    assert report.events_purged == 1
    assert store.get_event("acme", "old") is None and store.get_event("acme", "new") is not None
    path = env["ANALYTICS_WAREHOUSE"].removeprefix("duckdb:///")
    with duckdb.connect(path, read_only=True) as con:
        kept = sorted(r[0] for r in con.execute("SELECT event_id FROM raw_events").fetchall())
    assert kept == ["new", "old"]  # the warehouse keeps what the store let go


def test_duckdb_drops_rows_of_days_past_the_warehouse_retention(env, monkeypatch, acme, aggregate):
    from tests.aggregate.traffic import handled_events

    today = datetime.now(UTC).date()
    old_day, recent_day = today - timedelta(days=40), today - timedelta(days=2)
    for conversation_id, day in (("c-old", old_day), ("c-new", recent_day)):
        acme.conversation(conversation_id, day, closed=True)
        acme.events(conversation_id, *handled_events(conversation_id, day, 10, None))
    # The retention shortened after the data arrived (ingest refuses what is already too old).
    monkeypatch.setenv("ANALYTICS_WAREHOUSE_RETENTION_DAYS", "30")
    reset_settings()
    aggregate()
    path = env["ANALYTICS_WAREHOUSE"].removeprefix("duckdb:///")
    with duckdb.connect(path, read_only=True) as con:
        days = {r[0] for r in con.execute("SELECT DISTINCT day FROM kpi_daily").fetchall()}
        events = {r[0] for r in con.execute("SELECT DISTINCT conversation_id FROM raw_events").fetchall()}
        facts = {r[0] for r in con.execute("SELECT conversation_id FROM fact_conversations").fetchall()}
    assert days == {recent_day}
    assert events == {"c-new"} and facts == {"c-new"}


def test_bigquery_partitions_expire_after_the_retention_24_months_by_default(env, monkeypatch):
    warehouse = open_warehouse("bigquery://demo-project/analytics")
    assert isinstance(warehouse, BigQueryWarehouse)
    ddl = "\n".join(warehouse.schema_statements())
    # Every partitioned table, but the event sink's landing table, which expires sooner (7 days).
    assert ddl.count("partition_expiration_days=730") == ddl.count("PARTITION BY") - 1
    assert ddl.count("partition_expiration_days=7,") == 1
    monkeypatch.setenv("ANALYTICS_WAREHOUSE_RETENTION_DAYS", "90")
    reset_settings()
    assert "partition_expiration_days=90" in "\n".join(
        open_warehouse("bigquery://demo-project/analytics").schema_statements()
    )
    explicit = open_warehouse("bigquery://demo-project/analytics?partition_expiration_days=400")
    assert "partition_expiration_days=400" in "\n".join(explicit.schema_statements())


def test_what_ingest_accepts_the_next_run_keeps_on_the_first_kept_day(env, monkeypatch, acme, aggregate):
    """Ingest and the warehouse share one cut-off: nothing accepted is dropped by the same run."""
    from tests.aggregate.traffic import handled_events

    monkeypatch.setenv("ANALYTICS_WAREHOUSE_RETENTION_DAYS", "30")
    reset_settings()
    first_kept = datetime.now(UTC).date() - timedelta(days=30)
    acme.conversation("c-edge", first_kept, closed=True)
    acme.events("c-edge", *handled_events("c-edge", first_kept, 10, None))
    aggregate()
    path = env["ANALYTICS_WAREHOUSE"].removeprefix("duckdb:///")
    with duckdb.connect(path, read_only=True) as con:
        kept = con.execute("SELECT COUNT(*) FROM raw_events WHERE conversation_id = 'c-edge'").fetchone()[0]
    assert kept > 0


def test_failed_events_leave_the_store_after_their_retention_once_aggregated(
    env, monkeypatch, store, aggregate
):
    from dataclasses import replace

    from tests.store.records import failed

    monkeypatch.setenv("ANALYTICS_FAILED_EVENT_RETENTION_DAYS", "2")
    reset_settings()
    now = datetime.now(UTC)
    old = replace(failed("old"), received_at=now - timedelta(days=3))
    fresh = replace(failed("fresh"), received_at=now - timedelta(hours=1))
    store.add_failed_events([old, fresh])

    report = aggregate()
    assert report.failed_events_purged == 1
    assert store.get_failed_event("acme", "old") is None and store.get_failed_event("acme", "fresh")
    path = env["ANALYTICS_WAREHOUSE"].removeprefix("duckdb:///")
    with duckdb.connect(path, read_only=True) as con:
        kept = sorted(r[0] for r in con.execute("SELECT failed_id FROM raw_failed_events").fetchall())
    assert kept == ["fresh", "old"]  # reason and status stay in the warehouse, no payload
