"""The conversation family's extra affected days equal their definition, computed in plain Python.

A changed conversation moves its own close day and the close days of the earlier resolved
conversations its customer's 72 h first-contact look-ahead reaches. The query bounds that look-back by
the changed conversations (their customers, then one close day at a time); this checks that the bound
loses no day and adds none, for any subset of conversations changed, on traffic with repeat customers
around midnight and across the 72 h edge.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from shared.kpi.families.conversations import CONVERSATION, FCR_WINDOW_HOURS
from shared.kpi.families.sessions import SESSION
from shared.kpi.sql import TableNames, extra_days_query
from shared.warehouse.arrow import to_arrow
from shared.warehouse.tables import FACT_CONVERSATIONS
from tests.kpi.test_oracle import PROPERTY
from tests.kpi.traffic import raw_traffic
from tests.kpi.warehouse import KpiWarehouse

Key = tuple[str, str]


def _utc(at: datetime) -> datetime:
    # The warehouse hands back its session time zone; adding 72 h there would be wall-clock time.
    return at.astimezone(UTC)


def _day(at: datetime) -> date:
    return _utc(at).date()


def expected_days(conversations: list[dict[str, Any]], changed: set[Key]) -> set[tuple[str, date]]:
    """Close days of every earlier resolved conversation of the same customer that a changed inbound
    conversation repeats within 72 h."""
    window = timedelta(hours=FCR_WINDOW_HOURS)
    days: set[tuple[str, date]] = set()
    later = [c for c in conversations if (c["provider_id"], c["conversation_id"]) in changed]
    for repeat in later:
        if repeat["direction"] != "inbound" or repeat["customer_id"] is None:
            continue
        for earlier in conversations:
            if (
                earlier["resolved"]
                and earlier["provider_id"] == repeat["provider_id"]
                and earlier["customer_id"] == repeat["customer_id"]
                and earlier["conversation_id"] != repeat["conversation_id"]
                and _utc(earlier["closed_ts"])
                < _utc(repeat["conversation_ts"])
                <= _utc(earlier["closed_ts"]) + window
            ):
                days.add((earlier["provider_id"], _day(earlier["closed_ts"])))
    return days


_SHARED: list[KpiWarehouse] = []


def _warehouse() -> KpiWarehouse:
    """The contact-center families only (the look-ahead reads their facts); emptied per example."""
    if not _SHARED:
        _SHARED.append(KpiWarehouse(families=[SESSION, CONVERSATION]))
    _SHARED[0].reset()
    return _SHARED[0]


def _extra_days(warehouse: Any, changed: set[Key]) -> set[tuple[str, date]]:
    """Run the family's extra-days query with ``changed`` as the run's changed conversations."""
    con = warehouse.con
    con.execute("CREATE OR REPLACE TEMP TABLE changed_fact_conversations AS SELECT * FROM fact_conversations")
    con.execute("DELETE FROM changed_fact_conversations")
    for provider_id, conversation_id in sorted(changed):
        con.execute(
            "INSERT INTO changed_fact_conversations SELECT * FROM fact_conversations "
            "WHERE provider_id = ? AND conversation_id = ?",
            [provider_id, conversation_id],
        )
    sql = extra_days_query(CONVERSATION, "duckdb", TableNames())
    assert sql is not None
    return {(p, d) for p, d in con.execute(sql).fetchall()}


@PROPERTY
@given(raw=raw_traffic(), data=st.data())
def test_extra_days_equal_their_definition(raw: dict[str, list[dict[str, Any]]], data: st.DataObject) -> None:
    warehouse = _warehouse()
    warehouse.aggregate(warehouse.load(raw))
    conversations = warehouse.facts(FACT_CONVERSATIONS)
    keys = sorted((c["provider_id"], c["conversation_id"]) for c in conversations)
    changed = {key for key in keys if data.draw(st.booleans())}
    assert _extra_days(warehouse, changed) == expected_days(conversations, changed)


def _fact(conversation_id: str, opened: datetime, closed: datetime | None, resolved: bool) -> dict[str, Any]:
    return {
        "provider_id": "p1",
        "conversation_id": conversation_id,
        "channel": "voice",
        "direction": "inbound",
        "customer_id": "c1",
        "conversation_ts": opened,
        "closed_ts": closed,
        "waiting_since_ts": opened,
        "incoming": True,
        "handled": True,
        "abandoned": False,
        "transferred": False,
        "resolved": resolved,
        **dict.fromkeys(("csat_answers", "csat_top2", "nps_answers", "nps_promoters", "nps_detractors"), 0),
    }


def test_the_look_ahead_reaches_every_day_of_its_window_and_no_further() -> None:
    """A repeat just after midnight reaches resolved conversations closed on each of the 3 days
    before (the 72 h edge included) and not one closed a microsecond earlier or after it opened."""
    repeat_at = datetime(2026, 3, 10, 0, 0, 0, 500, tzinfo=UTC)
    edge = repeat_at - timedelta(hours=FCR_WINDOW_HOURS)  # 2026-03-07 00:00:00.0005: still inside
    earlier = {
        "edge": edge,
        "too-old": edge - timedelta(microseconds=1),
        "day-2": repeat_at - timedelta(days=2),
        "day-1": repeat_at - timedelta(hours=1),
        "after": repeat_at + timedelta(microseconds=1),
    }
    rows = [_fact(name, at - timedelta(minutes=5), at, True) for name, at in earlier.items()]
    rows.append(_fact("repeat", repeat_at, None, False))
    warehouse = _warehouse()
    warehouse.con.register("rows", to_arrow(FACT_CONVERSATIONS, rows))
    warehouse.con.execute("INSERT INTO fact_conversations BY NAME SELECT * FROM rows")
    expected = {("p1", _day(earlier[name])) for name in ("edge", "day-2", "day-1")}
    assert _extra_days(warehouse, {("p1", "repeat")}) == expected
    assert expected == expected_days(warehouse.facts(FACT_CONVERSATIONS), {("p1", "repeat")})
