"""Customer erasure end to end: over HTTP, in the store, then in the warehouse by the next run."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import duckdb
import pytest

from shared.privacy.pseudonym import pseudonymizer
from tests.support.cif import CIF_PROVIDER_ID, init_log_analytics
from tools.traffic import Traffic


def _repeat_customer(traffic: Traffic) -> str:
    """A customer with more than one conversation in the day."""
    seen: dict[str, set[str]] = defaultdict(set)
    for request in traffic.requests:
        conversation = request.body.get("conversation")
        if isinstance(conversation, dict) and conversation.get("customerId"):
            seen[conversation["customerId"]].add(conversation["conversationId"])
    customer = next((c for c, ids in seen.items() if len(ids) > 1), None)
    assert customer is not None
    return customer


def _warehouse(env: dict[str, str], sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(env["ANALYTICS_WAREHOUSE"].removeprefix("duckdb:///"), read_only=True) as con:
        return con.execute(sql).fetchall()


def _erase(ingest_client: Any, key: str, customer: str) -> Any:
    path = f"/v1/customers/{quote(customer, safe='')}"
    return ingest_client.delete(path, headers={"Authorization": f"Bearer {key}"})


def test_erasure_removes_the_customer_from_store_and_warehouse_and_counts_once(
    env, day_of_traffic, aggregate, store, ingest_client, provider_key
):
    aggregate()
    customer = _repeat_customer(day_of_traffic)
    pseudonym = pseudonymizer()("acme", customer)
    conversations = [c.conversation_id for c in store.customer_conversations("acme", customer)]
    assert len(conversations) > 1
    assert (
        _warehouse(env, f"SELECT COUNT(*) FROM raw_conversations WHERE customer_id = '{pseudonym}'")[0][0] > 1
    )

    first = _erase(ingest_client, provider_key, customer)
    assert first.status_code == 202, first.json
    receipt = first.json
    assert receipt["status"] == "pending"
    assert receipt["counts"]["conversations"] == len(conversations)
    assert receipt["counts"]["events"] > 0

    # The store: nothing left that names the customer; the KPI material (times, agents) stays.
    assert store.customer_conversations("acme", customer) == []
    for conversation_id in conversations:
        data = store.get_conversation("acme", conversation_id).data
        assert customer not in str(data) and "customerId" not in data and "regionData" not in data
        assert data["channel"] and data["conversationTimestamp"]
    assert not [f for f in store.list_failed_events("acme", None, 500).items if customer in f.payload]

    again = _erase(ingest_client, provider_key, customer)
    assert again.status_code == 202
    assert again.json["erasureId"] == receipt["erasureId"]

    report = aggregate()
    assert report.erasures_applied == 1
    assert _erase(ingest_client, provider_key, customer).json["status"] == "applied"

    # The warehouse: the pseudonym is gone from every table; the erasure is counted once, today.
    for table, column in (
        ("raw_conversations", "customer_id"),
        ("fact_conversations", "customer_id"),
        ("raw_participants", "participant_id"),
        ("raw_events", "participant_id"),
    ):
        assert _warehouse(env, f"SELECT COUNT(*) FROM {table} WHERE {column} = '{pseudonym}'") == [(0,)], (
            table
        )
    assert _warehouse(env, "SELECT provider_id, erasure_id FROM customer_erasures") == [
        ("acme", receipt["erasureId"])
    ]
    today = datetime.now(UTC).date()
    assert _warehouse(
        env,
        "SELECT day, value FROM kpi_provider_daily WHERE kpi = 'customers_deleted' AND provider_id = 'acme'",
    ) == [(today, 1.0)]


def test_unknown_customers_are_404_and_other_providers_cannot_reach_them(
    env, day_of_traffic, ingest_client, provider_key, providers_client, admin, store
):
    customer = _repeat_customer(day_of_traffic)
    missing = _erase(ingest_client, provider_key, "nobody-we-know")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "customer_not_found"

    created = providers_client.post(
        "/v1/providers", json={"providerId": "globex", "name": "Globex"}, headers=admin
    )
    other = _erase(ingest_client, created.json["apiKey"], customer)  # analytics off: erasure still works
    assert other.status_code == 404 and other.json["error"]["code"] == "customer_not_found"
    assert len(store.customer_conversations("acme", customer)) > 1  # untouched


@pytest.mark.parametrize("customer", ["x" * 101, "tab\there"])
def test_invalid_customer_ids_are_422(env, ingest_client, provider_key, customer):
    answer = _erase(ingest_client, provider_key, customer)
    assert answer.status_code == 422 and answer.json["error"]["code"] == "invalid_customer_id"


def test_erasure_of_a_cif_conversation_removes_names_and_custom_data_at_every_level(
    env, ingest_client, provider_key, store
):
    """A CIF integration's conversation (with our customerId, by which an erasure finds it): the
    customer's contact ids, the desktop session's name, free text and custom data go at every level;
    the ids and reasons the KPIs and drill-downs use stay."""
    body = init_log_analytics("cif-erase", datetime.now(UTC) - timedelta(hours=3))
    body["conversation"]["customerId"] = "cust-cif-1"
    headers = {"Authorization": f"Bearer {provider_key}"}
    assert ingest_client.post("/v1/conversations", json=body, headers=headers).status_code == 201

    assert _erase(ingest_client, provider_key, "cust-cif-1").status_code == 202
    data = store.get_conversation("acme", "cif-erase").data
    for gone in (
        "customerId",
        "contactId",
        "externalContactId",
        "regionData",
        "additionalData",
        "customData",
    ):
        assert gone not in data, gone
    [session] = data["sessions"]
    for gone in ("sessionName", "clientSessionName", "sessionAdditionalData", "customData"):
        assert gone not in session, gone
    assert (session["clientSessionId"], session["externalCorrelationId"]) == (
        "cif-erase-desk",
        "pbx-leg-cif-erase-s1",
    )
    [agent] = session["participants"]  # the customer participant is gone
    assert (agent["participantType"], agent["externalParticipantId"], agent["participantAssignReason"]) == (
        "agent",
        "ext-agent-7",
        "Routed",
    )
    assert "customData" not in agent
    assert (data["externalAccountId"], data["providerId"]) == ("erp-account-42", CIF_PROVIDER_ID)
