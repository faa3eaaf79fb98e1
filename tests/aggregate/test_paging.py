"""Bounded memory: extraction pulls bounded pages from the store and stages each before the next."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from shared.aggregate.run import run_aggregation
from shared.aggregate.settings import AggregateSettings
from shared.warehouse import open_warehouse
from tests.aggregate.traffic import DAY_1, handled_events


class PageRecorder:
    """The real store, with every page it hands out recorded (sizes only)."""

    def __init__(self, store: Any):
        self._store = store
        self.pages: list[tuple[str, int, int]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def _record(self, kind: str, pages: Iterator[list[Any]], size: int) -> Iterator[list[Any]]:
        for page in pages:
            self.pages.append((kind, size, len(page)))
            yield page

    def scan_events(self, since, until, page_size):
        return self._record("events", self._store.scan_events(since, until, page_size), page_size)

    def scan_conversations(self, since, until, page_size):
        return self._record(
            "conversations", self._store.scan_conversations(since, until, page_size), page_size
        )


class StagingRecorder:
    """The real DuckDB warehouse, with the size of every staged batch recorded."""

    def __init__(self, warehouse: Any):
        self._warehouse = warehouse
        self.batches: list[tuple[str, int]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._warehouse, name)

    def load_staging(self, table, batch) -> None:
        self.batches.append((table.name, batch.num_rows))
        self._warehouse.load_staging(table, batch)


def test_extraction_reads_and_stages_page_by_page(acme, env, store):
    for i in range(7):
        acme.conversation(f"c-{i}", DAY_1)
        acme.events(f"c-{i}", *handled_events(f"c-{i}", DAY_1))
    recorder = PageRecorder(store)
    warehouse = StagingRecorder(open_warehouse(env["ANALYTICS_WAREHOUSE"]))
    try:
        report = run_aggregation(
            recorder, warehouse, datetime.now(UTC), config=AggregateSettings(lag_seconds=0, page_size=3)
        )
    finally:
        warehouse.close()
    assert report.read["events"] == 28 and report.read["conversations"] == 7
    event_pages = [n for kind, _, n in recorder.pages if kind == "events"]
    assert len(event_pages) == 10 and max(event_pages) == 3 and sum(event_pages) == 28
    assert all(size == 3 for _, size, _ in recorder.pages)
    staged_events = [n for name, n in warehouse.batches if name == "raw_events"]
    assert staged_events == event_pages  # staged as read, one page at a time
    assert max(n for name, n in warehouse.batches if name == "raw_conversations") == 3
