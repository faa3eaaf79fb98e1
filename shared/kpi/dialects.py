"""One SQL text, two warehouses: parse the canonical (BigQuery) SQL with sqlglot, qualify the table
names, and render it per dialect, overriding only what sqlglot's transpiler does not already get right.

Overrides for DuckDB:
- ``DATE(ts)`` is the UTC day in BigQuery; DuckDB's ``CAST(ts AS DATE)`` would use the session's time
  zone, so it becomes ``CAST(timezone('UTC', ts) AS DATE)`` (timestamps are TIMESTAMPTZ in DuckDB).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import sqlglot
from sqlglot import exp

Dialect = Literal["duckdb", "bigquery"]
DIALECTS: tuple[Dialect, ...] = ("duckdb", "bigquery")

COMPUTED_AT_MARKER = "__computed_at__"


def render(
    canonical: str, dialect: Dialect, tables: Mapping[str, str], computed_at_sql: str | None = None
) -> str:
    """Render canonical SQL for ``dialect``.

    ``tables`` maps each bare table name of the canonical text to the name to use (possibly
    ``project.dataset.table``). ``computed_at_sql`` replaces the column ``__computed_at__`` and is SQL
    of the target dialect (``CURRENT_TIMESTAMP``, a literal, a query parameter).
    """
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; expected one of {DIALECTS}")
    tree = sqlglot.parse_one(canonical, read="bigquery")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    clashes = ctes & set(tables)
    if clashes:
        raise ValueError(f"CTE names {sorted(clashes)} shadow warehouse tables")
    tree = tree.transform(lambda node: _qualify(node, tables, ctes))
    if dialect == "duckdb":
        tree = tree.transform(_utc_day_for_duckdb)
    if computed_at_sql is not None:
        replacement = sqlglot.parse_one(computed_at_sql, read=dialect)
        tree = tree.transform(
            lambda node: (
                replacement.copy()
                if isinstance(node, exp.Column) and node.name == COMPUTED_AT_MARKER and not node.table
                else node
            )
        )
    return tree.sql(dialect=dialect, pretty=True)


def _qualify(node: exp.Expression, tables: Mapping[str, str], ctes: set[str]) -> exp.Expression:
    if not isinstance(node, exp.Table) or node.args.get("db") or node.name not in tables:
        return node
    if node.name in ctes:
        return node
    parts = tables[node.name].split(".")
    if len(parts) > 3 or not all(parts):
        raise ValueError(f"not a table name: {tables[node.name]!r}")
    catalog, db, name = [None] * (3 - len(parts)) + parts
    # Quoted, so project ids with hyphens and reserved words survive in both dialects.
    qualified = exp.table_(name, db=db, catalog=catalog, quoted=True)
    alias = node.args.get("alias")
    if alias is not None:
        qualified.set("alias", alias.copy())
    return qualified


def _utc_day_for_duckdb(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Date) and not node.args.get("zone") and len(node.expressions) == 0:
        utc = exp.func("timezone", exp.Literal.string("UTC"), node.this.copy())
        return exp.cast(utc, exp.DataType.build("DATE"))
    return node
