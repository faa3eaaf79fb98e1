"""Bounded runs: a backlog bigger than one run catches up over several runs, each committing what it
read, to exactly the warehouse one unbounded run writes (nothing skipped, nothing counted twice)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shared.aggregate.run import RunReport
from shared.aggregate.settings import AggregateSettings
from shared.warehouse.ddl import declared_tables
from tests.aggregate.conftest import read_rows
from tests.aggregate.test_exactly_once import reset_watermarks
from tests.aggregate.traffic import DAY_1, DAY_2, Provider, rejected_events

Contents = dict[str, list[tuple[Any, ...]]]


def contents(url: str) -> Contents:
    """Every declared table, sorted, without ``computed_at`` (when a row was computed)."""
    out: Contents = {}
    for table in declared_tables():
        columns = [c.name for c in table.columns if c.name != "computed_at"]
        rows = read_rows(url, f"SELECT {', '.join(columns)} FROM {table.name}")
        out[table.name] = sorted((tuple(r[c] for c in columns) for r in rows), key=repr)
    return out


def send_backlog(acme: Provider, calls: int) -> None:
    for i in range(calls):
        day = DAY_1 if i % 2 else DAY_2
        if i % 5 == 4:
            acme.conversation(f"c-{i}", day)
            acme.events(f"c-{i}", *rejected_events(f"c-{i}", day))
        else:
            acme.handled_call(f"c-{i}", day, answer_s=5 + i, csat=1 + i % 5)


def until_caught_up(aggregate, config: AggregateSettings, url: str | None = None) -> list[RunReport]:
    reports = [aggregate(config=config, url=url)]
    while reports[-1].more:
        assert len(reports) < 20, "the runs do not catch up"
        reports.append(aggregate(config=config, url=url))
    return reports


@pytest.mark.parametrize("page_size", [1, 4])
def test_a_backlog_catches_up_in_bounded_runs_to_the_same_warehouse(
    acme, aggregate, env, store, tmp_path: Path, page_size: int
) -> None:
    send_backlog(acme, 12)
    reference = f"duckdb:///{tmp_path / 'unbounded.duckdb'}"
    [whole] = until_caught_up(aggregate, AggregateSettings(lag_seconds=0, page_size=1000), reference)
    records = sum(whole.read.values())
    reset_watermarks(store)

    bounded = AggregateSettings(lag_seconds=0, page_size=page_size, max_records=-(-records // 3))
    runs = until_caught_up(aggregate, bounded)

    assert len(runs) == 3
    assert [r.more for r in runs] == [True, True, False]
    # Every record was read by exactly one run: none skipped at a cut, none read twice.
    for name in whole.read:
        assert sum(r.read[name] for r in runs) == whole.read[name]
    assert all(sum(r.read.values()) >= bounded.max_records for r in runs[:-1])
    assert contents(env["ANALYTICS_WAREHOUSE"]) == contents(reference)
    # Caught up: the next run finds nothing.
    assert sum(aggregate(config=bounded).read.values()) == 0


def test_after_every_bounded_run_the_watermark_says_exactly_what_the_warehouse_holds(
    acme, aggregate, env, store
) -> None:
    """One request's events share their ingest timestamp: a run may stop after them, never among
    them, so the events watermark always splits the store exactly where the warehouse ends."""
    send_backlog(acme, 3)
    events = [e for page in store.scan_events(None, datetime(2999, 1, 1, tzinfo=UTC), 1000) for e in page]
    assert len({e.ingested_at for e in events}) < len(events)  # several events on one timestamp
    config = AggregateSettings(lag_seconds=0, page_size=1, max_records=2)
    runs = 0
    while True:
        report = aggregate(config=config)
        runs += 1
        mark = store.get_watermark("aggregate.events").value
        loaded = {
            r["event_id"] for r in read_rows(env["ANALYTICS_WAREHOUSE"], "SELECT event_id FROM raw_events")
        }
        assert loaded == {e.event_id for e in events if mark is not None and e.ingested_at <= mark}
        if not report.more:
            break
    assert runs > 3 and mark is not None and mark >= max(e.ingested_at for e in events)
