"""The SQL the aggregator runs, per warehouse dialect, generated from the family declarations.

One aggregation, in order (``shared.aggregate.transaction`` assembles it):
1. load raw rows; fill the root scope (``touched_conversations``) with what changed;
2. fill every derived scope (e.g. ``touched_customers``) with ``scope_query``, from the facts as they were;
3. per stored family, in dependency order: keep its in-scope fact rows as they were, replace them with
   ``fact_query``, and keep the rows that differ (``changed_<fact>``, both versions: ``changed_query``);
4. ``affected_days`` = the UTC days of the changed rows ∪ each family's ``extra_days_query`` ∪ restated
   and erased days;
5. ``kpi_query`` returns the complete KPI rows of every (provider_id, day) in ``affected_days``, and
   ``output_query`` the rows of each family's other rolled-up tables: they replace those days' rows;
6. each snapshot's scope (what the run changed or aged), then ``snapshot_query``: today's rows of
   those keys (``run_clock`` holds the run's day and time).

Every query is a SELECT; the adapters decide how to write the result (MERGE, DELETE + INSERT).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from shared.kpi.catalog import CATALOG
from shared.kpi.dialects import Dialect, render
from shared.kpi.model import Family, Kpi, Output, Scope, Snapshot
from shared.kpi.rollup import kpi_sql
from shared.kpi.sqlparts import same

__all__ = [
    "Dialect",
    "TableNames",
    "changed_query",
    "days_query",
    "extra_days_query",
    "fact_query",
    "in_scope_query",
    "kpi_query",
    "output_query",
    "scope_query",
    "snapshot_query",
]


@dataclass(frozen=True)
class TableNames:
    """Canonical table name → the name SQL uses (BigQuery: ``project.dataset.table``); a table not
    listed keeps its bare name (the run's temporary tables)."""

    renamed: tuple[tuple[str, str], ...] = ()

    def mapping(self) -> dict[str, str]:
        return dict(self.renamed)

    @classmethod
    def qualified(cls, prefix: str, tables: Iterable[str]) -> TableNames:
        """``prefix`` + name for each of ``tables``, e.g. ``qualified("my-project.analytics.", ...)``."""
        return cls(tuple((name, prefix + name) for name in tables))


@cache  # rendering parses and transpiles hundreds of lines: once per process
def scope_query(scope: Scope, dialect: Dialect, names: TableNames) -> str:
    """The keys a derived scope touches (DISTINCT)."""
    if scope.sql is None:
        raise ValueError(f"the {scope.name} scope is the root: the aggregation fills it from staging")
    return render(scope.sql, dialect, names.mapping())


@cache
def fact_query(family: Family, dialect: Dialect, names: TableNames) -> str:
    """The complete fact rows of every key in the family's scope."""
    if family.fact_sql is None:
        raise ValueError(f"the {family.name} family stores no facts")
    return render(family.fact_sql, dialect, names.mapping())


def _scoped(family: Family, table: str) -> str:
    assert family.scope is not None
    key = family.scope.key
    return (
        f"SELECT f.* FROM {table} AS f WHERE EXISTS (SELECT 1 FROM {family.scope.table} AS s "
        f"WHERE {same('s', 'f', *key)})"
    )


@cache
def in_scope_query(family: Family, dialect: Dialect, names: TableNames) -> str:
    """The family's stored fact rows of the keys in its scope (kept before they are replaced)."""
    return render(_scoped(family, family.fact.name), dialect, names.mapping())


def before_table(family: Family) -> str:
    return f"before_{family.fact.name}"


@cache
def changed_query(family: Family, dialect: Dialect, names: TableNames) -> str:
    """The in-scope fact rows that differ before and after the run, in both versions: exactly the
    rows whose KPIs can have moved (rows that did not change count as they did)."""
    columns = ", ".join(c.name for c in family.fact.columns)
    before = f"SELECT {columns} FROM {before_table(family)}"
    after = f"SELECT {columns} FROM ({_scoped(family, family.fact.name)}) AS a"
    sql = (
        f"SELECT * FROM ({before} EXCEPT DISTINCT {after}) AS gone\n"
        f"UNION ALL\nSELECT * FROM ({after} EXCEPT DISTINCT {before}) AS came"
    )
    return render(sql, dialect, names.mapping())


@cache
def days_query(family: Family, dialect: Dialect, names: TableNames) -> str:
    """(provider_id, day) the family's changed rows count on, and the extra days they move."""
    own = (
        f"SELECT DISTINCT provider_id, DATE({family.day_column}) AS day FROM {family.changed_table} "
        f"WHERE {family.day_column} IS NOT NULL"
    )
    return render(own, dialect, names.mapping())


@cache
def extra_days_query(family: Family, dialect: Dialect, names: TableNames) -> str | None:
    """(provider_id, day) a changed row moves besides its own day (e.g. first-contact resolution)."""
    if family.extra_days_sql is None:
        return None
    return render(family.extra_days_sql, dialect, names.mapping())


@cache
def output_query(output: Output, dialect: Dialect, names: TableNames) -> str:
    """The complete rows of ``output.table`` for the (provider_id, day) pairs in ``affected_days``."""
    return render(output.sql, dialect, names.mapping())


@cache
def snapshot_query(snapshot: Snapshot, dialect: Dialect, names: TableNames) -> str:
    """The complete rows of today (``run_clock``) of ``snapshot.table`` for the keys in its scope."""
    return render(snapshot.sql, dialect, names.mapping())


@cache  # rendering parses and transpiles hundreds of lines: once per process
def kpi_query(
    dialect: Dialect,
    names: TableNames,
    computed_at_sql: str = "CURRENT_TIMESTAMP",
    kpis: tuple[Kpi, ...] = CATALOG,
) -> str:
    """SELECT day, provider_id, kpi, channel, queue_id, agent_id, experience_id, value, numerator,
    denominator, unit, computed_at — every KPI of ``kpis`` for exactly the (provider_id, day) pairs in
    ``affected_days``. ``computed_at_sql`` is SQL of ``dialect``."""
    return render(kpi_sql(kpis), dialect, names.mapping(), computed_at_sql)
