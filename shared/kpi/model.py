"""What a KPI and a KPI family are: validated data, so a typo in a formula fails at import, not in a
dashboard.

A **family** is one whole declaration of where KPIs come from (the semantic model of
dbt's MetricFlow): its fact table and the SQL that derives its rows, the entity a new raw record
*touches* (its scope: conversations, customers, CRM records), the timestamp that attributes a row to a
day, its dimensions and grouping sets, the columns computed at KPI time because they depend on other
rows, the days beyond a changed row's own that it can move, and the tables it rolls up besides
``kpi_daily``. The aggregation, the affected-days logic, the SQL names and the reference all loop over
the families (``shared.kpi.families.FAMILIES``); none of them names one.

A **KPI** is a ratio of two measures over the fact rows of one family (a count or a total has no
denominator). A measure counts rows, counts distinct values, or sums an expression, where a filter
holds. Expressions and filters are SQL (BigQuery syntax, the canonical dialect) over the family's
columns; they are parsed here, checked against the declared columns, and compiled for each warehouse
dialect by ``shared.kpi.rollup``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import sqlglot
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlglot import exp

from shared.warehouse.tables import Table

Unit = Literal["count", "seconds", "minutes", "ratio", "score"]
Kind = Literal["count", "total", "average", "ratio", "score"]
Dimension = Literal["channel", "queue_id", "agent_id", "experience_id"]

# kind -> the unit it produces, and how the value follows from numerator (n) and denominator (d)
KIND_UNITS: dict[Kind, Unit] = {
    "count": "count",
    "total": "minutes",
    "average": "seconds",
    "ratio": "ratio",
    "score": "score",
}
SCORE_SCALE = 100  # NPS-like scores are a difference of shares, in percentage points
# The suffix each unit's KPI names end in (counts and scores have none).
UNIT_SUFFIXES: dict[Unit, tuple[str, str]] = {
    "seconds": ("_s", "KPIs in seconds"),
    "minutes": ("_min", "KPIs in minutes"),
    "ratio": ("_rate", "ratios"),
}


@dataclass(frozen=True)
class Scope:
    """What a new raw record touches: the keys whose fact rows an aggregation recomputes whole.

    A root scope is filled by the aggregation: the keys of the rows staged for the raw tables in
    ``staged``, and, when days are restated, the keys ``restated_sql`` finds with anything on those
    days (it reads the run's table ``restated_days(day)``). A derived scope is canonical SQL (``sql``)
    over root scopes' tables, the raw tables and the facts *as they were* (it runs before any fact is
    replaced), so a key that a change moves away from is recomputed too.
    """

    name: str
    table: str  # the run's table of touched keys
    key: tuple[str, ...]
    sql: str | None = None
    staged: tuple[str, ...] = ()
    restated_sql: str | None = None
    parents: tuple[Scope, ...] = ()  # the scopes whose tables ``sql`` reads

    def __post_init__(self) -> None:
        if (self.sql is None) == (not self.staged):
            raise ValueError(f"scope {self.name!r}: a root scope names staged tables; a derived one has sql")

    @property
    def root(self) -> bool:
        return self.sql is None


@dataclass(frozen=True)
class Output:
    """A table besides ``kpi_daily`` rolled up per (provider, day) from a family's facts: ``sql`` is
    canonical SQL of its complete rows for the (provider_id, day) pairs in ``affected_days``, which
    replace that table's rows of those pairs (keyed by ``provider_id`` and ``day``)."""

    table: Table
    sql: str


@dataclass(frozen=True)
class Snapshot:
    """A table of per-entity rows as of the run's UTC day (a relationship snapshot): ``sql`` is
    canonical SQL of the complete rows of today for the keys in ``scope`` (a derived scope that runs
    after the facts are replaced, so it may read the changed rows and the table itself). Both read
    the run's clock, ``run_clock(snapshot_day DATE, now_ts TIMESTAMP)``; the rows of today of the keys
    in scope are replaced (keyed by ``snapshot_day`` and the scope's key)."""

    table: Table
    scope: Scope
    sql: str


@dataclass(frozen=True)
class Family:
    """One whole declaration of a KPI family (see the module docstring).

    - ``fact``: the rows KPIs read. Stored facts (``fact_sql``) are replaced per scope key by each run;
      a ``source_sql`` family reads a relation over other tables instead (nothing stored).
    - ``day_column``: the timestamp that attributes a fact row to a UTC day.
    - ``derived_sql``: CTEs that turn ``<name>_base`` (the fact rows of the affected days) into
      ``<name>_rows``, adding ``derived_columns`` that depend on other rows.
    - ``extra_days_sql``: (provider_id, day) pairs whose KPIs a changed fact row moves beyond its own
      day; it reads ``changed_<fact>`` (the rows that differ before and after this run, both versions).
    - ``depends_on``: families whose facts this one's SQL reads (they are replaced first).
    - ``outputs``: tables rolled up per affected (provider, day); ``snapshots``: tables of per-entity
      rows as of the run's day, recomputed for the entities a run changes or ages.
    """

    name: str
    fact: Table
    day_column: str
    dimensions: tuple[Dimension, ...]
    grouping_sets: tuple[tuple[Dimension, ...], ...]
    scope: Scope | None = None
    fact_sql: str | None = None
    source_sql: str | None = None
    derived_sql: str | None = None
    derived_columns: tuple[tuple[str, str], ...] = ()  # (name, meaning)
    extra_days_sql: str | None = None
    depends_on: tuple[str, ...] = ()
    outputs: tuple[Output, ...] = ()
    snapshots: tuple[Snapshot, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        problems = family_problems(self)
        if problems:
            raise ValueError(f"family {self.name!r}: " + "; ".join(problems))
        known = _REGISTRY.setdefault(self.name, self)
        if known != self:
            raise ValueError(f"a different family named {self.name!r} is declared already")

    @property
    def stored(self) -> bool:
        """Its fact rows live in a warehouse table that each run replaces per scope key."""
        return self.fact_sql is not None

    @property
    def columns(self) -> frozenset[str]:
        return frozenset(c.name for c in self.fact.columns) | {name for name, _ in self.derived_columns}

    @property
    def changed_table(self) -> str:
        """The run's table of this family's fact rows that differ before and after the run."""
        return f"changed_{self.fact.name}"


def family_problems(family: Family) -> list[str]:
    """Small independent rules over one declaration; each problem is reported, none raised alone."""
    problems = []
    columns = {c.name: c for c in family.fact.columns}
    if (family.fact_sql is None) == (family.source_sql is None):
        problems.append("declare its rows either as stored facts (fact_sql) or as a relation (source_sql)")
    if family.stored and family.scope is None:
        problems.append("stored facts need a scope (what a new raw record touches)")
    if family.scope is not None and not set(family.scope.key) <= set(columns):
        problems.append(f"scope key {family.scope.key} is not a set of {family.fact.name} columns")
    day = columns.get(family.day_column)
    if day is None or day.type != "TIMESTAMP":
        problems.append(f"day column {family.day_column!r} is not a TIMESTAMP column of {family.fact.name}")
    if "provider_id" not in columns:
        problems.append(f"{family.fact.name} has no provider_id")
    unknown = set(family.dimensions) - set(columns)
    if unknown:
        problems.append(f"dimensions {sorted(unknown)} are not columns of {family.fact.name}")
    for grouping in family.grouping_sets:
        if not set(grouping) <= set(family.dimensions):
            problems.append(f"grouping set {grouping} uses undeclared dimensions")
    if () not in family.grouping_sets:
        problems.append("the grouping sets must include () (the provider's total)")
    if family.derived_columns and family.derived_sql is None:
        problems.append("derived columns need the derived_sql that computes them")
    for snapshot in family.snapshots:
        names = {c.name for c in snapshot.table.columns}
        if snapshot.scope.root or not {"snapshot_day", *snapshot.scope.key} <= names:
            problems.append(
                f"{snapshot.table.name} needs a derived scope whose key, with snapshot_day, it holds"
            )
    return problems


# Every family constructed so far, by name: what a KPI declaration is checked against.
_REGISTRY: dict[str, Family] = {}


def family_named(name: str) -> Family:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"no KPI family {name!r}; declared: {sorted(_REGISTRY)}") from None


class Measure(BaseModel):
    """Rows counted, distinct values counted, or an expression summed, over the fact rows of a slice
    where ``filter`` holds. A distinct count is not additive: it cannot be summed over days or slices."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agg: Literal["count", "count_distinct", "sum"]
    expr: str | None = None
    filter: str | None = None
    # A sum divided by this once summed (60: seconds to minutes): dividing each row first would make
    # the float result depend on the order the rows are summed in, and a restated day differ by a bit.
    per: int | None = Field(None, gt=1)

    @model_validator(mode="after")
    def _shape(self) -> Measure:
        if (self.agg == "count") != (self.expr is None):
            raise ValueError("a sum or a distinct count needs an expression; a count takes none")
        if self.per is not None and self.agg != "sum":
            raise ValueError("only a sum is divided once summed")
        return self

    @property
    def additive(self) -> bool:
        return self.agg != "count_distinct"

    def columns(self) -> set[str]:
        names: set[str] = set()
        for text in (self.expr, self.filter):
            if text is not None:
                names |= {c.name for c in parse_expression(text).find_all(exp.Column)}
        return names

    def in_words(self) -> str:
        what = {
            "count": "number of rows",
            "count_distinct": f"number of distinct `{self.expr}`",
            "sum": f"sum of `{self.expr}`" + ("" if self.per is None else f" ÷ {self.per}"),
        }[self.agg]
        return what if self.filter is None else f"{what} where `{self.filter}`"


class Kpi(BaseModel):
    """One KPI, declared once: everything the SQL, the reference tests and the data dictionary need.
    ``dimensions`` defaults to its family's."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)
    family: str
    kind: Kind
    unit: Unit
    description: str = Field(min_length=10)
    numerator: Measure
    denominator: Measure | None = None
    dimensions: tuple[Dimension, ...]

    @model_validator(mode="before")
    @classmethod
    def _family_dimensions(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("family"), str):
            family = family_named(data["family"])  # an unknown family is the error to report
            if "dimensions" not in data:
                data = {**data, "dimensions": family.dimensions}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Kpi:
        family = family_named(self.family)
        if KIND_UNITS[self.kind] != self.unit:
            raise ValueError(f"{self.name}: a {self.kind} KPI is measured in {KIND_UNITS[self.kind]}")
        if (self.kind in ("count", "total")) != (self.denominator is None):
            raise ValueError(f"{self.name}: counts and totals have no denominator; every other kind has one")
        for unit, (suffix, which) in UNIT_SUFFIXES.items():
            if (self.unit == unit) != self.name.endswith(suffix):
                raise ValueError(f"{self.name}: {which} end in {suffix}, and only they do")
        if self.dimensions != family.dimensions:
            raise ValueError(f"{self.name}: {self.family} KPIs are sliced by {family.dimensions}")
        for measure in (self.numerator, self.denominator):
            if measure is None:
                continue
            unknown = measure.columns() - family.columns
            if unknown:
                raise ValueError(f"{self.name}: {sorted(unknown)} are not columns of {family.fact.name}")
        return self

    @property
    def additive(self) -> bool:
        """Numerators and denominators may be summed over days and slices (a distinct count may not)."""
        return self.numerator.additive and (self.denominator is None or self.denominator.additive)

    def formula_in_words(self) -> str:
        if self.denominator is None:
            return self.numerator.in_words()
        scale = f"{SCORE_SCALE} × " if self.kind == "score" else ""
        return f"{scale}({self.numerator.in_words()}) ÷ ({self.denominator.in_words()})"


def parse_expression(text: str) -> exp.Expression:
    """Parse a catalog expression in the canonical dialect; raises ``ValueError`` when it is not SQL."""
    try:
        parsed = sqlglot.parse_one(text, read="bigquery")
    except sqlglot.errors.ParseError as exc:
        raise ValueError(f"not a SQL expression: {text!r}: {exc}") from exc
    if isinstance(parsed, exp.Query):
        raise ValueError(f"a KPI expression is not a query: {text!r}")
    return parsed


def count(filter: str | None = None) -> Measure:
    return Measure(agg="count", filter=filter)


def distinct(expr: str, filter: str | None = None) -> Measure:
    return Measure(agg="count_distinct", expr=expr, filter=filter)


def total(expr: str, filter: str | None = None, per: int | None = None) -> Measure:
    return Measure(agg="sum", expr=expr, filter=filter, per=per)


def average_of(expr: str, filter: str | None = None) -> tuple[Measure, Measure]:
    """An average's numerator (the sum) and denominator (how many rows have a value): rows whose
    measure is NULL (not measurable) are left out of both."""
    if filter is None:
        has_value = f"{expr} IS NOT NULL"
    else:
        guarded = f"({filter})" if " " in filter else filter
        has_value = f"{guarded} AND {expr} IS NOT NULL"
    return total(expr, has_value), count(has_value)


def counted(name: str, family: str, description: str, filter: str | None) -> Kpi:
    """A count of the fact rows where ``filter`` holds."""
    return Kpi(
        name=name, family=family, kind="count", unit="count", description=description, numerator=count(filter)
    )


def rate(name: str, family: str, description: str, numerator: str, denominator: str) -> Kpi:
    """Rows where ``numerator`` holds ÷ rows where ``denominator`` holds."""
    return Kpi(
        name=name,
        family=family,
        kind="ratio",
        unit="ratio",
        description=description,
        numerator=count(numerator),
        denominator=count(denominator),
    )


def averaged(name: str, family: str, description: str, expr: str, filter: str | None = None) -> Kpi:
    """The mean of ``expr`` (in seconds) over the rows where ``filter`` holds and it has a value."""
    numerator, denominator = average_of(expr, filter)
    return Kpi(
        name=name,
        family=family,
        kind="average",
        unit="seconds",
        description=description,
        numerator=numerator,
        denominator=denominator,
    )
