"""Fixtures of the aggregation suites: a provider sending traffic over HTTP, the real SQLite store,
the real DuckDB warehouse, and helpers that run the aggregation and read ``kpi_daily`` back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

from shared.aggregate.run import Hook, RunReport, run_aggregation
from shared.aggregate.settings import AggregateSettings
from shared.store import store_for
from shared.store.port import Store
from shared.warehouse import open_warehouse
from tests.aggregate.traffic import Provider

# No lag in tests: what a test just sent must be readable by the run it starts next.
NO_LAG = AggregateSettings(lag_seconds=0, page_size=50)

KPI_COLUMNS = (
    "day, provider_id, kpi, channel, queue_id, agent_id, experience_id, value, numerator, denominator, unit"
)


@pytest.fixture
def store(env) -> Store:
    return store_for(env["ANALYTICS_STORE"])


@pytest.fixture
def acme(ingest_client, provider_key) -> Provider:
    return Provider(ingest_client, provider_key)


Aggregate = Callable[..., RunReport]


@pytest.fixture
def aggregate(env, store) -> Aggregate:
    """One run on the test's store and DuckDB file (opened and closed per run, like the function)."""

    def run(
        days: list[date] | None = None,
        *,
        url: str | None = None,
        hook: Hook | None = None,
        config: AggregateSettings = NO_LAG,
    ) -> RunReport:
        warehouse = open_warehouse(url or env["ANALYTICS_WAREHOUSE"])
        try:
            return run_aggregation(store, warehouse, datetime.now(UTC), days, config=config, hook=hook)
        finally:
            warehouse.close()

    return run


def read_rows(url: str, sql: str) -> list[dict[str, Any]]:
    warehouse = open_warehouse(url)
    try:
        return warehouse.query(sql)
    finally:
        warehouse.close()


def kpi_table(url: str, with_computed_at: bool = False) -> list[tuple[Any, ...]]:
    """``kpi_daily`` as sorted tuples; ``computed_at`` left out unless asked for."""
    columns = KPI_COLUMNS + (", computed_at" if with_computed_at else "")
    rows = read_rows(url, f"SELECT {columns} FROM kpi_daily")
    return sorted((tuple(r.values()) for r in rows), key=repr)


def kpi_total(url: str, kpi: str, day: date, provider: str = "acme") -> float | None:
    rows = read_rows(
        url,
        f"SELECT value FROM kpi_provider_daily WHERE kpi = '{kpi}' AND day = DATE '{day.isoformat()}' "
        f"AND provider_id = '{provider}'",
    )
    assert len(rows) <= 1, rows
    return rows[0]["value"] if rows else None
