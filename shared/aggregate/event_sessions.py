"""Which session an event counts on, decided in the warehouse where the conversation's sessions are.

CIF's ``logAnalyticsEvent`` names the session twice: ``providerSessionId`` and ``clientSessionId``,
the agent desktop's id that ``initLogAnalytics`` registered on the session. ``raw_events.session_id``
(what the fact tables join to ``raw_sessions.session_id``) is, for an event sent with a
``clientSessionId``:

1. ``providerSessionId`` when it names a session of the conversation;
2. else the session of the conversation registered with that ``clientSessionId`` (the first created,
   should several share it);
3. else ``providerSessionId`` as sent: the session has not arrived yet.

An event without ``clientSessionId`` counts on ``providerSessionId``, as it always has. The rule is a
function of the event as sent (``provider_session_id``, ``client_session_id``) and of the stored
sessions, never of an earlier answer: events inserted by a run are resolved against the sessions the
same transaction just wrote, and when a conversation arrives (or changes) after its events, the run
that loads it corrects ``session_id`` on its events. Out of order, twice, or both: same answer.

Both happen in the one statement that writes ``raw_events`` (``Warehouse.insert_missing`` with
corrections), so a run still makes one DML statement per table (BigQuery table-operation quota).
"""

from __future__ import annotations

from shared.warehouse.port import Corrections, Warehouse
from shared.warehouse.tables import RAW_CONVERSATIONS, RAW_EVENTS, RAW_SESSIONS

# The corrections, computed into a temporary table before ``raw_events`` changes: both warehouses then
# correct exactly the events stored before this run (DuckDB's INSERT and UPDATE are two statements).
CORRECTIONS = "event_session_corrections"


def _client_sessions(warehouse: Warehouse) -> str:
    """One session per (conversation, clientSessionId): the first created."""
    return (
        f"SELECT provider_id, conversation_id, client_session_id, session_id "
        f"FROM {warehouse.name(RAW_SESSIONS.name)} WHERE client_session_id IS NOT NULL\n"
        f"QUALIFY ROW_NUMBER() OVER (PARTITION BY provider_id, conversation_id, client_session_id "
        f"ORDER BY created_ts, session_id) = 1"
    )


def _joins(warehouse: Warehouse, alias: str) -> str:
    """``by_id``: the session ``providerSessionId`` names; ``by_client``: the one ``clientSessionId`` names."""

    def same(side: str) -> str:
        return (
            f"{side}.provider_id = {alias}.provider_id AND {side}.conversation_id = {alias}.conversation_id"
        )

    return (
        f"LEFT JOIN {warehouse.name(RAW_SESSIONS.name)} AS by_id\n"
        f"  ON {same('by_id')} AND by_id.session_id = {alias}.provider_session_id\n"
        f"LEFT JOIN ({_client_sessions(warehouse)}) AS by_client\n"
        f"  ON {same('by_client')} AND by_client.client_session_id = {alias}.client_session_id"
    )


def resolved_session(alias: str) -> str:
    """The session of an event sent with a clientSessionId (needs ``_joins`` on ``alias``)."""
    return f"COALESCE(by_id.session_id, by_client.session_id, {alias}.provider_session_id)"


def _resolved_rows(warehouse: Warehouse, staged_sql: str) -> str:
    """The staged events, each with the session it counts on (those without clientSessionId as sent).
    One pass: splitting the two kinds with UNION ALL evaluated the staged rows' window twice."""
    columns = ", ".join(
        f"CASE WHEN e.client_session_id IS NULL THEN e.session_id ELSE {resolved_session('e')} END AS session_id"
        if c.name == "session_id"
        else f"e.{c.name}"
        for c in RAW_EVENTS.columns
    )
    return f"SELECT {columns} FROM ({staged_sql}) AS e\n{_joins(warehouse, 'e')}"


def _corrections(warehouse: Warehouse, events_staged: bool) -> str:
    """Stored events of the conversations staged now whose session changes with their sessions."""
    conversations = (
        f"SELECT DISTINCT provider_id, conversation_id FROM {warehouse.staging_name(RAW_CONVERSATIONS.name)}"
    )
    # Never a key the same statement inserts: one source row per target row (a BigQuery MERGE rule).
    fresh = (
        f"\n  AND NOT EXISTS (SELECT 1 FROM {warehouse.staging_name(RAW_EVENTS.name)} AS x "
        f"WHERE x.provider_id = e.provider_id AND x.event_id = e.event_id)"
        if events_staged
        else ""
    )
    return (
        f"SELECT e.provider_id, e.event_id, {resolved_session('e')} AS session_id\n"
        f"FROM {warehouse.name(RAW_EVENTS.name)} AS e\n"
        f"JOIN ({conversations}) AS c ON c.provider_id = e.provider_id AND c.conversation_id = e.conversation_id\n"
        f"{_joins(warehouse, 'e')}\n"
        f"WHERE e.client_session_id IS NOT NULL AND {resolved_session('e')} <> e.session_id{fresh}"
    )


def event_statements(
    warehouse: Warehouse, staged_events_sql: str | None, conversations_staged: bool
) -> list[str]:
    """The statements that write ``raw_events`` for one run: the staged events (``staged_events_sql``,
    one row per key; create-only: an event id, once stored, keeps its content) with their sessions
    resolved, and, when conversations were staged, the corrected sessions of stored events."""
    if staged_events_sql is None and not conversations_staged:
        return []
    columns = ", ".join(c.name for c in RAW_EVENTS.columns)
    source = (
        _resolved_rows(warehouse, staged_events_sql)
        if staged_events_sql is not None
        else f"SELECT {columns} FROM {warehouse.name(RAW_EVENTS.name)} WHERE FALSE"
    )
    if not conversations_staged:
        return warehouse.insert_missing(RAW_EVENTS, source)
    corrections = warehouse.temp_table(CORRECTIONS, _corrections(warehouse, staged_events_sql is not None))
    fixes = Corrections(f"SELECT provider_id, event_id, session_id FROM {CORRECTIONS}", ("session_id",))
    return [corrections, *warehouse.insert_missing(RAW_EVENTS, source, fixes)]
