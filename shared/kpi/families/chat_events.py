"""The chat-event family (seed 002): every event logged on a chat conversation, in its chat session;
event KPIs on the UTC day of the event, sliced by the experience of the event's conversation.

Chat sessions (PRODUCT.md, "Chatbot engagement"): the events of one customer (``customerId``, else
``contactId``, else the conversation) within one provider, across their chat conversations, in time
order (then event id); a gap of **more than** the provider's ``chat_session_gap_s`` (default 30
minutes) between two consecutive events starts a new session. A session is identified by its customer
and its first event's time, so a late event that splits, joins or starts a session earlier changes
its rows, and the run recomputes every session of the touched customers whole.

An event whose conversation has not arrived yet has no customer: it waits (as for the contact-center
families) and joins its sessions once the conversation is registered.
"""

from __future__ import annotations

from shared.kpi.families.scopes import CHATBOT_EVENTS, CONVERSATION_KEY, CUSTOMERS, customer_key
from shared.kpi.model import Dimension, Family, Kpi, Output, count, counted, distinct, total
from shared.kpi.sqlparts import names, same
from shared.warehouse.tables import CHAT_MODULE_VISITS, FACT_CHAT_EVENTS

DEFAULT_SESSION_GAP_S = 30 * 60
CUSTOMER = ("provider_id", "customer_key")
EXPERIENCE_DIMENSIONS: tuple[Dimension, ...] = ("experience_id",)
EXPERIENCE_GROUPING_SETS: tuple[tuple[Dimension, ...], ...] = ((), ("experience_id",))
NPS_SCORES = tuple(range(11))
SHARE_CHANNELS = ("facebook", "email", "native", "twitter", "whatsapp")
# NPS bands (PLATFORM conventions): 0-6 detractors, 7-8 passives, 9-10 promoters.
ANSWERED = "nps BETWEEN 0 AND 10"
DETRACTOR = "nps BETWEEN 0 AND 6"
PROMOTER = "nps BETWEEN 9 AND 10"


def session_id(key: str, start: str) -> str:
    """``customer_key@microseconds``: one id per session of a customer (its first event's time)."""
    return f"CONCAT({key}, '@', CAST(UNIX_MICROS({start}) AS STRING))"


FACT_CHAT_EVENTS_SQL = f"""
WITH
scope AS (SELECT DISTINCT provider_id, customer_key FROM touched_customers),
candidates AS (
  SELECT c.provider_id, c.conversation_id, c.experience_id, c.platform, k.customer_key
  FROM raw_conversations AS c
  JOIN scope AS k ON k.provider_id = c.provider_id AND k.customer_key = {customer_key("c")}
),
candidate_events AS (
  SELECT e.provider_id, e.conversation_id, e.event_id, e.event_ts, e.name, e.custom_data,
    k.experience_id, k.platform, k.customer_key
  FROM raw_events AS e
  JOIN candidates AS k ON {same("k", "e", *CONVERSATION_KEY)}
),
chats AS (
  SELECT k.provider_id, k.conversation_id FROM candidates AS k
  WHERE k.experience_id IS NOT NULL OR EXISTS (
    SELECT 1 FROM candidate_events AS x
    WHERE {same("x", "k", *CONVERSATION_KEY)} AND x.name IN ({names(CHATBOT_EVENTS)})
  )
),
gaps AS (
  SELECT e.*,
    COALESCE(ps.chat_session_gap_s, {DEFAULT_SESSION_GAP_S}) AS gap_s,
    LAG(e.event_ts) OVER (PARTITION BY e.provider_id, e.customer_key ORDER BY e.event_ts, e.event_id)
      AS previous_ts
  FROM candidate_events AS e
  JOIN chats AS h ON {same("h", "e", *CONVERSATION_KEY)}
  LEFT JOIN provider_settings AS ps ON ps.provider_id = e.provider_id
),
numbered AS (
  SELECT g.*,
    SUM(CASE WHEN g.previous_ts IS NULL
              OR TIMESTAMP_DIFF(g.event_ts, g.previous_ts, MICROSECOND) > g.gap_s * 1000000
        THEN 1 ELSE 0 END)
      OVER (PARTITION BY g.provider_id, g.customer_key ORDER BY g.event_ts, g.event_id
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session_no
  FROM gaps AS g
),
starts AS (
  SELECT n.*,
    MIN(n.event_ts) OVER (PARTITION BY n.provider_id, n.customer_key, n.session_no) AS session_start_ts
  FROM numbered AS n
)
SELECT s.provider_id, s.customer_key, s.event_id, s.conversation_id, s.event_ts, s.name,
  s.experience_id, s.platform,
  {session_id("s.customer_key", "s.session_start_ts")} AS chat_session_id,
  s.session_start_ts,
  CASE WHEN s.name = 'ModuleVisited' THEN JSON_VALUE(s.custom_data, '$.moduleId') END AS module_id,
  CASE WHEN s.name = 'ModuleVisited' THEN JSON_VALUE(s.custom_data, '$.moduleName') END AS module_name,
  CASE WHEN s.name = 'SurveyAnswered' THEN SAFE_CAST(JSON_VALUE(s.custom_data, '$.nps') AS INT64) END AS nps,
  CASE WHEN s.name = 'OptInGiven' THEN JSON_VALUE(s.custom_data, '$.topic') END AS opt_in_topic,
  CASE WHEN s.name = 'OptInGiven' THEN JSON_VALUE(s.custom_data, '$.level') END AS opt_in_level,
  CASE WHEN s.name = 'Shared' THEN JSON_VALUE(s.custom_data, '$.via') END AS share_via,
  CASE WHEN s.name = 'PinVerified' THEN JSON_VALUE(s.custom_data, '$.success') = 'true' END AS pin_success
FROM starts AS s
"""

# The drill-down heatmap, per affected (provider, day): module visits and the sessions behind them.
MODULE_VISITS_SQL = """
SELECT d.day, f.provider_id, COALESCE(f.experience_id, '(none)') AS experience_id, f.module_id,
  MAX(f.module_name) AS module_name, COUNT(*) AS visits, COUNT(DISTINCT f.chat_session_id) AS sessions
FROM fact_chat_events AS f
JOIN (SELECT DISTINCT provider_id, day FROM affected_days) AS d
  ON d.provider_id = f.provider_id AND d.day = DATE(f.event_ts)
WHERE f.name = 'ModuleVisited' AND f.module_id IS NOT NULL
GROUP BY d.day, f.provider_id, COALESCE(f.experience_id, '(none)'), f.module_id
"""

CHAT_EVENT = Family(
    "chat_event",
    FACT_CHAT_EVENTS,
    "event_ts",
    EXPERIENCE_DIMENSIONS,
    EXPERIENCE_GROUPING_SETS,
    scope=CUSTOMERS,
    fact_sql=FACT_CHAT_EVENTS_SQL,
    outputs=(Output(CHAT_MODULE_VISITS, MODULE_VISITS_SQL),),
    description="Events of chat conversations (seed 002), attributed to the UTC day of the event.",
)


def _event(name: str, description: str, filter: str) -> Kpi:
    return counted(name, "chat_event", description, filter)


CHAT_EVENT_KPIS: tuple[Kpi, ...] = (
    _event("chat_starts", "How often the chat was started (ChatStarted events).", "name = 'ChatStarted'"),
    Kpi(
        name="participants",
        family="chat_event",
        kind="count",
        unit="count",
        description="Distinct customers who started the chat that day (not additive over days or slices).",
        numerator=distinct("customer_key", "name = 'ChatStarted'"),
    ),
    _event(
        "participations",
        "Participations, e.g. raffle entries (ParticipationCompleted events); a customer may count often.",
        "name = 'ParticipationCompleted'",
    ),
    _event(
        "new_customers",
        "Customers who signed up with their e-mail (EmailCaptured).",
        "name = 'EmailCaptured'",
    ),
    _event("webpush_asked", "How often the web-push opt-in was asked for.", "name = 'WebPushAsked'"),
    *(
        _event(
            f"{topic}_optins_{level}",
            f"{level.capitalize()} opt-ins given for {'web push' if topic == 'webpush' else 'reminders'}.",
            f"name = 'OptInGiven' AND opt_in_topic = '{topic}' AND opt_in_level = '{level}'",
        )
        for topic in ("webpush", "reminder")
        for level in ("single", "double")
    ),
    *(
        _event(f"shares_{via}", f"How often the experience was shared via {via}.", f"share_via = '{via}'")
        for via in SHARE_CHANNELS
    ),
    _event("advent_calendar_opened", "Advent calendar doors opened.", "name = 'AdventCalendarOpened'"),
    Kpi(
        name="chat_nps",
        family="chat_event",
        kind="score",
        unit="score",
        description="Net promoter score of the chatbot's survey answers, on the day of the answer: "
        "% promoters (9-10) minus % detractors (0-6).",
        numerator=total(f"CASE WHEN {PROMOTER} THEN 1 WHEN {DETRACTOR} THEN -1 ELSE 0 END", ANSWERED),
        denominator=count(ANSWERED),
    ),
    _event("chat_nps_detractors", "Survey answers of 0 to 6.", DETRACTOR),
    _event("chat_nps_passives", "Survey answers of 7 or 8.", "nps BETWEEN 7 AND 8"),
    _event("chat_nps_promoters", "Survey answers of 9 or 10.", PROMOTER),
    *(
        _event(f"chat_nps_score_{n}", f"Survey answers of exactly {n} (the distribution).", f"nps = {n}")
        for n in NPS_SCORES
    ),
    _event("pins_sent", "E-mails with a PIN sent (PinSent).", "name = 'PinSent'"),
    _event(
        "pins_succeeded",
        "PINs entered correctly (PinVerified, success true).",
        "name = 'PinVerified' AND pin_success",
    ),
    _event(
        "pins_failed",
        "PINs entered incorrectly (PinVerified, success false).",
        "name = 'PinVerified' AND NOT pin_success",
    ),
)
