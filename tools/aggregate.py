"""``make aggregate``: aggregation runs on the configured store and warehouse until caught up.

``python -m tools.aggregate [--day YYYY-MM-DD ...] [--once]`` restates the given UTC days on top of
what is new. A run reads at most ``ANALYTICS_AGGREGATE_MAX_RECORDS`` store records and says ``more``
when it stopped there; runs follow one another until one does not (``--once``: a single run). One
report is printed: the last run's, with what every run read, staged, touched and wrote added up.
Exit status: 0 done, 2 another run holds the lease (nothing done), 3 the warehouse or store failed
(the runs before the failing one stay committed).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime
from typing import Any

from shared.aggregate.run import LeaseLost, RunReport, run_aggregation
from shared.config import settings
from shared.store import open_store
from shared.store.errors import StoreUnavailable
from shared.warehouse import open_warehouse
from shared.warehouse.port import WarehouseError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make aggregate", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--day", action="append", type=date.fromisoformat, default=[], help="UTC day to restate"
    )
    parser.add_argument("--once", action="store_true", help="one run, even if it leaves more to read")
    args = parser.parse_args(argv)
    cfg = settings()
    store = open_store(cfg.store_url)
    reports: list[RunReport] = []
    try:
        warehouse = open_warehouse(cfg.warehouse_url)
        try:
            while True:
                # Restated days once; the runs after it only catch up.
                days = args.day if not reports else []
                reports.append(run_aggregation(store, warehouse, datetime.now(UTC), days))
                print(progress(len(reports), reports[-1]), file=sys.stderr, flush=True)
                # ``busy``: another run holds the lease and carries on from where this one stopped.
                if args.once or reports[-1].status != "ok" or not reports[-1].more:
                    break
        finally:
            warehouse.close()
    except (WarehouseError, StoreUnavailable, LeaseLost) as exc:
        committed = f"{len(reports)} run(s) committed before it" if reports else "nothing committed"
        print(f"aggregation failed, {committed}: {exc}", file=sys.stderr)
        return 3
    finally:
        store.close()
    print(json.dumps(summary(reports), indent=2))
    return 2 if reports[0].status == "busy" else 0


def progress(number: int, report: RunReport) -> str:
    """One line per run, as it ends (stderr: stdout carries the summary, as JSON)."""
    if report.status == "busy":
        return f"run {number}: another run holds the lease; nothing done"
    read = sum(report.read.values())
    days = f"{report.days[0]}..{report.days[-1]}" if len(report.days) > 1 else (report.days or ["no day"])[0]
    tail = "more to read" if report.more else "caught up"
    return (
        f"run {number}: read {read:,} records, wrote {report.kpi_rows_written:,} KPI rows for {days} "
        f"in {report.duration_ms / 1000:.1f} s; {tail}"
    )


def summary(reports: list[RunReport]) -> dict[str, Any]:
    """The last report's body with the counts of every run added up (``runs``: how many ran)."""
    ran = [r for r in reports if r.status == "ok"] or reports
    body = ran[-1].wire().model_dump()
    body["read"] = {name: sum(r.read.get(name, 0) for r in ran) for name in ran[-1].read}
    for key, attribute in (
        ("stagedRows", "staged_rows"),
        ("conversationsTouched", "conversations_touched"),
        ("providerDays", "provider_days"),
        ("kpiRowsWritten", "kpi_rows_written"),
    ):
        body[key] = sum(getattr(r, attribute) for r in ran)
    body["days"] = sorted({d for r in ran for d in r.days})
    body["daysRestated"] = ran[0].days_restated
    body["durationMs"] = sum(r.duration_ms for r in reports)
    body["runs"] = len(ran)
    return body


if __name__ == "__main__":
    sys.exit(main())
