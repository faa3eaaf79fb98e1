"""Event sink mode on the embedded warehouse: events land in ``event_landing`` and the aggregation
deduplicates them in the warehouse. Exactly-once KPIs, late data, erasure, retention and the privacy
rule, each proved again in this mode (the same SQL runs on BigQuery: tests/sink/test_bigquery.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from shared.aggregate.landing import stage_statements
from shared.aggregate.run import Step
from shared.aggregate.settings import AggregateSettings
from shared.config import reset_settings
from shared.privacy.pseudonym import pseudonymizer
from shared.sink import landing_rows, open_event_sink
from shared.store.records import Event, Watermark
from shared.warehouse import open_warehouse
from tests.aggregate.conftest import kpi_table, kpi_total, read_rows
from tests.aggregate.traffic import DAY_1, DAY_2, DAY_3, ev, handled_events
from tests.privacy.identifiers import customer_identifiers
from tests.privacy.test_pseudonymisation import _text_cells
from tests.sink.conftest import send
from tools.traffic import generate_day


class Crash(RuntimeError):
    """Injected between two steps of a run."""


def landing_count(url: str) -> int:
    return read_rows(url, "SELECT COUNT(*) AS n FROM event_landing")[0]["n"]


def reset_watermarks(store) -> None:
    for name in ("conversations", "events", "failed_events", "activities"):
        store.set_watermark(Watermark(f"aggregate.{name}", None))


def test_a_generated_day_gives_the_kpi_daily_of_the_store_path(
    duckdb_sink, ingest_client, provider_key, aggregate, store, monkeypatch, tmp_path
):
    """The same traffic (retried batches, events before their conversation, invalid events) counted
    through the sink and through the store: the same kpi_daily, row for row."""
    traffic = generate_day(40, seed=3, now=datetime.now(UTC) - timedelta(days=1), provider_id="acme")
    answers = send(ingest_client, provider_key, traffic)
    events = [a for r, a in zip(traffic.requests, answers, strict=True) if r.kind == "events"]
    assert events and all(a["deduplication"] == "deferred" for a in events)
    assert landing_count(duckdb_sink) >= traffic.truth.accepted  # nothing in the store's events
    assert not list(store.scan_events(None, datetime.now(UTC), 10))
    report = aggregate()
    assert report.status == "ok" and report.kpi_rows_written > 0
    # Retried batches landed twice; each event id counts once.
    assert landing_count(duckdb_sink) > report.read["events"] - 1 >= traffic.truth.accepted - 1
    assert read_rows(duckdb_sink, "SELECT COUNT(*) AS n FROM raw_events")[0]["n"] == traffic.truth.accepted
    through_sink = kpi_table(duckdb_sink)

    # The store path: the same requests again with the sink switched off, into a fresh warehouse.
    monkeypatch.delenv("ANALYTICS_EVENT_SINK")
    reset_settings()
    answers = send(ingest_client, provider_key, traffic)
    assert all(a.get("deduplication", "synchronous") == "synchronous" for a in answers if "accepted" in a)
    reset_watermarks(store)
    other = f"duckdb:///{tmp_path / 'store-path.duckdb'}"
    aggregate(url=other)
    assert kpi_table(other) == through_sink


def test_retries_count_once_and_reused_ids_are_refused_in_the_warehouse(duckdb_sink, acme, aggregate):
    acme.handled_call("c-1", DAY_1, csat=5)
    acme.events("c-1", *handled_events("c-1", DAY_1, csat=5))  # the provider's retry
    answer = acme.client.post(
        "/v1/events",
        json={
            "conversationId": "c-1",
            "providerSessionId": "c-1-s1",
            "participantId": "agent-1",
            # A reused eventId with other content (a survey of 1 instead of 5), and the same event
            # twice within one request.
            "events": [
                ev("c-1-csat", "SurveyAnswered", DAY_1, 320, customData=[{"attribute": "csat", "value": 1}]),
                ev("c-1-extra", "CallHold", DAY_1, 100),
                ev("c-1-extra", "CallHold", DAY_1, 100),
                ev("c-1-extra", "CallHold", DAY_1, 101),
            ],
        },
        headers=acme.headers,
    )
    assert answer.status_code == 200
    body = answer.json
    assert body["deduplication"] == "deferred"
    assert [r["status"] for r in body["results"]] == ["accepted", "accepted", "duplicate", "rejected"]
    assert body["results"][3]["error"]["code"] == "event_id_conflict"
    assert landing_count(duckdb_sink) == 5 + 5 + 2
    report = aggregate()
    assert report.read["events"] == 12
    assert read_rows(duckdb_sink, "SELECT COUNT(*) AS n FROM raw_events")[0]["n"] == 6
    assert kpi_total(duckdb_sink, "csat_rate", DAY_1) == 1.0  # the first write (csat 5) won
    conflicts = read_rows(duckdb_sink, "SELECT failed_id, code, kind FROM raw_failed_events")
    conflict = [r for r in conflicts if r["code"] == "event_id_conflict" and "c-1-csat" in r["failed_id"]]
    assert len(conflict) == 1 and conflict[0]["kind"] == "event"
    before = kpi_table(duckdb_sink, with_computed_at=True)
    again = aggregate()
    assert again.read["events"] == 0 and kpi_table(duckdb_sink, with_computed_at=True) == before
    # Reused in a later run, with another name: refused there too (compared with raw_events).
    acme.events(
        "c-1",
        ev("c-1-offer", "CallHold", DAY_1, 5),
        ev("c-1-csat", "SurveyAnswered", DAY_1, 320, customData=[{"attribute": "csat", "value": 5}]),
    )
    later = aggregate()
    assert later.read["events"] == 2 and later.conversations_touched == 0
    assert kpi_table(duckdb_sink) == [r[:-1] for r in before]
    codes = read_rows(
        duckdb_sink, "SELECT failed_id FROM raw_failed_events WHERE failed_id LIKE 'conflict:%'"
    )
    assert sorted(r["failed_id"].split(":")[1] for r in codes) == ["c-1-csat", "c-1-offer"]


@pytest.mark.parametrize("step", ["extracted", "staged", "before_commit", "committed"])
def test_a_crash_at_any_step_then_a_rerun_gives_the_clean_table(
    duckdb_sink, acme, aggregate, store, tmp_path, step: Step
):
    acme.handled_call("c-1", DAY_1, answer_s=8, csat=5)
    acme.handled_call("c-2", DAY_2, answer_s=40, csat=2, agent="agent-2")

    def crash(at: Step) -> None:
        if at == step:
            raise Crash(at)

    with pytest.raises(Crash):
        aggregate(hook=crash)
    assert store.get_watermark("aggregate.events").value is None
    rerun = aggregate()
    assert rerun.status == "ok" and rerun.read["events"] == 10
    assert read_rows(duckdb_sink, "SELECT COUNT(*) AS n FROM raw_events")[0]["n"] == 10
    # The reference: the same landing rows counted by one clean run into a copy of nothing else.
    clean = tmp_path / "clean.duckdb"
    wh = open_warehouse(f"duckdb:///{clean}")
    wh.close()
    source = open_warehouse(duckdb_sink)
    try:
        source.query(f"ATTACH '{clean}' AS clean")
        source.query("CREATE TABLE clean.event_landing AS SELECT * FROM event_landing")
        source.query("DETACH clean")
    finally:
        source.close()
    reset_watermarks(store)
    aggregate(url=f"duckdb:///{clean}")
    assert kpi_table(duckdb_sink) == kpi_table(f"duckdb:///{clean}")
    assert kpi_total(duckdb_sink, "conversations_handled", DAY_2) == 1


def test_a_late_event_moves_exactly_its_days(duckdb_sink, acme, aggregate):
    for conversation_id, day in (("c-1", DAY_1), ("c-2", DAY_2), ("c-3", DAY_3)):
        acme.handled_call(conversation_id, day)
    aggregate()
    before = kpi_table(duckdb_sink, with_computed_at=True)
    acme.events(
        "c-1",
        ev("c-1-csat-late", "SurveyAnswered", DAY_1, 900, customData=[{"attribute": "csat", "value": 4}]),
    )
    report = aggregate()
    assert report.read["events"] == 1
    assert report.days == [DAY_1.isoformat()] and report.conversations_touched == 1
    after = kpi_table(duckdb_sink, with_computed_at=True)
    assert [r for r in after if r[0] != DAY_1] == [r for r in before if r[0] != DAY_1]
    assert kpi_total(duckdb_sink, "csat_rate", DAY_1) == 1.0


def test_an_append_acknowledged_late_is_still_counted(duckdb_sink, acme, aggregate, store):
    """A row stamped before the watermark (its append was acknowledged after the last run read past
    its stamp) is read by the next run, within the settle time; it is not read twice after it."""
    acme.handled_call("c-1", DAY_1)
    aggregate()
    mark = store.get_watermark("aggregate.events").value
    late = Event(
        provider_id="acme",
        event_id="c-1-hold",
        conversation_id="c-1",
        provider_session_id="c-1-s1",
        participant_id="agent-1",
        name="CallHold",
        reason=None,
        event_ts=datetime.fromisoformat(handled_events("c-1", DAY_1)[1]["eventTimestamp"]),
        response_action=None,
        additional_data=None,
        custom_data={},
        schema="iglu:test",
        ingested_at=mark - timedelta(seconds=30),
        digest="d" * 64,
    )
    sink = open_event_sink(duckdb_sink)
    sink.append(landing_rows([late], pseudonymizer()))
    report = aggregate()
    # Not new since the watermark (read counts those), but staged: it was never counted.
    assert report.read["events"] == 0 and report.conversations_touched == 1
    assert read_rows(duckdb_sink, "SELECT COUNT(*) AS n FROM raw_events")[0]["n"] == 5
    assert (
        aggregate(config=AggregateSettings(lag_seconds=0, sink_settle_seconds=600)).conversations_touched == 0
    )


def test_landing_rows_past_their_retention_are_deleted(duckdb_sink, acme, aggregate):
    acme.handled_call("c-1", DAY_1)
    old = datetime.now(UTC) - timedelta(days=20)
    wh = open_warehouse(duckdb_sink)
    try:
        wh.query(
            f"UPDATE event_landing SET ingested_at = TIMESTAMPTZ '{old.isoformat()}' WHERE event_id = 'c-1-offer'"
        )
    finally:
        wh.close()
    aggregate()
    assert read_rows(duckdb_sink, "SELECT event_id FROM event_landing WHERE event_id = 'c-1-offer'") == []
    assert landing_count(duckdb_sink) == 3


def test_no_raw_customer_identifier_reaches_the_warehouse_and_erasure_reaches_the_landing_table(
    duckdb_sink, ingest_client, provider_key, aggregate
):
    traffic = generate_day(40, seed=7, now=datetime.now(UTC) - timedelta(days=1), provider_id="acme")
    send(ingest_client, provider_key, traffic)
    aggregate()
    path = duckdb_sink.removeprefix("duckdb:///")
    raw_ids = customer_identifiers(traffic)
    cells = _text_cells(path)
    assert {t for t, _, _ in cells} >= {"event_landing", "raw_events", "raw_conversations"}
    assert [(t, c, v) for t, c, v in cells for raw in raw_ids if raw in v] == []
    # A customer whose participant ids logged events: erased from raw_events and event_landing alike.
    pseudonyms = pseudonymizer()
    logged = {
        r["participant_id"]
        for r in read_rows(duckdb_sink, "SELECT DISTINCT participant_id FROM event_landing")
        if r["participant_id"]
    }
    customers = {
        c["conversation"]["customerId"]: {
            p["participantId"]
            for s in (c["conversation"].get("sessions") or [c["conversation"].get("session") or {}])
            for p in s.get("participants", [])
            if p.get("participantType") == "customer"
        }
        for c in (r.body for r in traffic.requests if r.kind == "conversation")
        if c["conversation"].get("customerId")
    }
    customer, handles = next(
        (c, h) for c, h in customers.items() if {pseudonyms("acme", p) for p in h} & logged
    )
    answer = ingest_client.delete(
        f"/v1/customers/{quote(customer, safe='')}", headers={"Authorization": f"Bearer {provider_key}"}
    )
    assert answer.status_code == 202, answer.json
    aggregate()
    gone = {pseudonyms("acme", p) for p in handles} | {pseudonyms("acme", customer)}
    for table in ("event_landing", "raw_events"):
        left = read_rows(duckdb_sink, f"SELECT DISTINCT participant_id FROM {table}")
        assert not {r["participant_id"] for r in left} & gone, table


def test_the_staging_reads_the_window_and_raw_events_only_on_the_days_of_its_events(env):
    """BigQuery: the comparison with raw_events is pruned to the partitions of the staged events'
    days (a script variable), so a run does not scan every event ever stored."""
    wh = open_warehouse("bigquery://p/d")
    statements, _ = stage_statements(
        wh, datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 11, 24, tzinfo=UTC), 300
    )
    script = ";\n".join(statements)
    assert "DATE(event_ts) IN UNNEST(landing_event_days)" in script
    # Only the window's landing rows (hourly partitions): the settle time before the watermark.
    assert "ingested_at > TIMESTAMP '2026-11-22 23:55:00.000000+00'" in script
    assert "ingested_at <= TIMESTAMP '2026-11-24 00:00:00.000000+00'" in script


def test_an_unknown_sink_is_refused_not_ignored(env, monkeypatch, acme):
    monkeypatch.setenv("ANALYTICS_EVENT_SINK", "pubsub://project/topic")
    reset_settings()
    answer = acme.client.post(
        "/v1/events",
        json={"conversationId": "c", "providerSessionId": "s", "events": [ev("e", "CallHold", DAY_1, 1)]},
        headers=acme.headers,
    )
    assert answer.status_code == 500 and answer.json["error"]["code"] == "sink_misconfigured"
    assert "unsupported ANALYTICS_EVENT_SINK" in answer.json["error"]["message"]
