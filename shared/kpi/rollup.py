"""The KPI query, generated from the catalog: each family's fact rows of the affected days, grouped by
its grouping sets, every measure computed once, then one output row per KPI and group.

The text is canonical (BigQuery) SQL; ``shared.kpi.dialects`` renders it per warehouse.
Conventions of ``kpi_daily`` it implements:
- a NULL dimension means "all"; a missing value inside a slice is ``'(none)'``, so it never reads as "all";
- every KPI gets a row in every group that has at least one fact row (counts 0 when nothing matched);
- the value of a ratio, average or score is NULL when its denominator is 0 — never an error, never 0.
"""

from __future__ import annotations

from collections.abc import Iterable

from shared.kpi.catalog import CATALOG
from shared.kpi.dialects import COMPUTED_AT_MARKER
from shared.kpi.model import SCORE_SCALE, Family, Kpi, Measure, family_named
from shared.kpi.sqlparts import count_if

NONE_VALUE = "(none)"
KPI_DAILY_DIMENSIONS = ("channel", "queue_id", "agent_id", "experience_id")  # column order of kpi_daily


def _measure_sql(measure: Measure) -> str:
    if measure.agg == "count":
        return "COUNT(*)" if measure.filter is None else count_if(measure.filter)
    value = measure.expr if measure.filter is None else f"CASE WHEN {measure.filter} THEN {measure.expr} END"
    if measure.agg == "count_distinct":
        return f"COUNT(DISTINCT {value})"
    summed = f"COALESCE(SUM({value}), 0)"
    return summed if measure.per is None else f"{summed} / {measure.per}"


def _value_sql(kpi: Kpi, numerator: str, denominator: str | None) -> str:
    if denominator is None:
        return numerator
    scale = f"{SCORE_SCALE} * " if kpi.kind == "score" else ""
    return f"CASE WHEN {denominator} > 0 THEN {scale}{numerator} / {denominator} END"


def _rows_cte(family: Family) -> str:
    """Fact rows of the affected days with the family's KPI-time columns and slice values."""
    slices = "".join(f", COALESCE(f.{d}, '{NONE_VALUE}') AS slice_{d}" for d in family.dimensions)
    source = family.fact.name if family.source_sql is None else f"({family.source_sql})"
    base = (
        f"SELECT f.*, d.day{slices} FROM {source} AS f "
        f"JOIN days AS d ON d.provider_id = f.provider_id AND d.day = DATE(f.{family.day_column})"
    )
    if family.derived_sql is None:
        return f"{family.name}_rows AS ({base})"
    return f"\n    {family.name}_base AS ({base}),{family.derived_sql}"


def _family_sql(family: Family, kpis: list[Kpi]) -> tuple[str, str]:
    """(the CTEs of one family, the SELECT of its KPI rows)."""
    measures: dict[Measure, str] = {}
    for kpi in kpis:
        for measure in (kpi.numerator, kpi.denominator):
            if measure is not None and measure not in measures:
                measures[measure] = f"m{len(measures)}"
    sets = ", ".join(
        "(" + ", ".join(("provider_id", "day", *(f"slice_{d}" for d in grouping))) + ")"
        for grouping in family.grouping_sets
    )
    outputs = "".join(f"slice_{d} AS {d}, " for d in family.dimensions)
    aggregates = ",\n      ".join(f"{_measure_sql(m)} AS {alias}" for m, alias in measures.items())
    groups = f"""
    {family.name}_groups AS (
      SELECT provider_id, day, {outputs}
      {aggregates}
      FROM {family.name}_rows
      GROUP BY GROUPING SETS ({sets})
    )"""
    structs = []
    for kpi in kpis:
        numerator = f"g.{measures[kpi.numerator]}"
        denominator = None if kpi.denominator is None else f"g.{measures[kpi.denominator]}"
        structs.append(
            f"STRUCT('{kpi.name}' AS kpi, "
            f"CAST({_value_sql(kpi, numerator, denominator)} AS FLOAT64) AS value, "
            f"CAST({numerator} AS FLOAT64) AS numerator, "
            f"CAST({denominator or 'NULL'} AS FLOAT64) AS denominator, "
            f"'{kpi.unit}' AS unit)"
        )
    dimensions = ", ".join(
        f"g.{d}" if d in family.dimensions else f"CAST(NULL AS STRING) AS {d}" for d in KPI_DAILY_DIMENSIONS
    )
    rows = ",\n      ".join(structs)
    select = f"""
    SELECT g.day, g.provider_id, k.kpi, {dimensions},
      k.value, k.numerator, k.denominator, k.unit, {COMPUTED_AT_MARKER} AS computed_at
    FROM {family.name}_groups AS g
    CROSS JOIN UNNEST([
      {rows}
    ]) AS k"""
    return f"{_rows_cte(family)},{groups}", select


def kpi_sql(kpis: Iterable[Kpi] = CATALOG) -> str:
    """Canonical SQL of the KPI rows of every (provider, day) in ``affected_days``."""
    by_family: dict[str, list[Kpi]] = {}
    for kpi in kpis:
        by_family.setdefault(kpi.family, []).append(kpi)
    ctes = ["days AS (SELECT DISTINCT provider_id, day FROM affected_days)"]
    selects = []
    for name, members in by_family.items():
        family_ctes, select = _family_sql(family_named(name), members)
        ctes.append(family_ctes)
        selects.append(select)
    return "WITH " + ",\n".join(ctes) + "\n" + "\nUNION ALL\n".join(selects)
