"""The run's ONE warehouse transaction, built from what was staged and the KPI families.

In order, all or nothing:

1. raw tables from staging: the latest version of each key wins (conversations replace their
   sessions and participants); events are create-only, but the session an event sent with a CIF
   ``clientSessionId`` counts on follows its conversation's sessions (``event_sessions``); failed
   events, activities (with their parties) and provider settings are upserted;
2. the scopes (``shared.kpi.families.scopes``): root scopes from the staged rows (and, when days are
   restated, everything on those days), then the scopes derived from them and from the facts as they were;
3. per family, in dependency order: its in-scope fact rows as they were, replaced by the fact SQL,
   and the rows that differ before and after (``changed_<fact>``);
4. ``affected_days``: the days of the changed rows ∪ each family's extra days ∪ restated and erased days;
5. ``kpi_daily`` rows (and each family's other rolled-up tables) of exactly those (provider, day)
   pairs replaced by a fresh computation;
6. each snapshot's records (changed or aged) get today's row (relationship analytics).

Nothing here names a family: adding one to ``shared.kpi.families`` is enough. Every step replaces state
by key instead of adding increments, so applying the same input twice gives the same tables: together
with a watermark that only moves after the commit, at-least-once reading becomes exactly-once results.
The KPI and fact SQL comes from ``shared.kpi.sql``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime

from shared.aggregate.event_sessions import event_statements
from shared.aggregate.orphans import orphan_statements
from shared.aggregate.rows import VERSION
from shared.kpi.catalog import CATALOG
from shared.kpi.dialects import render
from shared.kpi.families import ordered, scopes
from shared.kpi.model import Family, Kpi, Scope
from shared.kpi.sql import (
    TableNames,
    before_table,
    changed_query,
    days_query,
    extra_days_query,
    fact_query,
    in_scope_query,
    kpi_query,
    output_query,
    scope_query,
    snapshot_query,
)
from shared.privacy.warehouse import erasure_days_sql, erasure_statements, retention_statements
from shared.warehouse.ddl import declared_tables
from shared.warehouse.port import ReplaceScope, Transaction, Warehouse
from shared.warehouse.tables import (
    CUSTOMER_ERASURES,
    KPI_DAILY,
    PROVIDER_SETTINGS,
    RAW_ACTIVITIES,
    RAW_ACTIVITY_PARTIES,
    RAW_CONVERSATIONS,
    RAW_EVENTS,
    RAW_FAILED_EVENTS,
    RAW_PARTICIPANTS,
    RAW_SESSIONS,
    Table,
)

AFFECTED = "affected_days"
RESTATED = "restated_days"
CLOCK = "run_clock"  # (snapshot_day DATE, now_ts TIMESTAMP): the run's day and time, for snapshots
SNAPSHOT_PRUNE = "snapshot_day_list"  # BigQuery script variable: the partition snapshots replace
# Rows' computed_at: the run's time from its clock table, so the generated SQL stays the same for
# every run (and is rendered once per process).
COMPUTED_AT = f"(SELECT now_ts FROM {CLOCK})"
KPI_NEW = "kpi_new"
PRUNE_DAYS = "affected_day_list"  # BigQuery script variable: the partitions kpi_daily's MERGE may touch
CONVERSATION_KEY = ("provider_id", "conversation_id")
DAY_KEY = ("provider_id", "day")


def table_names(warehouse: Warehouse) -> TableNames:
    """The KPI SQL's table names in this warehouse; the run's temporary tables stay unqualified."""
    return TableNames(tuple((t.name, warehouse.table_id(t.name)) for t in declared_tables()))


def _utc_day(warehouse: Warehouse, column: str) -> str:
    if warehouse.dialect == "duckdb":
        return f"CAST(timezone('UTC', {column}) AS DATE)"
    return f"DATE({column})"


def _timestamp(warehouse: Warehouse, at: datetime) -> str:
    text = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")
    return f"TIMESTAMPTZ '{text}'" if warehouse.dialect == "duckdb" else f"TIMESTAMP '{text}'"


def _date_list(days: Sequence[date]) -> str:
    # date objects only, never request text: these literals cannot carry anything but a date.
    return ", ".join(f"DATE '{d.isoformat()}'" for d in days)


def _staged_columns(warehouse: Warehouse, raw: Table, alias: str = "") -> str:
    """The columns of a staging table as the raw table's types (BigQuery stages JSON as text)."""
    return ", ".join(
        f"PARSE_JSON({alias}{c.name}) AS {c.name}"
        if c.type == "JSON" and warehouse.dialect == "bigquery"
        else f"{alias}{c.name}"
        for c in raw.columns
    )


def _from_staging(warehouse: Warehouse, raw: Table, newest_first: bool = True) -> str:
    """One row per key from the staged rows of ``raw``: the latest version (or the first one)."""
    columns = _staged_columns(warehouse, raw)
    order = "DESC" if newest_first else "ASC"
    return (
        f"SELECT {columns} FROM {warehouse.staging_name(raw.name)} WHERE TRUE\n"
        f"QUALIFY ROW_NUMBER() OVER (PARTITION BY {', '.join(raw.key)} ORDER BY {VERSION} {order}) = 1"
    )


def _children_of_latest(warehouse: Warehouse, child: Table, parent: Table) -> str:
    """Children (sessions, participants, activity parties) of the latest staged version of each
    parent (a conversation, an activity)."""
    columns = _staged_columns(warehouse, child, "x.")
    keys = ", ".join(parent.key)
    match = " AND ".join(f"x.{k} = l.{k}" for k in parent.key)
    return (
        f"SELECT {columns} FROM {warehouse.staging_name(child.name)} AS x\n"
        f"JOIN (SELECT {keys}, MAX({VERSION}) AS v\n"
        f"      FROM {warehouse.staging_name(parent.name)} GROUP BY {keys}) AS l\n"
        f"ON {match} AND x.{VERSION} = l.v"
    )


def _replace_children(warehouse: Warehouse, parent: Table, children: tuple[Table, ...]) -> list[str]:
    """The children of every staged parent replaced by those of its latest staged version."""
    parents = f"SELECT DISTINCT {', '.join(parent.key)} FROM {warehouse.staging_name(parent.name)}"
    statements: list[str] = []
    for child in children:
        statements += warehouse.replace(
            ReplaceScope(
                child,
                warehouse.name(child.name),
                _children_of_latest(warehouse, child, parent),
                parents,
                parent.key,
            )
        )
    return statements


def _raw_statements(warehouse: Warehouse, staged: set[str]) -> list[str]:
    statements: list[str] = []
    if RAW_CONVERSATIONS.name in staged:
        statements += warehouse.upsert(RAW_CONVERSATIONS, _from_staging(warehouse, RAW_CONVERSATIONS))
        statements += _replace_children(warehouse, RAW_CONVERSATIONS, (RAW_SESSIONS, RAW_PARTICIPANTS))
    # Create-only: an event id, once stored, never changes; only the session it counts on follows the
    # conversation's sessions (shared.aggregate.event_sessions).
    statements += event_statements(
        warehouse,
        _from_staging(warehouse, RAW_EVENTS, False) if RAW_EVENTS.name in staged else None,
        RAW_CONVERSATIONS.name in staged,
    )
    for upserted in (RAW_FAILED_EVENTS, RAW_ACTIVITIES, PROVIDER_SETTINGS):
        if upserted.name in staged:
            statements += warehouse.upsert(upserted, _from_staging(warehouse, upserted))
    if RAW_ACTIVITIES.name in staged:
        statements += _replace_children(warehouse, RAW_ACTIVITIES, (RAW_ACTIVITY_PARTIES,))
    return statements


def _root_scope_sql(warehouse: Warehouse, scope: Scope, staged: set[str], restating: bool) -> str:
    """The keys a root scope's staged raw rows touch, and with restated days everything on them."""
    key = ", ".join(scope.key)
    parts = [f"SELECT {key} FROM {warehouse.staging_name(name)}" for name in scope.staged if name in staged]
    if restating and scope.restated_sql is not None:
        parts.append(
            f"SELECT {key} FROM ({render(scope.restated_sql, warehouse.dialect, table_names(warehouse).mapping())}) AS r"
        )
    if not parts:  # nothing of this scope staged: an empty table of its key
        parts.append(f"SELECT {key} FROM {warehouse.name(scope.staged[0])} WHERE FALSE")
    union = "\n  UNION ALL ".join(parts)
    return f"SELECT DISTINCT {key} FROM (\n  {union}\n) AS u"


def _restated_sql(warehouse: Warehouse, days: Sequence[date]) -> str:
    """Every restated day for every provider the warehouse knows."""
    providers = " UNION ALL ".join(
        f"SELECT provider_id FROM {warehouse.name(t.name)}"
        for t in (RAW_CONVERSATIONS, RAW_EVENTS, KPI_DAILY)
    )
    return (
        f"SELECT p.provider_id, d.day FROM (SELECT DISTINCT provider_id FROM ({providers}) AS x) AS p\n"
        f"CROSS JOIN {RESTATED} AS d"
    )


def _recompute(
    warehouse: Warehouse,
    families: list[Family],
    staged: set[str],
    days: Sequence[date],
    erasing: bool,
    catalog: tuple[Kpi, ...],
) -> tuple[list[str], list[str], tuple[str, ...]]:
    """Scopes, facts, affected days, KPI rows and rolled-up tables of ``families``: (statements, the
    summary's columns, script declarations)."""
    dialect = warehouse.dialect
    names = table_names(warehouse)
    statements: list[str] = []
    if days:
        listed = " UNION ALL ".join(f"SELECT DATE '{d.isoformat()}' AS day" for d in days)
        statements.append(warehouse.temp_table(RESTATED, listed))
    stored = [f for f in families if f.stored]
    for scope in scopes(stored):
        select = (
            _root_scope_sql(warehouse, scope, staged, bool(days))
            if scope.root
            else scope_query(scope, dialect, names)
        )
        statements.append(warehouse.temp_table(scope.table, select))
        if scope.name == "conversations":
            # Events still waiting for their conversation, for the touched conversations
            # (shared.aggregate.orphans).
            statements += orphan_statements(
                warehouse, f"SELECT DISTINCT {', '.join(scope.key)} FROM {scope.table}"
            )
    for family in stored:
        assert family.scope is not None
        keys = ", ".join(family.scope.key)
        statements.append(warehouse.temp_table(before_table(family), in_scope_query(family, dialect, names)))
        statements += warehouse.replace(
            ReplaceScope(
                family.fact,
                warehouse.name(family.fact.name),
                fact_query(family, dialect, names),
                f"SELECT DISTINCT {keys} FROM {family.scope.table}",
                family.scope.key,
            )
        )
        statements.append(warehouse.temp_table(family.changed_table, changed_query(family, dialect, names)))
    sources = [
        f"SELECT provider_id, day FROM ({days_query(f, dialect, names)}) AS {f.name}_days" for f in stored
    ]
    sources += [
        f"SELECT provider_id, day FROM ({extra}) AS {f.name}_extra_days"
        for f in stored
        if (extra := extra_days_query(f, dialect, names)) is not None
    ]
    if days:
        sources.append(f"SELECT provider_id, day FROM ({_restated_sql(warehouse, days)}) AS restated")
    if erasing:
        sources.append(erasure_days_sql(warehouse, _utc_day(warehouse, "requested_at")))
    union = "\n  UNION ALL ".join(sources)
    statements.append(
        warehouse.temp_table(AFFECTED, f"SELECT DISTINCT provider_id, day FROM (\n  {union}\n) AS u")
    )
    members = {f.name for f in families}
    kpis = tuple(k for k in catalog if k.family in members)
    if kpis:
        statements.append(warehouse.temp_table(KPI_NEW, kpi_query(dialect, names, COMPUTED_AT, kpis)))
    prune = None
    declarations: tuple[str, ...] = ()
    if dialect == "bigquery":
        declarations = (f"DECLARE {PRUNE_DAYS} ARRAY<DATE> DEFAULT []",)
        statements.append(f"SET {PRUNE_DAYS} = ARRAY(SELECT DISTINCT day FROM {AFFECTED})")
        prune = PRUNE_DAYS
    affected = f"SELECT DISTINCT provider_id, day FROM {AFFECTED}"
    if kpis:  # (families without kpi_daily rows, such as relationships alone, leave it as it is)
        statements += warehouse.replace(
            ReplaceScope(
                KPI_DAILY,
                warehouse.name(KPI_DAILY.name),
                f"SELECT * FROM {KPI_NEW}",
                affected,
                DAY_KEY,
                prune,
            )
        )
    for family in families:
        for output in family.outputs:
            statements += warehouse.replace(
                ReplaceScope(
                    output.table,
                    warehouse.name(output.table.name),
                    output_query(output, dialect, names),
                    affected,
                    DAY_KEY,
                    prune,
                )
            )
    touched = " + ".join(f"(SELECT COUNT(*) FROM {s.table})" for s in scopes(stored) if s.root) or "0"
    summary = [
        f"{touched} AS conversations_touched",
        f"(SELECT COUNT(*) FROM {AFFECTED}) AS provider_days",
        f"(SELECT COUNT(*) FROM {KPI_NEW}) AS kpi_rows" if kpis else "0 AS kpi_rows",
        f"(SELECT STRING_AGG(d, ',' ORDER BY d) FROM "
        f"(SELECT DISTINCT CAST(day AS STRING) AS d FROM {AFFECTED}) AS x) AS days",
    ]
    return statements, summary, declarations


def _clock(warehouse: Warehouse, computed_at: datetime) -> str:
    day = computed_at.astimezone(UTC).date().isoformat()
    return warehouse.temp_table(
        CLOCK, f"SELECT DATE '{day}' AS snapshot_day, {_timestamp(warehouse, computed_at)} AS now_ts"
    )


def _snapshot_statements(warehouse: Warehouse, families: list[Family], recomputed: bool) -> list[str]:
    """Each snapshot's scope, then today's rows of its keys. Facts not recomputed this run changed
    nothing: their changed-rows tables are empty (the scopes still age the records)."""
    dialect = warehouse.dialect
    names = table_names(warehouse)
    statements: list[str] = []
    created: set[str] = set()
    for family in families:
        if not recomputed and family.stored:
            statements.append(
                warehouse.temp_table(
                    family.changed_table, f"SELECT * FROM {warehouse.name(family.fact.name)} WHERE FALSE"
                )
            )
            for scope in scopes([family]):
                if scope.root:  # nothing staged: empty
                    statements.append(
                        warehouse.temp_table(scope.table, _root_scope_sql(warehouse, scope, set(), False))
                    )
        for snapshot in family.snapshots:
            scope = snapshot.scope
            if scope.table not in created:
                statements.append(warehouse.temp_table(scope.table, scope_query(scope, dialect, names)))
                created.add(scope.table)
            keys = ", ".join(f"s.{k}" for k in scope.key)
            statements += warehouse.replace(
                ReplaceScope(
                    snapshot.table,
                    warehouse.name(snapshot.table.name),
                    snapshot_query(snapshot, dialect, names),
                    f"SELECT DISTINCT k.snapshot_day, {keys} FROM {scope.table} AS s CROSS JOIN {CLOCK} AS k",
                    ("snapshot_day", *scope.key),
                    SNAPSHOT_PRUNE if dialect == "bigquery" else None,
                )
            )
    return statements


def build_transaction(
    warehouse: Warehouse,
    staged: set[str],
    days: Sequence[date],
    computed_at: datetime,
    retention_cutoff: date | None = None,
    families: Iterable[Family] | None = None,
    catalog: tuple[Kpi, ...] = CATALOG,
) -> Transaction:
    """The statements for what was staged (raw table names with rows) and the restated ``days``;
    staged erasures are applied, and rows of days before ``retention_cutoff`` dropped (DuckDB).
    ``families`` (default: every declared family) are the KPI families recomputed, with their KPIs
    from ``catalog``."""
    chosen = ordered(None if families is None else {f.name: f for f in families})
    statements = _raw_statements(warehouse, staged)
    erasing = CUSTOMER_ERASURES.name in staged
    if erasing:
        statements += erasure_statements(warehouse)
    roots = {name for s in scopes([f for f in chosen if f.stored]) if s.root for name in s.staged}
    recompute = bool(days) or erasing or bool(staged & roots)
    summary = ["0 AS conversations_touched", "0 AS provider_days", "0 AS kpi_rows", "'' AS days"]
    declarations: tuple[str, ...] = ()
    snapshotting = [f for f in chosen if f.snapshots]
    if recompute or snapshotting:
        statements.append(_clock(warehouse, computed_at))
        if warehouse.dialect == "bigquery" and snapshotting:
            declarations += (f"DECLARE {SNAPSHOT_PRUNE} ARRAY<DATE> DEFAULT []",)
            statements.append(f"SET {SNAPSHOT_PRUNE} = ARRAY(SELECT snapshot_day FROM {CLOCK})")
    if recompute:
        more, summary, kpi_declarations = _recompute(warehouse, chosen, staged, days, erasing, catalog)
        statements += more
        declarations += kpi_declarations
    if snapshotting:
        statements += _snapshot_statements(warehouse, snapshotting, recompute)
    if retention_cutoff is not None:
        statements += retention_statements(warehouse, retention_cutoff)
    return Transaction(tuple(statements), "SELECT " + ", ".join(summary), declarations)
