"""BigQuery adapter: the cloud warehouse (``bigquery://PROJECT/DATASET``).

How it stays within BigQuery's limits (see docs/aggregation.md):

- bulk data arrives by load jobs (free), never streaming: each staged page is appended to a local
  Parquet spool file, and each staging table gets ONE load job per run (``WRITE_TRUNCATE``), so the
  memory a run needs is one page while the table operations stay at one per table and run;
- the run's changes are ONE multi-statement transaction (``BEGIN TRANSACTION … COMMIT TRANSACTION``)
  with one DML statement per permanent table (a MERGE), against the ~1,500 table operations a table
  allows per day and the 2 DML statements that may run on one table at once;
- day partitions and clustering come from the declarations in ``tables.py``; the partition expiration
  is an adapter option (``?partition_expiration_days=N``).

URL options: ``location`` (dataset location), ``partition_expiration_days``, ``maximum_bytes_billed``,
``endpoint`` (a local BigQuery API emulator's ``http://HOST:PORT``, anonymous credentials: tests).
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from google.api_core.exceptions import GoogleAPIError, NotFound
from google.auth.exceptions import GoogleAuthError
from google.cloud import bigquery

from shared.warehouse.ddl import (
    BigQueryTableOptions,
    View,
    create_table,
    create_view,
    declared_tables,
    declared_views,
    partition_expression,
)
from shared.warehouse.port import Corrections, ReplaceScope, StagingLoad, Transaction, WarehouseUnavailable
from shared.warehouse.tables import Table

log = logging.getLogger("channel_analytics.warehouse")

STAGING_PREFIX = "_staging_"
JOB_LABELS = {"app": "channel-analytics", "component": "aggregate"}

# Datasets whose schema this process has already ensured: a warm function instance skips the DDL
# script (one query job) on every later run.
_ensured: set[tuple[str, str]] = set()
_ensured_lock = threading.Lock()


def _match(keys: tuple[str, ...], left: str, right: str) -> str:
    return " AND ".join(f"{left}.{k} = {right}.{k}" for k in keys)


def _columns(table: Table, prefix: str = "") -> str:
    return ", ".join(f"{prefix}{c.name}" for c in table.columns)


def staging_schema(table: Table) -> list[bigquery.SchemaField]:
    """The load schema of a staging table: the declared columns, all NULLABLE (staging only carries
    what the transaction validates and casts), JSON carried as STRING text."""
    return [
        bigquery.SchemaField(c.name, "STRING" if c.type == "JSON" else c.type, mode="NULLABLE")
        for c in table.columns
    ]


def load_job_config(table: Table) -> bigquery.LoadJobConfig:
    """Parquet in, the staging table replaced whole (a re-run after a crash starts from scratch)."""
    return bigquery.LoadJobConfig(
        source_format=bigquery.SourceFormat.PARQUET,
        write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
        create_disposition=bigquery.CreateDisposition.CREATE_IF_NEEDED,
        schema=staging_schema(table),
        labels=dict(JOB_LABELS),
    )


class BigQueryWarehouse:
    """The warehouse port on one BigQuery dataset."""

    dialect = "bigquery"

    def __init__(
        self,
        project: str,
        dataset: str,
        *,
        location: str | None = None,
        options: BigQueryTableOptions | None = None,
        maximum_bytes_billed: int | None = None,
        client: bigquery.Client | None = None,
        endpoint: str | None = None,
    ):
        self.project = project
        self.dataset = dataset
        self.location = location
        self.options = options or BigQueryTableOptions()
        self.maximum_bytes_billed = maximum_bytes_billed
        self._client = client
        self.endpoint = endpoint
        self._spool: tempfile.TemporaryDirectory[str] | None = None
        self._writers: dict[str, tuple[Table, pq.ParquetWriter, Path]] = {}
        self._staged: dict[str, int] = {}

    @property
    def client(self) -> bigquery.Client:
        """Created on first use: rendering statements needs no credentials."""
        if self._client is None:
            with self._errors():
                if self.endpoint:
                    from google.api_core.client_options import ClientOptions
                    from google.auth.credentials import AnonymousCredentials

                    self._client = bigquery.Client(
                        project=self.project,
                        location=self.location,
                        credentials=AnonymousCredentials(),
                        client_options=ClientOptions(api_endpoint=self.endpoint),
                    )
                else:
                    self._client = bigquery.Client(project=self.project, location=self.location)
        return self._client

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Any API or credential failure leaves the run uncommitted and is worth a retry later."""
        try:
            yield
        except (GoogleAPIError, GoogleAuthError) as exc:
            raise WarehouseUnavailable(f"bigquery: {exc}") from exc

    # -- names ------------------------------------------------------------------------------------
    def table_id(self, table: str) -> str:
        return f"{self.project}.{self.dataset}.{table}"

    def name(self, table: str) -> str:
        return f"`{self.table_id(table)}`"

    def staging_name(self, table: str) -> str:
        return self.name(f"{STAGING_PREFIX}{table}")

    # -- schema -----------------------------------------------------------------------------------
    def dataset_statement(self) -> str:
        """Creates the dataset: needs ``bigquery.datasets.create`` on the project, which a deployed
        function does not hold (Terraform creates the dataset), so it is sent only when missing."""
        location = f' OPTIONS(location="{self.location}")' if self.location else ""
        return f"CREATE SCHEMA IF NOT EXISTS `{self.project}.{self.dataset}`{location}"

    def table_statements(self, views: Sequence[View] = ()) -> list[str]:
        """The declared tables and views (plus ``views``, generated from the KPI catalog), each
        ``IF NOT EXISTS`` (dataset-level permissions suffice)."""
        tables = declared_tables()
        statements = [create_table(t, "bigquery", self.name(t.name), self.options) for t in tables]
        rename = {t.name: self.table_id(t.name) for t in tables}
        statements += [
            create_view(v, "bigquery", self.name(v.name), rename) for v in [*declared_views(), *views]
        ]
        return statements

    def schema_statements(self, views: Sequence[View] = ()) -> list[str]:
        """Every DDL statement ``ensure_schema`` may send, in order."""
        return [self.dataset_statement(), *self.table_statements(views)]

    def _dataset_exists(self) -> bool:
        with self._errors():
            try:
                self.client.get_dataset(f"{self.project}.{self.dataset}")
            except NotFound:
                return False
        return True

    def ensure_schema(self, views: Sequence[View] = ()) -> None:
        key = (self.project, self.dataset)
        with _ensured_lock:
            if key in _ensured:
                return
        statements = self.table_statements(views)
        if not self._dataset_exists():
            statements.insert(0, self.dataset_statement())
        self._run(";\n".join(statements) + ";")
        with _ensured_lock:
            _ensured.add(key)

    # -- staging ----------------------------------------------------------------------------------
    def load_staging(self, table: Table, batch: pa.Table) -> None:
        """Append the page to this run's Parquet spool of ``table``; ``flush_staging`` loads it."""
        if table.name not in self._writers:
            if self._spool is None:
                self._spool = tempfile.TemporaryDirectory(prefix="analytics-staging-")
            path = Path(self._spool.name) / f"{table.name}.parquet"
            self._writers[table.name] = (table, pq.ParquetWriter(path, batch.schema), path)
            self._staged[table.name] = 0
        _, writer, _ = self._writers[table.name]
        writer.write_table(batch)
        self._staged[table.name] += batch.num_rows

    def flush_staging(self) -> StagingLoad:
        """One load job per staged table, each replacing the staging table (``WRITE_TRUNCATE``)."""
        loaded = StagingLoad()
        try:
            for name, (table, writer, path) in self._writers.items():
                writer.close()
                with self._errors(), path.open("rb") as data:
                    job = self.client.load_table_from_file(
                        data,
                        self.table_id(f"{STAGING_PREFIX}{name}"),
                        size=path.stat().st_size,
                        job_config=load_job_config(table),
                        location=self.location,
                    )
                    job.result()
                loaded.rows[name] = self._staged[name]
        finally:
            self._reset_spool()
        return loaded

    def _reset_spool(self) -> None:
        for _, writer, _ in self._writers.values():
            writer.close()
        self._writers.clear()
        self._staged.clear()
        if self._spool is not None:
            self._spool.cleanup()
            self._spool = None

    # -- statements -------------------------------------------------------------------------------
    def upsert(self, target: Table, source_sql: str) -> list[str]:
        others = [c.name for c in target.columns if c.name not in target.key]
        return [
            f"MERGE {self.name(target.name)} AS t\n"
            f"USING ({source_sql}) AS s\n"
            f"ON {_match(target.key, 't', 's')}\n"
            f"WHEN MATCHED THEN UPDATE SET {', '.join(f'{c} = s.{c}' for c in others)}\n"
            f"WHEN NOT MATCHED THEN INSERT ({_columns(target)}) VALUES ({_columns(target, 's.')})"
        ]

    def insert_missing(
        self, target: Table, source_sql: str, corrections: Corrections | None = None
    ) -> list[str]:
        """One MERGE; with corrections, its source is the new rows plus one row per correction
        (``_fix``), which only updates (the new rows only insert)."""
        if corrections is None:
            return [
                f"MERGE {self.name(target.name)} AS t\n"
                f"USING ({source_sql}) AS s\n"
                f"ON {_match(target.key, 't', 's')}\n"
                f"WHEN NOT MATCHED THEN INSERT ({_columns(target)}) VALUES ({_columns(target, 's.')})"
            ]
        kept = set(target.key) | set(corrections.columns)
        fixes = ", ".join(
            c.name if c.name in kept else f"CAST(NULL AS {c.type}) AS {c.name}" for c in target.columns
        )
        changes = ", ".join(f"{c} = s.{c}" for c in corrections.columns)
        return [
            f"MERGE {self.name(target.name)} AS t\n"
            f"USING (\n"
            f"  SELECT FALSE AS _fix, {_columns(target)} FROM ({source_sql}) AS r\n"
            f"  UNION ALL\n"
            f"  SELECT TRUE AS _fix, {fixes} FROM ({corrections.rows_sql}) AS c\n"
            f") AS s\n"
            f"ON {_match(target.key, 't', 's')}\n"
            f"WHEN MATCHED AND s._fix THEN UPDATE SET {changes}\n"
            f"WHEN NOT MATCHED AND NOT s._fix THEN INSERT ({_columns(target)}) VALUES ({_columns(target, 's.')})"
        ]

    def replace(self, scope: ReplaceScope) -> list[str]:
        """One MERGE that deletes the rows in scope and inserts the new rows: one DML operation on the
        table per run, where DELETE + INSERT would be two.

        The source is the new rows plus one marker row per scope key (``_scope``); only marker rows
        can match (``ON s._scope AND keys``), and each target row matches at most one of them.
        """
        target = scope.target
        markers = ", ".join(
            c.name if c.name in scope.keys else f"CAST(NULL AS {c.type}) AS {c.name}" for c in target.columns
        )
        on = f"s._scope AND {_match(scope.keys, 't', 's')}"
        partition = partition_expression(target, alias="t")
        if scope.prune_days is not None and partition is not None:
            on += f" AND {partition} IN UNNEST({scope.prune_days})"
        return [
            f"MERGE {scope.target_name} AS t\n"
            f"USING (\n"
            f"  SELECT FALSE AS _scope, {_columns(target)} FROM ({scope.rows_sql}) AS r\n"
            f"  UNION ALL\n"
            f"  SELECT TRUE AS _scope, {markers} FROM ({scope.scope_sql}) AS k\n"
            f") AS s\n"
            f"ON {on}\n"
            f"WHEN MATCHED THEN DELETE\n"
            f"WHEN NOT MATCHED BY TARGET AND NOT s._scope THEN\n"
            f"  INSERT ({_columns(target)}) VALUES ({_columns(target, 's.')})"
        ]

    def temp_table(self, name: str, select_sql: str) -> str:
        return f"CREATE TEMP TABLE {name} AS\n{select_sql}"

    def script(self, transaction: Transaction) -> str:
        """The multi-statement script ``apply`` sends: declarations, the transaction, the summary."""
        parts = [
            *transaction.declarations,
            "BEGIN TRANSACTION",
            *transaction.statements,
            "COMMIT TRANSACTION",
            transaction.summary,
        ]
        return ";\n\n".join(parts) + ";\n"

    # -- transaction and reads --------------------------------------------------------------------
    def apply(
        self, transaction: Transaction, before_commit: Callable[[], None] | None = None
    ) -> dict[str, Any]:
        """The script commits or rolls back as a whole on the server; ``before_commit`` runs before it
        is sent, which is the last moment the run can still stop with nothing committed."""
        script = self.script(transaction)
        if before_commit is not None:
            before_commit()
        rows = self._run(script)
        return rows[0] if rows else {}

    def query(self, sql: str) -> list[dict[str, Any]]:
        return self._run(sql)

    def query_job_config(self) -> bigquery.QueryJobConfig:
        return bigquery.QueryJobConfig(
            use_legacy_sql=False,
            maximum_bytes_billed=self.maximum_bytes_billed,
            labels=dict(JOB_LABELS),
        )

    def _run(self, sql: str) -> list[dict[str, Any]]:
        with self._errors():
            job = self.client.query(sql, job_config=self.query_job_config(), location=self.location)
            return [dict(row.items()) for row in job.result()]

    def close(self) -> None:
        self._reset_spool()
        if self._client is not None:
            self._client.close()
