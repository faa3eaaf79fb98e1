"""Fixtures of the KPI suite: a fresh DuckDB warehouse per test."""

from __future__ import annotations

import pytest

from tests.kpi.warehouse import KpiWarehouse


@pytest.fixture
def warehouse() -> KpiWarehouse:
    return KpiWarehouse()
