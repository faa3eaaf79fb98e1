"""A plain-Python reference for every KPI family: the oracle the SQL is tested against.

Written from the KPI definitions (docs/kpis.md), not from the SQL: straightforward loops over the raw
rows, one module per family (``common`` has what they share). It favours clarity over speed: use it on
test data.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from shared.kpi.reference import chat_events, chat_sessions, conversations, erasures, relationships, sessions
from shared.kpi.reference.common import Raw

# Family name -> its reference rows and its own units (checked against the catalog by a test).
FAMILY_REFERENCES: dict[
    str, tuple[Callable[[Raw, set[tuple[str, date]] | None], list[dict[str, Any]]], dict[str, str]]
] = {
    "conversation": (conversations.reference_rows, conversations.UNITS),
    "session": (sessions.reference_rows, sessions.UNITS),
    "chat_event": (chat_events.reference_rows, chat_events.UNITS),
    "chat_session": (chat_sessions.reference_rows, chat_sessions.UNITS),
    "erasure": (erasures.reference_rows, erasures.UNITS),
    # Relationship KPIs are the columns of the snapshot tables, not kpi_daily rows (see ``relationships``).
    "relationship": (lambda raw, days: [], {}),
}


def reference_kpi_rows(
    raw: Raw, days: set[tuple[str, date]] | None = None, families: tuple[str, ...] | None = None
) -> list[dict[str, Any]]:
    """kpi_daily rows (without computed_at) of every KPI of ``families`` (default: all); only for
    ``days`` when given."""
    chosen = FAMILY_REFERENCES if families is None else {f: FAMILY_REFERENCES[f] for f in families}
    return [row for rows, _ in chosen.values() for row in rows(raw, days)]


def reference_relationships(raw: Raw, day: date, now: Any) -> dict[str, list[dict[str, Any]]]:
    """The relationship tables as of ``day`` (the run's UTC day) and ``now`` (the run's time)."""
    return {
        "relationship_snapshot": relationships.snapshot_rows(raw, day, now),
        "relationship_contacts": relationships.contact_rows(raw, day, now),
        "relationship_daily_activity": relationships.daily_activity_rows(raw),
    }


def reference_module_visits(raw: Raw, days: set[tuple[str, date]] | None = None) -> list[dict[str, Any]]:
    """``chat_module_visits`` rows."""
    return chat_events.module_visits(raw, days)
