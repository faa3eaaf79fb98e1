"""Terraform inputs generated from the declarations the code uses: ``make infra-gen``.

- ``infra/generated/bigquery_tables.json`` from ``shared/warehouse/tables.py``: every ``Table`` declared
  there (schema, day partitioning, clustering, ``require_partition_filter``), every view with the BI
  views generated from the KPI catalog (``shared/kpi/bi.py``), and the BI reporting views: one per
  table or view that ``shared/warehouse/reporting.py`` exposes;
- ``infra/generated/firestore_indexes.json`` from ``shared/store/firestore_indexes.py``: composite
  indexes and single-field index exemptions.

Terraform reads both with ``jsondecode(file(...))``, so the warehouse and the store are created from the
same data the adapters use. ``python -m tools.infra_gen --check`` (and ``tests/infra``) fail when a
committed file differs from what the declarations give now.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.qualify import qualify

from shared.warehouse import ddl, reporting
from shared.warehouse.tables import Table

ROOT = Path(__file__).resolve().parents[1]
GENERATED = ROOT / "infra" / "generated"
FIX_COMMAND = "make infra-gen"

TABLES_MODULE = "shared.warehouse.tables"
INDEXES_MODULE = "shared.store.firestore_indexes"

# Placeholders the view SQL carries for Terraform to replace: a BigQuery view must name its tables
# fully (project.dataset.table); the code's declaration names them bare.
PROJECT_TOKEN = "__PROJECT__"
DATASET_TOKEN = "__DATASET__"

# Declared column types -> the names the BigQuery API answers with. Using the API's own names keeps
# `terraform plan` free of INT64-vs-INTEGER diffs after every refresh.
BIGQUERY_TYPES = {
    "STRING": "STRING",
    "INT64": "INTEGER",
    "FLOAT64": "FLOAT",
    "BOOL": "BOOLEAN",
    "TIMESTAMP": "TIMESTAMP",
    "DATE": "DATE",
    "JSON": "JSON",
}
PARTITION_TYPES = {"DATE", "TIMESTAMP"}
CLUSTER_TYPES = {"STRING", "INT64", "BOOL", "DATE", "TIMESTAMP"}
MAX_CLUSTER_COLUMNS = 4

# Tables every query must filter by partition. Only where nothing of ours scans them without one:
# the pipeline writes raw and fact tables with MERGEs keyed by ids (no partition predicate), and BI
# tools and the kpi_provider_daily view read kpi_daily without a date range, so none qualifies
# today. A table declares it with `require_partition_filter = True` on its `Table`; the generator
# only carries it over (and checks the table is partitioned).
DEFAULT_REQUIRE_PARTITION_FILTER = False


class GenerationError(Exception):
    """The declarations cannot be turned into valid infrastructure; the message says why."""


def _module(name: str):
    return importlib.import_module(name)


# ---------------------------------------------------------------------------------------- BigQuery


def declared_tables(module: ModuleType | None = None) -> list[Table]:
    """Every ``Table`` of the tables module, found exactly as the warehouse adapters find them."""
    return ddl.declared_tables(module or _module(TABLES_MODULE))


def declared_views(module: ModuleType | None = None) -> list[tuple[str, str, str]]:
    """(name, description, sql) of every view: those of the tables module, found exactly as the
    warehouse adapters find them, then (for the real module) the BI views generated from the KPI
    catalog, which the aggregation hands to the adapters the same way."""
    views = list(ddl.declared_views(module or _module(TABLES_MODULE)))
    if module is None:
        from shared.kpi.bi import bi_views

        views += bi_views()
    return [(v.name, v.description, v.sql) for v in views]


def _table_json(table: Table) -> dict[str, Any]:
    columns = {c.name: c for c in table.columns}
    if len(columns) != len(table.columns):
        raise GenerationError(f"{table.name}: a column is declared twice")
    for column in table.columns:
        if column.type not in BIGQUERY_TYPES:
            raise GenerationError(f"{table.name}.{column.name}: type {column.type!r} has no BigQuery mapping")
    partitioning = None
    if table.partition_by is not None:
        column = columns.get(table.partition_by)
        if column is None:
            raise GenerationError(f"{table.name}: partition column {table.partition_by!r} is not declared")
        if column.type not in PARTITION_TYPES:
            raise GenerationError(
                f"{table.name}: partition column {column.name!r} is {column.type}; use DATE or TIMESTAMP"
            )
        if table.partition_granularity == "HOUR" and column.type != "TIMESTAMP":
            raise GenerationError(f"{table.name}: only a TIMESTAMP column is partitioned by hour")
        partitioning = {"type": table.partition_granularity, "field": column.name}
        if table.partition_expiration_days is not None:  # shorter than the dataset's retention
            partitioning["expiration_days"] = table.partition_expiration_days
    cluster = list(table.cluster_by)
    if len(cluster) > MAX_CLUSTER_COLUMNS:
        raise GenerationError(f"{table.name}: BigQuery clusters by at most {MAX_CLUSTER_COLUMNS} columns")
    for name in cluster:
        if name not in columns:
            raise GenerationError(f"{table.name}: cluster column {name!r} is not declared")
        if columns[name].type not in CLUSTER_TYPES:
            raise GenerationError(f"{table.name}: cannot cluster by {name!r} ({columns[name].type})")
    require = bool(getattr(table, "require_partition_filter", DEFAULT_REQUIRE_PARTITION_FILTER))
    if require and partitioning is None:
        raise GenerationError(f"{table.name}: require_partition_filter needs a partitioned table")
    return {
        "description": table.description,
        "schema": [
            {
                "name": c.name,
                "type": BIGQUERY_TYPES[c.type],
                "mode": "REQUIRED" if c.required else "NULLABLE",
                "description": c.description,
            }
            for c in table.columns
        ],
        "time_partitioning": partitioning,
        "clustering": cluster,
        "require_partition_filter": require,
    }


def qualify_view_sql(name: str, sql: str, tables: Iterable[str]) -> str:
    """The view's SQL as the BigQuery adapter renders it (``ddl.qualify_tables``), with every table it
    reads named `__PROJECT__`.`__DATASET__`.`table` for Terraform to fill in. Reading an undeclared
    table, or naming a table with its dataset, is an error."""
    known = set(tables)
    try:
        tree = sqlglot.parse_one(sql, read="bigquery")
    except sqlglot.errors.ParseError as exc:
        raise GenerationError(f"view {name}: cannot parse its SQL: {exc}") from exc
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if table.args.get("db") or table.args.get("catalog"):
            raise GenerationError(f"view {name}: name tables bare (found {table.sql('bigquery')})")
        if table.name not in known and table.name not in ctes:
            raise GenerationError(f"view {name}: reads {table.name!r}, which is not a declared table")
    rename = {table: f"{PROJECT_TOKEN}.{DATASET_TOKEN}.{table}" for table in known}
    return ddl.qualify_tables(sql, "bigquery", rename)


def view_columns(name: str, sql: str, schema: dict[str, dict[str, str]]) -> list[str]:
    """The output columns of a view, ``*`` expanded from the declared columns in ``schema``."""
    try:
        tree = qualify(sqlglot.parse_one(sql, read="bigquery"), schema=schema, dialect="bigquery")
    except sqlglot.errors.SqlglotError as exc:
        raise GenerationError(f"view {name}: cannot resolve its columns: {exc}") from exc
    return list(tree.named_selects)


def reporting_views(tables: list[Table], views: list[tuple[str, str, str]]) -> dict[str, dict[str, str]]:
    """One BI view per exposed table or view (shared/warehouse/reporting.py): its columns named, so a
    changed declaration changes the view (and Terraform updates it), reading the warehouse relation
    by its full name. A relation exposed with a customer column is an error."""
    schema = {t.name: {c.name: c.type for c in t.columns} for t in tables}
    relations: list[tuple[str, str, list[str]]] = [
        (t.name, t.description, [c.name for c in t.columns]) for t in tables
    ]
    for name, description, sql in views:
        columns = view_columns(name, sql, schema)
        schema[name] = dict.fromkeys(columns, "STRING")  # a view may read an earlier view
        relations.append((name, description, columns))
    out: dict[str, dict[str, str]] = {}
    for name, description, columns in relations:
        if not reporting.is_exposed(name):
            continue
        leaked = reporting.customer_columns(columns)
        if leaked:
            raise GenerationError(
                f"{name} would reach BI users with customer column(s) {leaked}: name it raw_... or fact_..., "
                "or list it in shared/warehouse/reporting.py PRIVATE (docs/deploy.md, BI access)"
            )
        selected = ", ".join(f"`{c}`" for c in columns)
        out[name] = {
            "description": f"BI view of {name}: {description}",
            "query": f"SELECT {selected} FROM `{PROJECT_TOKEN}`.`{DATASET_TOKEN}`.`{name}`",
            "project_token": PROJECT_TOKEN,
            "dataset_token": DATASET_TOKEN,
        }
    return out


def bigquery_document(module=None) -> dict[str, Any]:
    views = declared_views(module)
    module = module or _module(TABLES_MODULE)
    tables = declared_tables(module)
    if not tables:
        raise GenerationError(f"{TABLES_MODULE} declares no Table")
    names = [t.name for t in tables]
    clash = set(names) & {v[0] for v in views}
    if clash:
        raise GenerationError(f"declared both as a table and a view: {sorted(clash)}")
    return {
        "_generated": f"by `{FIX_COMMAND}` from {TABLES_MODULE.replace('.', '/')}.py; do not edit",
        "tables": {t.name: _table_json(t) for t in tables},
        "views": {
            name: {
                "description": description,
                "query": qualify_view_sql(name, sql, names),
                "project_token": PROJECT_TOKEN,
                "dataset_token": DATASET_TOKEN,
            }
            for name, description, sql in views
        },
        # Read by infra/reporting.tf: the BI dataset's views (project and dataset tokens as above).
        "reporting": reporting_views(tables, views),
    }


# --------------------------------------------------------------------------------------- Firestore


ORDERS = {"ASCENDING", "DESCENDING"}
QUERY_SCOPES = {"COLLECTION", "COLLECTION_GROUP"}
DOCUMENT_ID = "__name__"


def _index_key(collection: str, scope: str, fields: list[tuple[str, str]]) -> str:
    """A readable key that changes exactly when the index does (Terraform ``for_each`` key)."""
    spec = ",".join(f"{path}:{order[:3].lower()}" for path, order in fields)
    group = "" if scope == "COLLECTION" else "group:"
    return f"{group}{collection}/{spec}"


def _composite_json(item: Any) -> tuple[str, dict[str, Any]]:
    collection = str(getattr(item, "collection", "") or "")
    scope = str(getattr(item, "query_scope", "COLLECTION"))
    fields = [(str(path), str(order)) for path, order in getattr(item, "fields", ())]
    where = f"composite index on {collection or '?'} {[path for path, _ in fields]}"
    if not collection or "/" in collection:
        raise GenerationError(f"{where}: the collection must be a collection id")
    if scope not in QUERY_SCOPES:
        raise GenerationError(f"{where}: query_scope {scope!r} is not one of {sorted(QUERY_SCOPES)}")
    paths = [path for path, _ in fields]
    if len(set(paths)) != len(paths):
        raise GenerationError(f"{where}: a field appears twice")
    for path, order in fields:
        if order not in ORDERS:
            raise GenerationError(f"{where}: {path} has order {order!r}; use ASCENDING or DESCENDING")
    if DOCUMENT_ID in paths[:-1]:
        raise GenerationError(f"{where}: {DOCUMENT_ID} can only be the last field")
    # Firestore refuses a composite index that a single-field index already serves.
    if len([p for p in paths if p != DOCUMENT_ID]) < 2:
        raise GenerationError(f"{where}: a composite index needs at least two fields besides {DOCUMENT_ID}")
    return _index_key(collection, scope, fields), {
        "collection": collection,
        "query_scope": scope,
        "fields": [{"field_path": path, "order": order} for path, order in fields],
    }


def _override_json(item: Any) -> tuple[str, dict[str, Any]]:
    collection = str(getattr(item, "collection", "") or "")
    field = str(getattr(item, "field_path", "") or "")
    indexed, ttl = getattr(item, "indexed", None), getattr(item, "ttl", False)
    where = f"field override {collection or '?'}.{field or '?'}"
    if not collection or "/" in collection or not field:
        raise GenerationError(f"{where}: needs a collection id and a field path")
    if not isinstance(indexed, bool) or not isinstance(ttl, bool):
        raise GenerationError(f"{where}: indexed and ttl must be booleans")
    if field == DOCUMENT_ID:
        raise GenerationError(f"{where}: the document id cannot be exempted or given a TTL")
    # indexed=False: an empty index_config (every single-field index removed). indexed=True: no
    # index_config at all, so the field keeps Firestore's automatic indexes.
    return f"{collection}/{field}", {"collection": collection, "field": field, "indexed": indexed, "ttl": ttl}


def firestore_document(module=None) -> dict[str, Any]:
    """Composite indexes and single-field overrides (exemptions, TTL) as Terraform reads them."""
    module = module or _module(INDEXES_MODULE)
    missing = [name for name in ("COMPOSITE_INDEXES", "FIELD_OVERRIDES") if not hasattr(module, name)]
    if missing:
        raise GenerationError(f"{INDEXES_MODULE} declares no {' and no '.join(missing)}")
    indexes: dict[str, dict[str, Any]] = {}
    for item in module.COMPOSITE_INDEXES:
        key, spec = _composite_json(item)
        if key in indexes:
            raise GenerationError(f"composite index {key} is declared twice")
        indexes[key] = spec
    overrides: dict[str, dict[str, Any]] = {}
    for item in module.FIELD_OVERRIDES:
        key, spec = _override_json(item)
        if key in overrides:
            raise GenerationError(f"field override {key} is declared twice")
        overrides[key] = spec
    ttl = [key for key, spec in overrides.items() if spec["ttl"]]
    ttl_collections = [overrides[key]["collection"] for key in ttl]
    if len(set(ttl_collections)) != len(ttl_collections):
        raise GenerationError(f"Firestore allows one TTL field per collection; declared: {ttl}")
    return {
        "_generated": f"by `{FIX_COMMAND}` from {INDEXES_MODULE.replace('.', '/')}.py; do not edit",
        "indexes": dict(sorted(indexes.items())),
        "field_overrides": dict(sorted(overrides.items())),
    }


# ------------------------------------------------------------------------------------------ output


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def outputs(generated: Path = GENERATED) -> dict[Path, str]:
    """Every generated file and the text it must hold, from the declarations as they are now."""
    return {
        generated / "bigquery_tables.json": render(bigquery_document()),
        generated / "firestore_indexes.json": render(firestore_document()),
    }


def _shown(path: Path) -> str:
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def drift(expected: dict[Path, str] | None = None) -> list[str]:
    """A unified diff for every generated file that differs from the declarations (empty = none)."""
    problems = []
    for path, text in (expected or outputs()).items():
        current = path.read_text(encoding="utf-8") if path.is_file() else ""
        if current != text:
            shown = _shown(path)
            diff = difflib.unified_diff(
                current.splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=f"{shown} (committed)",
                tofile=f"{shown} (from the declarations)",
            )
            problems.append("".join(diff) or f"{shown} is missing\n")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="fail if a generated file is out of date")
    parser.add_argument("--out", type=Path, default=GENERATED, help="folder of the generated files")
    args = parser.parse_args(argv)
    try:
        expected = outputs(args.out)
    except GenerationError as exc:
        print(f"infra-gen: {exc}", file=sys.stderr)
        return 1
    if args.check:
        problems = drift(expected)
        for problem in problems:
            sys.stdout.write(problem)
        if problems:
            print(f"infra-gen: generated files are out of date; run `{FIX_COMMAND}`", file=sys.stderr)
            return 1
        print("infra-gen: generated files are up to date")
        return 0
    for path, text in expected.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"infra-gen: wrote {_shown(path)}")
        else:
            print(f"infra-gen: {_shown(path)} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
