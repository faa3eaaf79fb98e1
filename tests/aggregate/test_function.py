"""The aggregate HTTP function: admin auth, the body, the busy lease, warehouse and store failures."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from shared.config import reset_settings
from tests.aggregate.conftest import kpi_total
from tests.aggregate.traffic import DAY_1, TODAY
from tests.support.functions import function_client


@pytest.fixture
def client(env, monkeypatch):
    monkeypatch.setenv("ANALYTICS_AGGREGATE_LAG_SECONDS", "0")
    return function_client("aggregate")


def test_a_scheduled_call_aggregates_what_was_ingested(acme, client, admin, env):
    acme.handled_call("c-1", DAY_1, csat=5)
    resp = client.post("/", headers=admin)
    assert resp.status_code == 200, resp.json
    assert resp.json["status"] == "ok"
    assert resp.json["read"] == {"conversations": 1, "events": 5, "failed_events": 0, "activities": 0}
    assert resp.json["days"] == [DAY_1.isoformat()] and resp.json["kpiRowsWritten"] > 0
    assert kpi_total(env["ANALYTICS_WAREHOUSE"], "csat_rate", DAY_1) == 1.0
    again = client.post("/", headers=admin, json={})
    assert again.status_code == 200 and again.json["kpiRowsWritten"] == 0


def test_restating_days_over_http(acme, client, admin):
    acme.handled_call("c-1", DAY_1)
    client.post("/", headers=admin)
    resp = client.post("/", headers=admin, json={"days": [DAY_1.isoformat()]})
    assert resp.status_code == 200, resp.json
    assert resp.json["daysRestated"] == [DAY_1.isoformat()] and resp.json["days"] == [DAY_1.isoformat()]


def test_only_the_operator_token_may_run_it(client, admin, provider_key):
    assert client.post("/").status_code == 401
    assert client.post("/", headers={"Authorization": "Bearer wrong"}).status_code == 401
    resp = client.post("/", headers={"Authorization": f"Bearer {provider_key}"})
    assert resp.status_code == 403 and resp.json["error"]["code"] == "admin_only"


@pytest.mark.parametrize(
    "body",
    [
        {"days": ["2026-02-30"]},
        {"days": ["23/11/2026"]},
        {"days": [20261123]},
        {"days": ["1999-12-31"]},
        {"days": [(TODAY.replace(year=TODAY.year + 1)).isoformat()]},
        {"days": []},
        {"days": ["2026-01-01"] * 367},
        {"days": "2026-01-01"},
        {"day": ["2026-01-01"]},
    ],
)
def test_an_invalid_body_is_422_and_runs_nothing(client, admin, store, body):
    resp = client.post("/", headers=admin, json=body)
    assert resp.status_code == 422, resp.json
    assert store.get_watermark("aggregate.events").value is None


def test_a_body_that_is_not_json_is_refused(client, admin):
    assert client.post("/", headers=admin, data="days", content_type="text/plain").status_code == 415
    assert client.post("/", headers=admin, data="{", content_type="application/json").status_code == 400


def test_a_held_lease_answers_busy_or_409_for_a_restatement(client, admin, store):
    assert store.acquire_lease("aggregate", "another-run", datetime.now(UTC), 300)
    busy = client.post("/", headers=admin)
    assert busy.status_code == 200 and busy.json["status"] == "busy"
    restate = client.post("/", headers=admin, json={"days": [DAY_1.isoformat()]})
    assert restate.status_code == 409 and restate.json["error"]["code"] == "aggregation_running"
    assert store.get_watermark("aggregate.events").value is None


def test_a_locked_warehouse_is_503_and_moves_no_watermark(acme, client, admin, env, store, monkeypatch):
    acme.handled_call("c-1", DAY_1)
    path = env["ANALYTICS_WAREHOUSE"].removeprefix("duckdb:///")
    monkeypatch.setenv("ANALYTICS_WAREHOUSE", f"{env['ANALYTICS_WAREHOUSE']}?lock_timeout_s=0.2")
    reset_settings()
    # Another process holds the DuckDB file read-write (a BI tool, a stuck run).
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb,sys; c=duckdb.connect({path!r}); print('ok', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        resp = client.post("/", headers=admin)
    finally:
        holder.communicate("", timeout=30)
    assert resp.status_code == 503, resp.json
    assert resp.json["error"]["code"] == "warehouse_unavailable" and int(resp.headers["Retry-After"]) > 0
    assert store.get_watermark("aggregate.events").value is None
    # The lease was given back: the next call runs.
    assert client.post("/", headers=admin).json["read"]["events"] == 4


def test_an_unusable_warehouse_url_is_a_json_503(client, admin, monkeypatch):
    monkeypatch.setenv("ANALYTICS_WAREHOUSE", "postgres://nowhere/db")
    reset_settings()
    resp = client.post("/", headers=admin)
    assert resp.status_code == 503 and resp.json["error"]["code"] == "warehouse_unavailable"


def test_a_store_outage_is_503_with_retry_after(client, admin, env, monkeypatch):
    from shared.store import forget_stores

    monkeypatch.setenv("ANALYTICS_STORE", f"{env['ANALYTICS_STORE']}?busy_timeout_ms=50")
    reset_settings()
    forget_stores()
    import sqlite3

    blocker = sqlite3.connect(env["ANALYTICS_STORE"].removeprefix("sqlite:///"), isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        resp = client.post("/", headers=admin)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert resp.status_code == 503 and resp.json["error"]["code"] == "store_unavailable"
    assert "Retry-After" in resp.headers


def test_each_run_logs_its_report_as_one_json_line(acme, client, admin, capsys):
    """What an operator reads in Cloud Logging: one structured entry per run, with who asked."""
    acme.handled_call("c-1", DAY_1)
    resp = client.post("/", headers={**admin, "X-Analytics-Actor": "dana"})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert len(lines) == 1
    entry = lines[0]
    assert entry["severity"] == "INFO" and entry["message"] == "aggregation ok"
    assert entry["actor"] == "operator:dana"
    assert entry["runId"] == resp.json["runId"] and entry["kpiRowsWritten"] == resp.json["kpiRowsWritten"]
