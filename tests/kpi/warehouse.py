"""A real DuckDB warehouse for the KPI tests, driven through the aggregation's own transaction
(``shared.aggregate.transaction``): raw rows are staged with Arrow exactly as a run stages them, then
one transaction loads them, recomputes the touched scopes' facts and replaces the affected days' KPI
rows. Only the extraction from the store is left out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared.aggregate.rows import VERSION
from shared.aggregate.staging import staging_table
from shared.aggregate.transaction import build_transaction
from shared.kpi.catalog import CATALOG
from shared.kpi.model import Family, Kpi
from shared.warehouse.arrow import to_arrow
from shared.warehouse.ddl import declared_tables
from shared.warehouse.duckdb import DuckDbWarehouse
from shared.warehouse.tables import (
    KPI_DAILY,
    PROVIDER_SETTINGS,
    RAW_ACTIVITIES,
    RAW_ACTIVITY_PARTIES,
    RAW_CONVERSATIONS,
    RAW_EVENTS,
    RAW_PARTICIPANTS,
    RAW_SESSIONS,
    Table,
)

RAW_TABLES = (
    RAW_CONVERSATIONS,
    RAW_SESSIONS,
    RAW_PARTICIPANTS,
    RAW_EVENTS,
    RAW_ACTIVITIES,
    RAW_ACTIVITY_PARTIES,
    PROVIDER_SETTINGS,
)
# Staged together, as a run stages them.
TOGETHER = ((RAW_CONVERSATIONS, RAW_SESSIONS, RAW_PARTICIPANTS), (RAW_ACTIVITIES, RAW_ACTIVITY_PARTIES))
KPI_COLUMNS = tuple(c.name for c in KPI_DAILY.columns)
COMPUTED_AT = datetime(2026, 12, 1, tzinfo=UTC)

Raw = Mapping[str, Sequence[Mapping[str, Any]]]  # raw table name -> rows


class KpiWarehouse:
    """DuckDB with every declared table. The session time zone is deliberately not UTC, so a day
    computed in local time instead of UTC shows up as a test failure. ``families`` limits the KPI
    families recomputed (default: all)."""

    def __init__(
        self,
        time_zone: str = "America/Los_Angeles",
        families: Iterable[Family] | None = None,
        catalog: tuple[Kpi, ...] = CATALOG,
    ):
        self.warehouse = DuckDbWarehouse(":memory:")
        self.con = self.warehouse._conn
        self.warehouse.ensure_schema()
        self.con.execute(f"SET TimeZone = '{time_zone}'")
        self.families = None if families is None else tuple(families)
        self.catalog = catalog
        self._loads = 0

    def reset(self) -> None:
        """Empty every table, so one connection can serve many generated examples."""
        for table in declared_tables():
            self.con.execute(f"DELETE FROM {table.name}")

    def load(self, raw: Raw) -> set[str]:
        """Stage raw rows (a later load is a later version: it wins); returns the staged tables."""
        self._loads += 1
        version = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=self._loads)
        tables: list[Table] = [t for t in RAW_TABLES if raw.get(t.name)]
        for group in TOGETHER:
            if any(t in group for t in tables):
                tables += [t for t in group if t not in tables]
        for table in tables:
            rows = [{**row, VERSION: version} for row in raw.get(table.name, ())]
            staged = staging_table(table)
            self.warehouse.load_staging(staged, to_arrow(staged, rows))
        return {name for name, count in self.warehouse.flush_staging().rows.items() if count}

    def aggregate(
        self, staged: set[str], days: Sequence[date] = (), now: datetime = COMPUTED_AT
    ) -> set[tuple[str, date]]:
        """One transaction over what ``load`` staged (and restated ``days``) at ``now``; returns the
        affected days."""
        transaction = build_transaction(
            self.warehouse, staged, days, now, families=self.families, catalog=self.catalog
        )
        self.warehouse.apply(transaction)
        return self.affected()

    def affected(self) -> set[tuple[str, date]]:
        """The (provider, day) pairs the last aggregation recomputed."""
        exists = self.con.execute(
            "SELECT COUNT(*) FROM duckdb_tables() WHERE table_name = 'affected_days' AND temporary"
        ).fetchone()
        if not exists or not exists[0]:
            return set()
        return {(p, d) for p, d in self.con.execute("SELECT provider_id, day FROM affected_days").fetchall()}

    def run(self, raw: Raw) -> list[dict[str, Any]]:
        """Load and aggregate in one go; returns every kpi_daily row."""
        self.aggregate(self.load(raw))
        return self.kpi_rows()

    def kpi_rows(self) -> list[dict[str, Any]]:
        return self.rows(KPI_DAILY, KPI_COLUMNS)

    def rows(self, table: Table, columns: Sequence[str] | None = None) -> list[dict[str, Any]]:
        # Through Arrow: fetching TIMESTAMPTZ as Python objects directly would need pytz.
        names = ", ".join(columns or [c.name for c in table.columns])
        return self.con.sql(f"SELECT {names} FROM {table.name}").to_arrow_table().to_pylist()

    def facts(self, table: Table) -> list[dict[str, Any]]:
        return self.rows(table)
