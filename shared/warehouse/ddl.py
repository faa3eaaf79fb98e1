"""DDL rendered from the declarations in ``tables.py``, for DuckDB and for BigQuery.

Tables are never written by hand: every ``Table`` declared in ``tables.py`` (raw, fact, KPI) and
every view (``*_VIEW``) gets its ``CREATE`` from here, so the embedded warehouse, the cloud warehouse
and the data dictionary cannot drift apart. No primary keys are declared: keys are kept by the
aggregation's replace-by-key statements (DuckDB cannot delete and re-insert a key of a constrained
table in one transaction, and BigQuery does not enforce keys at all).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import sqlglot
from sqlglot import exp

from shared.warehouse import tables as tables_module
from shared.warehouse.port import Dialect
from shared.warehouse.tables import Column, ColumnType, Table

DUCKDB_TYPES: dict[ColumnType, str] = {
    "STRING": "VARCHAR",
    "INT64": "BIGINT",
    "FLOAT64": "DOUBLE",
    "BOOL": "BOOLEAN",
    # An instant, like BigQuery's TIMESTAMP; the adapter pins the session time zone to UTC so that
    # casting to DATE gives the UTC day.
    "TIMESTAMP": "TIMESTAMPTZ",
    "DATE": "DATE",
    "JSON": "JSON",
}


@dataclass(frozen=True)
class View:
    """A view: its SQL names tables bare. ``columns`` (optional) describe its output columns, in
    order: the comments of DuckDB, the column descriptions of BigQuery, the data dictionary."""

    name: str
    description: str
    sql: str
    columns: tuple[Column, ...] = ()


def declared_tables(module: ModuleType = tables_module) -> list[Table]:
    """Every ``Table`` declared in the tables module, in declaration order."""
    found: dict[str, Table] = {}
    for value in vars(module).values():
        if isinstance(value, Table):
            found.setdefault(value.name, value)
    return list(found.values())


def declared_views(module: ModuleType = tables_module) -> list[View]:
    """Every view declared as a ``*_VIEW = (name, description, sql)`` tuple."""
    return [
        View(*value)
        for key, value in vars(module).items()
        if key.endswith("_VIEW") and isinstance(value, tuple) and len(value) == 3
    ]


def column_type(type_: ColumnType, dialect: Dialect) -> str:
    return DUCKDB_TYPES[type_] if dialect == "duckdb" else type_


def _bq_string(text: str) -> str:
    """A BigQuery string literal (descriptions are ours, but quotes and backslashes may occur)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _column(column: Column, dialect: Dialect) -> str:
    sql = f"{column.name} {column_type(column.type, dialect)}"
    if column.required:
        sql += " NOT NULL"
    if dialect == "bigquery":
        sql += f" OPTIONS(description={_bq_string(column.description)})"
    return sql


@dataclass(frozen=True)
class BigQueryTableOptions:
    """Warehouse-specific options of the BigQuery adapter (``bigquery://P/D?partition_expiration_days=N``).

    ``partition_expiration_days`` drops day partitions older than that; ``None`` keeps them forever.
    """

    partition_expiration_days: int | None = None


def partition_expression(table: Table, alias: str | None = None) -> str | None:
    """``day`` for a DATE column, ``DATE(ts)`` for a TIMESTAMP column: BigQuery day partitions
    (``TIMESTAMP_TRUNC(ts, HOUR)`` for a table partitioned by hour)."""
    if table.partition_by is None:
        return None
    column = next(c for c in table.columns if c.name == table.partition_by)
    ref = f"{alias}.{column.name}" if alias else column.name
    if table.partition_granularity == "HOUR":
        if column.type != "TIMESTAMP":
            raise ValueError(f"{table.name}: only a TIMESTAMP column is partitioned by hour")
        return f"TIMESTAMP_TRUNC({ref}, HOUR)"
    if column.type == "DATE":
        return ref
    if column.type == "TIMESTAMP":
        return f"DATE({ref})"
    raise ValueError(f"{table.name}: cannot partition by {column.name} ({column.type})")


def create_table(
    table: Table, dialect: Dialect, name: str, options: BigQueryTableOptions | None = None
) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for one declared table under the given SQL name."""
    columns = ",\n  ".join(_column(c, dialect) for c in table.columns)
    sql = f"CREATE TABLE IF NOT EXISTS {name} (\n  {columns}\n)"
    if dialect == "duckdb":
        return sql
    options = options or BigQueryTableOptions()
    partition = partition_expression(table)
    if partition is not None:
        sql += f"\nPARTITION BY {partition}"
    if table.cluster_by:
        sql += f"\nCLUSTER BY {', '.join(table.cluster_by)}"
    table_options = [f"description={_bq_string(table.description)}"]
    if partition is not None:
        days = [d for d in (options.partition_expiration_days, table.partition_expiration_days) if d]
        if days:
            table_options.append(f"partition_expiration_days={min(days)}")
        require = bool(getattr(table, "require_partition_filter", False))
        table_options.append(f"require_partition_filter={'TRUE' if require else 'FALSE'}")
    return sql + f"\nOPTIONS({', '.join(table_options)})"


def qualify_tables(sql: str, dialect: Dialect, rename: dict[str, str]) -> str:
    """``sql`` with every table named in ``rename`` replaced by its full name (views must name the
    tables they read by project and dataset in BigQuery)."""
    tree = sqlglot.parse_one(sql, read=dialect)

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and not node.args.get("db") and node.name in rename:
            # Quoted part by part: project ids may hold hyphens.
            catalog, db, name = [None] * (3 - len(parts := rename[node.name].split("."))) + parts
            replacement = exp.table_(name, db=db, catalog=catalog, quoted=True)
            if node.alias:
                replacement.set("alias", node.args["alias"])
            return replacement
        return node

    return tree.transform(swap).sql(dialect=dialect)


def create_view(view: View, dialect: Dialect, name: str, rename: dict[str, str]) -> str:
    """DuckDB replaces the view (a changed declaration takes effect; its comments follow, see
    ``comment_statements``); BigQuery only creates it when missing, because Terraform owns it there
    and the two must not fight. BigQuery carries the column descriptions in the column list."""
    body = qualify_tables(view.sql, dialect, rename)
    if dialect == "duckdb":
        return f"CREATE OR REPLACE VIEW {name} AS {body}"
    columns = ""
    if view.columns:
        described = ", ".join(
            f"{c.name} OPTIONS(description={_bq_string(c.description)})" for c in view.columns
        )
        columns = f" ({described})"
    return (
        f"CREATE VIEW IF NOT EXISTS {name}{columns}\n"
        f"OPTIONS(description={_bq_string(view.description)})\nAS {body}"
    )


def _duckdb_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _inherited_columns(
    view: View, tables: dict[str, Table], existing: dict[tuple[str, str | None], str | None]
) -> tuple[Column, ...]:
    """A view declared without column descriptions: each of its columns takes the description of
    the same-named column of a table it reads."""
    read = [tables[t.name] for t in sqlglot.parse_one(view.sql).find_all(exp.Table) if t.name in tables]
    found: list[Column] = []
    for obj, column in existing:
        if obj != view.name or column is None:
            continue
        match = next((c for table in read for c in table.columns if c.name == column), None)
        if match is not None:
            found.append(match)
    return tuple(found)


def comment_statements(
    tables: list[Table], views: list[View], existing: dict[tuple[str, str | None], str | None]
) -> list[str]:
    """DuckDB ``COMMENT ON`` statements that give tables, views and their columns the descriptions
    BigQuery has, skipping those already in place. ``existing`` maps (object, column or None) to
    its current comment (``duckdb_tables``, ``duckdb_views``, ``duckdb_columns``)."""
    wanted: list[tuple[str, str, str | None, str]] = []
    for table in tables:
        wanted.append(("TABLE", table.name, None, table.description))
        wanted += [("COLUMN", table.name, c.name, c.description) for c in table.columns]
    by_name = {t.name: t for t in tables}
    for view in views:
        wanted.append(("VIEW", view.name, None, view.description))
        columns = view.columns or _inherited_columns(view, by_name, existing)
        wanted += [("COLUMN", view.name, c.name, c.description) for c in columns]
    statements = []
    for kind, obj, column, text in wanted:
        key = (obj, column)
        if key in existing and existing[key] != text:
            target = f"{obj}.{column}" if column else obj
            statements.append(f"COMMENT ON {kind} {target} IS {_duckdb_string(text)}")
    return statements
