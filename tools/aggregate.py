"""``make aggregate``: one aggregation run on the configured store and warehouse, report printed.

``python -m tools.aggregate [--day YYYY-MM-DD ...]`` restates the given UTC days on top of what is new.
Exit status: 0 done, 2 another run holds the lease (nothing done), 3 the warehouse or store failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime

from shared.aggregate.run import LeaseLost, run_aggregation
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
    args = parser.parse_args(argv)
    cfg = settings()
    store = open_store(cfg.store_url)
    try:
        warehouse = open_warehouse(cfg.warehouse_url)
        try:
            report = run_aggregation(store, warehouse, datetime.now(UTC), args.day)
        finally:
            warehouse.close()
    except (WarehouseError, StoreUnavailable, LeaseLost) as exc:
        print(f"aggregation failed, nothing committed: {exc}", file=sys.stderr)
        return 3
    finally:
        store.close()
    print(json.dumps(report.wire().model_dump(), indent=2))
    return 2 if report.status == "busy" else 0


if __name__ == "__main__":
    sys.exit(main())
