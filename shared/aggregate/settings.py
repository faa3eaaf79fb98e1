"""Tuning of the aggregation, from the environment (read per run: a test or operator may change it).

- ``ANALYTICS_AGGREGATE_LAG_SECONDS`` (default 5): only records stamped at least this long ago are
  read, so a write whose timestamp was taken before a run started but committed after it is still
  read by the next run. It must exceed the longest write of the ingest functions.
- ``ANALYTICS_AGGREGATE_PAGE_SIZE`` (default 1000): records per store page, hence the memory a run needs.
- ``ANALYTICS_AGGREGATE_LEASE_SECONDS`` (default 900): how long a run's lease lasts without renewal;
  longer than the function timeout, so a crashed run's lease expires before the next-but-one tick.
- ``ANALYTICS_AGGREGATE_MAX_RECORDS`` (default 500000): store records one run reads at most (a
  little more: it stops at a page boundary, then reads the rest of the last store timestamp), so a
  backlog bigger than one run's timeout is caught up by several runs, each committing what it read.
- ``ANALYTICS_SINK_SETTLE_SECONDS`` (default 300; event sink mode only, shared/aggregate/landing.py):
  how far before its watermark a run looks again at the landing table, for appends acknowledged after
  the previous run read past their stamp. It must exceed the longest ingest request (60 s in the cloud).
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class AggregateSettings:
    lag_seconds: float = 5.0
    page_size: int = 1000
    lease_seconds: float = 900.0
    max_records: int = 500_000
    sink_settle_seconds: float = 300.0

    def __post_init__(self) -> None:
        if self.lag_seconds < 0:
            raise ValueError("the aggregation lag cannot be negative")
        if not 1 <= self.page_size <= 100_000:
            raise ValueError("the aggregation page size must be in 1..100000")
        if self.lease_seconds <= 0:
            raise ValueError("the aggregation lease must last a positive number of seconds")
        if self.max_records < 1:
            raise ValueError("an aggregation run must be allowed to read at least one record")
        if self.sink_settle_seconds < 0:
            raise ValueError("the event sink's settle time cannot be negative")


def _number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return default if raw in (None, "") else float(raw)


def aggregate_settings() -> AggregateSettings:
    defaults = AggregateSettings()
    return AggregateSettings(
        lag_seconds=_number("ANALYTICS_AGGREGATE_LAG_SECONDS", defaults.lag_seconds),
        page_size=int(_number("ANALYTICS_AGGREGATE_PAGE_SIZE", defaults.page_size)),
        lease_seconds=_number("ANALYTICS_AGGREGATE_LEASE_SECONDS", defaults.lease_seconds),
        max_records=int(_number("ANALYTICS_AGGREGATE_MAX_RECORDS", defaults.max_records)),
        sink_settle_seconds=_number("ANALYTICS_SINK_SETTLE_SECONDS", defaults.sink_settle_seconds),
    )
