"""The chat-session family (seed 002): one fact row per chat session, from the chat events of the
same customers (the session rule is in ``shared.kpi.families.chat_events``). Session KPIs count on
the UTC day the session started, in the experience and platform of the conversation it started in;
its span is first event → last event (a session of one event spans 0 s)."""

from __future__ import annotations

from shared.kpi.families.chat_events import CUSTOMER, EXPERIENCE_DIMENSIONS, EXPERIENCE_GROUPING_SETS
from shared.kpi.families.scopes import CUSTOMERS
from shared.kpi.model import Family, Kpi, count, counted, total
from shared.kpi.sqlparts import same, seconds
from shared.warehouse.tables import FACT_CHAT_SESSIONS

FACT_CHAT_SESSIONS_SQL = f"""
WITH
scope AS (SELECT DISTINCT provider_id, customer_key FROM touched_customers),
events AS (
  SELECT f.* FROM fact_chat_events AS f JOIN scope AS k ON {same("k", "f", *CUSTOMER)}
),
firsts AS (
  SELECT provider_id, customer_key, chat_session_id, conversation_id, experience_id, platform FROM (
    SELECT provider_id, customer_key, chat_session_id, conversation_id, experience_id, platform,
      ROW_NUMBER() OVER (PARTITION BY provider_id, customer_key, chat_session_id
                         ORDER BY event_ts, event_id) AS pick
    FROM events
  ) AS ranked WHERE pick = 1
),
spans AS (
  SELECT provider_id, customer_key, chat_session_id, MIN(session_start_ts) AS session_start_ts,
    MAX(event_ts) AS session_end_ts, COUNT(*) AS events,
    COUNT(DISTINCT conversation_id) AS conversations,
    LOGICAL_OR(name = 'UserInteracted') AS interacted
  FROM events
  GROUP BY provider_id, customer_key, chat_session_id
)
SELECT s.provider_id, s.customer_key, s.chat_session_id, s.session_start_ts, s.session_end_ts,
  f.conversation_id, f.experience_id, f.platform, s.events, s.conversations, s.interacted,
  {seconds("s.session_start_ts", "s.session_end_ts")} AS span_s
FROM spans AS s
JOIN firsts AS f ON {same("f", "s", *CUSTOMER, "chat_session_id")}
"""

CHAT_SESSION = Family(
    "chat_session",
    FACT_CHAT_SESSIONS,
    "session_start_ts",
    EXPERIENCE_DIMENSIONS,
    EXPERIENCE_GROUPING_SETS,
    scope=CUSTOMERS,
    fact_sql=FACT_CHAT_SESSIONS_SQL,
    depends_on=("chat_event",),
    description="Chat sessions (seed 002), attributed to the UTC day and experience where they started.",
)

CHAT_SESSION_KPIS: tuple[Kpi, ...] = (
    counted("chat_sessions", "chat_session", "Chat sessions started that day.", None),
    counted(
        "chat_sessions_with_conversation",
        "chat_session",
        "Chat sessions in which the customer typed something or clicked a button (UserInteracted).",
        "interacted",
    ),
    counted(
        "chat_bounces",
        "chat_session",
        "Chat sessions without any interaction: sessions minus sessions with conversation.",
        "NOT interacted",
    ),
    Kpi(
        name="chat_bounce_rate",
        family="chat_session",
        kind="ratio",
        unit="ratio",
        description="Bounces ÷ chat sessions.",
        numerator=count("NOT interacted"),
        denominator=count(),
    ),
    Kpi(
        name="screen_time_min",
        family="chat_session",
        kind="total",
        unit="minutes",
        description="Screen time of all customers together: the sum of the sessions' spans (first to "
        "last event), in minutes.",
        numerator=total("span_s", per=60),
    ),
    counted(
        "chat_sessions_mobile", "chat_session", "Chat sessions started on mobile.", "platform = 'mobile'"
    ),
    counted(
        "chat_sessions_desktop", "chat_session", "Chat sessions started on desktop.", "platform = 'desktop'"
    ),
)
