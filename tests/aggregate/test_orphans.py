"""Events whose conversation never arrives are counted, shown to the operator and wait: the run's
report and the operator API say how many, since when, under which ids and until when they wait; once
the conversation arrives, the next run counts them in the KPIs and they are no orphans any more."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.aggregate.conftest import read_rows
from tests.aggregate.traffic import handled_events
from tests.conftest import ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_orphans_are_counted_shown_and_resolved_when_the_conversation_arrives(
    env, acme, aggregate, providers_client
):
    day = datetime.now(UTC).date() - timedelta(days=1)
    acme.conversation("c-known", day, closed=True)
    acme.events("c-known", *handled_events("c-known", day, 10, None))
    lost = handled_events("c-lost", day, 30, None)
    acme.events("c-lost", *lost)  # its conversation is never registered (yet)
    acme.events("c-lost-too", *handled_events("c-lost-too", day, 50, None)[:2])

    report = aggregate()
    assert (report.orphan_events, report.orphan_conversations) == (len(lost) + 2, 2)
    shown = providers_client.get("/v1/providers/acme/orphan-events", headers=ADMIN)
    assert shown.status_code == 200, shown.json
    body = shown.json
    assert (body["events"], body["conversations"]) == (len(lost) + 2, 2)
    assert [e["conversationId"] for e in body["examples"]] == ["c-lost", "c-lost-too"]
    oldest = datetime.fromisoformat(body["oldestEventTimestamp"])
    # They wait as long as their day is kept: 730 days by default.
    assert datetime.fromisoformat(body["waitsUntil"]).date() == oldest.date() + timedelta(days=731)
    kpi_conversations = read_rows(
        env["ANALYTICS_WAREHOUSE"], "SELECT conversation_id FROM fact_conversations"
    )
    assert {r["conversation_id"] for r in kpi_conversations} == {"c-known"}

    acme.conversation("c-lost", day, closed=True)
    report = aggregate()
    assert (report.orphan_events, report.orphan_conversations) == (2, 1)
    body = providers_client.get("/v1/providers/acme/orphan-events", headers=ADMIN).json
    assert [e["conversationId"] for e in body["examples"]] == ["c-lost-too"]
    kpi_conversations = read_rows(
        env["ANALYTICS_WAREHOUSE"], "SELECT conversation_id FROM fact_conversations"
    )
    assert {r["conversation_id"] for r in kpi_conversations} == {"c-known", "c-lost"}

    acme.conversation("c-lost-too", day, closed=True)
    assert aggregate().orphan_events == 0
    body = providers_client.get("/v1/providers/acme/orphan-events", headers=ADMIN).json
    assert (body["events"], body["conversations"], body["examples"], body["computedAt"]) == (0, 0, [], None)


def test_a_provider_without_orphans_sees_zero_and_other_providers_see_nothing(
    acme, aggregate, providers_client
):
    assert aggregate().orphan_events == 0
    body = providers_client.get("/v1/providers/acme/orphan-events", headers=ADMIN).json
    assert body["events"] == 0 and body["waitsUntil"] is None
    missing = providers_client.get("/v1/providers/nobody/orphan-events", headers=ADMIN)
    assert missing.status_code == 404
