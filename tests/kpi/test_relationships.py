"""Relationship analytics (seed 001): hand-computed snapshots, the seed's worked example, the health
score's properties, and the SQL equal to the reference on generated CRM traffic delivered out of order.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.kpi.families.relationships import RELATIONSHIP
from shared.kpi.reference import reference_relationships
from shared.kpi.reference.relationships import Settings, activity_facts, health
from shared.warehouse.tables import RELATIONSHIP_CONTACTS, RELATIONSHIP_DAILY_ACTIVITY, RELATIONSHIP_SNAPSHOT
from tests.kpi.compare import _close
from tests.kpi.scenario import Scenario
from tests.kpi.test_oracle import PROPERTY
from tests.kpi.traffic import crm_traffic
from tests.kpi.warehouse import KpiWarehouse

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
TODAY = NOW.date()
US_A, US_B, US_C = ("seller-a", "us", "from"), ("seller-b", "us", "attendee"), ("seller-c", "us", "attendee")
B_FROM = ("seller-b", "us", "from")


def ago(days: float, hour: int = 10) -> datetime:
    return datetime(TODAY.year, TODAY.month, TODAY.day, hour, tzinfo=UTC) - timedelta(days=days)


def them(party: str, role: str = "to") -> tuple[str, str, str]:
    return (party, "customer", role)


def tables(warehouse: KpiWarehouse) -> dict[str, list[dict[str, Any]]]:
    return {
        t.name: [{k: v for k, v in r.items() if k != "computed_at"} for r in warehouse.rows(t)]
        for t in (RELATIONSHIP_SNAPSHOT, RELATIONSHIP_CONTACTS, RELATIONSHIP_DAILY_ACTIVITY)
    }


def same_tables(got: dict[str, list[dict]], want: dict[str, list[dict]]) -> None:
    for name in want:

        def key(row: dict) -> str:
            # Instants in UTC: the warehouse hands them back in its session's time zone.
            return repr(
                [
                    row[k].astimezone(UTC) if isinstance(row[k], datetime) else row[k]
                    for k in sorted(row)
                    if not isinstance(row[k], float)
                ]
            )

        a, b = sorted(got[name], key=key), sorted(want[name], key=key)
        assert len(a) == len(b), (name, a, b)
        for x, y in zip(a, b, strict=True):
            assert x.keys() == y.keys(), name
            for column in x:
                if isinstance(x[column], float) or isinstance(y[column], float):
                    assert _close(x[column], y[column]), (name, column, x, y)
                else:
                    assert x[column] == y[column], (name, column, x, y)


def snapshot(warehouse: KpiWarehouse, record: str) -> dict[str, Any]:
    (row,) = [r for r in tables(warehouse)["relationship_snapshot"] if r["regarding_id"] == record]
    return row


def test_the_seeds_worked_example_a_meeting_of_three_and_two() -> None:
    """A 30-minute meeting with three of ours and two of theirs is 90 minutes for us, 30 for them."""
    s = Scenario(provider_id="crm")
    s.activity(
        "m1",
        "meeting",
        ago(1),
        [US_A, US_B, US_C, them("c-1", "attendee"), them("c-2", "attendee")],
        minutes=30,
    )
    (fact,) = activity_facts(s.raw())
    assert (fact.minutes_us, fact.minutes_customer) == (90, 30)
    warehouse = KpiWarehouse()
    warehouse.aggregate(warehouse.load(s.raw()), now=NOW)
    row = snapshot(warehouse, "opp-1")
    assert (row["hours_us"], row["hours_customer"]) == (1.5, 0.5)


def deal() -> tuple[Scenario, Scenario]:
    """Two deliveries of one opportunity's activities (and another record's).

    First: the customer's e-mail e1 (2 days ago 10:00) and our reply r1 to it (11:30: 5,400 s); our
      e-mail e2 (1 day ago 09:00), a call we made (1 day ago 14:00, 20 min), a canceled meeting, a
      meeting scheduled 18 h from now and one in 3 days, and a meeting about another record.
    Second: the customer's reply r2 to e2 (1 day ago 12:00: 10,800 s), and our reply r3 (3 days ago
      12:00) to the customer's e-mail e3 (11:00: 3,600 s), listed before the e-mail it answers.
    """
    first = Scenario(provider_id="crm")
    first.activity("e1", "email", ago(2, 10), [them("c-1", "from"), ("seller-a", "us", "to")])
    first.activity("r1", "email", ago(2, 10) + timedelta(minutes=90), [US_A, them("c-1")], reply_to="e1")
    first.activity("e2", "email", ago(1, 9), [US_A, them("c-1"), them("c-2")])
    first.activity("call", "phonecall", ago(1, 14), [US_A, them("c-2")], minutes=20)
    first.activity(
        "gone", "meeting", ago(1, 16), [US_A, them("c-1", "attendee")], minutes=60, status="canceled"
    )
    first.activity("next", "meeting", NOW + timedelta(hours=18), [US_A, them("c-1", "attendee")], minutes=30,
                   status="scheduled")  # fmt: skip
    first.activity("later", "meeting", NOW + timedelta(days=3), [B_FROM, them("c-2", "attendee")], minutes=30,
                   status="scheduled")  # fmt: skip
    first.activity("other", "meeting", ago(1, 10), [B_FROM, them("d-1", "attendee")], minutes=45,
                   record=("account", "acc-2"))  # fmt: skip
    second = Scenario(provider_id="crm")
    second.activity("r3", "email", ago(3, 12), [B_FROM, them("c-2")], reply_to="e3")
    second.activity("r2", "email", ago(1, 12), [them("c-2", "from"), ("seller-a", "us", "to")], reply_to="e2")
    second.activity("e3", "email", ago(3, 11), [them("c-2", "from"), ("seller-b", "us", "to")])
    return first, second


def test_a_deal_delivered_out_of_order_gives_the_hand_computed_snapshot() -> None:
    first, second = deal()
    warehouse = KpiWarehouse()
    warehouse.aggregate(warehouse.load(second.raw()), now=NOW)  # the late batch first
    warehouse.aggregate(warehouse.load(first.raw()), now=NOW)
    warehouse.aggregate(warehouse.load(second.raw()), now=NOW)  # and retried
    row = snapshot(warehouse, "opp-1")
    # E-mails: ours e2, r1, r3 = 3 sent; theirs e1, e3, r2 = 3 received. Calls: one by us.
    assert (row["emails_sent"], row["emails_received"], row["calls_by_us"], row["meetings_by_us"]) == (
        3,
        3,
        1,
        0,
    )
    assert (row["initiated_by_us"], row["initiated_by_customer"]) == (4, 3)
    assert row["email_ratio_us"] == row["email_ratio_customer"] == 1
    # Ours: r1 answered e1 in 5,400 s, r3 answered e3 in 3,600 s; theirs: r2 answered e2 in 10,800 s.
    assert row["response_time_us_s"] == pytest.approx(4500)
    assert row["response_time_customer_s"] == pytest.approx(10800)
    # Hours: 6 e-mails × (5 + 2.5) min, and the 20-minute call for both sides.
    assert row["hours_us"] == pytest.approx((6 * 7.5 / 2 + 20) / 60)
    assert row["hours_customer"] == pytest.approx((6 * 7.5 / 2 + 20) / 60)
    assert row["last_interaction_ts"] == ago(1, 14)  # the call; the canceled meeting never counts
    assert row["next_interaction_ts"] == NOW + timedelta(hours=18)
    contacts = {(r["side"], r["rank"]): (r["party_id"], r["interactions"]) for r in tables(warehouse)["relationship_contacts"] if r["regarding_id"] == "opp-1"}  # fmt: skip
    assert contacts == {
        ("us", 1): ("seller-a", 5),  # e1, r1, e2, call, r2
        ("us", 2): ("seller-b", 2),  # r3, e3
        ("customer", 1): ("c-2", 5),  # e2, call, r3, r2, e3
        ("customer", 2): ("c-1", 3),  # e1, r1, e2
    }
    same_tables(
        tables(warehouse),
        reference_relationships({k: first.raw()[k] + second.raw()[k] for k in first.raw()}, TODAY, NOW),
    )


def test_health_bands_and_the_rescheduled_and_moved_activities() -> None:
    first, second = deal()
    both = {k: first.raw()[k] + second.raw()[k] for k in first.raw()}
    warehouse = KpiWarehouse()
    warehouse.aggregate(warehouse.load(both), now=NOW)
    row = snapshot(warehouse, "opp-1")
    # 7 completed activities in 90 days against 90/7 expected: A = 7 / 12.857 = 0.544; the last one
    # yesterday: R = 1; the customer's 3 against half the expected: T = 3 / 6.43 = 0.467.
    # Score = floor(100 × (0.5 A + 0.3 R + 0.2 T) + 0.5) = floor(66.56 + 0.5) = 67.
    assert row["health_score"] == 67 and row["health_band"] == "good"
    assert row["health_trend"] == "up"  # nothing 7 days ago
    # The scheduled meeting is rescheduled (same id, a new time) and the call moves to another record.
    moved = Scenario(provider_id="crm")
    moved.activity("next", "meeting", NOW + timedelta(days=2), [US_A, them("c-1", "attendee")], minutes=30,
                   status="scheduled")  # fmt: skip
    moved.activity(
        "call", "phonecall", ago(1, 14), [US_A, them("c-2")], minutes=20, record=("account", "acc-2")
    )
    warehouse.aggregate(warehouse.load(moved.raw()), now=NOW)
    row = snapshot(warehouse, "opp-1")
    assert row["next_interaction_ts"] == NOW + timedelta(days=2)
    assert row["calls_by_us"] == 0 and row["last_interaction_ts"] == ago(1, 12)
    assert snapshot(warehouse, "acc-2")["calls_by_us"] == 1
    latest = {**both}
    latest["raw_activities"] = [
        a for a in both["raw_activities"] if a["activity_id"] not in ("next", "call")
    ] + moved.raw()["raw_activities"]
    latest["raw_activity_parties"] = [p for p in both["raw_activity_parties"] if p["activity_id"] not in ("next", "call")] + moved.raw()["raw_activity_parties"]  # fmt: skip
    same_tables(tables(warehouse), reference_relationships(latest, TODAY, NOW))


def test_a_record_ages_without_new_activity() -> None:
    """Silence: two weeks later, with nothing new, the record's snapshot of that day is lower: the
    last interaction is 15 days old, R = 1 - (15 - 7) / 21 = 0.619, score = floor(55.1 + 0.5) = 55,
    fair; a week before it was 65 (R = 0.952): trend down. The earlier day's row stays as it was."""
    first, second = deal()
    both = {k: first.raw()[k] + second.raw()[k] for k in first.raw()}
    warehouse = KpiWarehouse()
    warehouse.aggregate(warehouse.load(both), now=NOW)
    before = snapshot(warehouse, "opp-1")
    later = NOW + timedelta(days=14)
    warehouse.aggregate(set(), now=later)  # nothing staged: an idle run
    rows = [r for r in tables(warehouse)["relationship_snapshot"] if r["regarding_id"] == "opp-1"]
    by_day = {r["snapshot_day"]: r for r in rows}
    assert set(by_day) == {TODAY, later.date()}
    assert by_day[TODAY] == before
    assert by_day[later.date()]["health_score"] == 55 and by_day[later.date()]["health_band"] == "fair"
    assert by_day[later.date()]["health_trend"] == "down"
    assert by_day[later.date()]["next_interaction_ts"] is None  # both meetings are in the past now
    same_tables(
        {
            "relationship_snapshot": [
                r for r in tables(warehouse)["relationship_snapshot"] if r["snapshot_day"] == later.date()
            ]
        },
        {
            "relationship_snapshot": reference_relationships(both, later.date(), later)[
                "relationship_snapshot"
            ]
        },
    )


@PROPERTY
@given(crm=crm_traffic(), data=st.data())
def test_sql_equals_reference_on_crm_traffic_delivered_in_any_order(crm: dict, data: st.DataObject) -> None:
    """Every version of every activity delivered in random batches (late replies, reschedules, moved
    records, retries), aggregated after each; the tables of today equal the reference's on the latest
    versions, and so does a later, idle day."""
    versions: list[dict[str, Any]] = crm["versions"]
    batches = data.draw(st.integers(1, 4))
    placed: dict[tuple[int, str], dict[str, Any]] = {}  # one version of an activity per delivery
    for version in data.draw(st.permutations(versions)):
        placed[(data.draw(st.integers(0, batches - 1)), version["id"])] = version
    warehouse = _warehouse()
    latest_of: dict[str, dict[str, Any]] = {}
    for b in range(batches):
        chunk = [v for (n, _), v in placed.items() if n == b]
        if chunk:
            raw = {
                "raw_activities": [v["activity"] for v in chunk],
                "raw_activity_parties": [p for v in chunk for p in v["parties"]],
                "provider_settings": crm["settings"],
            }
            warehouse.aggregate(warehouse.load(raw), now=NOW)
            latest_of.update({v["id"]: v for v in chunk})
    latest = {
        "raw_activities": [v["activity"] for v in latest_of.values()],
        "raw_activity_parties": [p for v in latest_of.values() for p in v["parties"]],
        "provider_settings": crm["settings"],
    }
    same_tables(tables(warehouse), reference_relationships(latest, TODAY, NOW))
    later = NOW + timedelta(days=data.draw(st.integers(1, 10)))
    warehouse.aggregate(set(), now=later)
    aged = [r for r in tables(warehouse)["relationship_snapshot"] if r["snapshot_day"] == later.date()]
    same_tables(
        {"relationship_snapshot": aged},
        {
            "relationship_snapshot": reference_relationships(latest, later.date(), later)[
                "relationship_snapshot"
            ]
        },
    )


_SHARED: list[KpiWarehouse] = []


def _warehouse() -> KpiWarehouse:
    if not _SHARED:
        _SHARED.append(KpiWarehouse(families=[RELATIONSHIP]))
    _SHARED[0].reset()
    return _SHARED[0]


# -- the health score's properties, on the reference (the SQL is held equal to it above) -------------

SIDES = ("us", "customer")
KINDS = ("email", "meeting", "phonecall")


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[int, str, str]]:
    """(days ago, type, initiating side) of completed activities."""
    return draw(
        st.lists(st.tuples(st.integers(0, 120), st.sampled_from(KINDS), st.sampled_from(SIDES)), max_size=40)
    )


def _score(history: list[tuple[int, str, str]], as_of: date, cfg: Settings) -> int:
    s = Scenario(provider_id="crm")
    for n, (days, kind, side) in enumerate(history):
        parties = (
            [("seller-a", "us", "from"), them("c-1")]
            if side == "us"
            else [them("c-1", "from"), ("seller-a", "us", "to")]
        )
        s.activity(f"a{n}", kind, ago(days), parties, minutes=10)
    return health(activity_facts(s.raw()), as_of, cfg)


settings_strategy = st.builds(
    Settings,
    st.sampled_from((30, 60, 90)),
    st.sampled_from((1, 7, 14)),
    st.tuples(*(st.sampled_from((0.5, 1.0, 1.5)),) * 3),
)


@PROPERTY
@given(
    history=histories(), cfg=settings_strategy, pair=st.tuples(st.sampled_from(KINDS), st.sampled_from(KINDS))
)
def test_more_recent_two_sided_activity_never_lowers_the_score(history, cfg, pair) -> None:
    before = _score(history, TODAY, cfg)
    after = _score([*history, (0, pair[0], "us"), (0, pair[1], "customer")], TODAY, cfg)
    assert after >= before
    assert 0 <= before <= 100 and 0 <= after <= 100


@PROPERTY
@given(history=histories(), cfg=settings_strategy, days=st.integers(1, 200))
def test_silence_never_raises_the_score(history, cfg, days) -> None:
    assert _score(history, TODAY + timedelta(days=days), cfg) <= _score(history, TODAY, cfg)


def test_bands_at_their_edges() -> None:
    from shared.kpi.reference.relationships import band

    assert [band(s) for s in (100, 60, 59, 40, 39, 0)] == ["good", "good", "fair", "fair", "poor", "poor"]


@pytest.mark.parametrize(
    ("history", "score"),
    [
        ([(1, "email", "us")] * 4 + [(1, "email", "customer")] * 3, 67),
        ([(0, "email", "us")] * 13, 80),
        ([(40, "phonecall", "customer")], 4),
    ],
)
def test_the_worked_examples_of_the_docs(history: list[tuple[int, str, str]], score: int) -> None:
    """docs/kpis.md, "Health score": the worked examples' scores (defaults)."""
    assert _score(history, TODAY, Settings()) == score
