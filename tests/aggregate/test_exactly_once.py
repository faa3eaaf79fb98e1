"""Exactly-once KPIs under re-runs, crashes, late and out-of-order data, restatement and concurrency.

Each test sends traffic through the ingest function (real SQLite store), aggregates into a real
DuckDB file and compares ``kpi_daily`` with what a single clean run over the same data produces.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.aggregate.run import Step, run_aggregation
from shared.aggregate.settings import AggregateSettings
from shared.store.records import Watermark
from shared.warehouse import open_warehouse
from shared.warehouse.port import Transaction
from tests.aggregate.conftest import kpi_table, kpi_total, read_rows
from tests.aggregate.traffic import DAY_1, DAY_2, DAY_3, Provider, ev, handled_events, rejected_events


class Crash(RuntimeError):
    """Injected between two steps of a run."""


def send_day(acme: Provider) -> None:
    """Two days of calls: handled ones with surveys, and a rejected-then-abandoned one."""
    acme.handled_call("c-1", DAY_1, answer_s=8, csat=5)
    acme.handled_call("c-2", DAY_1, answer_s=40, csat=2, agent="agent-2")
    acme.conversation("c-3", DAY_1)
    acme.events("c-3", *rejected_events("c-3", DAY_1))
    acme.handled_call("c-4", DAY_2, answer_s=12)


def clean_table(tmp_path: Path, aggregate) -> list[tuple]:
    """The reference: one run over everything into a fresh warehouse (its own watermarks)."""
    url = f"duckdb:///{tmp_path / 'clean.duckdb'}"
    aggregate(url=url, config=AggregateSettings(lag_seconds=0, page_size=1000))
    return kpi_table(url)


def reset_watermarks(store) -> None:
    """Make the next run read everything again (the reference run moved the shared watermarks)."""
    for name in ("conversations", "events", "failed_events", "activities"):
        store.set_watermark(Watermark(f"aggregate.{name}", None))


def test_a_run_computes_the_kpis_of_the_traffic(acme, aggregate, env):
    send_day(acme)
    report = aggregate()
    assert report.status == "ok"
    assert report.read["conversations"] == 4 and report.read["events"] == 17
    assert report.days == sorted([DAY_1.isoformat(), DAY_2.isoformat()])
    url = env["ANALYTICS_WAREHOUSE"]
    assert kpi_total(url, "incoming_conversations", DAY_1) == 3
    assert kpi_total(url, "conversations_handled", DAY_1) == 2
    assert kpi_total(url, "sessions_rejected", DAY_1) == 1
    assert kpi_total(url, "csat_rate", DAY_1) == pytest.approx(0.5)
    assert kpi_total(url, "conversations_handled", DAY_2) == 1
    assert report.kpi_rows_written == len(kpi_table(url))


def test_running_twice_gives_the_same_table(acme, aggregate, env, store):
    send_day(acme)
    aggregate()
    first = kpi_table(env["ANALYTICS_WAREHOUSE"], with_computed_at=True)
    again = aggregate()
    assert again.read == {"conversations": 0, "events": 0, "failed_events": 0, "activities": 0}
    assert again.kpi_rows_written == 0
    # Nothing new: not even computed_at moved.
    assert kpi_table(env["ANALYTICS_WAREHOUSE"], with_computed_at=True) == first
    # Reading everything again (a lost watermark) changes nothing either: replace, never add.
    reset_watermarks(store)
    rerun = aggregate()
    assert rerun.read["events"] == 17
    assert kpi_table(env["ANALYTICS_WAREHOUSE"]) == [row[:-1] for row in first]


@pytest.mark.parametrize("step", ["extracted", "staged", "before_commit", "committed"])
def test_a_crash_at_any_step_then_a_rerun_gives_the_clean_table(
    acme, aggregate, env, store, tmp_path, step: Step
):
    send_day(acme)
    reference = clean_table(tmp_path, aggregate)
    reset_watermarks(store)

    def crash(at: Step) -> None:
        if at == step:
            raise Crash(at)

    with pytest.raises(Crash):
        aggregate(hook=crash)
    committed = step == "committed"
    # Before the commit nothing reached kpi_daily; after it, the rows are there but the watermark
    # did not move, so the re-run reads the same records again.
    assert (kpi_table(env["ANALYTICS_WAREHOUSE"]) == reference) is committed
    assert store.get_watermark("aggregate.events").value is None
    rerun = aggregate()
    assert rerun.status == "ok" and rerun.read["events"] == 17
    assert kpi_table(env["ANALYTICS_WAREHOUSE"]) == reference
    # The crashed run released its lease on the way out; a hard kill would leave it to expire.
    assert store.acquire_lease("aggregate", "probe", datetime.now(UTC), 1)


def test_an_event_before_its_conversation_counts_once_it_arrives(acme, aggregate, env, store, tmp_path):
    acme.handled_call("c-1", DAY_1)
    acme.events("c-late", *handled_events("c-late", DAY_1, csat=4))
    first = aggregate()
    url = env["ANALYTICS_WAREHOUSE"]
    assert first.read["events"] == 9
    assert kpi_total(url, "conversations_handled", DAY_1) == 1  # c-late has no conversation yet
    acme.conversation("c-late", DAY_1)
    second = aggregate()
    assert second.read == {"conversations": 1, "events": 0, "failed_events": 0, "activities": 0}
    assert kpi_total(url, "conversations_handled", DAY_1) == 2
    assert kpi_total(url, "csat_rate", DAY_1) == 1.0
    reset_watermarks(store)
    assert kpi_table(url) == clean_table(tmp_path, aggregate)


def test_a_late_event_moves_exactly_its_days(acme, aggregate, env):
    for conversation_id, day in (("c-1", DAY_1), ("c-2", DAY_2), ("c-3", DAY_3)):
        acme.handled_call(conversation_id, day)
    aggregate()
    url = env["ANALYTICS_WAREHOUSE"]
    before = kpi_table(url, with_computed_at=True)
    # A survey for the DAY_1 call arrives two days late.
    acme.events(
        "c-1",
        ev("c-1-csat-late", "SurveyAnswered", DAY_1, 900, customData=[{"attribute": "csat", "value": 4}]),
    )
    report = aggregate()
    assert report.days == [DAY_1.isoformat()] and report.conversations_touched == 1
    after = kpi_table(url, with_computed_at=True)
    unchanged = [r for r in before if r[0] != DAY_1]
    assert [r for r in after if r[0] != DAY_1] == unchanged  # other days: not even rewritten
    assert kpi_total(url, "csat_rate", DAY_1) == 1.0
    assert {r[-1] for r in after if r[0] == DAY_1} != {r[-1] for r in before if r[0] == DAY_1}


def test_a_conversation_that_moves_days_restates_both(acme, aggregate, env):
    """Closing a DAY_1 conversation on DAY_2 takes it off DAY_1 and puts it on DAY_2."""
    acme.conversation("c-open", DAY_1)
    acme.events("c-open", ev("c-open-offer", "NotificationReceived", DAY_1, 5))
    acme.handled_call("c-2", DAY_2)
    aggregate()
    acme.events(
        "c-open",
        ev("c-open-accept", "NotificationResponse", DAY_1, 20, notificationResponseAction="Accept"),
        ev("c-open-close", "SessionClosed", DAY_2, 60, kpiEventReason="Completed"),
        ev("c-open-done", "ConversationClosed", DAY_2, 70, kpiEventReason="Resolved"),
    )
    report = aggregate()
    assert DAY_2.isoformat() in report.days
    assert kpi_total(env["ANALYTICS_WAREHOUSE"], "conversations_handled", DAY_2) == 2


def test_restating_days_recomputes_them_for_every_provider(
    acme, aggregate, env, providers_client, admin, ingest_client
):
    created = providers_client.post(
        "/v1/providers", json={"providerId": "globex", "name": "Globex"}, headers=admin
    )
    providers_client.patch("/v1/providers/globex", json={"enableAnalytics": True}, headers=admin)
    globex = Provider(ingest_client, created.json["apiKey"])
    acme.handled_call("c-1", DAY_1)
    acme.handled_call("c-2", DAY_2)
    globex.handled_call("g-1", DAY_1)
    aggregate()
    url = env["ANALYTICS_WAREHOUSE"]
    before = kpi_table(url, with_computed_at=True)
    # Someone deleted rows by hand; a restatement of DAY_1 brings them back for both providers.
    warehouse_rows = read_rows(url, "SELECT COUNT(*) AS n FROM kpi_daily")[0]["n"]
    wh = open_warehouse(url)
    try:
        wh.apply(
            Transaction((f"DELETE FROM kpi_daily WHERE day = DATE '{DAY_1.isoformat()}'",), "SELECT 1 AS ok")
        )
    finally:
        wh.close()
    assert read_rows(url, "SELECT COUNT(*) AS n FROM kpi_daily")[0]["n"] < warehouse_rows
    report = aggregate([DAY_1])
    assert report.days_restated == [DAY_1.isoformat()]
    assert report.days == [DAY_1.isoformat()]
    assert report.provider_days == 2
    after = kpi_table(url, with_computed_at=True)
    assert [r[:-1] for r in after] == [r[:-1] for r in before]
    assert [r for r in after if r[0] == DAY_2] == [r for r in before if r[0] == DAY_2]
    assert {r[1] for r in after if r[0] == DAY_1} == {"acme", "globex"}


def test_two_concurrent_runs_never_double_count(acme, aggregate, env, store, tmp_path):
    send_day(acme)
    reference = clean_table(tmp_path, aggregate)
    reset_watermarks(store)
    inside = threading.Event()
    release = threading.Event()
    results = {}

    def hold(step: Step) -> None:
        if step == "extracted":
            inside.set()
            assert release.wait(30)

    def first() -> None:
        results["first"] = aggregate(hook=hold)

    thread = threading.Thread(target=first)
    thread.start()
    assert inside.wait(30)
    results["second"] = aggregate()  # while the first holds the lease
    release.set()
    thread.join(30)
    assert results["second"].status == "busy" and results["second"].read == {}
    assert results["first"].status == "ok" and results["first"].read["events"] == 17
    assert kpi_table(env["ANALYTICS_WAREHOUSE"]) == reference
    assert aggregate().read["events"] == 0


def test_the_lag_leaves_fresh_records_for_the_next_run(acme, aggregate, env):
    acme.handled_call("c-1", DAY_1)
    lagged = aggregate(config=AggregateSettings(lag_seconds=3600))
    assert lagged.read["conversations"] == 0 and lagged.read["events"] == 0
    assert kpi_table(env["ANALYTICS_WAREHOUSE"]) == []
    assert aggregate().read["events"] == 4
    assert kpi_total(env["ANALYTICS_WAREHOUSE"], "conversations_handled", DAY_1) == 1


def test_the_watermark_never_moves_backwards(acme, aggregate, env, store):
    acme.handled_call("c-1", DAY_1)
    aggregate()
    mark = store.get_watermark("aggregate.events").value
    wh = open_warehouse(env["ANALYTICS_WAREHOUSE"])
    try:
        old = run_aggregation(store, wh, mark - timedelta(hours=1), config=AggregateSettings(lag_seconds=0))
    finally:
        wh.close()
    assert old.read["events"] == 0
    assert store.get_watermark("aggregate.events").value == mark
