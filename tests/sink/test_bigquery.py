"""End to end against a local BigQuery API emulator (tools/bigquery_emulator.py): the ingest
function appends through the Storage Write API (gRPC), the aggregation deduplicates in the warehouse
and runs the fact and KPI script through the REST API, with Google's own client libraries. The same
generated day counted on DuckDB through the store gives the same ``kpi_daily``; re-runs, a late event
and an erasure keep their guarantees on this path too."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest

from shared.config import reset_settings
from shared.kpi.bi import prepare_warehouse
from shared.privacy.pseudonym import pseudonymizer
from shared.store.records import Watermark
from shared.warehouse import open_warehouse
from tests.aggregate.conftest import KPI_COLUMNS, kpi_table, read_rows
from tests.aggregate.traffic import ev
from tests.privacy.identifiers import customer_identifiers
from tests.sink.conftest import SALT, send
from tests.support.bigquery_emulator import running_emulator
from tools.bigquery_emulator import BigQueryEmulator
from tools.traffic import generate_day

pytestmark = pytest.mark.bigquery_emulator

DATASET = "analytics"


@pytest.fixture(scope="module")
def bigquery() -> Iterator[BigQueryEmulator]:
    yield from running_emulator()


def table(emulator: BigQueryEmulator, name: str) -> str:
    return f"`{emulator.project}.{DATASET}.{name}`"


def rounded(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Floats to 12 significant digits: the two engines may sum in another order."""

    def value(v: Any) -> Any:
        return float(f"{v:.12g}") if isinstance(v, float) and math.isfinite(v) else v

    return sorted((tuple(value(v) for v in row) for row in rows), key=repr)


def bigquery_kpis(emulator: BigQueryEmulator, url: str) -> list[tuple[Any, ...]]:
    rows = read_rows(url, f"SELECT {KPI_COLUMNS} FROM {table(emulator, 'kpi_daily')}")
    return rounded([tuple(r.values()) for r in rows])


def count(emulator: BigQueryEmulator, url: str, name: str) -> int:
    return read_rows(url, f"SELECT COUNT(*) AS n FROM {table(emulator, name)}")[0]["n"]


def test_ingest_to_emulated_bigquery_and_in_warehouse_aggregation_match_duckdb(
    bigquery, env, monkeypatch, ingest_client, provider_key, aggregate, store, tmp_path
):
    url = bigquery.warehouse_url(DATASET)
    warehouse = open_warehouse(url)
    try:
        prepare_warehouse(warehouse)  # Terraform's part in the cloud: the dataset and its tables
    finally:
        warehouse.close()
    monkeypatch.setenv("ANALYTICS_EVENT_SINK", bigquery.sink_url(DATASET))
    monkeypatch.setenv("ANALYTICS_PSEUDONYM_SALT", SALT)
    reset_settings()

    traffic = generate_day(12, seed=5, now=datetime.now(UTC) - timedelta(days=1), provider_id="acme")
    answers = send(ingest_client, provider_key, traffic)
    assert {
        a["deduplication"] for r, a in zip(traffic.requests, answers, strict=True) if r.kind == "events"
    } == {"deferred"}
    assert not list(store.scan_events(None, datetime.now(UTC), 10))  # no event went to the store
    appended = count(bigquery, url, "event_landing")
    assert appended > traffic.truth.accepted  # retried batches landed twice

    first = aggregate(url=url)
    assert first.status == "ok" and first.kpi_rows_written > 0
    assert first.read["events"] == appended
    assert count(bigquery, url, "raw_events") == traffic.truth.accepted
    through_bigquery = bigquery_kpis(bigquery, url)

    # Privacy: no raw customer identifier in what the sink wrote or what the run derived from it.
    raw_ids = customer_identifiers(traffic)
    for name, columns in (
        ("event_landing", "participant_id, custom_data"),
        ("raw_events", "participant_id, TO_JSON_STRING(custom_data)"),
        ("raw_conversations", "customer_id, contact_id"),
    ):
        cells = read_rows(url, f"SELECT {columns} FROM {table(bigquery, name)}")
        text = " ".join(str(v) for row in cells for v in row.values() if v is not None)
        assert not [raw for raw in raw_ids if raw in text], name

    # The same day through the store, counted by DuckDB.
    monkeypatch.delenv("ANALYTICS_EVENT_SINK")
    reset_settings()
    send(ingest_client, provider_key, traffic)
    marks = {
        n: store.get_watermark(f"aggregate.{n}")
        for n in ("conversations", "events", "failed_events", "activities")
    }
    for name in marks:
        store.set_watermark(Watermark(f"aggregate.{name}", None))
    duckdb = f"duckdb:///{tmp_path / 'store-path.duckdb'}"
    aggregate(url=duckdb)
    assert rounded(kpi_table(duckdb)) == through_bigquery
    for mark in marks.values():
        store.set_watermark(mark)

    # Back to the sink: a late event restates its day (each emulated run costs ~20 s: re-runs and
    # crashes are proved on the same SQL in test_landing.py).
    monkeypatch.setenv("ANALYTICS_EVENT_SINK", bigquery.sink_url(DATASET))
    reset_settings()
    conversation = next(r.body["conversation"] for r in traffic.requests if r.kind == "conversation")
    cid = conversation["conversationId"]
    session = (conversation.get("sessions") or [conversation.get("session")])[0]["sessionId"]
    late = ingest_client.post(
        "/v1/events",
        json={
            "conversationId": cid,
            "providerSessionId": session,
            "events": [ev(f"{cid}-late", "CallHold", traffic.day, 600)],
        },
        headers={"Authorization": f"Bearer {provider_key}"},
    )
    assert late.status_code == 200 and late.json["accepted"] == 1

    # In the same run, an erasure reaches raw_events and the landing table.
    pseudonyms = pseudonymizer()
    logged = {
        r["participant_id"]
        for r in read_rows(url, f"SELECT DISTINCT participant_id FROM {table(bigquery, 'event_landing')}")
    }
    customer, handles = next(
        (c["customerId"], ps)
        for c in (r.body["conversation"] for r in traffic.requests if r.kind == "conversation")
        if c.get("customerId")
        and (
            ps := {
                p["participantId"]
                for s in (c.get("sessions") or [c.get("session") or {}])
                for p in s.get("participants", [])
                if p.get("participantType") == "customer"
            }
        )
        and {pseudonyms("acme", p) for p in ps} & logged
    )
    erased = ingest_client.delete(
        f"/v1/customers/{quote(customer, safe='')}", headers={"Authorization": f"Bearer {provider_key}"}
    )
    assert erased.status_code == 202, erased.json
    after = aggregate(url=url)
    assert after.read["events"] == 1 and after.erasures_applied == 1
    assert traffic.day.isoformat() in after.days
    assert count(bigquery, url, "raw_events") == traffic.truth.accepted + 1
    gone = {pseudonyms("acme", p) for p in handles}
    for name in ("event_landing", "raw_events"):
        left = read_rows(url, f"SELECT DISTINCT participant_id FROM {table(bigquery, name)}")
        assert not {r["participant_id"] for r in left} & gone, name
