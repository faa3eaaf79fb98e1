"""One aggregation run in a process of its own, so its peak memory is its own.

``python -m tools.bench.aggregation_run STORE.sqlite3 WAREHOUSE.duckdb [--floor N]`` runs the product's
``run_aggregation`` (lease, paged extraction, staging, the one transaction, watermarks) with no lag and
prints one JSON object: the time of each phase, the run report, the peak RSS of this process, and with
``--floor`` the median of N timings of the GROUP BY floor on the warehouse the run wrote.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from datetime import UTC, datetime

import duckdb

from shared.aggregate.run import Step, run_aggregation
from shared.aggregate.settings import AggregateSettings, aggregate_settings
from shared.privacy.pseudonym import Pseudonymizer
from shared.store.sqlite import SqliteStore
from shared.warehouse.duckdb import DuckDbWarehouse
from tools.bench.stats import median

# The bench's own pseudonym key (generated data, no real customers): the same for the full and the
# incremental run, as a deployment's key is, and nothing is read from or written to ``.local``.
BENCH_PSEUDONYMS = Pseudonymizer(b"channel-analytics-benchmark-pseudonym-key")

# One pass over the same events the run loaded: the least a warehouse must do to count them per
# provider, day and event name (the shape of a KPI row).
FLOOR_SQL = (
    "SELECT provider_id, CAST(event_ts AS DATE) AS day, name, COUNT(*) AS n "
    "FROM raw_events GROUP BY provider_id, CAST(event_ts AS DATE), name"
)


def run(store_path: str, warehouse_path: str) -> dict[str, object]:
    # A backlog past ANALYTICS_AGGREGATE_MAX_RECORDS takes several runs, one after the other, as
    # ``make aggregate`` runs them: the phases are added up over the runs.
    phases = {"extract_s": 0.0, "transaction_s": 0.0}
    marks: dict[str, float] = {}
    started = time.perf_counter()

    def hook(step: Step) -> None:
        marks[step] = time.perf_counter()

    store = SqliteStore(store_path)
    warehouse = DuckDbWarehouse(warehouse_path)
    reports = []
    try:
        while not reports or reports[-1].more:
            run_started = time.perf_counter()
            reports.append(
                run_aggregation(
                    store,
                    warehouse,
                    datetime.now(UTC),
                    config=AggregateSettings(lag_seconds=0, max_records=aggregate_settings().max_records),
                    hook=hook,
                    pseudonyms=BENCH_PSEUDONYMS,
                )
            )
            phases["extract_s"] += marks["extracted"] - run_started
            phases["transaction_s"] += marks["committed"] - marks["staged"]
    finally:
        warehouse.close()
        store.close()
    total = time.perf_counter() - started
    report = reports[-1].as_dict()
    report["kpi_rows_written"] = sum(r.kpi_rows_written for r in reports)
    return {
        "total_s": total,
        **phases,
        "runs": len(reports),
        "report": report,
        # Linux reports ru_maxrss in KiB.
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def floor(warehouse_path: str, repetitions: int) -> float:
    conn = duckdb.connect(warehouse_path, read_only=True)
    try:
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute(FLOOR_SQL).fetchall()  # warm: the table's pages in memory, like the run had them
        times = []
        for _ in range(repetitions):
            started = time.perf_counter()
            conn.execute(FLOOR_SQL).fetchall()
            times.append(time.perf_counter() - started)
        return median(times)
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.aggregation_run")
    parser.add_argument("store")
    parser.add_argument("warehouse")
    parser.add_argument("--floor", type=int, default=0, help="time the GROUP BY floor this many times")
    args = parser.parse_args(argv)
    result = run(args.store, args.warehouse)
    if args.floor:
        result["floor_s"] = floor(args.warehouse, args.floor)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
