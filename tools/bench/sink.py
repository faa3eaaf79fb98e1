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


@dataclass(frozen=True)
class IngestCost:
    """CPU of ``log_events`` per accepted event, the same batches into the store and into the sink."""

    batch: float  # events per request, on average
    events: int
    store_us: float
    sink_us: float
    sink_bytes: float  # serialized landing row, bytes (what the Storage Write API bills)


def _batches_of(bodies: list[dict[str, Any]], size: int) -> list[dict[str, Any]]:
    """Each request's events repeated under new eventIds up to ``size`` events (the same envelope)."""
    out = []
    for body in bodies:
        events = [e for e in body["events"] if isinstance(e, dict)]
        grown = [
            {**e, "eventId": f"{e.get('eventId') or 'auto'}-{k}"}
            for k in range(-(-size // max(1, len(events))))
            for e in events
        ]
        out.append({**body, "events": grown[:size]})
    return out


def measure_ingest(emulator: BigQueryEmulator, dataset: str, conversations: int) -> list[IngestCost]:
    """A generated day's event batches through ``log_events``: into a SQLite store (today's path,
    create-if-absent per event), and into the Storage Write sink on the emulator; as generated (a
    few events per request) and grown to 100 events per request."""
    from shared.ingest.events import log_events
    from shared.ingest.sink import sink_insert
    from shared.sink.bigquery_write import BigQueryWriteSink
    from shared.store.records import Provider
    from tools.traffic import generate_day

    now = datetime.now(UTC)
    traffic = generate_day(conversations, 11, now=now, provider_id="bench")
    generated = [r.body for r in traffic.requests if r.kind == "events" and not r.retry]
    provider = Provider("bench", "Bench", True, now, now)
    sink = BigQueryWriteSink(emulator.project, dataset, endpoint=emulator.grpc)
    insert = sink_insert(sink, BENCH_PSEUDONYMS)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        try:
            # Warm-up, not timed: the first append opens the process's stream (once per instance).
            warm = SqliteStore(str(Path(tmp) / "warm.sqlite3"))
            log_events(warm, provider, generated[0], now, None, insert)
            warm.close()
            for name, bodies in (("generated", generated), ("100", _batches_of(generated[:60], 100))):
                costs: dict[str, float] = {}
                events = 0
                store = SqliteStore(str(Path(tmp) / f"{name}.sqlite3"))
                try:
                    for mode in ("store", "sink"):
                        cpu = time.process_time()
                        events = sum(
                            log_events(
                                store, provider, body, now, None, insert if mode == "sink" else None
                            ).accepted
                            for body in bodies
                        )
                        costs[mode] = (time.process_time() - cpu) / max(1, events) * 1e6
                    rows = [row for body in bodies[:50] for row in _landing_sample(store, body, now)]
                finally:
                    store.close()
                size = sum(len(sink.serialize(r)) for r in rows) / max(1, len(rows))
                results.append(IngestCost(events / len(bodies), events, costs["store"], costs["sink"], size))
        finally:
            sink.close()
    return results


def _landing_sample(store: SqliteStore, body: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    """The landing rows of one request's valid events."""
    from shared.ingest.events import Envelope, EventResolver, build_event
    from shared.store.records import Event

    envelope = Envelope(
        body["conversationId"],
        body["providerSessionId"],
        body.get("participantId"),
        body.get("clientSessionId"),
    )
    resolve = EventResolver(store, "bench")
    built = [build_event("bench", envelope, raw, resolve, now) for raw in body["events"]]
    return landing_rows([e for e in built if isinstance(e, Event)], BENCH_PSEUDONYMS)


def measure(
    template: Template, sizes: list[int], progress: Any = print, ingest_conversations: int = 400
) -> tuple[list[SinkResult], list[IngestCost] | None, str | None]:
    """The results per size and the ingest cost, or none and the reason the emulator is not
    available here."""
    emulator = BigQueryEmulator()
    try:
        emulator.start()
    except EmulatorMissing as exc:
        return [], None, str(exc)
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
        warehouse = open_warehouse(emulator.warehouse_url("bench_ingest"))
        try:
            prepare_warehouse(warehouse)
        finally:
            warehouse.close()
        ingest = measure_ingest(emulator, "bench_ingest", ingest_conversations)
        for c in ingest:
            progress(
                f"  sink ingest, {c.batch:.0f} events a request: {c.store_us:.0f} µs/event into the store, "
                f"{c.sink_us:.0f} µs/event into the sink"
            )
    finally:
        emulator.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reset_settings()
    return results, ingest, None


def sections(
    results: list[SinkResult], ingest: list[IngestCost] | None, skipped: str | None
) -> list[Section]:
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
    out = [table]
    if ingest:
        cost = Section(
            "Ingest: CPU of log_events per accepted event, store (create-if-absent) vs event sink",
            [
                "events per request",
                "events",
                "into the store µs/event",
                "into the sink µs/event",
                "landing row bytes (proto)",
            ],
        )
        for c in ingest:
            cost.rows.append(
                [
                    f"{c.batch:.1f}",
                    f"{c.events:,}",
                    f"{c.store_us:.1f}",
                    f"{c.sink_us:.1f}",
                    f"{c.sink_bytes:.0f}",
                ]
            )
        cost.notes.append(
            "the same requests through the product's log_events in one process: validation, ids, "
            "digests, then a SQLite insert per event (the embedded store) or pseudonymised landing rows "
            "serialized as protocol buffers and appended with the Storage Write API to the emulator "
            "(one append per request; the client library's threads included, the emulator's not); HTTP "
            "handling is not included. 100: each generated request grown to 100 events"
        )
        out.append(cost)
    return out
