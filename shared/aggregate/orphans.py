"""Events whose conversation never arrived ("orphans"): counted, not lost, and shown to operators.

Events are stored whatever the order they come in, and count once their conversation is registered.
An event whose conversation never comes counts in no KPI; without this module nobody would see it.
Each run keeps ``orphan_events`` (one row per missing conversation) up to date for the conversations
it touched, in the same transaction as the facts: a conversation that arrives removes its row, new
events of a missing one add or grow it. After the commit the run reads the per-provider totals (a
small table: one row per missing conversation) for its report and the operator API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.warehouse.port import ReplaceScope, Warehouse
from shared.warehouse.tables import ORPHAN_EVENTS, RAW_CONVERSATIONS, RAW_EVENTS

# Conversation ids an operator is shown per provider (the longest waiting first).
EXAMPLES = 10


def orphan_statements(warehouse: Warehouse, touched_sql: str) -> list[str]:
    """Replace the ``orphan_events`` rows of the touched conversations (``touched_sql`` yields each
    ``(provider_id, conversation_id)`` once) by what the raw tables say now."""
    events, conversations = warehouse.name(RAW_EVENTS.name), warehouse.name(RAW_CONVERSATIONS.name)
    rows = (
        "SELECT e.provider_id, e.conversation_id, COUNT(*) AS events, MIN(e.event_ts) AS first_event_ts,\n"
        "  MAX(e.event_ts) AS last_event_ts, MIN(e.ingested_at) AS first_ingested_at\n"
        f"FROM {events} AS e\n"
        f"JOIN ({touched_sql}) AS t ON t.provider_id = e.provider_id AND t.conversation_id = e.conversation_id\n"
        f"LEFT JOIN {conversations} AS c\n"
        "  ON c.provider_id = e.provider_id AND c.conversation_id = e.conversation_id\n"
        "WHERE c.conversation_id IS NULL\n"
        "GROUP BY e.provider_id, e.conversation_id"
    )
    scope = ReplaceScope(
        ORPHAN_EVENTS,
        warehouse.name(ORPHAN_EVENTS.name),
        rows,
        touched_sql,
        ("provider_id", "conversation_id"),
    )
    return warehouse.replace(scope)


@dataclass(frozen=True)
class OrphanTotals:
    """One provider's events without a conversation, as of one run."""

    provider_id: str
    events: int
    conversations: int
    oldest_event_ts: datetime
    oldest_ingested_at: datetime
    examples: tuple[dict[str, Any], ...]


def orphan_totals(warehouse: Warehouse) -> list[OrphanTotals]:
    """Per provider: how many events wait, under how many conversation ids, since when; with the
    longest-waiting conversation ids as examples."""
    table = warehouse.name(ORPHAN_EVENTS.name)
    totals = warehouse.query(
        "SELECT provider_id, SUM(events) AS events, COUNT(*) AS conversations,\n"
        "  MIN(first_event_ts) AS oldest_event_ts, MIN(first_ingested_at) AS oldest_ingested_at\n"
        f"FROM {table} GROUP BY provider_id ORDER BY provider_id"
    )
    examples: dict[str, list[dict[str, Any]]] = {}
    for row in warehouse.query(
        f"SELECT provider_id, conversation_id, events, first_event_ts FROM {table} WHERE TRUE\n"
        "QUALIFY ROW_NUMBER() OVER (PARTITION BY provider_id ORDER BY first_event_ts, conversation_id)"
        f" <= {EXAMPLES}\nORDER BY provider_id, first_event_ts, conversation_id"
    ):
        examples.setdefault(row["provider_id"], []).append(
            {
                "conversationId": row["conversation_id"],
                "events": int(row["events"]),
                "firstEventTimestamp": row["first_event_ts"],
            }
        )
    return [
        OrphanTotals(
            provider_id=row["provider_id"],
            events=int(row["events"]),
            conversations=int(row["conversations"]),
            oldest_event_ts=row["oldest_event_ts"],
            oldest_ingested_at=row["oldest_ingested_at"],
            examples=tuple(examples.get(row["provider_id"], ())),
        )
        for row in totals
    ]
