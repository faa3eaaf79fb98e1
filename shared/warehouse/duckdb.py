"""DuckDB adapter: the embedded warehouse (``duckdb:///path``).

A DuckDB file may be opened read-write by one process at a time, so the adapter is opened for one
aggregation run and closed right after it; a run that finds the file locked (another run, or a BI
tool holding it) waits up to ``lock_timeout_s`` and then reports the warehouse unavailable.

Bulk data never goes through ``executemany``: each staged page is an Arrow table, registered with the
connection and copied with one ``INSERT … SELECT``. The transaction is a plain ``BEGIN … COMMIT``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import duckdb
import pyarrow as pa

from shared.private_files import make_private, private_parent
from shared.warehouse.ddl import (
    View,
    column_type,
    comment_statements,
    create_table,
    create_view,
    declared_tables,
    declared_views,
)
from shared.warehouse.port import Corrections, ReplaceScope, StagingLoad, Transaction, WarehouseUnavailable
from shared.warehouse.tables import Table

log = logging.getLogger("channel_analytics.warehouse")

_LOCK_RETRY_S = 0.1
_PAGE_VIEW = "_staging_page"


def _match(keys: tuple[str, ...], left: str, right: str) -> str:
    return " AND ".join(f"{left}.{k} = {right}.{k}" for k in keys)


def _columns(table: Table) -> str:
    return ", ".join(c.name for c in table.columns)


class DuckDbWarehouse:
    """The warehouse port on one DuckDB file (or ``:memory:``)."""

    dialect = "duckdb"

    def __init__(self, path: str, lock_timeout_s: float = 10.0):
        self.path = path
        if path != ":memory:":
            private_parent(path)
        self._conn = self._connect(path, lock_timeout_s)
        self._private()
        self._staged: dict[str, int] = {}

    @staticmethod
    def _connect(path: str, lock_timeout_s: float) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + lock_timeout_s
        while True:
            try:
                conn = duckdb.connect(path)
                # Instants are TIMESTAMPTZ; the UTC session zone makes CAST(ts AS DATE) the UTC day.
                conn.execute("SET TimeZone = 'UTC'")
                return conn
            except duckdb.IOException as exc:  # the file is locked by another process
                if time.monotonic() >= deadline:
                    raise WarehouseUnavailable(f"duckdb: {exc}", retry_after=5) from exc
                time.sleep(_LOCK_RETRY_S)
            except duckdb.Error as exc:
                raise WarehouseUnavailable(f"duckdb: {exc}") from exc

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Every DuckDB failure leaves the run uncommitted: the caller sees one warehouse error."""
        try:
            yield
        except duckdb.Error as exc:
            raise WarehouseUnavailable(f"duckdb: {exc}") from exc

    # -- schema -----------------------------------------------------------------------------------
    def ensure_schema(self, views: Sequence[View] = ()) -> None:
        """The declared tables and views, plus ``views`` (those generated from the KPI catalog),
        with the comments BigQuery has as descriptions."""
        tables = declared_tables()
        all_views = [*declared_views(), *views]
        with self._errors():
            for table in tables:
                self._conn.execute(create_table(table, "duckdb", table.name))
                self._add_missing_columns(table)
            rename = {t.name: t.name for t in tables}
            for view in all_views:
                self._conn.execute(create_view(view, "duckdb", view.name, rename))
            for statement in comment_statements(tables, all_views, self._comments()):
                self._conn.execute(statement)
        self._private()

    def _comments(self) -> dict[tuple[str, str | None], str | None]:
        """Current comments of every table, view and column of the main schema."""
        found: dict[tuple[str, str | None], str | None] = {}
        for sql in (
            "SELECT table_name, NULL, comment FROM duckdb_tables() WHERE schema_name = 'main'",
            "SELECT view_name, NULL, comment FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal",
            "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE schema_name = 'main'",
        ):
            for obj, column, comment in self._conn.execute(sql).fetchall():
                found[(obj, column)] = comment
        return found

    def _add_missing_columns(self, table: Table) -> None:
        """A column declared after the file was created is added (nullable: old rows have none)."""
        existing = {
            row[0]
            for row in self._conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table.name]
            ).fetchall()
        }
        for column in table.columns:
            if column.name not in existing:
                self._conn.execute(
                    f"ALTER TABLE {table.name} ADD COLUMN {column.name} {column_type(column.type, 'duckdb')}"
                )

    def table_id(self, table: str) -> str:
        return table

    def name(self, table: str) -> str:
        return table

    def staging_name(self, table: str) -> str:
        return f"stg_{table}"

    # -- staging ----------------------------------------------------------------------------------
    def load_staging(self, table: Table, batch: pa.Table) -> None:
        name = self.staging_name(table.name)
        with self._errors():
            if table.name not in self._staged:
                columns = ", ".join(f"{c.name} {column_type(c.type, 'duckdb')}" for c in table.columns)
                self._conn.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({columns})")
                self._staged[table.name] = 0
            self._conn.register(_PAGE_VIEW, batch)
            try:
                self._conn.execute(
                    f"INSERT INTO {name} ({_columns(table)}) SELECT {_columns(table)} FROM {_PAGE_VIEW}"
                )
            finally:
                self._conn.unregister(_PAGE_VIEW)
        self._staged[table.name] += batch.num_rows

    def flush_staging(self) -> StagingLoad:
        """Staged pages are already in the connection's temporary tables."""
        loaded = StagingLoad(rows=dict(self._staged))
        self._staged.clear()
        return loaded

    # -- statements -------------------------------------------------------------------------------
    def upsert(self, target: Table, source_sql: str) -> list[str]:
        return self.replace(ReplaceScope(target, self.name(target.name), source_sql, source_sql, target.key))

    def insert_missing(
        self, target: Table, source_sql: str, corrections: Corrections | None = None
    ) -> list[str]:
        name = self.name(target.name)
        statements = [
            f"INSERT INTO {name} ({_columns(target)})\n"
            f"SELECT {_columns(target)} FROM ({source_sql}) AS s\n"
            f"WHERE NOT EXISTS (SELECT 1 FROM {name} AS t WHERE {_match(target.key, 't', 's')})"
        ]
        if corrections is not None:
            changes = ", ".join(f"{c} = c.{c}" for c in corrections.columns)
            statements.append(
                f"UPDATE {name} SET {changes}\n"
                f"FROM ({corrections.rows_sql}) AS c WHERE {_match(target.key, name, 'c')}"
            )
        return statements

    def replace(self, scope: ReplaceScope) -> list[str]:
        name = scope.target_name
        return [
            f"DELETE FROM {name} WHERE EXISTS (\n"
            f"  SELECT 1 FROM ({scope.scope_sql}) AS s WHERE {_match(scope.keys, 's', name)})",
            f"INSERT INTO {name} ({_columns(scope.target)})\n"
            f"SELECT {_columns(scope.target)} FROM ({scope.rows_sql}) AS r",
        ]

    def temp_table(self, name: str, select_sql: str) -> str:
        return f"CREATE OR REPLACE TEMP TABLE {name} AS\n{select_sql}"

    # -- transaction and reads --------------------------------------------------------------------
    def apply(
        self, transaction: Transaction, before_commit: Callable[[], None] | None = None
    ) -> dict[str, Any]:
        with self._errors():
            self._conn.execute("BEGIN TRANSACTION")
            try:
                for statement in transaction.statements:
                    self._conn.execute(statement)
                summary = self._rows(transaction.summary)[0]
                if before_commit is not None:
                    before_commit()
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        self._private()  # the write-ahead log may have been created by this transaction
        return summary

    def _private(self) -> None:
        """DuckDB creates its file and write-ahead log with the process's umask: make them 0600."""
        if self.path != ":memory:":
            make_private(self.path, ".wal")

    def query(self, sql: str) -> list[dict[str, Any]]:
        with self._errors():
            return self._rows(sql)

    def _rows(self, sql: str) -> list[dict[str, Any]]:
        # Through Arrow: instants come back as aware UTC datetimes (DuckDB's own conversion of
        # TIMESTAMPTZ values to Python would need pytz).
        relation = self._conn.sql(sql)
        return [] if relation is None else relation.to_arrow_table().to_pylist()

    def close(self) -> None:
        self._conn.close()
