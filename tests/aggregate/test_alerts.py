"""KPI breach alerts, end to end: thresholds set over the operator API, evaluated by each aggregation
on the rows it wrote, one message per breach, resolved by a restatement, retried after a failure."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends

from shared.aggregate.run import run_aggregation
from shared.outputs.channels import SendFailed, open_publisher
from shared.warehouse import open_warehouse
from tests.aggregate.conftest import NO_LAG, read_rows
from tests.aggregate.traffic import handled_events

DAY = date(2026, 11, 20)


class Recorder:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.fail = 0

    def publish(self, delivery_id: str, provider_id: str, subject: str, body: dict[str, Any]) -> str:
        if self.fail:
            self.fail -= 1
            raise SendFailed("sns: Throttled")
        self.messages.append({"id": delivery_id, "subject": subject, **body})
        return f"msg-{len(self.messages)}"


@pytest.fixture
def run(env, store):
    def go(publisher, days: list[date] | None = None):
        warehouse = open_warehouse(env["ANALYTICS_WAREHOUSE"])
        try:
            return run_aggregation(
                store, warehouse, datetime.now(UTC), days, config=NO_LAG, publisher=lambda: publisher
            )
        finally:
            warehouse.close()

    return go


@pytest.fixture
def slow_queue(acme, providers_client, admin):
    """A threshold on every queue's speed to answer, and a call answered after 90 s."""
    resp = providers_client.post(
        "/v1/providers/acme/alert-thresholds",
        json={"kpi": "avg_speed_to_answer_s", "operator": ">", "value": 60, "slice": {"queueId": "*"}},
        headers=admin,
    )
    assert resp.status_code == 201, resp.json
    acme.conversation("c-slow", DAY)
    acme.events("c-slow", *handled_events("c-slow", DAY, answer_s=90))
    return resp.json


def alerts_table(env) -> list[dict[str, Any]]:
    return read_rows(env["ANALYTICS_WAREHOUSE"], "SELECT * FROM kpi_alerts ORDER BY alert_id")


def test_a_breach_alerts_once_and_a_restatement_that_stops_it_resolves_it(env, run, acme, slow_queue):
    recorder = Recorder()
    first = run(recorder)
    assert first.alerts["opened"] == 1 and first.alerts["sent"] == 1
    [message] = recorder.messages
    assert (message["type"], message["kpi"], message["slice"], message["day"]) == (
        "kpi_breach",
        "avg_speed_to_answer_s",
        {"queueId": "billing"},
        DAY.isoformat(),
    )
    assert message["value"] > 60 and message["thresholdId"] == slow_queue["thresholdId"]
    assert "KPI breach: avg_speed_to_answer_s" in message["subject"]
    # Re-running, and restating the day, recompute the same rows: nothing is published again.
    run(recorder)
    again = run(recorder, [DAY])
    assert again.alerts["rows"] > 0 and again.alerts["opened"] == 0
    assert len(recorder.messages) == 1
    [row] = alerts_table(env)
    assert (row["status"], row["occurrence"], row["queue_id"]) == ("open", 1, "billing")
    # A fast call in the same queue brings the day's average under the threshold: resolved, once.
    acme.conversation("c-fast", DAY)
    acme.events("c-fast", *handled_events("c-fast", DAY, answer_s=5))
    resolved = run(recorder)
    assert resolved.alerts["resolved"] == 1
    assert [m["type"] for m in recorder.messages] == ["kpi_breach", "kpi_breach_resolved"]
    run(recorder, [DAY])
    assert len(recorder.messages) == 2
    [row] = alerts_table(env)
    assert row["status"] == "resolved" and row["resolved_at"] is not None and row["value"] < 60


def test_a_failed_publish_is_retried_by_the_next_run_and_sent_once(env, run, slow_queue):
    recorder = Recorder()
    recorder.fail = 1
    failed = run(recorder)
    assert (failed.alerts["opened"], failed.alerts["sent"], failed.alerts["failed"]) == (1, 0, 1)
    assert alerts_table(env)[0]["status"] == "open", "the alert is recorded even though its message failed"
    retried = run(recorder)  # nothing new to aggregate: the run still sends what is due
    assert (retried.alerts["sent"], retried.alerts["retried"]) == (1, 1)
    run(recorder)
    assert len(recorder.messages) == 1


def test_rows_of_other_slices_and_providers_do_not_alert(env, run, acme, providers_client, admin):
    resp = providers_client.post(
        "/v1/providers/acme/alert-thresholds",
        json={"kpi": "avg_speed_to_answer_s", "operator": ">", "value": 60, "slice": {"queueId": "sales"}},
        headers=admin,
    )
    assert resp.status_code == 201
    acme.conversation("c-slow", DAY)  # billing, not sales
    acme.events("c-slow", *handled_events("c-slow", DAY, answer_s=90))
    recorder = Recorder()
    assert run(recorder).alerts["opened"] == 0
    assert recorder.messages == [] and alerts_table(env) == []


@mock_aws
def test_alerts_reach_amazon_sns_and_a_fifo_topic_deduplicates_by_delivery(env, run, slow_queue):
    sns = boto3.client("sns", region_name="eu-west-1")
    topic = sns.create_topic(Name="kpi-alerts.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    publisher = open_publisher(f"sns://eu-west-1/{topic}")
    report = run(publisher)
    assert report.alerts["sent"] == 1
    sent = sns_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"].topics[topic].sent_notifications
    assert len(sent) == 1
    [(_, message, subject, attributes, group)] = [n[:5] for n in sent]
    assert '"kpi_breach"' in message and subject.startswith("KPI breach") and group == "acme"
    assert attributes["kpi"]["Value"] == "avg_speed_to_answer_s"
    with pytest.raises(ValueError):
        open_publisher("sns://eu-west-1/not-an-arn")
