"""What a KPI declaration is: validated data, so a typo in a formula fails at import, not in a dashboard.

A KPI is a ratio of two measures over the fact rows of one family (a count has no denominator). A
measure counts rows, or sums an expression, where a filter holds. Expressions and filters are SQL
(BigQuery syntax, the canonical dialect) over the family's columns; they are parsed here, checked
against the declared columns, and compiled for each warehouse dialect by ``shared.kpi.rollup``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import sqlglot
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlglot import exp

from shared.warehouse.tables import CUSTOMER_ERASURES, FACT_CONVERSATIONS, FACT_SESSIONS, Table

FamilyName = Literal["conversation", "session", "erasure"]
Unit = Literal["count", "seconds", "ratio", "score"]
Kind = Literal["count", "average", "ratio", "score"]
Dimension = Literal["channel", "queue_id", "agent_id", "experience_id"]

# kind -> the unit it produces, and how the value follows from numerator (n) and denominator (d)
KIND_UNITS: dict[Kind, Unit] = {"count": "count", "average": "seconds", "ratio": "ratio", "score": "score"}
SCORE_SCALE = 100  # NPS-like scores are a difference of shares, in percentage points


@dataclass(frozen=True)
class Family:
    """Where a family's KPIs come from: a fact table, the timestamp that attributes a row to a day,
    the dimensions it is sliced by (and the grouping sets of kpi_daily) and columns the KPI query
    derives at computation time because they depend on other rows (e.g. first-contact resolution)."""

    name: FamilyName
    fact: Table
    day_column: str
    dimensions: tuple[Dimension, ...]
    grouping_sets: tuple[tuple[Dimension, ...], ...]
    derived_columns: tuple[tuple[str, str], ...] = ()  # (name, meaning)

    @property
    def columns(self) -> frozenset[str]:
        return frozenset(c.name for c in self.fact.columns) | {name for name, _ in self.derived_columns}


CONTACT_CENTER_DIMENSIONS: tuple[Dimension, ...] = ("channel", "queue_id", "agent_id")
CONTACT_CENTER_GROUPING_SETS: tuple[tuple[Dimension, ...], ...] = (
    (),
    ("channel",),
    ("queue_id",),
    ("agent_id",),
    ("queue_id", "agent_id"),
)

FAMILIES: dict[FamilyName, Family] = {
    "session": Family(
        "session", FACT_SESSIONS, "close_ts", CONTACT_CENTER_DIMENSIONS, CONTACT_CENTER_GROUPING_SETS
    ),
    "conversation": Family(
        "conversation",
        FACT_CONVERSATIONS,
        "closed_ts",
        CONTACT_CENTER_DIMENSIONS,
        CONTACT_CENTER_GROUPING_SETS,
        derived_columns=(
            ("fcr_eligible", "resolved, closed, and the customer is known"),
            (
                "first_contact_resolved",
                "fcr_eligible and the customer opened no other inbound conversation in the 72 h after the close",
            ),
        ),
    ),
    # Customers erased on request (docs/privacy.md): provider totals only, nothing to slice by.
    "erasure": Family("erasure", CUSTOMER_ERASURES, "requested_at", (), ((),)),
}


class Measure(BaseModel):
    """Rows counted, or an expression summed, over the fact rows of a slice where ``filter`` holds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agg: Literal["count", "sum"]
    expr: str | None = None
    filter: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> Measure:
        if (self.agg == "sum") != (self.expr is not None):
            raise ValueError("a sum needs an expression; a count takes none")
        return self

    def columns(self) -> set[str]:
        names: set[str] = set()
        for text in (self.expr, self.filter):
            if text is not None:
                names |= {c.name for c in parse_expression(text).find_all(exp.Column)}
        return names

    def in_words(self) -> str:
        what = "number of rows" if self.agg == "count" else f"sum of `{self.expr}`"
        return what if self.filter is None else f"{what} where `{self.filter}`"


class Kpi(BaseModel):
    """One KPI, declared once: everything the SQL, the reference tests and the data dictionary need."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)
    family: FamilyName
    kind: Kind
    unit: Unit
    description: str = Field(min_length=10)
    numerator: Measure
    denominator: Measure | None = None
    dimensions: tuple[Dimension, ...] = CONTACT_CENTER_DIMENSIONS

    @model_validator(mode="after")
    def _consistent(self) -> Kpi:
        if KIND_UNITS[self.kind] != self.unit:
            raise ValueError(f"{self.name}: a {self.kind} KPI is measured in {KIND_UNITS[self.kind]}")
        if (self.kind == "count") != (self.denominator is None):
            raise ValueError(f"{self.name}: counts have no denominator; every other kind has one")
        if self.unit == "seconds" and not self.name.endswith("_s"):
            raise ValueError(f"{self.name}: KPIs in seconds end in _s")
        if self.unit == "ratio" and not self.name.endswith("_rate"):
            raise ValueError(f"{self.name}: ratios end in _rate")
        family = FAMILIES[self.family]
        if self.dimensions != family.dimensions:
            raise ValueError(f"{self.name}: {self.family} KPIs are sliced by {family.dimensions}")
        for measure in (self.numerator, self.denominator):
            if measure is None:
                continue
            unknown = measure.columns() - family.columns
            if unknown:
                raise ValueError(f"{self.name}: {sorted(unknown)} are not columns of {family.fact.name}")
        return self

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


def total(expr: str, filter: str | None = None) -> Measure:
    return Measure(agg="sum", expr=expr, filter=filter)


def average_of(expr: str, filter: str | None = None) -> tuple[Measure, Measure]:
    """An average's numerator (the sum) and denominator (how many rows have a value): rows whose
    measure is NULL (not measurable) are left out of both."""
    if filter is None:
        has_value = f"{expr} IS NOT NULL"
    else:
        guarded = f"({filter})" if " " in filter else filter
        has_value = f"{guarded} AND {expr} IS NOT NULL"
    return total(expr, has_value), count(has_value)
