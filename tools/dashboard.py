"""``make dashboard``: write the sample dashboard of any provider and period from any warehouse.

``python -m tools.dashboard --provider demo-contact-center [--days 7 | --start D --end D]
[--warehouse URL] [--out .local/dashboard.html]``. The warehouse is ``ANALYTICS_WAREHOUSE`` unless
``--warehouse`` says otherwise (``duckdb:///PATH`` or ``bigquery://PROJECT/DATASET``); the page is one
self-contained HTML file that opens offline (docs/outputs.md).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from shared.config import settings
from shared.outputs.dashboard import build_dashboard
from shared.warehouse import open_warehouse
from shared.warehouse.port import WarehouseError

DEFAULT_OUT = Path(".local") / "dashboard.html"


def period(days: int, start: date | None, end: date | None) -> tuple[date, date]:
    """``--start/--end``, else the ``days`` days up to yesterday (UTC)."""
    end = end or (datetime.now(UTC) - timedelta(days=1)).date()
    return (start or end - timedelta(days=days - 1)), end


def write_dashboard(warehouse_url: str, provider_id: str, start: date, end: date, out: Path) -> Path:
    warehouse = open_warehouse(warehouse_url)
    try:
        page = build_dashboard(warehouse, provider_id, start, end)
    finally:
        warehouse.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.dashboard", description=__doc__.splitlines()[0])
    parser.add_argument("--provider", required=True, help="provider id")
    parser.add_argument("--days", type=int, default=7, help="days up to --end (default 7)")
    parser.add_argument("--start", type=date.fromisoformat, default=None, help="first day, YYYY-MM-DD")
    parser.add_argument(
        "--end", type=date.fromisoformat, default=None, help="last day (default yesterday, UTC)"
    )
    parser.add_argument("--warehouse", default=None, help="warehouse URL (default ANALYTICS_WAREHOUSE)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default {DEFAULT_OUT}")
    args = parser.parse_args(argv)
    if args.days < 1:
        parser.error("--days must be at least 1")
    start, end = period(args.days, args.start, args.end)
    if start > end:
        parser.error("--start is after --end")
    try:
        out = write_dashboard(args.warehouse or settings().warehouse_url, args.provider, start, end, args.out)
    except (WarehouseError, ValueError) as exc:
        print(f"make dashboard: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {out} ({start} to {end}, provider {args.provider})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
