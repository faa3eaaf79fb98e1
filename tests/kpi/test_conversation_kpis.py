"""Conversation KPIs on small, hand-computed days, through DuckDB and the reference alike."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.kpi.reference import reference_kpi_rows
from tests.kpi.compare import assert_same_rows
from tests.kpi.scenario import DAY, Scenario, at
from tests.kpi.test_session_kpis import totals
from tests.kpi.warehouse import KpiWarehouse

NEXT = DAY + timedelta(days=1)


def answered(s: Scenario, cid: str, start: str, accept_after: int, *, close_after: int = 600, **kw) -> None:
    """An inbound conversation queued at ``start``, accepted ``accept_after`` s later, closed later."""
    begin = at(start)
    s.conversation(cid, begin, closed=begin + timedelta(seconds=close_after), **kw)
    s.session(cid, "s1", begin, queued=begin)
    s.event(cid, "s1", "NotificationReceived", begin)
    s.event(cid, "s1", "NotificationResponse", begin + timedelta(seconds=accept_after), action="Accept")
    s.event(cid, "s1", "SessionClosed", begin + timedelta(seconds=close_after - 30), reason="Completed")


def service_day() -> Scenario:
    """Three answered calls (8 s, 25 s, 90 s), one abandoned after 40 s, one outbound call.

    c3 also has a hold of 60 s and a second hold still open at the close (another 30 s), a
    wrap-up of 60 s, a transfer, a first response of 12 s and two survey answers.
    """
    s = Scenario()
    answered(s, "c1", "09:00:00", 8)
    answered(s, "c2", "10:00:00", 25)
    answered(s, "c3", "11:00:00", 90, close_after=900)
    s.event("c3", "s1", "CallHold", at("11:05:00"))
    s.event("c3", "s1", "CallHold", at("11:05:30"))  # a repeat: still one hold
    s.event("c3", "s1", "CallUnhold", at("11:06:00"))
    s.event("c3", "s1", "CallHold", at("11:14:30"))  # open when the conversation closes at 11:15:00
    s.event("c3", "s1", "WrapUpStarted", at("11:13:30"))
    s.session("c3", "s2", at("11:14:00"), agent="agent-2")
    s.event("c3", "s2", "NotificationReceived", at("11:14:00"))
    s.event("c3", "s2", "NotificationResponse", at("11:14:05"), action="Reject")
    s.event("c3", "s2", "SessionClosed", at("11:14:06"), reason="Transferred")
    s.event(
        "c3", "s1", "MessageSent", at("11:02:00"), data={"sender": "agent"}
    )  # before the customer: ignored
    s.event("c3", "s1", "MessageSent", at("11:03:00"), data={"sender": "customer"})
    s.event("c3", "s1", "MessageSent", at("11:03:05"), data={"sender": "bot"})
    s.event("c3", "s1", "MessageSent", at("11:03:12"), data={"sender": "agent"})
    s.event("c3", "s1", "SurveyAnswered", at("11:16:00"), data={"csat": 5, "nps": 10})
    s.event("c3", "s1", "SurveyAnswered", at("11:16:10"), data={"csat": 3, "nps": 4})
    s.event("c1", "s1", "SurveyAnswered", at("09:11:00"), data={"nps": 8})
    # abandoned: queued at 12:00:00, offered, never accepted, customer gone at 12:00:40
    s.conversation("c4", at("11:59:00"), closed=at("12:00:40"))
    s.session("c4", "s1", at("11:59:00"), queued=at("12:00:00"))
    s.event("c4", "s1", "NotificationReceived", at("12:00:05"))
    s.event("c4", "s1", "NotificationTimedOut", at("12:00:35"))
    s.conversation("c5", at("13:00:00"), direction="outbound", closed=at("13:05:00"))
    return s


@pytest.fixture
def service(warehouse: KpiWarehouse) -> dict[str, dict]:
    s = service_day()
    rows = warehouse.run(s.raw())
    assert_same_rows(rows, reference_kpi_rows(s.raw()))
    return totals(rows)


def test_conversation_counts(service):
    assert service["incoming_conversations"]["value"] == 4
    assert service["outgoing_conversations"]["value"] == 1
    assert service["conversations_handled"]["value"] == 3
    assert service["conversations_abandoned"]["value"] == 1
    assert service["abandon_rate"]["value"] == pytest.approx(0.25)


def test_answer_speed_and_service_levels(service):
    assert service["avg_speed_to_answer_s"]["value"] == pytest.approx((8 + 25 + 90) / 3)
    assert service["avg_time_to_abandon_s"]["value"] == pytest.approx(40.0)
    expected = {10: 1 / 3, 20: 1 / 3, 30: 2 / 3, 60: 2 / 3, 120: 1.0}
    for seconds, share in expected.items():
        assert service[f"service_level_{seconds}s_rate"]["value"] == pytest.approx(share), seconds


def test_durations_average_over_handled_conversations(service):
    # handle: c1 8 s → 570 s = 562, c2 25 → 570 = 545, c3 90 → 870 = 780 (no focus, no SessionStarted)
    assert service["avg_handle_time_s"]["value"] == pytest.approx((562 + 545 + 780) / 3)
    # hold: only c3, 60 s + 30 s (open hold ends at the close); c1 and c2 count as 0
    assert service["avg_hold_time_s"]["value"] == pytest.approx(90 / 3)
    # wrap-up: c3 11:13:30 → session close 11:14:30 = 60 s
    assert service["avg_wrap_up_time_s"]["value"] == pytest.approx(60 / 3)
    # conversation time: 600, 600, 900, 100 (c4 11:59:00 → 12:00:40), 300
    assert service["avg_conversation_time_s"]["value"] == pytest.approx((600 + 600 + 900 + 100 + 300) / 5)
    assert service["avg_first_response_time_s"]["value"] == pytest.approx(12.0)


def test_transfers_surveys_and_nps(service):
    assert service["transfer_rate"]["value"] == pytest.approx(1 / 3)
    assert (service["csat_rate"]["numerator"], service["csat_rate"]["denominator"]) == (1, 2)
    # nps answers 10, 4, 8: one promoter, one detractor, one passive → 0
    assert (service["nps"]["numerator"], service["nps"]["denominator"], service["nps"]["value"]) == (0, 3, 0)
    assert service["nps"]["unit"] == "score"


def test_conversations_slice_by_their_primary_queue_and_agent(warehouse):
    rows = warehouse.run(service_day().raw())
    agents = {
        r["agent_id"]: r["value"]
        for r in rows
        if r["kpi"] == "conversations_handled" and r["agent_id"] is not None and r["queue_id"] is None
    }
    # c3 was accepted by agent-1 and offered to agent-2: it belongs to agent-1; c5 had no session
    assert agents == {"agent-1": 3, "(none)": 0}
    channels = {r["channel"] for r in rows if r["channel"] is not None}
    assert channels == {"voice"}


def test_nps_of_promoters_only_is_100(warehouse):
    s = Scenario()
    answered(s, "c1", "09:00:00", 5)
    s.event("c1", "s1", "SurveyAnswered", at("09:20:00"), data={"nps": 9})
    s.event("c1", "s1", "SurveyAnswered", at("09:21:00"), data={"nps": 10})
    kpis = totals(warehouse.run(s.raw()))
    assert kpis["nps"]["value"] == pytest.approx(100.0)
    assert kpis["csat_rate"]["value"] is None, "no csat answers: no rate, not 0"


def fcr_days() -> Scenario:
    """Customer cu-1: resolved r1 (closed day 1, 10:00), calls again 71 h later (r2, inbound) → r1 is
    not a first-contact resolution. cu-2: resolved r3, next inbound 73 h later → r3 is. r4 resolved
    without a known customer is left out. r2 (resolved, nothing after) counts."""
    s = Scenario()
    s.conversation("r1", at("09:00:00"), customer_id="cu-1")
    s.event("r1", "s1", "ConversationClosed", at("10:00:00"), reason="Resolved")
    s.conversation("r2", at("10:00:00") + timedelta(hours=71), customer_id="cu-1")
    s.event("r2", "s1", "ConversationClosed", at("10:00:00") + timedelta(hours=72), reason="Resolved")
    s.conversation("r3", at("09:00:00"), customer_id="cu-2")
    s.event("r3", "s1", "ConversationClosed", at("10:00:00"), reason="Resolved")
    s.conversation("r5", at("10:00:00") + timedelta(hours=73), customer_id="cu-2")
    s.conversation("r4", at("09:00:00"))
    s.event("r4", "s1", "ConversationClosed", at("09:30:00"), reason="Resolved")
    return s


def test_first_contact_resolution_looks_72_hours_ahead(warehouse):
    s = fcr_days()
    rows = warehouse.run(s.raw())
    assert_same_rows(rows, reference_kpi_rows(s.raw()))
    day1 = totals(rows)["first_contact_resolution_rate"]
    assert (day1["numerator"], day1["denominator"]) == (1, 2)
    later = totals(rows, DAY + timedelta(days=3))["first_contact_resolution_rate"]
    assert (later["numerator"], later["denominator"]) == (1, 1)


def test_a_late_repeat_contact_restates_the_earlier_day(warehouse):
    """The repeat call arrives in a later aggregation: day 1 is recomputed through the look-back."""
    s = fcr_days()
    first = {k: [r for r in rows if r["conversation_id"] != "r2"] for k, rows in s.raw().items()}
    warehouse.aggregate(warehouse.load(first))
    before = totals(warehouse.kpi_rows())["first_contact_resolution_rate"]
    assert (before["numerator"], before["denominator"]) == (2, 2)
    late = {k: [r for r in rows if r["conversation_id"] == "r2"] for k, rows in s.raw().items()}
    days = warehouse.aggregate(warehouse.load(late))
    assert ("acme", DAY) in days
    after = totals(warehouse.kpi_rows())["first_contact_resolution_rate"]
    assert (after["numerator"], after["denominator"]) == (1, 2)


def test_a_conversation_that_moves_day_leaves_no_rows_behind(warehouse):
    """A corrected close time moves the conversation to the next day; the old day is emptied."""
    s = Scenario()
    s.conversation("c1", at("09:00:00"), direction="outbound", closed=at("09:10:00"))
    warehouse.aggregate(warehouse.load(s.raw()))
    moved = Scenario()
    moved.conversation("c1", at("09:00:00"), direction="outbound", closed=at("00:10:00", NEXT))
    warehouse.aggregate(warehouse.load(moved.raw()))
    rows = warehouse.kpi_rows()
    assert {r["day"] for r in rows} == {NEXT}
    assert totals(rows, NEXT)["outgoing_conversations"]["value"] == 1
