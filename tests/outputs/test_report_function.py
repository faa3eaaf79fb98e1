"""``functions/report`` over HTTP: the scheduler's POST, a given day, and a 503 that keeps failures."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from shared.config import reset_settings
from shared.store import store_for
from tests.http.support import Checked, assert_error
from tests.outputs.world import END, PROVIDER, build
from tests.support.functions import function_client


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("report-function") / "warehouse.duckdb")


@pytest.fixture
def report(env, built, tmp_path, monkeypatch, providers_client, admin):
    shutil.copy(built, env["ANALYTICS_WAREHOUSE"].removeprefix("duckdb:///"))
    monkeypatch.setenv("ANALYTICS_MAILER", f"file://{tmp_path / 'outbox'}")
    reset_settings()
    created = providers_client.post(
        "/v1/providers", json={"providerId": PROVIDER, "name": "Demo"}, headers=admin
    )
    assert created.status_code == 201
    subscribed = providers_client.post(
        f"/v1/providers/{PROVIDER}/report-subscriptions", json={"email": "ada@example.com"}, headers=admin
    )
    assert subscribed.status_code == 201
    return Checked(function_client("report"))


def test_the_scheduler_post_sends_each_subscriber_once(report, admin, tmp_path):
    first = report.post("/", json={"day": END.isoformat()}, headers=admin)
    assert first.status_code == 200, first.json
    assert (first.json["sent"], first.json["queued"], first.json["status"]) == (1, 1, "ok")
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1
    again = report.post("/", json={"day": END.isoformat()}, headers=admin)
    assert (again.json["sent"], again.json["queued"]) == (0, 0)


def test_a_mailer_failure_is_a_503_with_what_was_kept(report, admin, env, monkeypatch, tmp_path):
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the outbox should be")
    monkeypatch.setenv("ANALYTICS_MAILER", f"file://{blocked}")
    reset_settings()
    err = assert_error(
        report.post("/", json={"day": END.isoformat()}, headers=admin), 503, "mailer_unavailable"
    )
    assert "kept and retried" in err["message"]
    [due] = store_for(env["ANALYTICS_STORE"]).due_deliveries("report", 10)
    assert due.status == "failed" and due.attempts == 1


def test_operators_only_and_valid_days(report, admin):
    assert_error(report.post("/", json={"day": END.isoformat()}), 401, "missing_credentials")
    assert_error(report.post("/", json={"day": "yesterday"}, headers=admin), 422, "validation_failed")
    assert_error(
        report.post("/", json={"day": END.isoformat(), "to": "x"}, headers=admin), 422, "validation_failed"
    )
    assert report.post("/", headers=admin).status_code == 200  # no body: yesterday
