"""The SQL the aggregator runs, per warehouse dialect: fact rows, affected days and KPI rows.

One aggregation, in order:
1. load raw rows; fill ``touched_conversations`` with the (provider_id, conversation_id) that changed;
2. ``affected_days_query`` → remember the days the current facts of those conversations touch;
3. replace the ``fact_sessions`` rows of the touched conversations with ``fact_session_query``;
4. then the ``fact_conversations`` rows with ``fact_conversation_query`` (it reads ``fact_sessions``);
5. ``affected_days_query`` again; the union of 2 and 5 fills ``affected_days``;
6. ``kpi_query`` returns the complete KPI rows of every (provider_id, day) in ``affected_days``:
   replace the ``kpi_daily`` rows of those days with them (a day may have lost all its rows).

Every query is a SELECT; the adapters decide how to write the result (MERGE, DELETE + INSERT).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import cache

from shared.kpi.dialects import Dialect, render
from shared.kpi.facts import AFFECTED_DAYS_SQL, FACT_CONVERSATIONS_SQL, FACT_SESSIONS_SQL
from shared.kpi.rollup import kpi_sql

__all__ = [
    "Dialect",
    "TableNames",
    "affected_days_query",
    "fact_conversation_query",
    "fact_session_query",
    "kpi_query",
]


@dataclass(frozen=True)
class TableNames:
    """Every table the SQL reads, so adapters can qualify them (BigQuery: ``project.dataset.table``)."""

    raw_conversations: str = "raw_conversations"
    raw_sessions: str = "raw_sessions"
    raw_participants: str = "raw_participants"
    raw_events: str = "raw_events"
    fact_sessions: str = "fact_sessions"
    fact_conversations: str = "fact_conversations"
    customer_erasures: str = "customer_erasures"
    touched: str = "touched_conversations"  # staging: (provider_id, conversation_id)
    affected: str = "affected_days"  # staging: (provider_id, day DATE)

    def qualified(self, prefix: str) -> TableNames:
        """``prefix`` + name for every table, e.g. ``qualified("my-project.analytics.")``."""
        return replace(self, **{f.name: prefix + getattr(self, f.name) for f in fields(self)})

    def mapping(self) -> dict[str, str]:
        """Canonical (default) table name → the name to use."""
        defaults = TableNames()
        return {getattr(defaults, f.name): getattr(self, f.name) for f in fields(self)}


@cache  # rendering parses and transpiles hundreds of lines: once per process
def fact_session_query(dialect: Dialect, names: TableNames) -> str:
    """Rows of ``fact_sessions`` for the touched conversations (all their sessions, open ones too)."""
    return render(FACT_SESSIONS_SQL, dialect, names.mapping())


@cache  # rendering parses and transpiles hundreds of lines: once per process
def fact_conversation_query(dialect: Dialect, names: TableNames) -> str:
    """Rows of ``fact_conversations`` for the touched conversations; reads their ``fact_sessions``."""
    return render(FACT_CONVERSATIONS_SQL, dialect, names.mapping())


@cache  # rendering parses and transpiles hundreds of lines: once per process
def affected_days_query(dialect: Dialect, names: TableNames) -> str:
    """DISTINCT (provider_id, day) whose KPI rows depend on the touched conversations, from the fact
    tables: their own close days, their sessions' close days, and the close days of earlier resolved
    conversations of the same customer whose 72 h first-contact look-ahead reaches them."""
    return render(AFFECTED_DAYS_SQL, dialect, names.mapping())


@cache  # rendering parses and transpiles hundreds of lines: once per process
def kpi_query(dialect: Dialect, names: TableNames, computed_at_sql: str = "CURRENT_TIMESTAMP") -> str:
    """SELECT day, provider_id, kpi, channel, queue_id, agent_id, experience_id, value, numerator,
    denominator, unit, computed_at — every KPI of the catalog for exactly the (provider_id, day)
    pairs in ``affected_days``. ``computed_at_sql`` is SQL of ``dialect``."""
    return render(kpi_sql(), dialect, names.mapping(), computed_at_sql)
