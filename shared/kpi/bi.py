"""The BI side of the warehouse, generated from the KPI catalog: views that hide the NULL-means-all
convention of ``kpi_daily``, one wide daily view per family, and the rows of ``kpi_catalog``.

These views belong with the catalog (they change when a KPI is declared); the warehouse adapters
never import this module: the aggregation hands ``bi_views()`` to ``Warehouse.ensure_schema`` and
``make infra-gen`` hands them to Terraform. docs/bi.md is the user's guide to them.

- **Grain views** (``kpi_channel_daily``, ``kpi_queue_daily``, ``kpi_agent_daily``,
  ``kpi_queue_agent_daily``, ``kpi_experience_daily``; the provider totals are the pinned
  ``kpi_provider_daily``): exactly the rows of one slice, so a BI user filters nothing but the day.
- **Wide views** (``kpi_<family>_daily_wide``): one row per day, provider and slice, one column per
  KPI of the family, and a ``grain`` column naming the slice.
- **kpi_catalog**: name, family, kind, unit, description, formula, the rollup recipe, the wide view.
- **kpi_funnel_daily** (the chatbot funnel) and **kpi_cumulative_daily** (every KPI cumulated over days).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from functools import cache

from sqlglot import exp

from shared.kpi.catalog import CATALOG
from shared.kpi.model import SCORE_SCALE, Kpi
from shared.warehouse.ddl import View
from shared.warehouse.port import ReplaceScope, Transaction, Warehouse
from shared.warehouse.tables import KPI_CATALOG, KPI_DAILY, Column

# kpi_daily's slice columns, in its column order.
DIMENSIONS: tuple[str, ...] = ("channel", "queue_id", "agent_id", "experience_id")


@dataclass(frozen=True)
class Grain:
    """A slice of kpi_daily: the dimensions that hold a value; every other one is NULL ("all")."""

    name: str
    dimensions: tuple[str, ...]
    label: str

    @property
    def view(self) -> str:
        return f"kpi_{self.name}_daily"

    def where(self) -> str:
        return " AND ".join(f"{d} {'IS NOT NULL' if d in self.dimensions else 'IS NULL'}" for d in DIMENSIONS)


# The slices kpi_daily is written at (the families' grouping sets), by the name BI users know them.
GRAINS: tuple[Grain, ...] = (
    Grain("provider", (), "provider totals"),
    Grain("channel", ("channel",), "per channel"),
    Grain("queue", ("queue_id",), "per queue"),
    Grain("agent", ("agent_id",), "per agent"),
    Grain("queue_agent", ("queue_id", "agent_id"), "per queue and agent"),
    Grain("experience", ("experience_id",), "per chatbot experience"),
)
GRAIN_BY_NAME = {g.name: g for g in GRAINS}
_KPI_DAILY_COLUMNS = {c.name: c for c in KPI_DAILY.columns}


def rollup_sql(kpi: Kpi) -> str:
    """How the KPI adds up over several kpi_daily rows (days, or slices of one grain)."""
    if kpi.denominator is None:
        return "SUM(numerator)"
    scale = f"{SCORE_SCALE} * " if kpi.kind == "score" else ""
    return f"{scale}SUM(numerator) / NULLIF(SUM(denominator), 0)"


def wide_view_name(family: str) -> str:
    return f"kpi_{family}_daily_wide"


def families() -> dict[str, list[Kpi]]:
    """The catalog's KPIs by family, in declaration order."""
    found: dict[str, list[Kpi]] = {}
    for kpi in CATALOG:
        found.setdefault(kpi.family, []).append(kpi)
    return found


def _grain_view(grain: Grain) -> View:
    dims = list(grain.dimensions)
    names = ["day", "provider_id", *dims, "kpi", "value", "numerator", "denominator", "unit"]
    sql = f"SELECT {', '.join(names)} FROM kpi_daily WHERE {grain.where()}"
    return View(
        grain.view,
        f"KPI rows {grain.label} (kpi_daily rows whose only non-NULL dimensions are "
        f"{', '.join(dims) or 'none'}). Over several days: {rollup_sql_hint()}.",
        sql,
        tuple(_KPI_DAILY_COLUMNS[n] for n in names),
    )


def rollup_sql_hint() -> str:
    return "SUM(numerator) for counts, SUM(numerator) / SUM(denominator) otherwise (x 100 for scores)"


def _grain_case() -> str:
    branches = " ".join(
        f"WHEN {grain.where()} THEN '{grain.name}'"
        for grain in sorted(GRAINS, key=lambda g: -len(g.dimensions))
    )
    return f"CASE {branches} ELSE 'other' END"


def _wide_view(family: str, kpis: list[Kpi]) -> View:
    keys = ["day", "provider_id", *DIMENSIONS]
    listed = ", ".join(f"'{k.name}'" for k in kpis)
    pivots = ",\n  ".join(f"MAX(CASE WHEN kpi = '{k.name}' THEN value END) AS {k.name}" for k in kpis)
    sql = (
        f"SELECT day, provider_id, {_grain_case()} AS grain, {', '.join(DIMENSIONS)},\n  {pivots}\n"
        f"FROM kpi_daily WHERE kpi IN ({listed})\nGROUP BY {', '.join(keys)}"
    )
    columns = (
        _KPI_DAILY_COLUMNS["day"],
        _KPI_DAILY_COLUMNS["provider_id"],
        Column(
            "grain", "STRING", "The slice of the row: " + ", ".join(f"{g.name} ({g.label})" for g in GRAINS)
        ),
        *(_KPI_DAILY_COLUMNS[d] for d in DIMENSIONS),
        *(Column(k.name, "FLOAT64", f"{k.description} ({k.unit})") for k in kpis),
    )
    return View(
        wide_view_name(family),
        f"The {family} KPIs of kpi_daily, one column per KPI (its value), one row per day, provider and "
        "slice; filter on grain. Values only: roll several days up from the grain views instead.",
        sql,
        columns,
    )


# The chatbot funnel (seed 002, PRODUCT.md): each step one KPI or the sum of several, in order.
FUNNEL: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("sessions", ("chat_sessions",)),
    ("sessions with conversation", ("chat_sessions_with_conversation",)),
    ("new customers", ("new_customers",)),
    (
        "opt-ins",
        (
            "webpush_optins_single",
            "webpush_optins_double",
            "reminder_optins_single",
            "reminder_optins_double",
        ),
    ),
    ("participations", ("participations",)),
)


def _funnel_view() -> View:
    """One row per day, provider, experience slice (NULL = all) and funnel step, with the step's
    share of the sessions: the funnel chart without a BI tool's own arithmetic."""
    known = {k.name for k in CATALOG}
    missing = sorted({kpi for _, kpis in FUNNEL for kpi in kpis} - known)
    if missing:
        raise ValueError(f"the funnel names KPIs the catalog does not declare: {missing}")
    steps = " UNION ALL ".join(
        f"SELECT {n} AS step_order, '{step}' AS step, '{kpi}' AS kpi"
        for n, (step, kpis) in enumerate(FUNNEL, start=1)
        for kpi in kpis
    )
    first = FUNNEL[0][1][0]
    totals = "channel IS NULL AND queue_id IS NULL AND agent_id IS NULL"
    sql = f"""WITH steps AS ({steps}),
rows AS (
  SELECT d.day, d.provider_id, d.experience_id, s.step_order, s.step, SUM(d.value) AS value
  FROM kpi_daily AS d JOIN steps AS s ON s.kpi = d.kpi
  WHERE d.channel IS NULL AND d.queue_id IS NULL AND d.agent_id IS NULL
  GROUP BY d.day, d.provider_id, d.experience_id, s.step_order, s.step
)
SELECT r.day, r.provider_id, r.experience_id, r.step_order, r.step, r.value,
  CASE WHEN f.value > 0 THEN r.value / f.value END AS share_of_sessions
FROM rows AS r
LEFT JOIN (SELECT day, provider_id, experience_id, value FROM kpi_daily WHERE kpi = '{first}' AND {totals}) AS f
  ON f.day = r.day AND f.provider_id = r.provider_id
  AND COALESCE(f.experience_id, '') = COALESCE(r.experience_id, '')"""
    return View(
        "kpi_funnel_daily",
        "The chatbot funnel per day: sessions, sessions with conversation, new customers, opt-ins (web push "
        "and reminder, single and double) and participations, per experience (NULL = all), with each "
        "step's share of the sessions. Over several days, sum value per step.",
        sql,
        (
            _KPI_DAILY_COLUMNS["day"],
            _KPI_DAILY_COLUMNS["provider_id"],
            _KPI_DAILY_COLUMNS["experience_id"],
            Column("step_order", "INT64", "1 (sessions) to 5 (participations)"),
            Column("step", "STRING", "The funnel step"),
            Column("value", "FLOAT64", "The step's count that day (opt-ins: the four opt-in KPIs summed)"),
            Column("share_of_sessions", "FLOAT64", "value ÷ the day's chat sessions (NULL without any)"),
        ),
    )


def _cumulative_view() -> View:
    """Every kpi_daily row with its running totals from the first day kept, per provider, KPI and
    slice: "KPIs over time (cumulated)" without a window function in the BI tool. A distinct count
    (participants) does not add up over days: its cumulative columns are NULL."""
    additive = ", ".join(f"'{k.name}'" for k in CATALOG if k.additive)
    partition = "provider_id, kpi, channel, queue_id, agent_id, experience_id"
    window = f"OVER (PARTITION BY {partition} ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
    sql = f"""WITH sums AS (
  SELECT day, provider_id, kpi, channel, queue_id, agent_id, experience_id, value, numerator,
    denominator, unit, kpi IN ({additive}) AS additive,
    SUM(numerator) {window} AS running_numerator,
    SUM(denominator) {window} AS running_denominator
  FROM kpi_daily
)
SELECT day, provider_id, kpi, channel, queue_id, agent_id, experience_id, value, numerator,
  denominator, unit,
  CASE WHEN additive THEN running_numerator END AS cumulative_numerator,
  CASE WHEN additive THEN running_denominator END AS cumulative_denominator,
  CASE WHEN NOT additive THEN NULL
       WHEN denominator IS NULL THEN running_numerator
       WHEN running_denominator > 0 THEN CASE WHEN unit = 'score' THEN {SCORE_SCALE} ELSE 1 END
         * running_numerator / running_denominator END AS cumulative_value
FROM sums"""
    kept = [_KPI_DAILY_COLUMNS[c] for c in ("day", "provider_id", "kpi", *DIMENSIONS, "value", "numerator")]
    return View(
        "kpi_cumulative_daily",
        "Every kpi_daily row with its cumulated series: numerators and denominators summed from the first "
        "day kept up to that day, per provider, KPI and slice, and the KPI over that span (counts the "
        "running sum, ratios and averages the running numerator ÷ denominator). NULL for distinct counts "
        "(participants), which do not add up over days.",
        sql,
        (
            *kept,
            _KPI_DAILY_COLUMNS["denominator"],
            _KPI_DAILY_COLUMNS["unit"],
            Column("cumulative_numerator", "FLOAT64", "numerator summed up to this day"),
            Column("cumulative_denominator", "FLOAT64", "denominator summed up to this day"),
            Column("cumulative_value", "FLOAT64", "The KPI over every day up to this one"),
        ),
    )


@cache
def bi_views() -> tuple[View, ...]:
    """Every view generated from the catalog: grain views, one wide view per family, the chatbot
    funnel and the cumulated series."""
    grains = [_grain_view(g) for g in GRAINS if g.name != "provider"]  # kpi_provider_daily is declared
    wide = [_wide_view(family, kpis) for family, kpis in families().items()]
    return (*grains, *wide, _funnel_view(), _cumulative_view())


# -- kpi_catalog ------------------------------------------------------------------------------------


def catalog_rows() -> list[dict[str, str]]:
    """The rows of kpi_catalog, in declaration order."""
    return [
        {
            "name": kpi.name,
            "family": kpi.family,
            "kind": kpi.kind,
            "unit": kpi.unit,
            "description": kpi.description,
            "formula": kpi.formula_in_words(),
            "rollup": rollup_sql(kpi),
            "wide_view": wide_view_name(kpi.family),
        }
        for kpi in CATALOG
    ]


def _rows_sql(dialect: str) -> str:
    selects = []
    for row in catalog_rows():
        values = ", ".join(
            f"{exp.Literal.string(row[c.name]).sql(dialect=dialect)} AS {c.name}" for c in KPI_CATALOG.columns
        )
        selects.append(f"SELECT {values}")
    return "\nUNION ALL ".join(selects)


def catalog_transaction(warehouse: Warehouse) -> Transaction:
    """Replace kpi_catalog by the catalog: names no longer declared are dropped (one MERGE)."""
    name = warehouse.name(KPI_CATALOG.name)
    rows = _rows_sql(warehouse.dialect)
    scope = (
        f"SELECT DISTINCT name FROM (SELECT name FROM {name} UNION ALL SELECT name FROM ({rows}) AS n) AS s"
    )
    statements = warehouse.replace(ReplaceScope(KPI_CATALOG, name, rows, scope, KPI_CATALOG.key))
    return Transaction(tuple(statements), "SELECT COUNT(*) AS kpis FROM " + name)


def _fingerprint(rows: list[dict[str, str]]) -> str:
    text = "\x1e".join("\x1f".join(row[c.name] or "" for c in KPI_CATALOG.columns) for row in rows)
    return hashlib.sha256(text.encode()).hexdigest()


# BigQuery datasets whose kpi_catalog this process already checked: a warm instance skips the read.
_loaded: set[str] = set()
_loaded_lock = threading.Lock()


def load_catalog(warehouse: Warehouse) -> bool:
    """Bring kpi_catalog in line with the code; returns whether it had to be written. Read first,
    written only when different: a run does not spend a table operation on an unchanged catalog."""
    key = warehouse.table_id(KPI_CATALOG.name) if warehouse.dialect == "bigquery" else ""
    with _loaded_lock:
        if key and key in _loaded:
            return False
    columns = ", ".join(c.name for c in KPI_CATALOG.columns)
    stored = warehouse.query(f"SELECT {columns} FROM {warehouse.name(KPI_CATALOG.name)} ORDER BY name")
    wanted = sorted(catalog_rows(), key=lambda r: r["name"])
    changed = _fingerprint(stored) != _fingerprint(wanted)
    if changed:
        warehouse.apply(catalog_transaction(warehouse))
    if key:
        with _loaded_lock:
            _loaded.add(key)
    return changed


def prepare_warehouse(warehouse: Warehouse) -> None:
    """What the aggregation needs before a run: every table and view (the catalog's too) and an
    up-to-date kpi_catalog."""
    warehouse.ensure_schema(bi_views())
    load_catalog(warehouse)
