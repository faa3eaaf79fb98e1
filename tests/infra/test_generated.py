"""infra/generated/*.json must be exactly what the code's declarations give now (drift = failure)."""

from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace

import pytest

from shared.store import firestore_indexes
from shared.warehouse import tables as warehouse_tables
from tests.infra.terraform import ROOT
from shared.kpi.bi import bi_views
from tools import infra_gen

GENERATED = ROOT / "infra" / "generated"


def committed(name: str) -> dict:
    return json.loads((GENERATED / name).read_text(encoding="utf-8"))


def test_generated_files_match_the_declarations():
    problems = infra_gen.drift()
    assert not problems, (
        "infra/generated/ is out of date with shared/warehouse/tables.py or shared/store/firestore_indexes.py."
        " Run `make infra-gen` and commit infra/generated/ with your change. On a deployed warehouse, adding"
        " a NULLABLE column after the last one is applied in place; removing, renaming or retyping a"
        " column, or changing a table's partitioning, makes Terraform replace the table (blocked while"
        " protect_data = true): plan that migration. The difference:\n" + "\n".join(problems)
    )


def test_check_mode_fails_on_drift_and_names_the_fix(tmp_path):
    def check(out):
        return subprocess.run(
            [sys.executable, "-m", "tools.infra_gen", "--check", "--out", str(out)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )

    for path in GENERATED.glob("*.json"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    assert check(tmp_path).returncode == 0
    stale = json.loads((tmp_path / "bigquery_tables.json").read_text(encoding="utf-8"))
    stale["tables"].pop("kpi_daily")
    (tmp_path / "bigquery_tables.json").write_text(json.dumps(stale), encoding="utf-8")
    result = check(tmp_path)
    assert result.returncode == 1
    assert "run `make infra-gen`" in result.stderr and "kpi_daily" in result.stdout


def test_every_declared_table_is_generated_with_its_partitioning_and_clustering():
    tables = [v for v in vars(warehouse_tables).values() if isinstance(v, warehouse_tables.Table)]
    assert tables, "shared/warehouse/tables.py declares no Table"
    generated = committed("bigquery_tables.json")["tables"]
    assert set(generated) == {t.name for t in tables}
    for table in tables:
        spec = generated[table.name]
        assert [c["name"] for c in spec["schema"]] == [c.name for c in table.columns], table.name
        assert [c["mode"] == "REQUIRED" for c in spec["schema"]] == [c.required for c in table.columns]
        assert [c["type"] for c in spec["schema"]] == [
            infra_gen.BIGQUERY_TYPES[c.type] for c in table.columns
        ], table.name
        if table.partition_by is None:
            assert spec["time_partitioning"] is None, table.name
        else:
            expected = {"type": table.partition_granularity, "field": table.partition_by}
            if table.partition_expiration_days is not None:
                expected["expiration_days"] = table.partition_expiration_days
            assert spec["time_partitioning"] == expected, table.name
        assert spec["clustering"] == list(table.cluster_by), table.name
        if spec["require_partition_filter"]:
            assert table.partition_by is not None


def test_kpi_daily_contract():
    kpi_daily = committed("bigquery_tables.json")["tables"]["kpi_daily"]
    assert kpi_daily["time_partitioning"]["field"] == "day"
    assert kpi_daily["clustering"] == ["provider_id", "kpi"]
    view = committed("bigquery_tables.json")["views"]["kpi_provider_daily"]
    assert "`__PROJECT__`.`__DATASET__`.`kpi_daily`" in view["query"], "a view names its tables fully"
    name, _, sql = warehouse_tables.KPI_PROVIDER_DAILY_VIEW
    assert name == "kpi_provider_daily" and "kpi_daily" in sql


def test_view_qualification_rejects_unknown_tables():
    with pytest.raises(infra_gen.GenerationError, match="not a declared table"):
        infra_gen.qualify_view_sql("v", "SELECT * FROM nowhere", ["kpi_daily"])
    qualified = infra_gen.qualify_view_sql(
        "v", "WITH t AS (SELECT day FROM kpi_daily) SELECT day FROM t", ["kpi_daily"]
    )
    assert "`__PROJECT__`.`__DATASET__`.`kpi_daily`" in qualified
    assert "`__PROJECT__`.`__DATASET__`.`t`" not in qualified, "a CTE is not a table"


def test_invalid_declarations_are_refused():
    table_type, column = warehouse_tables.Table, warehouse_tables.Column
    bad_partition = table_type(
        "t", "d", (column("a", "STRING", "a"),), key=("a",), partition_by="a", cluster_by=()
    )
    with pytest.raises(infra_gen.GenerationError, match="DATE or TIMESTAMP"):
        infra_gen._table_json(bad_partition)
    bad_cluster = table_type("t", "d", (column("j", "JSON", "j"),), key=("j",), cluster_by=("j",))
    with pytest.raises(infra_gen.GenerationError, match="cannot cluster"):
        infra_gen._table_json(bad_cluster)


def test_firestore_indexes_cover_the_sharded_scans_and_the_ttl():
    document = committed("firestore_indexes.json")
    indexes = list(document["indexes"].values())
    for collection, timestamp in firestore_indexes.SCAN_FIELDS.items():
        wanted = [
            {"field_path": "shard", "order": "ASCENDING"},
            {"field_path": timestamp, "order": "ASCENDING"},
            {"field_path": "__name__", "order": "ASCENDING"},
        ]
        assert any(i["collection"] == collection and i["fields"] == wanted for i in indexes), (
            f"no index serves the sharded scan of {collection} by {timestamp}"
        )
    overrides = document["field_overrides"]
    ttl = {key: spec for key, spec in overrides.items() if spec["ttl"]}
    assert ttl == {
        f"{collection}/{firestore_indexes.TTL_FIELD}": {
            "collection": collection,
            "field": firestore_indexes.TTL_FIELD,
            "indexed": False,
            "ttl": True,
        }
        for collection in ("events", "failed_events")
    }
    scanned = set(firestore_indexes.SCAN_FIELDS.values())
    for spec in overrides.values():
        if spec["field"] in scanned and spec["collection"] in firestore_indexes.SCAN_FIELDS:
            assert not spec["indexed"], f"{spec}: a growing scan timestamp must not be indexed alone"


def _indexes_module(composites=(), overrides=()) -> SimpleNamespace:
    return SimpleNamespace(COMPOSITE_INDEXES=tuple(composites), FIELD_OVERRIDES=tuple(overrides))


def _index(collection: str, *fields: tuple[str, str]) -> SimpleNamespace:
    return SimpleNamespace(collection=collection, fields=fields)


def _override(collection: str, field: str, indexed: bool, ttl: bool = False) -> SimpleNamespace:
    return SimpleNamespace(collection=collection, field_path=field, indexed=indexed, ttl=ttl)


def test_firestore_document_renders_indexes_and_overrides():
    module = _indexes_module(
        [_index("events", ("shard", "ASCENDING"), ("at", "DESCENDING"), ("__name__", "DESCENDING"))],
        [_override("events", "at", indexed=False), _override("events", "expire_at", True, ttl=True)],
    )
    document = infra_gen.firestore_document(module)
    assert document["indexes"] == {
        "events/shard:asc,at:des,__name__:des": {
            "collection": "events",
            "query_scope": "COLLECTION",
            "fields": [
                {"field_path": "shard", "order": "ASCENDING"},
                {"field_path": "at", "order": "DESCENDING"},
                {"field_path": "__name__", "order": "DESCENDING"},
            ],
        }
    }
    assert document["field_overrides"] == {
        "events/at": {"collection": "events", "field": "at", "indexed": False, "ttl": False},
        "events/expire_at": {"collection": "events", "field": "expire_at", "indexed": True, "ttl": True},
    }


@pytest.mark.parametrize(
    ("module", "message"),
    [
        (_indexes_module([_index("e", ("a", "ASCENDING"), ("b", "UP"))]), "use ASCENDING or DESCENDING"),
        (_indexes_module([_index("e", ("__name__", "ASCENDING"), ("a", "ASCENDING"))]), "last field"),
        (_indexes_module([_index("e", ("a", "ASCENDING"), ("__name__", "ASCENDING"))]), "two fields"),
        (_indexes_module([_index("e", ("a", "ASCENDING"), ("a", "DESCENDING"))]), "appears twice"),
        (
            _indexes_module([_index("e", ("a", "ASCENDING"), ("b", "ASCENDING"))] * 2),
            "declared twice",
        ),
        (_indexes_module(overrides=[_override("e", "a", False)] * 2), "declared twice"),
        (
            _indexes_module(overrides=[_override("e", "a", False, True), _override("e", "b", False, True)]),
            "one TTL field per collection",
        ),
        (_indexes_module(overrides=[_override("e", "a", "no")]), "booleans"),
        (SimpleNamespace(COMPOSITE_INDEXES=()), "no FIELD_OVERRIDES"),
    ],
)
def test_invalid_firestore_declarations_are_refused(module, message):
    with pytest.raises(infra_gen.GenerationError, match=message):
        infra_gen.firestore_document(module)


def test_terraform_views_are_the_sql_the_bigquery_adapter_creates():
    """After Terraform fills in the project and dataset, a view's query is exactly the body of the
    adapter's own CREATE VIEW: one definition, whichever creates the view first."""
    from shared.warehouse.bigquery import BigQueryWarehouse

    adapter = BigQueryWarehouse("my-project-1", "analytics_ds")
    statements = adapter.schema_statements(bi_views())
    views = committed("bigquery_tables.json")["views"]
    assert views, "tables.py declares no view"
    for name, spec in views.items():
        query = spec["query"].replace(spec["project_token"], "my-project-1")
        query = query.replace(spec["dataset_token"], "analytics_ds")
        created = [s for s in statements if s.startswith(f"CREATE VIEW IF NOT EXISTS {adapter.name(name)}")]
        assert len(created) == 1, f"the adapter creates no view {name}"
        assert created[0].endswith(f"\nAS {query}"), (created[0], query)
