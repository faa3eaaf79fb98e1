"""Event sink mode: the run's events come from the warehouse's ``event_landing`` table, deduplicated
inside the warehouse, instead of being extracted from the store page by page.

The ingest function appends every accepted event to ``event_landing`` (at least once: a retried append
or a provider's retry lands twice). A run then stages, with SQL only (no Python per event):

1. the window: landing rows stamped in ``(watermark − settle, until]``. The settle time
   (``ANALYTICS_SINK_SETTLE_SECONDS``, default 300 s, longer than an ingest request may take) reads
   again rows whose append was acknowledged after the previous run had read past their stamp, so none
   is skipped. The table is partitioned by ingest hour: the window costs an hour or two of partitions;
2. per key ``(provider_id, event_id)`` the window's first write (earliest ``ingested_at``) wins;
3. into the run's ``raw_events`` staging: each first write whose key ``raw_events`` does not hold yet.
   A retry carries the same content, so the same ``event_ts``: BigQuery compares with the
   ``raw_events`` partitions of the window's event days only. The run's ONE transaction then MERGEs
   the staging into ``raw_events`` (create-only, whatever day an id is stored on) and recomputes facts
   and KPIs exactly as for events read from the store (``build_transaction``, unchanged);
4. into a staging table of conflicts, upserted into ``raw_failed_events`` as ``event_id_conflict`` by the
   same transaction: a later write in the window whose content digest differs from the first write's,
   and a first write whose key ``raw_events`` holds (same event day) with another conversation, session,
   name, reason, response action or timestamp. Refused, not counted, and visible.

Exactly once: the watermark moves only after the commit (at-least-once reading), the staging excludes
what ``raw_events`` holds, and the MERGE inserts a key only when it is missing (idempotent applying).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from shared.aggregate.rows import VERSION
from shared.aggregate.staging import staging_table
from shared.warehouse.port import Transaction, Warehouse
from shared.warehouse.tables import (
    EVENT_LANDING,
    LANDING_RETENTION_DAYS,
    RAW_EVENTS,
    RAW_FAILED_EVENTS,
)

VERSIONS = "landing_versions"  # the window's landing rows, ranked per key
# What a reused eventId must share with the stored event to be taken for a retry of it (the columns
# raw_events keeps as sent; participant and customData are left out: an erasure changes them).
CONTENT = ("conversation_id", "provider_session_id", "name", "reason", "event_ts", "response_action")
CONFLICTS = "landing_conflicts"  # raw_failed_events rows of reused event ids
EVENT_DAYS = "landing_event_days"  # BigQuery script variable: raw_events partitions to compare with


@dataclass(frozen=True)
class LandingStage:
    """What a run staged from the landing table: ``read`` landing rows stamped since the watermark,
    ``events`` new first writes staged for ``raw_events``, ``conflicts`` reused event ids."""

    read: int = 0
    events: int = 0
    conflicts: int = 0


def _timestamp(warehouse: Warehouse, at: datetime) -> str:
    text = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")
    return f"TIMESTAMPTZ '{text}'" if warehouse.dialect == "duckdb" else f"TIMESTAMP '{text}'"


def _create(warehouse: Warehouse, name: str, select_sql: str) -> str:
    """A staging table the run's transaction reads (BigQuery: a ``_staging_`` table of the dataset,
    replaced by each run; DuckDB: a temporary table of the run's connection)."""
    if warehouse.dialect == "duckdb":
        return f"CREATE OR REPLACE TEMP TABLE {warehouse.staging_name(name)} AS\n{select_sql}"
    return f"CREATE OR REPLACE TABLE {warehouse.staging_name(name)} AS\n{select_sql}"


def stage_statements(
    warehouse: Warehouse, since: datetime | None, until: datetime, settle_seconds: float
) -> tuple[list[str], str]:
    """The statements that fill the staging tables, and the SELECT of their counts."""
    landing = warehouse.name(EVENT_LANDING.name)
    lower = None if since is None else since - timedelta(seconds=settle_seconds)
    after = "TRUE" if lower is None else f"ingested_at > {_timestamp(warehouse, lower)}"
    upto = f"ingested_at <= {_timestamp(warehouse, until)}"
    order = "PARTITION BY provider_id, event_id ORDER BY ingested_at, digest"
    versions = (
        f"SELECT w.*, ROW_NUMBER() OVER ({order}) AS arrival,\n"
        f"  FIRST_VALUE(digest) OVER ({order}) AS first_digest\n"
        f"FROM (SELECT * FROM {landing} WHERE {after} AND {upto}) AS w"
    )
    staged_versions = warehouse.staging_name(VERSIONS)
    custom = "CAST(v.custom_data AS JSON)" if warehouse.dialect == "duckdb" else "v.custom_data"
    columns = []
    for column in staging_table(RAW_EVENTS).columns:
        if column.name == "session_id":  # resolved by the transaction (shared.aggregate.event_sessions)
            columns.append("v.provider_session_id AS session_id")
        elif column.name == "custom_data":
            columns.append(f"{custom} AS custom_data")
        elif column.name == VERSION:
            columns.append(f"v.ingested_at AS {VERSION}")
        else:
            columns.append(f"v.{column.name}")
    compared = ", ".join(f"{c}" for c in ("provider_id", "event_id", *CONTENT))
    stored = f"SELECT {compared} FROM {warehouse.name(RAW_EVENTS.name)}"
    statements: list[str] = []
    if warehouse.dialect == "bigquery":
        statements.append(f"DECLARE {EVENT_DAYS} ARRAY<DATE> DEFAULT []")
    statements.append(_create(warehouse, VERSIONS, versions))
    if warehouse.dialect == "bigquery":
        statements.append(f"SET {EVENT_DAYS} = ARRAY(SELECT DISTINCT DATE(event_ts) FROM {staged_versions})")
        stored += f" WHERE DATE(event_ts) IN UNNEST({EVENT_DAYS})"
    joined = (
        f"FROM {staged_versions} AS v\n"
        f"LEFT JOIN ({stored}) AS r ON r.provider_id = v.provider_id AND r.event_id = v.event_id\n"
    )
    statements.append(
        _create(
            warehouse,
            RAW_EVENTS.name,
            f"SELECT {', '.join(columns)}\n{joined}WHERE v.arrival = 1 AND r.event_id IS NULL",
        )
    )
    differs = " OR ".join(f"v.{c} IS DISTINCT FROM r.{c}" for c in CONTENT)
    statements.append(
        _create(
            warehouse,
            CONFLICTS,
            "SELECT v.provider_id, CONCAT('conflict:', v.event_id, ':', v.digest) AS failed_id,\n"
            "  MIN(v.ingested_at) AS received_at, 'event_id_conflict' AS code,\n"
            "  CONCAT('eventId ', v.event_id, ' was first written with other content; the first write is"
            " kept and this one is not counted (its content stays in event_landing)') AS message,\n"
            "  'event' AS kind, 'open' AS status, CAST(NULL AS TIMESTAMP) AS replayed_at\n"
            f"{joined}"
            f"WHERE (v.arrival > 1 AND v.digest <> v.first_digest)\n"
            f"  OR (v.arrival = 1 AND r.event_id IS NOT NULL AND ({differs}))\n"
            "GROUP BY v.provider_id, v.event_id, v.digest",
        )
    )
    new = "TRUE" if since is None else f"ingested_at > {_timestamp(warehouse, since)}"
    counts = (
        f"SELECT (SELECT COUNT(*) FROM {staged_versions} WHERE {new}) AS read_rows,\n"
        f"  (SELECT COUNT(*) FROM {warehouse.staging_name(RAW_EVENTS.name)}) AS events,\n"
        f"  (SELECT COUNT(*) FROM {warehouse.staging_name(CONFLICTS)}) AS conflicts"
    )
    return statements, counts


def stage_landing(
    warehouse: Warehouse, since: datetime | None, until: datetime, settle_seconds: float
) -> LandingStage:
    """Fill the run's ``raw_events`` and conflict staging from ``event_landing`` (one script on
    BigQuery, a few statements on DuckDB's run connection); nothing is read into Python but the
    three counts."""
    statements, counts = stage_statements(warehouse, since, until, settle_seconds)
    if warehouse.dialect == "bigquery":
        rows = warehouse.query(";\n".join([*statements, counts]) + ";")
    else:
        for statement in statements:
            warehouse.query(statement)
        rows = warehouse.query(counts)
    row = rows[0] if rows else {}
    return LandingStage(
        int(row.get("read_rows") or 0), int(row.get("events") or 0), int(row.get("conflicts") or 0)
    )


def landing_retention_cutoff(today: date) -> date:
    """The first ingest day ``event_landing`` keeps."""
    return today - timedelta(days=LANDING_RETENTION_DAYS)


def with_landing(
    warehouse: Warehouse, transaction: Transaction, stage: LandingStage, today: date
) -> Transaction:
    """The run's transaction plus what the landing mode adds: the conflicts upserted into
    ``raw_failed_events``, and (DuckDB, which has no partition expiration) landing rows past their
    retention deleted."""
    extra: list[str] = []
    if stage.conflicts:
        extra += warehouse.upsert(RAW_FAILED_EVENTS, f"SELECT * FROM {warehouse.staging_name(CONFLICTS)}")
    if warehouse.dialect == "duckdb":
        cutoff = landing_retention_cutoff(today).isoformat()
        extra.append(
            f"DELETE FROM {warehouse.name(EVENT_LANDING.name)} "
            f"WHERE CAST(timezone('UTC', ingested_at) AS DATE) < DATE '{cutoff}'"
        )
    return Transaction((*extra, *transaction.statements), transaction.summary, transaction.declarations)
