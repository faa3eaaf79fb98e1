"""Chatbot KPIs (seed 002) on small, hand-computed days, through DuckDB and the reference alike.

Every expected number below is worked out by hand in the docstrings, from the session rule: the
events of one customer, across their chat conversations, in time order; a gap of MORE than 30 minutes
starts a new session; a session counts on the UTC day (and in the experience and platform) where it
started, every other chatbot KPI on the day of its event.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.kpi.bi import bi_views
from shared.kpi.families import FAMILIES
from shared.kpi.reference import reference_kpi_rows, reference_module_visits
from shared.warehouse.tables import CHAT_MODULE_VISITS
from tests.kpi.compare import assert_same_rows
from tests.kpi.scenario import DAY, Scenario, at
from tests.kpi.test_oracle import PROPERTY
from tests.kpi.traffic import raw_traffic
from tests.kpi.warehouse import KpiWarehouse

NEXT = DAY + timedelta(days=1)


def kpis(rows: list[dict], day: date = DAY, experience: str | None = None, provider: str = "bot") -> dict:
    """{kpi: value} of one day and experience slice (None = the provider's total)."""
    return {
        r["kpi"]: r["value"]
        for r in rows
        if r["day"] == day and r["provider_id"] == provider and r["experience_id"] == experience
    }


def chat(s: Scenario, cid: str, start: str, customer: str | None, experience: str | None, platform: str,
         day: date = DAY) -> None:  # fmt: skip
    s.conversation(cid, at(start, day), channel="chatbot", customer_id=customer, experience_id=experience,
                   platform=platform)  # fmt: skip


def log(s: Scenario, cid: str, name: str, clock: str, day: date = DAY, **data: Any) -> None:
    """One event; its id names the moment, so events of separate deliveries never share one."""
    s.event(cid, "s0", name, at(clock, day), data=data, event_id=f"{cid}/{day}/{clock}/{name}")


def chat_day() -> Scenario:
    """v-1 comes back across conversations and experiences; v-2's session crosses midnight; v-3 bounces.

    v-1  conv a1 (exp-a, mobile):  ChatStarted 09:00:00, UserInteracted 09:00:30, ModuleVisited door 09:01:00
         conv a2 (exp-b, desktop): ChatStarted 09:31:00 — exactly 30 min after 09:01:00: the SAME session
                                   SurveyAnswered nps 9 09:32:00
         conv a3 (exp-b, desktop): ChatStarted 10:02:01 — 30 min 1 s after 09:32:00: a NEW session (bounce)
    v-2  conv b1 (exp-a, mobile):  ChatStarted 23:50:00, UserInteracted 23:51:00, ModuleVisited door 23:52:00,
                                   ModuleVisited faq 00:10:00 (next day), SurveyAnswered nps 6 00:11:00
    v-3  conv c1 (exp-a, desktop): ChatStarted 12:00:00 (bounce), SurveyAnswered nps 7 12:00:10,
                                   nps 8 12:00:20, PinSent 12:01:00, PinVerified ok 12:02:00, failed 12:03:00,
                                   OptInGiven webpush double 12:04:00, Shared whatsapp 12:05:00,
                                   CustomerDeleted 12:06:00

    Sessions on DAY: v-1 09:00:00–09:32:00 (exp-a, mobile, interacted, 1920 s), v-1 10:02:01 (exp-b,
    desktop, bounce, 0 s), v-2 23:50:00–00:11:00 (exp-a, mobile, interacted, 1260 s: counted on DAY),
    v-3 12:00:00–12:06:00 (exp-a, desktop, bounce: no UserInteracted, 360 s).
    """
    s = Scenario(provider_id="bot")
    chat(s, "a1", "09:00:00", "v-1", "exp-a", "mobile")
    log(s, "a1", "ChatStarted", "09:00:00")
    log(s, "a1", "UserInteracted", "09:00:30", interaction="typed")
    log(s, "a1", "ModuleVisited", "09:01:00", moduleId="door", moduleName="Door")
    chat(s, "a2", "09:31:00", "v-1", "exp-b", "desktop")
    log(s, "a2", "ChatStarted", "09:31:00")
    log(s, "a2", "SurveyAnswered", "09:32:00", nps=9)
    chat(s, "a3", "10:02:01", "v-1", "exp-b", "desktop")
    log(s, "a3", "ChatStarted", "10:02:01")
    chat(s, "b1", "23:50:00", "v-2", "exp-a", "mobile")
    log(s, "b1", "ChatStarted", "23:50:00")
    log(s, "b1", "UserInteracted", "23:51:00")
    log(s, "b1", "ModuleVisited", "23:52:00", moduleId="door", moduleName="Door")
    log(s, "b1", "ModuleVisited", "00:10:00", NEXT, moduleId="faq", moduleName="FAQ")
    log(s, "b1", "SurveyAnswered", "00:11:00", NEXT, nps=6)
    chat(s, "c1", "12:00:00", "v-3", "exp-a", "desktop")
    log(s, "c1", "ChatStarted", "12:00:00")
    log(s, "c1", "SurveyAnswered", "12:00:10", nps=7)
    log(s, "c1", "SurveyAnswered", "12:00:20", nps=8)
    log(s, "c1", "PinSent", "12:01:00")
    log(s, "c1", "PinVerified", "12:02:00", success=True)
    log(s, "c1", "PinVerified", "12:03:00", success=False)
    log(s, "c1", "OptInGiven", "12:04:00", topic="webpush", level="double")
    log(s, "c1", "Shared", "12:05:00", via="whatsapp")
    log(s, "c1", "CustomerDeleted", "12:06:00")
    return s


@pytest.fixture(scope="module")
def day_rows() -> tuple[list[dict], list[dict], dict]:
    raw = chat_day().raw()
    warehouse = KpiWarehouse()
    rows = warehouse.run(raw)
    return rows, warehouse.rows(CHAT_MODULE_VISITS), raw


def test_the_sql_and_the_reference_agree_on_the_chat_day(day_rows) -> None:
    rows, visits, raw = day_rows
    assert_same_rows(rows, reference_kpi_rows(raw))
    key = ("day", "experience_id", "module_id")
    assert sorted(visits, key=lambda r: [r[k] for k in key]) == sorted(
        reference_module_visits(raw), key=lambda r: [r[k] for k in key]
    )


def test_sessions_follow_the_30_minute_rule_and_their_start(day_rows) -> None:
    rows, _, _ = day_rows
    total = kpis(rows)
    assert total["chat_sessions"] == 4  # exactly 30 min joins, 30 min 1 s splits
    assert total["chat_sessions_with_conversation"] == 2
    assert total["chat_bounces"] == 2
    assert total["chat_bounce_rate"] == 0.5
    assert total["chat_sessions_mobile"] == 2 and total["chat_sessions_desktop"] == 2
    assert total["screen_time_min"] == pytest.approx((1920 + 0 + 1260 + 360) / 60)
    # Sessions count where they started: v-1's first session in exp-a although it went on in exp-b.
    assert kpis(rows, experience="exp-a")["chat_sessions"] == 3
    assert kpis(rows, experience="exp-b")["chat_sessions"] == 1
    # v-2's session crossed midnight: it counts on DAY only.
    assert "chat_sessions" not in kpis(rows, NEXT)


def test_event_kpis_count_on_the_day_of_the_event(day_rows) -> None:
    rows, _, _ = day_rows
    total, following = kpis(rows), kpis(rows, NEXT)
    assert total["chat_starts"] == 5
    assert total["participants"] == 3  # v-1 started the chat three times: one participant
    assert kpis(rows, experience="exp-b")["participants"] == 1
    assert (total["pins_sent"], total["pins_succeeded"], total["pins_failed"]) == (1, 1, 1)
    assert total["webpush_optins_double"] == 1 and total["webpush_optins_single"] == 0
    assert total["shares_whatsapp"] == 1 and total["shares_facebook"] == 0
    assert total["customers_deleted"] == 1
    assert kpis(rows, experience="exp-a")["customers_deleted"] == 1
    assert following["chat_starts"] == 0  # the next day has chat events (v-2's), but no start


def test_nps_bands_at_their_edges(day_rows) -> None:
    """Answers 9 (DAY, exp-b), 7 and 8 (DAY, exp-a), 6 (NEXT, exp-a): 6 is a detractor, 7 and 8
    passives, 9 a promoter."""
    rows, _, _ = day_rows
    total, following = kpis(rows), kpis(rows, NEXT)
    assert (total["chat_nps_promoters"], total["chat_nps_passives"], total["chat_nps_detractors"]) == (
        1,
        2,
        0,
    )
    assert total["chat_nps"] == pytest.approx(100 * (1 - 0) / 3)
    assert (following["chat_nps_promoters"], following["chat_nps_detractors"]) == (0, 1)
    assert following["chat_nps"] == -100
    assert [total[f"chat_nps_score_{n}"] for n in (6, 7, 8, 9)] == [0, 1, 1, 1]
    assert following["chat_nps_score_6"] == 1


def test_module_visits_and_the_sessions_behind_them(day_rows) -> None:
    _, visits, _ = day_rows
    by_key = {(r["day"], r["experience_id"], r["module_id"]): (r["visits"], r["sessions"]) for r in visits}
    assert by_key == {
        (DAY, "exp-a", "door"): (2, 2),  # v-1 and v-2
        (NEXT, "exp-a", "faq"): (1, 1),  # v-2's session from the day before, visited after midnight
    }


def test_a_late_event_that_joins_two_sessions_restates_them() -> None:
    """v-9 at 10:00 and 11:00 (60 min apart: two sessions); then an event at 10:30 arrives late and
    joins them into one 10:00–11:00 session."""
    s = Scenario(provider_id="bot")
    chat(s, "x1", "10:00:00", "v-9", "exp-a", "mobile")
    log(s, "x1", "ChatStarted", "10:00:00")
    log(s, "x1", "UserInteracted", "11:00:00")
    warehouse = KpiWarehouse()
    rows = warehouse.run(s.raw())
    assert kpis(rows)["chat_sessions"] == 2
    assert kpis(rows)["chat_bounces"] == 1
    late = Scenario(provider_id="bot")
    log(late, "x1", "ModuleVisited", "10:30:00", moduleId="door")
    warehouse.aggregate(warehouse.load(late.raw()))
    rows = warehouse.kpi_rows()
    assert kpis(rows)["chat_sessions"] == 1
    assert kpis(rows)["chat_bounces"] == 0
    assert kpis(rows)["screen_time_min"] == 60
    both = {k: s.raw()[k] + late.raw()[k] for k in s.raw()}
    assert_same_rows(rows, reference_kpi_rows(both))


def test_a_late_event_on_the_previous_day_bridges_its_sessions() -> None:
    """v-8 at 23:00 and 23:59 on DAY (59 min apart: two sessions), then 00:40 on NEXT (41 min: a
    third); a late event at 23:30 joins the first two (30 and 29 min), and one at 00:20 joins the result
    with the third (21 and 20 min): one session on DAY, 23:00 to 00:40."""
    s = Scenario(provider_id="bot")
    chat(s, "y1", "23:00:00", "v-8", "exp-a", "desktop")
    log(s, "y1", "ChatStarted", "23:00:00")
    log(s, "y1", "UserInteracted", "23:59:00")
    log(s, "y1", "UserInteracted", "00:40:00", NEXT)
    warehouse = KpiWarehouse()
    rows = warehouse.run(s.raw())
    assert (kpis(rows)["chat_sessions"], kpis(rows, NEXT)["chat_sessions"]) == (2, 1)
    late = Scenario(provider_id="bot")
    log(late, "y1", "ModuleVisited", "23:30:00", moduleId="door")
    log(late, "y1", "ModuleVisited", "00:20:00", NEXT, moduleId="door")
    days = warehouse.aggregate(warehouse.load(late.raw()))
    assert {("bot", DAY), ("bot", NEXT)} <= days
    rows = warehouse.kpi_rows()
    assert kpis(rows)["chat_sessions"] == 1
    assert "chat_sessions" not in kpis(rows, NEXT)  # the NEXT day lost its only session
    assert kpis(rows)["screen_time_min"] == 100  # 23:00 to 00:40


def test_events_that_arrive_before_their_conversation_wait_for_it() -> None:
    s = Scenario(provider_id="bot")
    log(s, "z1", "ChatStarted", "08:00:00")
    warehouse = KpiWarehouse()
    assert not [r for r in warehouse.run(s.raw()) if r["kpi"] == "chat_sessions"]
    conversation = Scenario(provider_id="bot")
    chat(conversation, "z1", "08:00:00", "v-7", "exp-a", "mobile")
    warehouse.aggregate(warehouse.load(conversation.raw()))
    assert kpis(warehouse.kpi_rows())["chat_sessions"] == 1


def test_a_provider_setting_changes_the_gap() -> None:
    """Two events 20 minutes apart: one session by default, two with a 10-minute gap."""
    s = Scenario(provider_id="bot")
    chat(s, "g1", "08:00:00", "v-6", "exp-a", "mobile")
    log(s, "g1", "ChatStarted", "08:00:00")
    log(s, "g1", "UserInteracted", "08:20:00")
    raw = s.raw()
    assert kpis(KpiWarehouse().run(raw))["chat_sessions"] == 1
    settings = {
        "provider_settings": [{"provider_id": "bot", "chat_session_gap_s": 600, "updated_at": at("07:00:00")}]
    }
    rows = KpiWarehouse().run({**raw, **settings})
    assert kpis(rows)["chat_sessions"] == 2
    assert_same_rows(rows, reference_kpi_rows({**raw, **settings}))


def test_a_conversation_without_experience_is_a_chat_by_its_events() -> None:
    """No experienceId: a chat because a chatbot event was logged on it, sliced as '(none)'. A
    contact-center conversation of the same customer never makes chat sessions."""
    s = Scenario(provider_id="bot")
    chat(s, "n1", "08:00:00", "v-5", None, "mobile")
    log(s, "n1", "ChatStarted", "08:00:00")
    s.conversation("voice-1", at("09:00:00"), customer_id="v-5")
    log(s, "voice-1", "SurveyAnswered", "09:10:00", nps=10)
    rows = KpiWarehouse().run(s.raw())
    assert kpis(rows)["chat_sessions"] == 1
    assert kpis(rows, experience="(none)")["chat_sessions"] == 1
    assert kpis(rows)["chat_nps_score_10"] == 0  # a contact-center answer is not a chatbot answer


@PROPERTY
@given(raw=raw_traffic(max_conversations=2, max_chats=6), gap=st.sampled_from((60, 600, 1800, 3600)))
def test_any_provider_gap_gives_the_reference_sessions(raw: dict[str, list[dict]], gap: int) -> None:
    """A provider's own gap (one of two providers) on generated chat traffic: SQL equals reference."""
    settings = [{"provider_id": "acme", "chat_session_gap_s": gap, "updated_at": at("00:00:00")}]
    warehouse = _shared()
    raw = {**raw, "provider_settings": settings}
    assert_same_rows(warehouse.run(raw), reference_kpi_rows(raw, families=CHAT_FAMILIES))


_SHARED: list[KpiWarehouse] = []


CHAT_FAMILIES = ("chat_event", "chat_session", "erasure")


def _shared() -> KpiWarehouse:
    """The chatbot families only (the contact-center ones are the oracle suite's); emptied per example."""
    if not _SHARED:
        _SHARED.append(KpiWarehouse(families=[FAMILIES[name] for name in CHAT_FAMILIES]))
    _SHARED[0].reset()
    return _SHARED[0]


def test_the_funnel_and_cumulated_views_need_no_window_function_in_the_bi_tool() -> None:
    """kpi_funnel_daily and kpi_cumulative_daily over the chat day: the funnel's steps and shares, and
    running totals (NULL for participants, a distinct count that does not add up over days)."""
    warehouse = KpiWarehouse()
    warehouse.warehouse.ensure_schema(bi_views())
    warehouse.run(chat_day().raw())
    funnel = warehouse.con.sql(
        "SELECT step_order, step, value, share_of_sessions FROM kpi_funnel_daily "
        f"WHERE day = DATE '{DAY}' AND experience_id IS NULL ORDER BY step_order"
    ).fetchall()
    assert funnel == [
        (1, "sessions", 4, 1.0),
        (2, "sessions with conversation", 2, 0.5),
        (3, "new customers", 0, 0.0),
        (4, "opt-ins", 1, 0.25),
        (5, "participations", 0, 0.0),
    ]
    cumulated = {
        (kpi, day): (value, total)
        for kpi, day, value, total in warehouse.con.sql(
            "SELECT kpi, day, value, cumulative_value FROM kpi_cumulative_daily "
            "WHERE experience_id IS NULL AND kpi IN ('chat_starts', 'participants', 'chat_nps')"
        ).fetchall()
    }
    assert cumulated[("chat_starts", DAY)] == (5, 5) and cumulated[("chat_starts", NEXT)] == (0, 5)
    assert cumulated[("participants", NEXT)] == (0, None)
    # NPS over both days: answers 9, 7, 8 then 6: (1 - 1) / 4 = 0.
    assert cumulated[("chat_nps", NEXT)] == (-100, 0)
