"""Event sink mode on a local BigQuery API emulator: the aggregation's own work per run does not grow
with the events.

For each size: seed a store with the bench's replicated day (``dataset.py``), run one aggregation so
the conversations are in the warehouse, then put every event in ``event_landing`` (a load job: the
setup, standing in for the ingest function's appends) and time the run that counts them: its wall time
(mostly the emulator executing the in-warehouse script, DuckDB underneath, so not BigQuery's speed)
and the CPU time of the aggregation's own process (lease, the staging and transaction scripts, the
reports), which is what one function instance pays. A last run with nothing new gives the floor.
"""

from __future__ import annotations

import io
import os
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from google.cloud import bigquery

from shared.aggregate.run import RunReport, run_aggregation
from shared.aggregate.settings import AggregateSettings
from shared.config import reset_settings
from shared.kpi.bi import prepare_warehouse
from shared.sink import landing_rows
from shared.store.sqlite import SqliteStore
from shared.warehouse import open_warehouse
from shared.warehouse.arrow import to_arrow
from shared.warehouse.bigquery import BigQueryWarehouse, staging_schema
from shared.warehouse.tables import EVENT_LANDING
from tools.bench.aggregation_run import BENCH_PSEUDONYMS
from tools.bench.dataset import Template, seed
from tools.bench.report import Section
from tools.bigquery_emulator import BigQueryEmulator, EmulatorMissing

NO_LAG = AggregateSettings(lag_seconds=0)


@dataclass(frozen=True)
class SinkResult:
    events: int
    conversations: int
    landing_rows: int
    load_s: float
    run_s: float
    run_cpu_s: float
    idle_s: float
    idle_cpu_s: float
    raw_events: int
    kpi_rows: int


def _timed(store: SqliteStore, url: str) -> tuple[RunReport, float, float]:
    warehouse = open_warehouse(url)
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        report = run_aggregation(
            store, warehouse, datetime.now(UTC), config=NO_LAG, pseudonyms=BENCH_PSEUDONYMS
        )
        return report, time.perf_counter() - wall, time.process_time() - cpu
    finally:
        warehouse.close()


def _load_landing(store: SqliteStore, url: str) -> tuple[int, float]:
    """Every stored event as a landing row, stamped now, loaded with one job (the bench's setup)."""
    started = time.perf_counter()
    now = datetime.now(UTC)
    writer: pq.ParquetWriter | None = None
    data = io.BytesIO()
    rows = 0
    for page in store.scan_events(None, now, 50_000):
        batch = landing_rows(page, BENCH_PSEUDONYMS)
        for row in batch:
            row["ingested_at"] = now
            row["digest"] = row["digest"] or "bench"
        table = to_arrow(EVENT_LANDING, batch)
        writer = writer or pq.ParquetWriter(data, table.schema)
        writer.write_table(table)
        rows += len(batch)
    assert writer is not None, "the seeded store holds no events"
    writer.close()
    warehouse = open_warehouse(url)
    assert isinstance(warehouse, BigQueryWarehouse)
    try:
        data.seek(0)
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET,
            write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
            schema=staging_schema(EVENT_LANDING),
        )
        job = warehouse.client.load_table_from_file(
            data, warehouse.table_id(EVENT_LANDING.name), size=len(data.getvalue()), job_config=config
        )
        job.result()
    finally:
        warehouse.close()
    return rows, time.perf_counter() - started


def measure(
    template: Template, sizes: list[int], progress: Any = print
) -> tuple[list[SinkResult], str | None]:
    """The results per size, or none and the reason the emulator is not available here."""
    emulator = BigQueryEmulator()
    try:
        emulator.start()
    except EmulatorMissing as exc:
        return [], str(exc)
    saved = {k: os.environ.get(k) for k in ("ANALYTICS_EVENT_SINK",)}
    results = []
    try:
        for n in sizes:
            dataset = f"bench_{n}"
            url = emulator.warehouse_url(dataset)
            os.environ["ANALYTICS_EVENT_SINK"] = emulator.sink_url(dataset)
            reset_settings()
            with tempfile.TemporaryDirectory(prefix="bench-sink-") as tmp:
                path = Path(tmp) / "store.sqlite3"
                seeded = seed(path, template, n, datetime.now(UTC).date())
                store = SqliteStore(str(path))
                try:
                    warehouse = open_warehouse(url)
                    try:
                        prepare_warehouse(warehouse)
                    finally:
                        warehouse.close()
                    _timed(store, url)  # the conversations (and the landing table, empty)
                    landed, load_s = _load_landing(store, url)
                    progress(f"  sink {n:>10,}: {landed:,} landing rows loaded in {load_s:.1f} s")
                    report, run_s, run_cpu = _timed(store, url)
                    progress(f"  sink {n:>10,}: run {run_s:.1f} s wall, {run_cpu:.2f} s CPU of the process")
                    _, idle_s, idle_cpu = _timed(store, url)
                    warehouse = open_warehouse(url)
                    try:
                        raw = warehouse.query(f"SELECT COUNT(*) AS n FROM {warehouse.name('raw_events')}")[0][
                            "n"
                        ]
                    finally:
                        warehouse.close()
                finally:
                    store.close()
            results.append(
                SinkResult(
                    seeded.events,
                    seeded.conversations,
                    landed,
                    load_s,
                    run_s,
                    run_cpu,
                    idle_s,
                    idle_cpu,
                    int(raw),
                    report.kpi_rows_written,
                )
            )
    finally:
        emulator.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reset_settings()
    return results, None


def sections(results: list[SinkResult], skipped: str | None) -> list[Section]:
    table = Section(
        "Event sink mode: in-warehouse aggregation on the BigQuery API emulator (not BigQuery)",
        [
            "events in event_landing",
            "conversations",
            "raw_events after",
            "kpi rows",
            "run wall s (emulator)",
            "run CPU s (our process)",
            "CPU µs per event",
            "idle run wall s",
            "idle run CPU s",
        ],
    )
    for r in results:
        table.rows.append(
            [
                f"{r.landing_rows:,}",
                f"{r.conversations:,}",
                f"{r.raw_events:,}",
                f"{r.kpi_rows:,}",
                f"{r.run_s:.1f}",
                f"{r.run_cpu_s:.2f}",
                f"{r.run_cpu_s / max(1, r.landing_rows) * 1e6:.2f}",
                f"{r.idle_s:.1f}",
                f"{r.idle_cpu_s:.2f}",
            ]
        )
    if skipped:
        table.notes.append(f"not measured: {skipped}")
    table.notes.append(
        "run: the aggregation run that counts every event of event_landing (their conversations were "
        "aggregated by an earlier run); CPU: time.process_time() of the aggregation's process, which "
        "does no per-event work in this mode; wall: mostly the emulator (DuckDB under a SQL translator) "
        "executing the scripts, not a BigQuery figure; idle: the next run, with nothing new"
    )
    if len(results) >= 2:
        first, last = results[0], results[-1]
        table.notes.append(
            f"from {first.landing_rows:,} to {last.landing_rows:,} events (×{last.landing_rows / first.landing_rows:.0f}): "
            f"CPU of our process ×{last.run_cpu_s / max(first.run_cpu_s, 1e-9):.2f}, emulator wall "
            f"×{last.run_s / max(first.run_s, 1e-9):.1f}"
        )
    return [table]
