"""Rows to Arrow, typed by the table declarations: the bulk-load path into DuckDB.

DuckDB loads an Arrow table in one ``INSERT … SELECT`` (orders of magnitude faster than
``executemany``); deriving the Arrow schema from ``tables.py`` keeps the load typed the same way as the
DDL, so a timestamp never arrives as text and a JSON column never arrives as a Python repr.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from operator import attrgetter
from types import NoneType
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

    Column by column: each column is gathered into one list and pyarrow converts it (aware datetimes
    to UTC microseconds, nulls, type checks) in C; the checks pyarrow does not make are set
    operations over the column, and the per-row messages are only worked out when one fails.
    """
    keys = set(itertools.chain.from_iterable(rows))
    unknown = keys - {c.name for c in table.columns}
    if unknown:
        index = next(i for i, row in enumerate(rows) if not set(row) <= keys - unknown)
        raise ValueError(f"{table.name} row {index}: unknown columns {sorted(set(rows[index]) & unknown)}")
    arrays = []
    for column in table.columns:
        values = [row.get(column.name) for row in rows] if column.name in keys else [None] * len(rows)
        arrays.append(_column(table, column, values))
    return pa.Table.from_arrays(arrays, schema=arrow_schema(table))


def _column(table: Table, column: Column, values: list[Any]) -> pa.Array:
    if column.required and None in values:
        raise ValueError(f"{table.name} row {values.index(None)}: {column.name} is required")
    if column.type == "JSON":
        # Compact, key-sorted text: equal documents load as equal strings.
        values = [v if v is None or isinstance(v, str) else _json(v) for v in values]
    elif column.type == "TIMESTAMP":
        # pyarrow converts an aware datetime to its UTC instant, but would take a naive one as UTC.
        kinds = set(map(type, values)) - {NoneType}
        if not all(issubclass(k, datetime) for k in kinds) or None in set(map(_TZINFO, filter(None, values))):
            _raise_first(table, column, values, lambda v: isinstance(v, datetime) and v.tzinfo is not None)
    elif column.type == "DATE" and not all(
        issubclass(k, date) and not issubclass(k, datetime) for k in set(map(type, values)) - {NoneType}
    ):
        _raise_first(table, column, values, lambda v: isinstance(v, date) and not isinstance(v, datetime))
    return pa.array(values, type=ARROW_TYPES[column.type])


_TZINFO = attrgetter("tzinfo")


# One encoder for every value: ``json.dumps`` with options builds a new one per call.
_json = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode


def _raise_first(table: Table, column: Column, values: list[Any], valid: Callable[[Any], bool]) -> None:
    """The message for the first value of ``column`` that is not ``valid`` (the rare path)."""
    index, value = next((i, v) for i, v in enumerate(values) if v is not None and not valid(v))
    if column.type == "TIMESTAMP":
        raise ValueError(f"{table.name} row {index}: {column.name} needs an aware datetime, got {value!r}")
    if isinstance(value, datetime):
        raise ValueError(f"{table.name} row {index}: {column.name} is a DATE, got a datetime")
    raise ValueError(f"{table.name} row {index}: {column.name} needs a date, got {value!r}")
