"""Session KPIs (seed 003) on small, hand-computed days, through DuckDB and the reference alike."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.kpi.reference import reference_kpi_rows
from tests.kpi.compare import assert_same_rows
from tests.kpi.scenario import DAY, Scenario, at
from tests.kpi.warehouse import KpiWarehouse


def totals(rows: list[dict], day=DAY, provider: str = "acme") -> dict[str, dict]:
    return {
        r["kpi"]: r
        for r in rows
        if r["day"] == day
        and r["provider_id"] == provider
        and r["channel"] is None
        and r["queue_id"] is None
        and r["agent_id"] is None
    }


def offered_day() -> Scenario:
    """Four agent sessions on one day: accepted, rejected, timed out, accepted then transferred.

    s1: offered 09:00:10 (NotificationReceived), accepted 09:00:25, started, closed 09:10:00.
    s2: agent assigned 10:00:00 (no NotificationReceived), rejected 10:00:08 (closes it).
    s3: offered 11:00:00, timed out 11:00:30 (closes it).
    s4: offered 12:00:00, accepted 12:00:05, focus 12:00:05-12:01:05 and 12:02:00-12:03:00, closed
        12:04:00 with reason Transferred; one consult requested and accepted, one requested and rejected.
    """
    s = Scenario()
    s.conversation("c1", at("09:00:00"), closed=at("12:05:00"))
    s.session("c1", "s1", at("09:00:00"), queued=at("09:00:05"))
    s.event("c1", "s1", "NotificationReceived", at("09:00:10"))
    s.event("c1", "s1", "NotificationResponse", at("09:00:25"), action="Accept")
    s.event("c1", "s1", "SessionStarted", at("09:00:30"))
    s.event("c1", "s1", "SessionClosed", at("09:10:00"), reason="Completed")
    s.session("c1", "s2", at("10:00:00"), assigned=at("10:00:00"), agent="agent-2")
    s.event("c1", "s2", "NotificationResponse", at("10:00:08"), action="Reject")
    s.session("c1", "s3", at("11:00:00"), agent="agent-3")
    s.event("c1", "s3", "NotificationReceived", at("11:00:00"))
    s.event("c1", "s3", "NotificationTimedOut", at("11:00:30"))
    s.session("c1", "s4", at("12:00:00"), queued=at("11:59:00"), consults=["agent-8", "agent-9"])
    s.event("c1", "s4", "NotificationReceived", at("12:00:00"))
    s.event("c1", "s4", "NotificationResponse", at("12:00:05"), action="Accept")
    s.event("c1", "s4", "SessionInFocus", at("12:00:05"))
    s.event("c1", "s4", "SessionOutOfFocus", at("12:01:05"))
    s.event("c1", "s4", "SessionInFocus", at("12:02:00"))
    s.event("c1", "s4", "SessionOutOfFocus", at("12:03:00"))
    s.event("c1", "s4", "NotificationResponse", at("12:01:00"), action="Accept", participant_id="agent-8")
    s.event("c1", "s4", "NotificationResponse", at("12:01:10"), action="Reject", participant_id="agent-9")
    s.event("c1", "s4", "SessionClosed", at("12:04:00"), reason="Transferred")
    return s


@pytest.fixture
def offered(warehouse: KpiWarehouse) -> dict[str, dict]:
    s = offered_day()
    rows = warehouse.run(s.raw())
    assert_same_rows(rows, reference_kpi_rows(s.raw()))
    return totals(rows)


def test_session_counts_follow_the_offer_outcome(offered):
    assert offered["incoming_sessions"]["value"] == 4
    assert offered["sessions_engaged"]["value"] == 2
    assert offered["sessions_rejected"]["value"] == 1
    assert offered["sessions_timed_out"]["value"] == 1
    assert offered["sessions_transferred"]["value"] == 1
    assert offered["incoming_sessions"]["unit"] == "count"
    assert offered["incoming_sessions"]["denominator"] is None


def test_session_rates_divide_by_incoming_sessions(offered):
    for name in ("session_rejection_rate", "session_timeout_rate", "session_transfer_rate"):
        row = offered[name]
        assert (row["numerator"], row["denominator"], row["value"]) == (1, 4, 0.25), name
        assert row["unit"] == "ratio"


def test_session_time_averages(offered):
    # accept: s1 15 s (NotificationReceived 09:00:10 → 09:00:25), s4 5 s
    assert offered["avg_session_time_to_accept_s"]["value"] == pytest.approx(10.0)
    # reject: s2 has no NotificationReceived, so it is timed from the agent assignment: 8 s
    assert offered["avg_session_time_to_reject_s"]["value"] == pytest.approx(8.0)
    # wait: queue assigned → accepted: s1 20 s, s4 65 s
    assert offered["avg_session_wait_time_s"]["value"] == pytest.approx(42.5)
    # handle: s1 has no focus events: SessionStarted 09:00:30 → closed 09:10:00 = 570 s;
    # s4 is focused 60 s + 60 s = 120 s
    row = offered["avg_session_handle_time_s"]
    assert (row["numerator"], row["denominator"]) == (690, 2)
    assert row["value"] == pytest.approx(345.0)


def test_consults_are_counted_per_consult_agent(offered):
    assert offered["consults_requested"]["value"] == 2
    assert offered["consults_accepted"]["value"] == 1
    assert offered["consult_acceptance_rate"]["value"] == pytest.approx(0.5)


def test_sessions_are_sliced_by_agent_and_queue(warehouse):
    rows = warehouse.run(offered_day().raw())
    by_agent = {
        r["agent_id"]: r["value"]
        for r in rows
        if r["kpi"] == "incoming_sessions" and r["agent_id"] is not None and r["queue_id"] is None
    }
    assert by_agent == {"agent-1": 2, "agent-2": 1, "agent-3": 1}
    pairs = {
        (r["queue_id"], r["agent_id"]): r["value"]
        for r in rows
        if r["kpi"] == "sessions_engaged" and r["agent_id"] is not None and r["queue_id"] is not None
    }
    assert pairs == {("billing", "agent-1"): 2, ("billing", "agent-2"): 0, ("billing", "agent-3"): 0}


def test_zero_denominators_give_null_values_and_zero_counts(warehouse):
    """A bot-only session closes: the session rows exist, counts are 0 and every rate is NULL."""
    s = Scenario()
    s.conversation("c1", at("08:00:00"))
    s.session("c1", "bot", at("08:00:00"), agent=None, queue_id=None)
    s.event("c1", "bot", "SessionClosed", at("08:05:00"), reason="Completed")
    rows = warehouse.run(s.raw())
    assert_same_rows(rows, reference_kpi_rows(s.raw()))
    kpis = totals(rows)
    assert kpis["incoming_sessions"]["value"] == 0
    assert kpis["session_rejection_rate"]["value"] is None
    assert kpis["session_rejection_rate"]["denominator"] == 0
    assert kpis["avg_session_handle_time_s"]["value"] is None
    assert kpis["consult_acceptance_rate"]["value"] is None
    no_queue = {r["queue_id"] for r in rows if r["queue_id"] is not None}
    assert no_queue == {"(none)"}, "a missing queue is its own slice, never 'all'"
    assert "incoming_conversations" not in kpis, "an open conversation has no day yet"


def test_first_event_wins_when_events_conflict(warehouse):
    """Accept and Reject for the same offer: the earlier one decides; equal times fall back to event id."""
    s = Scenario()
    s.conversation("c1", at("09:00:00"))
    s.session("c1", "s1", at("09:00:00"))
    s.event("c1", "s1", "NotificationReceived", at("09:00:00"))
    s.event("c1", "s1", "NotificationResponse", at("09:00:09"), action="Reject", event_id="b")
    s.event("c1", "s1", "NotificationResponse", at("09:00:09"), action="Accept", event_id="a")
    s.event("c1", "s1", "SessionClosed", at("09:03:00"), reason="Completed", event_id="x")
    s.event("c1", "s1", "SessionClosed", at("09:30:00"), reason="Transferred", event_id="y")
    rows = warehouse.run(s.raw())
    assert_same_rows(rows, reference_kpi_rows(s.raw()))
    kpis = totals(rows)
    assert kpis["sessions_engaged"]["value"] == 1
    assert kpis["sessions_rejected"]["value"] == 0
    assert kpis["sessions_transferred"]["value"] == 0
    assert kpis["avg_session_handle_time_s"]["value"] == pytest.approx(171.0)


def test_sessions_count_on_their_utc_close_day(warehouse):
    """Closed at 01:00 UTC the next day — still the evening before in the warehouse session's zone."""
    s = Scenario()
    s.conversation("c1", at("23:00:00"))
    s.session("c1", "s1", at("23:00:00"))
    s.event("c1", "s1", "NotificationReceived", at("23:00:00"))
    s.event("c1", "s1", "NotificationResponse", at("23:00:10"), action="Accept")
    s.event("c1", "s1", "SessionClosed", at("01:00:00", DAY + timedelta(days=1)), reason="Completed")
    rows = warehouse.run(s.raw())
    assert {r["day"] for r in rows} == {DAY + timedelta(days=1)}
