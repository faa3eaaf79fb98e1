"""Rows to Arrow, typed by the table declarations: the bulk-load path into DuckDB.

DuckDB loads an Arrow table in one ``INSERT … SELECT`` (orders of magnitude faster than
``executemany``); deriving the Arrow schema from ``tables.py`` keeps the load typed the same way as the
DDL, so a timestamp never arrives as text and a JSON column never arrives as a Python repr.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa

from shared.warehouse.tables import Column, ColumnType, Table

# TIMESTAMP is tz-aware UTC with microseconds: BigQuery's precision, and DuckDB reads it as TIMESTAMPTZ.
ARROW_TYPES: dict[ColumnType, pa.DataType] = {
    "STRING": pa.string(),
    "INT64": pa.int64(),
    "FLOAT64": pa.float64(),
    "BOOL": pa.bool_(),
    "TIMESTAMP": pa.timestamp("us", tz="UTC"),
    "DATE": pa.date32(),
    "JSON": pa.string(),
}


def arrow_schema(table: Table) -> pa.Schema:
    return pa.schema([pa.field(c.name, ARROW_TYPES[c.type], nullable=not c.required) for c in table.columns])


def to_arrow(table: Table, rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Rows keyed by column name (missing keys are NULL) as an Arrow table with the declared schema.

    Raises ``ValueError`` for a naive datetime (its time zone would be a guess), for a missing required
    value and for a key the table does not declare (a typo would otherwise load as NULL silently).
    """
    known = {c.name for c in table.columns}
    for index, row in enumerate(rows):
        unknown = set(row) - known
        if unknown:
            raise ValueError(f"{table.name} row {index}: unknown columns {sorted(unknown)}")
    arrays = [
        pa.array(
            [_value(table, column, row.get(column.name), i) for i, row in enumerate(rows)],
            type=ARROW_TYPES[column.type],
        )
        for column in table.columns
    ]
    return pa.Table.from_arrays(arrays, schema=arrow_schema(table))


def _value(table: Table, column: Column, value: Any, index: int) -> Any:
    if value is None:
        if column.required:
            raise ValueError(f"{table.name} row {index}: {column.name} is required")
        return None
    if column.type == "JSON":
        # Compact, key-sorted text: equal documents load as equal strings.
        return value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"))
    if column.type == "TIMESTAMP":
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(
                f"{table.name} row {index}: {column.name} needs an aware datetime, got {value!r}"
            )
        return value.astimezone(UTC)
    if column.type == "DATE" and isinstance(value, datetime):
        raise ValueError(f"{table.name} row {index}: {column.name} is a DATE, got a datetime")
    if column.type == "DATE" and not isinstance(value, date):
        raise ValueError(f"{table.name} row {index}: {column.name} needs a date, got {value!r}")
    return value
