"""The BigQuery adapter without BigQuery: every statement it would send parses as BigQuery SQL and
matches the committed snapshots (``UPDATE_SNAPSHOTS=1`` rewrites them); the table options and the
load-job configuration are right; and a real client, pointed at a local stand-in, sends them."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery
from sqlglot import exp

from shared.aggregate.rows import event_rows
from shared.aggregate.staging import RAW_TABLES, staging_table
from shared.aggregate.transaction import (
    COMPUTED_AT,
    build_transaction,
    table_names,
)
from shared.kpi.families import FAMILIES, ordered, scopes
from shared.kpi.sql import (
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
from shared.store.records import Event
from shared.warehouse import open_warehouse
from shared.warehouse.arrow import to_arrow
from shared.warehouse.bigquery import BigQueryWarehouse, load_job_config
from shared.warehouse.ddl import BigQueryTableOptions, declared_tables
from shared.warehouse.tables import RAW_EVENTS
from tests.warehouse.fake_bigquery import FakeBigQuery, serve

SNAPSHOTS = Path(__file__).parent / "snapshots"
AT = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
DAYS = [date(2026, 11, 20), date(2026, 11, 21)]


def warehouse(client: bigquery.Client | None = None) -> BigQueryWarehouse:
    return BigQueryWarehouse(
        "demo-project",
        "analytics",
        location="EU",
        options=BigQueryTableOptions(partition_expiration_days=400),
        client=client,
    )


def parsed(script: str) -> list[exp.Expression]:
    """Every statement, fully parsed: sqlglot falls back to an opaque Command for what it cannot read."""
    statements = [s for s in sqlglot.parse(script, read="bigquery") if s is not None]
    opaque = [s.sql() for s in statements if isinstance(s, exp.Command)]
    assert not opaque, opaque
    return statements


def matches_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot {name}; run with UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} changed; review, then UPDATE_SNAPSHOTS=1"


def without_kpi_sql(script: str, wh: BigQueryWarehouse) -> str:
    """The script with the KPI catalog's own SQL (snapshotted by its owners) folded to markers."""
    names = table_names(wh)
    generated = [("kpi_query", kpi_query("bigquery", names, COMPUTED_AT))]
    stored = [f for f in ordered() if f.stored]
    for family in stored:
        generated += [
            (f"fact_query {family.name}", fact_query(family, "bigquery", names)),
            (f"in_scope_query {family.name}", in_scope_query(family, "bigquery", names)),
            (f"changed_query {family.name}", changed_query(family, "bigquery", names)),
            (f"days_query {family.name}", days_query(family, "bigquery", names)),
        ]
        extra = extra_days_query(family, "bigquery", names)
        if extra is not None:
            generated.append((f"extra_days_query {family.name}", extra))
        generated += [
            (f"output_query {o.table.name}", output_query(o, "bigquery", names)) for o in family.outputs
        ]
    generated += [
        (f"scope_query {s.name}", scope_query(s, "bigquery", names)) for s in scopes(stored) if not s.root
    ]
    for family in stored:
        for snapshot in family.snapshots:
            generated.append(
                (f"snapshot_query {snapshot.table.name}", snapshot_query(snapshot, "bigquery", names))
            )
            scope = (f"scope_query {snapshot.scope.name}", scope_query(snapshot.scope, "bigquery", names))
            if scope not in generated:
                generated.append(scope)
    for marker, sql in generated:
        assert sql in script, marker
        script = script.replace(sql, f"/* {marker} */")
    return script


def test_schema_statements_parse_and_match_the_snapshot():
    statements = warehouse().schema_statements()
    script = ";\n\n".join(statements) + ";\n"
    trees = parsed(script)
    assert len(trees) == len(statements) == 1 + len(declared_tables()) + 1
    matches_snapshot("bigquery_schema.sql", script)


def test_tables_are_partitioned_clustered_and_expire():
    statements = {s.split("`")[1].split(".")[-1]: s for s in warehouse().schema_statements()[1:]}
    kpi = statements["kpi_daily"]
    assert "PARTITION BY day\nCLUSTER BY provider_id, kpi" in kpi
    assert "partition_expiration_days=400" in kpi and "require_partition_filter=FALSE" in kpi
    assert "PARTITION BY DATE(event_ts)\nCLUSTER BY provider_id, conversation_id" in statements["raw_events"]
    for table in declared_tables():
        ddl = statements[table.name]
        assert ("PARTITION BY" in ddl) is (table.partition_by is not None), table.name
        assert ("partition_expiration_days" in ddl) is (table.partition_by is not None), table.name
        if table.cluster_by:
            assert f"CLUSTER BY {', '.join(table.cluster_by)}" in ddl
    assert (
        "CREATE VIEW IF NOT EXISTS `demo-project.analytics.kpi_provider_daily`"
        in statements["kpi_provider_daily"]
    )
    assert "FROM `demo-project`.`analytics`.`kpi_daily`" in statements["kpi_provider_daily"]
    # A table's own expiration is kept when shorter than the warehouse's (the event sink's landing).
    assert "PARTITION BY TIMESTAMP_TRUNC(ingested_at, HOUR)" in statements["event_landing"]
    assert "partition_expiration_days=7" in statements["event_landing"]
    never = BigQueryWarehouse("p", "d").schema_statements()
    assert [s.split("`")[1] for s in never if "partition_expiration_days" in s] == ["p.d.event_landing"]


def test_the_transaction_script_parses_and_matches_the_snapshot():
    wh = warehouse()
    transaction = build_transaction(wh, {t.name for t in RAW_TABLES}, DAYS, AT)
    script = wh.script(transaction)
    trees = parsed(script)
    kinds = [type(t).__name__ for t in trees]
    declared = kinds.index("Transaction")
    assert set(kinds[:declared]) == {"Declare"} and kinds[-2:] == ["Commit", "Select"]
    merges = [t for t in trees if isinstance(t, exp.Merge)]
    # One DML statement per permanent table and run: the raw tables, every stored family's facts,
    # orphan_events, kpi_daily and every family's rolled-up tables.
    targets = [m.this.name for m in merges]
    facts = [f.fact.name for f in FAMILIES.values() if f.stored]
    outputs = [o.table.name for f in FAMILIES.values() for o in f.outputs]
    snapshots = [s.table.name for f in FAMILIES.values() for s in f.snapshots]
    assert sorted(targets) == sorted(
        [t.name for t in RAW_TABLES] + facts + ["orphan_events", "kpi_daily", *outputs, *snapshots]
    )
    assert not any(isinstance(t, exp.Delete | exp.Insert | exp.Update) for t in trees)
    kpi_merge = merges[targets.index("kpi_daily")]
    assert "IN UNNEST(affected_day_list)" in kpi_merge.sql("bigquery")
    matches_snapshot("bigquery_transaction.sql", without_kpi_sql(script, wh))


def test_a_run_with_only_failed_events_touches_no_fact_or_kpi_table():
    """Only the failed events, and the snapshots that age with time (records due today)."""
    wh = warehouse()
    transaction = build_transaction(wh, {"raw_failed_events"}, [], AT)
    trees = parsed(wh.script(transaction))
    aging = [s.table.name for f in FAMILIES.values() for s in f.snapshots]
    assert [m.this.name for m in trees if isinstance(m, exp.Merge)] == ["raw_failed_events", *aging]


def test_load_job_config_replaces_staging_from_parquet():
    config = load_job_config(staging_table(RAW_EVENTS))
    assert config.source_format == bigquery.SourceFormat.PARQUET
    assert config.write_disposition == bigquery.WriteDisposition.WRITE_TRUNCATE
    assert config.create_disposition == bigquery.CreateDisposition.CREATE_IF_NEEDED
    schema = {f.name: (f.field_type, f.mode) for f in config.schema}
    assert schema["custom_data"] == ("STRING", "NULLABLE")  # JSON travels as text, PARSE_JSON in SQL
    assert schema["event_ts"] == ("TIMESTAMP", "NULLABLE")
    assert schema["_version"] == ("TIMESTAMP", "NULLABLE")
    assert list(schema) == [c.name for c in staging_table(RAW_EVENTS).columns]


def test_the_url_selects_and_configures_bigquery():
    wh = open_warehouse("bigquery://demo-project/analytics?location=EU&partition_expiration_days=30")
    assert isinstance(wh, BigQueryWarehouse)
    assert (wh.project, wh.dataset, wh.location, wh.options.partition_expiration_days) == (
        "demo-project",
        "analytics",
        "EU",
        30,
    )
    # 0 keeps partitions forever; without the option the retention setting applies (730 days).
    assert (
        open_warehouse("bigquery://p/d?partition_expiration_days=0").options.partition_expiration_days is None
    )
    assert open_warehouse("bigquery://p/d").options.partition_expiration_days == 730
    for bad in (
        "bigquery://demo-project",
        "bigquery://p/d?partition_expiration_days=-1",
        "bigquery://p/d?x=1",
    ):
        with pytest.raises(ValueError):
            open_warehouse(bad)


def _events(n: int) -> list[Event]:
    return [
        Event(
            "acme",
            f"e-{i}",
            "c-1",
            "s-1",
            None,
            "SurveyAnswered",
            None,
            AT,
            None,
            None,
            {"csat": 5},
            "iglu:x",
            AT,
        )
        for i in range(n)
    ]


def test_the_client_library_sends_one_load_job_and_one_script():
    fake = FakeBigQuery(
        summary={"conversations_touched": 2, "provider_days": 1, "kpi_rows": 7, "days": "2026-11-23"}
    )
    server, url = serve(fake)
    try:
        client = bigquery.Client(
            project="demo-project", credentials=AnonymousCredentials(), client_options={"api_endpoint": url}
        )
        wh = warehouse(client)
        table = staging_table(RAW_EVENTS)
        for page in (_events(3), _events(2)):  # two pages, one load job
            wh.load_staging(table, to_arrow(table, event_rows(page)))
        loaded = wh.flush_staging()
        assert loaded.rows == {"raw_events": 5}
        uploads = [r for r in fake.requests if r.method == "POST" and "/upload/" in r.path]
        assert len(uploads) == 1
        (_, job), (_, data) = uploads[0].parts()
        load = json.loads(job)["configuration"]["load"]
        assert load["writeDisposition"] == "WRITE_TRUNCATE" and load["sourceFormat"] == "PARQUET"
        assert load["destinationTable"] == {
            "projectId": "demo-project",
            "datasetId": "analytics",
            "tableId": "_staging_raw_events",
        }
        assert [f["name"] for f in load["schema"]["fields"]][-1] == "_version"
        parquet = pq.read_table(pa.BufferReader(data))
        assert parquet.num_rows == 5 and parquet.column("event_id").to_pylist()[:3] == ["e-0", "e-1", "e-2"]

        fake.requests.clear()
        summary = wh.apply(build_transaction(wh, {"raw_events"}, [], AT))
        assert summary == {k: str(v) for k, v in fake.summary.items()}
        inserts = [r for r in fake.requests if r.method == "POST"]
        assert len(inserts) == 1
        query = json.loads(inserts[0].body)["configuration"]["query"]
        assert query["useLegacySql"] is False
        assert query["query"].startswith("DECLARE ")
        assert "DECLARE affected_day_list ARRAY<DATE> DEFAULT []" in query["query"]
        assert "BEGIN TRANSACTION;" in query["query"] and "COMMIT TRANSACTION;" in query["query"]
        parsed(query["query"])
        wh.close()
    finally:
        server.shutdown()


@pytest.mark.parametrize("exists", [True, False], ids=["deployed-dataset", "missing-dataset"])
def test_ensure_schema_creates_the_dataset_only_when_it_is_missing(exists):
    """A deployed function may not create datasets (Terraform did): it must not even ask."""
    dataset = (
        f"analytics_{'deployed' if exists else 'missing'}"  # the adapter ensures a dataset once per process
    )
    fake = FakeBigQuery(datasets={dataset} if exists else set())
    server, url = serve(fake)
    try:
        client = bigquery.Client(
            project="demo-project", credentials=AnonymousCredentials(), client_options={"api_endpoint": url}
        )
        wh = BigQueryWarehouse("demo-project", dataset, location="EU", client=client)
        wh.ensure_schema()
        queries = [
            json.loads(r.body)["configuration"]["query"]["query"] for r in fake.requests if r.method == "POST"
        ]
        assert len(queries) == 1
        assert ("CREATE SCHEMA" in queries[0]) is not exists
        assert queries[0].count("CREATE TABLE IF NOT EXISTS") == len(declared_tables())
        parsed(queries[0])
        wh.close()
    finally:
        server.shutdown()
