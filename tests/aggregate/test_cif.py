"""A CIF integration, end to end: its documented initLogAnalytics and logAnalyticsEvent payloads, sent
unchanged over HTTP, become the session and conversation KPIs of ``kpi_daily``.

CIF's logAnalyticsEvent names the session by ``providerSessionId`` and by ``clientSessionId`` (the
agent desktop's id that initLogAnalytics registered on the session). The reference describes
``providerSessionId`` as "<Channel Integration Framework Provider Id>", so an integration may well send
its CIF provider id there: the events must still count on the session that ``clientSessionId`` names,
also when they arrive before their conversation, and retries must stay duplicates.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from tests.aggregate.conftest import kpi_table, kpi_total, read_rows
from tests.aggregate.traffic import DAY_1
from tests.support.cif import (
    CIF_PROVIDER_ID,
    cif_participant,
    cif_session,
    handled_call_events,
    init_log_analytics,
    log_analytics_event,
)

START = datetime.combine(DAY_1, time(9, 0), tzinfo=UTC)


class CifProvider:
    """Provider ``acme`` calling the ingest function as a CIF integration would."""

    def __init__(self, client: Any, key: str):
        self.client = client
        self.headers = {"Authorization": f"Bearer {key}"}

    def init_log_analytics(self, data: dict[str, Any]) -> None:
        resp = self.client.post("/v1/conversations", json=data, headers=self.headers)
        assert resp.status_code in (200, 201), resp.json

    def log_analytics_event(self, data: dict[str, Any]) -> dict[str, Any]:
        resp = self.client.post("/v1/events", json=data, headers=self.headers)
        assert resp.status_code == 200, resp.json
        return resp.json


@pytest.fixture
def cif(ingest_client, provider_key) -> CifProvider:
    return CifProvider(ingest_client, provider_key)


def _call(conversation_id: str, offset_min: int) -> tuple[datetime, dict[str, Any]]:
    start = START + timedelta(minutes=offset_min)
    return start, init_log_analytics(conversation_id, start)


def _events(conversation_id: str, start: datetime, answer_s: float, provider_session_id: str) -> dict:
    return log_analytics_event(
        conversation_id,
        provider_session_id,
        f"{conversation_id}-desk",
        "agent-7",
        handled_call_events(start, answer_s),
    )


def _session_of_events(url: str, conversation_id: str) -> set[str]:
    rows = read_rows(
        url, f"SELECT DISTINCT session_id FROM raw_events WHERE conversation_id = '{conversation_id}'"
    )
    return {r["session_id"] for r in rows}


def test_documented_cif_payloads_give_the_session_and_conversation_kpis(cif, aggregate, env):
    url = env["ANALYTICS_WAREHOUSE"]
    # A: in order; providerSessionId is the session's sessionId.
    start_a, conv_a = _call("cif-a", 0)
    cif.init_log_analytics(conv_a)
    cif.log_analytics_event(_events("cif-a", start_a, 20, "cif-a-s1"))
    # B: in order; providerSessionId read as the reference's "<... Provider Id>": the session is the one
    # registered with the clientSessionId.
    start_b, conv_b = _call("cif-b", 10)
    cif.init_log_analytics(conv_b)
    cif.log_analytics_event(_events("cif-b", start_b, 30, CIF_PROVIDER_ID))
    # C: out of order; the events come first and are aggregated before their conversation exists.
    start_c, conv_c = _call("cif-c", 20)
    batch_c = _events("cif-c", start_c, 40, CIF_PROVIDER_ID)
    assert cif.log_analytics_event(batch_c)["accepted"] == 6
    # D: a bot session, then the agent session (a second initLogAnalytics): the events name the agent
    # session's clientSessionId, never the bot's.
    start_d = START + timedelta(minutes=30)
    bot = cif_session("cif-d", "cif-d-bot", "cif-d-bot-desk", start_d, agent=None)
    bot["participants"].append(
        cif_participant("cif-d", "cif-d-bot", "bot-1", start_d + timedelta(seconds=1), kind="bot")
    )
    cif.init_log_analytics(init_log_analytics("cif-d", start_d, session=bot))
    cif.init_log_analytics(
        init_log_analytics(
            "cif-d",
            start_d,
            session=cif_session("cif-d", "cif-d-agent", "cif-d-desk", start_d, customer=None),
        )
    )
    cif.log_analytics_event(_events("cif-d", start_d, 50, CIF_PROVIDER_ID))

    first = aggregate()
    assert first.status == "ok"
    # C waits for its conversation: its events keep the session as sent, nothing counts yet.
    assert _session_of_events(url, "cif-c") == {CIF_PROVIDER_ID}
    assert kpi_total(url, "incoming_sessions", DAY_1) == 3
    assert kpi_total(url, "sessions_engaged", DAY_1) == 3

    cif.init_log_analytics(conv_c)
    second = aggregate()
    assert second.read["conversations"] == 1 and second.read["events"] == 0
    for conversation_id, session_id in (
        ("cif-a", "cif-a-s1"),
        ("cif-b", "cif-b-s1"),
        ("cif-c", "cif-c-s1"),
        ("cif-d", "cif-d-agent"),
    ):
        assert _session_of_events(url, conversation_id) == {session_id}, conversation_id

    expected = {
        "incoming_sessions": 4,
        "sessions_engaged": 4,
        "sessions_rejected": 0,
        "incoming_conversations": 4,
        "conversations_handled": 4,
        "conversations_abandoned": 0,
        # first queue entry (2 s after the start) -> accept
        "avg_speed_to_answer_s": (18 + 28 + 38 + 48) / 4,
        # NotificationReceived (5 s) -> accept
        "avg_session_time_to_accept_s": (15 + 25 + 35 + 45) / 4,
        "avg_session_wait_time_s": (18 + 28 + 38 + 48) / 4,
        "csat_rate": 1.0,
    }
    got = {kpi: kpi_total(url, kpi, DAY_1) for kpi in expected}
    assert got == pytest.approx(expected)
    by_queue = read_rows(
        url,
        "SELECT queue_id, agent_id, value FROM kpi_daily WHERE kpi = 'sessions_engaged' "
        "AND queue_id IS NOT NULL AND agent_id IS NOT NULL AND channel IS NULL",
    )
    assert by_queue == [{"queue_id": "billing", "agent_id": "agent-7", "value": 4.0}]

    # Retries of the documented payloads are duplicates; nothing moves.
    table = kpi_table(url)
    again = cif.log_analytics_event(batch_c)
    assert (again["accepted"], again["duplicates"]) == (0, 6)
    cif.init_log_analytics(conv_c)
    aggregate()
    assert kpi_table(url) == table


def test_cif_fields_reach_the_raw_tables_and_personal_ones_only_as_pseudonyms(cif, aggregate, env):
    url = env["ANALYTICS_WAREHOUSE"]
    start, conv = _call("cif-a", 0)
    cif.init_log_analytics(conv)
    cif.log_analytics_event(_events("cif-a", start, 20, CIF_PROVIDER_ID))
    aggregate()

    [row] = read_rows(url, "SELECT * FROM raw_conversations WHERE conversation_id = 'cif-a'")
    sent = conv["conversation"]
    assert {k: row[k] for k in ("provider_id", "direction", "account_id")} == {
        "provider_id": "acme",  # the API key's provider, whatever the body's providerId says
        "direction": "inbound",
        "account_id": sent["accountId"],
    }
    assert {
        "backend_conversation_id": row["backend_conversation_id"],
        "channel_context": row["channel_context"],
        "external_correlation_id": row["external_correlation_id"],
        "cif_provider_id": row["cif_provider_id"],
        "cif_provider_name": row["cif_provider_name"],
        "external_provider_id": row["external_provider_id"],
        "external_provider_name": row["external_provider_name"],
        "external_account_id": row["external_account_id"],
    } == {
        "backend_conversation_id": sent["backendConversationId"],
        "channel_context": sent["channelContext"],
        "external_correlation_id": sent["externalCorrelationId"],
        "cif_provider_id": sent["providerId"],
        "cif_provider_name": sent["providerName"],
        "external_provider_id": sent["externalProviderId"],
        "external_provider_name": sent["externalProviderName"],
        "external_account_id": sent["externalAccountId"],
    }
    assert row["contact_id"].startswith("ps_") and row["external_contact_id"].startswith("ps_")
    assert row["contact_id"] != row["external_contact_id"]
    assert _json(row["custom_data"]) == {"tier": "gold", "vip": True}

    [session] = read_rows(url, "SELECT * FROM raw_sessions WHERE conversation_id = 'cif-a'")
    cif_s = sent["session"]
    assert (
        session["session_name"],
        session["client_session_id"],
        session["creation_reason"],
        session["external_correlation_id"],
        _json(session["custom_data"]),
    ) == (
        cif_s["sessionName"],
        cif_s["clientSessionId"],
        cif_s["sessionCreationReason"],
        cif_s["externalCorrelationId"],
        {"ivrPath": "1-3"},
    )

    people = read_rows(
        url,
        "SELECT participant_id, participant_type, external_participant_id, assign_reason, custom_data "
        "FROM raw_participants WHERE conversation_id = 'cif-a' ORDER BY participant_type",
    )
    agent = next(p for p in people if p["participant_type"] == "agent")
    customer = next(p for p in people if p["participant_type"] == "customer")
    assert (agent["participant_id"], agent["external_participant_id"], agent["assign_reason"]) == (
        "agent-7",
        "ext-agent-7",
        "Routed",
    )
    assert _json(agent["custom_data"]) == {"skill": "billing", "level": 2}
    assert customer["participant_id"].startswith("ps_") and customer["external_participant_id"].startswith(
        "ps_"
    )

    events = read_rows(
        url,
        "SELECT name, session_id, provider_session_id, client_session_id, external_correlation_id "
        "FROM raw_events WHERE conversation_id = 'cif-a'",
    )
    assert len(events) == 6
    assert {(e["session_id"], e["provider_session_id"], e["client_session_id"]) for e in events} == {
        ("cif-a-s1", CIF_PROVIDER_ID, "cif-a-desk")
    }
    assert all(e["external_correlation_id"].startswith(f"pbx-{e['name']}-") for e in events)

    # Names and free text stay in the store: none reaches any warehouse column.
    private = [
        cif_s["clientSessionName"],
        cif_s["sessionAdditionalData"],
        sent["regionData"],
        sent["additionalData"],
        sent["contactId"],
        sent["externalContactId"],
        *(p[k] for p in cif_s["participants"] for k in ("participantName", "externalParticipantName")),
        *(
            p[k]
            for p in cif_s["participants"]
            if p["participantType"] == "customer"
            for k in ("participantId", "externalParticipantId")
        ),
    ]
    leaks = [(t, c, v) for t, c, v in _text_cells(url) for raw in private if raw in v]
    assert leaks == []


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _text_cells(url: str) -> list[tuple[str, str, str]]:
    columns = read_rows(
        url,
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'main' AND data_type IN ('VARCHAR', 'JSON')",
    )
    cells = []
    for column in columns:
        table, name = column["table_name"], column["column_name"]
        for row in read_rows(url, f'SELECT CAST("{name}" AS VARCHAR) AS v FROM "{table}"'):
            if row["v"] is not None:
                cells.append((table, name, row["v"]))
    return cells
