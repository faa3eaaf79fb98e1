"""The monitoring reads the aggregate function's run report: every field and value infra/monitoring.tf
selects on or extracts must be in the line the function really prints, for ok, busy and failed runs."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.config import reset_settings
from tests.aggregate.traffic import DAY_1
from tests.infra.terraform import first, load
from tests.support.functions import function_client

# `jsonPayload.field="value"` and `EXTRACT(jsonPayload.field)` in the Terraform.
PAYLOAD_EQUALS = re.compile(r'jsonPayload\.([A-Za-z_]+)="([^"]*)"')
EXTRACT = re.compile(r"^EXTRACT\(jsonPayload\.([A-Za-z_]+)\)$")


@pytest.fixture
def client(env, monkeypatch):
    monkeypatch.setenv("ANALYTICS_AGGREGATE_LAG_SECONDS", "0")
    return function_client("aggregate")


def run_lines(capsys) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def matches(filter_: str, entry: dict[str, Any]) -> bool:
    """Whether the jsonPayload conditions of a Cloud Logging filter hold for one printed entry."""
    conditions = PAYLOAD_EQUALS.findall(filter_)
    assert conditions, f"no jsonPayload condition in {filter_!r}"
    return all(str(entry.get(field)) == value for field, value in conditions)


def base_filter() -> str:
    return load().locals["aggregate_run_filter"]


@pytest.fixture
def lines(acme, client, admin, store, env, monkeypatch, capsys) -> dict[str, dict[str, Any]]:
    """One printed line of each kind: a completed run, a busy one and a failed one."""
    acme.handled_call("c-1", DAY_1)
    capsys.readouterr()
    assert client.post("/", headers=admin).status_code == 200
    (ok,) = run_lines(capsys)
    assert store.acquire_lease("aggregate", "another-run", datetime.now(UTC), 300)
    assert client.post("/", headers=admin).json["status"] == "busy"
    (busy,) = run_lines(capsys)
    store.release_lease("aggregate", "another-run")
    monkeypatch.setenv("ANALYTICS_WAREHOUSE", "postgres://nowhere/db")
    reset_settings()
    assert client.post("/", headers=admin).status_code == 503
    (failed,) = run_lines(capsys)
    return {"ok": ok, "busy": busy, "failed": failed}


def test_every_run_line_is_selected_by_the_run_filter(lines):
    for kind, entry in lines.items():
        assert matches(base_filter(), entry), (kind, entry)
    assert "${var.name_prefix}-aggregate" in base_filter(), "the function's service name (functions.tf)"
    assert lines["failed"]["severity"] == "ERROR" and lines["failed"]["code"] == "warehouse_unavailable"
    assert lines["ok"]["severity"] == "INFO"


def test_the_runs_metric_labels_are_fields_of_the_line(lines):
    runs = load().resource("google_logging_metric", "aggregate_runs")
    declared = {label["key"] for label in first(runs["metric_descriptor"])["labels"]}
    assert set(runs["label_extractors"]) == declared
    fields = {key: EXTRACT.match(expr)[1] for key, expr in runs["label_extractors"].items()}
    assert fields["status"] in lines["ok"] and fields["more"] in lines["ok"]
    assert fields["code"] in lines["failed"]
    assert {lines[k][fields["status"]] for k in lines} == {"ok", "busy", "failed"}


def test_each_distribution_reads_a_number_of_completed_runs_only(lines):
    config = load()
    metric = config.resource("google_logging_metric", "aggregate")
    assert metric["filter"].startswith("${local.aggregate_run_filter} AND ")
    only = metric["filter"].removeprefix("${local.aggregate_run_filter} AND ")
    assert (
        matches(only, lines["ok"]) and not matches(only, lines["busy"]) and not matches(only, lines["failed"])
    )
    assert metric["value_extractor"] == "EXTRACT(jsonPayload.${each.value.field})"
    for name, spec in config.locals["aggregate_distributions"].items():
        value = lines["ok"].get(spec["field"])
        assert isinstance(value, int | float) and not isinstance(value, bool), (name, value)
        assert value >= 0, name
    ok = lines["ok"]
    assert ok["recordsRead"] == sum(ok["read"].values()) > 0
    assert ok["watermarkLagSeconds"] < 60, "a run that read everything is at most the lag behind"


def test_the_alerts_select_values_the_function_prints(lines):
    """status="failed" and status="ok" in the alert filters are what the lines carry."""
    policies = load().resources["google_monitoring_alert_policy"]
    used = set()
    for policy in policies.values():
        for condition in policy["conditions"]:
            for kind in ("condition_threshold", "condition_absent"):
                for block in condition.get(kind, []):
                    used |= set(re.findall(r'metric\.label\.status="([a-z]+)"', block["filter"]))
    assert used == {"ok", "failed"}
    assert used <= {entry["status"] for entry in lines.values()}
