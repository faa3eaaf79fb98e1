"""What the aggregation campaigns share (``aggregator_kills``, ``concurrent_runs``, ``late_data``): a
world of real processes — the ingest stack, ``python -m tools.aggregate`` (``make aggregate``) runs as
processes of their own, a SQLite store and a DuckDB file — and the comparison with a clean run.

The clean reference: the store is copied (SQLite backup API), the copy's watermarks are cleared, and
one ``make aggregate`` over it fills a fresh warehouse. "Equal" means every declared warehouse table has the
same rows, every column compared except ``computed_at`` (when a row was computed, not what it says).
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from shared.aggregate.extract import COLLECTIONS
from shared.store import open_store
from shared.store.records import Watermark
from shared.warehouse import open_warehouse
from shared.warehouse.ddl import declared_tables
from tools.demo import send_traffic
from tools.reliability.client import Answers
from tools.reliability.load import register_provider
from tools.reliability.stack import ingest_stack
from tools.serve import ROOT, LocalStack
from tools.traffic import Traffic

EXIT_OK, EXIT_BUSY, EXIT_FAILED = 0, 2, 3  # tools.aggregate's exit statuses
IGNORED_COLUMNS = frozenset({"computed_at"})
Contents = dict[str, list[tuple[Any, ...]]]


class CampaignFailed(AssertionError):
    """The warehouse or the runs did not come out as the exactly-once argument says."""


@dataclass
class World:
    """A data directory with the SQLite store, the DuckDB warehouse and the ingest stack over them."""

    data_dir: Path
    lease_seconds: float = 0.5
    page_size: int = 250  # several store pages per run, so a kill can land between two of them
    with_function: bool = False  # also serve functions/aggregate (POST /), as the scheduler calls it
    # One pseudonym key for every run of a campaign and its reference, so their customer ids agree.
    pseudonym_salt: str = field(default_factory=lambda: secrets.token_hex(16))
    stack: LocalStack | None = None

    @property
    def store_path(self) -> Path:
        return self.data_dir / "store.sqlite3"

    @property
    def store_url(self) -> str:
        return f"sqlite:///{self.store_path}"

    @property
    def warehouse_url(self) -> str:
        return f"duckdb:///{self.data_dir / 'warehouse.duckdb'}"

    def __enter__(self) -> World:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.stack = ingest_stack(
            self.data_dir,
            self.store_url,
            aggregate=self.with_function,
            **{
                k: v
                for k, v in self.environment().items()
                if k.startswith("ANALYTICS_AGGREGATE_") or k == "ANALYTICS_PSEUDONYM_SALT"
            },
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.stack is not None:
            self.stack.stop()

    def provider_key(self, provider_id: str) -> str:
        assert self.stack is not None
        return register_provider(self.stack.url("providers"), self.stack.admin_token, Answers(), provider_id)

    def send(self, key: str, traffic: Traffic) -> None:
        """Every request of ``traffic`` over HTTP, retried on 503 (``tools.demo``'s client)."""
        assert self.stack is not None
        send_traffic(self.stack.url("ingest"), key, traffic, workers=2)

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANALYTICS_")}
        env.update(
            {
                "ANALYTICS_STORE": self.store_url,
                "ANALYTICS_WAREHOUSE": self.warehouse_url,
                "ANALYTICS_AGGREGATE_LAG_SECONDS": "0",
                "ANALYTICS_AGGREGATE_PAGE_SIZE": str(self.page_size),
                # A SIGKILLed run cannot release its lease: it frees itself after this many seconds.
                "ANALYTICS_AGGREGATE_LEASE_SECONDS": str(self.lease_seconds),
                "ANALYTICS_PSEUDONYM_SALT": self.pseudonym_salt,
                "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
            }
        )
        return env

    def start_aggregation(self, days: Sequence[date] = ()) -> subprocess.Popen[str]:
        """``python -m tools.aggregate [--day D ...]`` as its own process."""
        command = [sys.executable, "-m", "tools.aggregate", *(f"--day={d.isoformat()}" for d in days)]
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def aggregate_until_done(self, days: Sequence[date] = (), within_s: float = 60.0) -> Run:
        """One run to completion; a ``busy`` answer (a killed run's lease) is retried until it lapses."""
        deadline = time.monotonic() + within_s
        busy = 0
        while True:
            run = finish(self.start_aggregation(days))
            if run.code == EXIT_OK and run.report.get("status") == "ok":
                run.busy_before = busy
                return run
            if run.code != EXIT_BUSY and not (run.code == EXIT_OK and run.report.get("status") == "busy"):
                raise CampaignFailed(f"the aggregation failed ({run.code}): {run.stderr[-2000:]}")
            busy += 1
            if time.monotonic() > deadline:
                raise CampaignFailed(f"the aggregation stayed busy for {within_s} s")
            time.sleep(self.lease_seconds / 2)


@dataclass
class Run:
    code: int
    report: dict[str, Any]
    stderr: str
    busy_before: int = 0


def finish(process: subprocess.Popen[str], timeout_s: float = 300.0) -> Run:
    out, err = process.communicate(timeout=timeout_s)
    report: dict[str, Any] = {}
    if process.returncode == EXIT_OK and out.strip():
        report = json.loads(out)
    return Run(process.returncode, report, err)


def contents(warehouse_url: str) -> Contents:
    """Every declared table's rows, sorted, without the columns that only say when."""
    warehouse = open_warehouse(warehouse_url)
    try:
        out: Contents = {}
        for table in declared_tables():
            columns = [c.name for c in table.columns if c.name not in IGNORED_COLUMNS]
            rows = warehouse.query(f"SELECT {', '.join(columns)} FROM {warehouse.name(table.name)}")
            out[table.name] = sorted((tuple(r[c] for c in columns) for r in rows), key=repr)
        return out
    finally:
        warehouse.close()


def clean_reference(world: World, work_dir: Path) -> Contents:
    """One ``make aggregate`` over a copy of the world's store into a fresh warehouse: what the tables
    must hold."""
    reference = World(work_dir, lease_seconds=world.lease_seconds, pseudonym_salt=world.pseudonym_salt)
    work_dir.mkdir(parents=True, exist_ok=True)
    for stale in (reference.store_path, Path(reference.warehouse_url.removeprefix("duckdb:///"))):
        stale.unlink(missing_ok=True)
    source, target = sqlite3.connect(world.store_path), sqlite3.connect(reference.store_path)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    store = open_store(reference.store_url)
    try:
        for collection in COLLECTIONS:
            store.set_watermark(Watermark(collection.watermark, None))
    finally:
        store.close()
    # The copy may hold a lease a killed run left behind: the run waits for it to lapse.
    reference.aggregate_until_done()
    return contents(reference.warehouse_url)


def differences(got: Contents, want: Contents) -> dict[str, dict[str, int]]:
    """Per table that differs: rows only in the warehouse, rows only in the reference."""
    out: dict[str, dict[str, int]] = {}
    for name in sorted(set(got) | set(want)):
        have, need = Counter(got.get(name, [])), Counter(want.get(name, []))
        extra, missing = sum((have - need).values()), sum((need - have).values())
        if extra or missing:
            out[name] = {"extra_rows": extra, "missing_rows": missing}
    return out


@dataclass
class ComparedWithCleanRun:
    """What every aggregation campaign ends with: its warehouse against one clean run's."""

    rows_compared: dict[str, int] = field(default_factory=dict)
    differences: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def equal(self) -> bool:
        return not self.differences

    def compare(self, world: World, got: Contents, work_dir: Path) -> None:
        """Fill in the comparison of ``got`` with a clean run over a copy of ``world``'s store."""
        want = clean_reference(world, work_dir)
        self.rows_compared = {name: len(rows) for name, rows in want.items()}
        self.differences = differences(got, want)


def chunks(traffic: Traffic, n: int) -> list[Traffic]:
    """The day's requests in ``n`` consecutive slices (the order a provider sends them in)."""
    size = max(1, -(-len(traffic.requests) // n))
    return [
        replace(traffic, requests=traffic.requests[i : i + size])
        for i in range(0, len(traffic.requests), size)
    ]
