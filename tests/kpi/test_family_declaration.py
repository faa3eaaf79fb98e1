"""A family is one whole declaration: a new one, declared here and nowhere else, is aggregated,
restated incrementally and rolled up by the unchanged transaction code; and a declaration that could
not be computed is refused when it is made, with every problem named."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest

from shared.kpi.families.scopes import CONVERSATIONS
from shared.kpi.model import Family, Kpi, count, counted, rate
from shared.warehouse.ddl import create_table
from shared.warehouse.tables import C, Table
from tests.kpi.scenario import DAY, Scenario, at
from tests.kpi.warehouse import KpiWarehouse

FACT_MESSAGES = Table(
    "fact_messages_example",
    "One row per MessageSent event, with its sender: a family that exists only in this test.",
    (
        C("provider_id", "STRING", "Provider", True),
        C("conversation_id", "STRING", "Conversation", True),
        C("event_id", "STRING", "Event", True),
        C("sent_ts", "TIMESTAMP", "When", True),
        C("channel", "STRING", "Channel of the conversation", True),
        C("sender", "STRING", "agent, bot or customer"),
    ),
    key=("provider_id", "event_id"),
    partition_by="sent_ts",
    cluster_by=("provider_id",),
)

MESSAGES = Family(
    "message_example",
    FACT_MESSAGES,
    "sent_ts",
    ("channel",),
    ((), ("channel",)),
    scope=CONVERSATIONS,
    fact_sql="""
SELECT e.provider_id, e.conversation_id, e.event_id, e.event_ts AS sent_ts, c.channel,
  JSON_VALUE(e.custom_data, '$.sender') AS sender
FROM raw_events AS e
JOIN (SELECT DISTINCT provider_id, conversation_id FROM touched_conversations) AS t
  ON t.provider_id = e.provider_id AND t.conversation_id = e.conversation_id
JOIN raw_conversations AS c ON c.provider_id = e.provider_id AND c.conversation_id = e.conversation_id
WHERE e.name = 'MessageSent'
""",
    description="Chat messages, by the UTC day they were sent (a test family).",
)
MESSAGE_KPIS = (
    counted("messages_example", "message_example", "Messages sent that day.", None),
    rate(
        "bot_message_example_rate",
        "message_example",
        "Share of messages the bot sent.",
        "sender = 'bot'",
        "TRUE",
    ),
)


def _traffic(senders: list[tuple[str, str]]) -> Scenario:
    s = Scenario(provider_id="acme")
    s.conversation("c1", at("09:00:00"), channel="chat")
    for n, (sender, clock) in enumerate(senders):
        s.event("c1", "s0", "MessageSent", at(clock), data={"sender": sender}, event_id=f"m{n}")
    return s


def test_a_new_family_is_aggregated_by_the_unchanged_transaction() -> None:
    warehouse = KpiWarehouse(families=[MESSAGES], catalog=MESSAGE_KPIS)
    warehouse.con.execute(create_table(FACT_MESSAGES, "duckdb", FACT_MESSAGES.name))
    first = _traffic([("customer", "09:00:10"), ("bot", "09:00:12"), ("agent", "23:59:59")])
    rows = {(r["kpi"], r["channel"]): r["value"] for r in warehouse.run(first.raw())}
    assert rows == {
        ("messages_example", None): 3,
        ("messages_example", "chat"): 3,
        ("bot_message_example_rate", None): pytest.approx(1 / 3),
        ("bot_message_example_rate", "chat"): pytest.approx(1 / 3),
    }
    # A late message of the day before restates that day, and only its own day's rows move.
    late = Scenario(provider_id="acme")
    late.event(
        "c1",
        "s0",
        "MessageSent",
        at("23:00:00", DAY - timedelta(days=1)),
        data={"sender": "bot"},
        event_id="m9",
    )
    days = warehouse.aggregate(warehouse.load(late.raw()))
    assert days == {("acme", DAY - timedelta(days=1))}
    by_day = {(r["day"], r["kpi"]): r["value"] for r in warehouse.kpi_rows() if r["channel"] is None}
    assert by_day[(DAY - timedelta(days=1), "messages_example")] == 1
    assert by_day[(DAY, "messages_example")] == 3


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"day_column": "channel"}, "is not a TIMESTAMP column"),
        ({"dimensions": ("queue_id",)}, "dimensions ['queue_id'] are not columns"),
        ({"grouping_sets": ((), ("agent_id",))}, "undeclared dimensions"),
        ({"grouping_sets": (("channel",),)}, "must include ()"),
        ({"scope": None}, "stored facts need a scope"),
        ({"source_sql": "SELECT 1"}, "either as stored facts"),
        ({"derived_columns": (("x", "y"),)}, "derived columns need"),
    ],
)
def test_a_family_that_cannot_be_computed_is_refused(changes: dict, problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        replace(MESSAGES, name="broken_example", **changes)


def test_a_kpi_names_only_columns_of_its_family() -> None:
    with pytest.raises(ValueError, match="not columns of fact_messages_example"):
        Kpi(name="x_example", family="message_example", kind="count", unit="count",
            description="A count of a column that is not there.", numerator=count("recipient = 'bot'"))  # fmt: skip
