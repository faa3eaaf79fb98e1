"""The warehouse port: what the aggregation needs from DuckDB or BigQuery, and nothing more.

One interface, destinations chosen by configuration (``open_warehouse(url)``). What differs per
warehouse (DDL options such as partitioning and clustering, how bulk data gets in, how a
transaction is spelled, how rows are replaced) lives in the adapter; the aggregation only decides
*what* to do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

import pyarrow as pa

from shared.warehouse.tables import Table

if TYPE_CHECKING:
    from shared.warehouse.ddl import View

Dialect = Literal["duckdb", "bigquery"]


class WarehouseError(Exception):
    """The warehouse failed the request; nothing of the run was committed."""


class WarehouseUnavailable(WarehouseError):
    """The warehouse cannot be reached, is locked by another process or refused the work for now:
    retrying the whole run later is safe (HTTP 503)."""

    def __init__(self, message: str = "the warehouse is unavailable", retry_after: int = 30):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Transaction:
    """Statements the adapter runs as ONE transaction, then ``summary`` (a single-row SELECT over the
    run's temporary tables) whose values it returns.

    ``declarations`` are script variables (BigQuery ``DECLARE`` must open a script); DuckDB has none.
    """

    statements: tuple[str, ...]
    summary: str
    declarations: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReplaceScope:
    """Rows of ``target`` whose ``keys`` appear in ``scope_sql`` are replaced by ``rows_sql``.

    ``scope_sql`` must return each key combination at most once (``SELECT DISTINCT``).
    ``prune_days`` optionally names a script variable (``ARRAY<DATE>``) that holds every partition day
    in scope, so a partitioned warehouse touches only those partitions.
    """

    target: Table
    target_name: str
    rows_sql: str
    scope_sql: str
    keys: tuple[str, ...]
    prune_days: str | None = None


@dataclass(frozen=True)
class Corrections:
    """Rows already in a table whose ``columns`` change: ``rows_sql`` returns the table's key and those
    columns, at most one row per key, and no key of the rows the same statement inserts."""

    rows_sql: str
    columns: tuple[str, ...]


@dataclass
class StagingLoad:
    """What one run staged: row counts by the name of the table declaration that was staged."""

    rows: dict[str, int] = field(default_factory=dict)


class Warehouse(Protocol):
    dialect: Dialect

    def ensure_schema(self, views: Sequence[View] = ()) -> None:
        """Create every declared table and view that is missing (idempotent), and ``views``: the
        views generated from the KPI catalog (``shared.kpi.bi``), handed over by the caller so that
        the warehouse never imports the catalog."""

    def table_id(self, table: str) -> str:
        """The full, unquoted id of a permanent table (``kpi_daily`` or ``project.dataset.kpi_daily``)."""

    def name(self, table: str) -> str:
        """How SQL refers to a permanent table (``kpi_daily`` or ```project.dataset.kpi_daily```)."""

    def staging_name(self, table: str) -> str:
        """How SQL refers to a staging table of this run."""

    def load_staging(self, table: Table, batch: pa.Table) -> None:
        """Append one page to the staging copy of ``table`` (replaced on the run's first page)."""

    def flush_staging(self) -> StagingLoad:
        """Make every staged page visible to the transaction (BigQuery: one load job per table)."""

    def upsert(self, target: Table, source_sql: str) -> list[str]:
        """Statements that insert or replace ``source_sql`` rows by ``target.key`` (one row per key)."""

    def insert_missing(
        self, target: Table, source_sql: str, corrections: Corrections | None = None
    ) -> list[str]:
        """Statements that insert the ``source_sql`` rows whose key is not in ``target`` yet and apply
        ``corrections`` to rows already there (BigQuery: one MERGE)."""

    def replace(self, scope: ReplaceScope) -> list[str]:
        """Statements that delete the rows in scope and insert the new ones (see ``ReplaceScope``)."""

    def temp_table(self, name: str, select_sql: str) -> str:
        """A statement creating a temporary table that lives until the connection or script ends."""

    def apply(
        self, transaction: Transaction, before_commit: Callable[[], None] | None = None
    ) -> dict[str, Any]:
        """Run ``transaction`` atomically and return its summary row. ``before_commit`` runs after the
        last statement and before the commit; if it raises, nothing is committed."""

    def query(self, sql: str) -> list[dict[str, Any]]:
        """Rows of a read-only query, as dicts (BI-style reads, the tests and ``make aggregate``)."""

    def close(self) -> None: ...
