"""``make report``: one run of the daily report e-mail on the configured store, warehouse and mailer.

``python -m tools.report [--day YYYY-MM-DD]`` sends the report of that UTC day (default yesterday)
to every subscriber who has not had it yet, and retries earlier failed ones; prints what it did.
Exit status: 0 done, 2 another run holds the lease, 3 some e-mails failed (kept for the next run).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime

from shared.config import settings
from shared.outputs.channels import open_mailer
from shared.outputs.report import run_report
from shared.store import open_store
from shared.warehouse import open_warehouse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make report", description=__doc__.splitlines()[0])
    parser.add_argument("--day", type=date.fromisoformat, default=None, help="UTC day (default yesterday)")
    args = parser.parse_args(argv)
    cfg = settings()
    store = open_store(cfg.store_url)
    warehouse = open_warehouse(cfg.warehouse_url)
    try:
        answer = run_report(
            store,
            warehouse,
            lambda: open_mailer(cfg.mailer_url, cfg.aws_role_arn),
            datetime.now(UTC),
            cfg.report_from,
            args.day,
        )
    finally:
        warehouse.close()
        store.close()
    print(json.dumps(answer.model_dump(), indent=2))
    if answer.status == "busy":
        return 2
    return 3 if answer.failed else 0


if __name__ == "__main__":
    sys.exit(main())
