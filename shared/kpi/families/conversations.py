"""The conversation family (D365 omnichannel definitions): one fact row per conversation, KPIs by
the UTC day the conversation closed.

Decisions (docs/kpis.md explains them for users):
- Repeated or conflicting events: the first ``ConversationClosed`` by ``event_ts``, then ``event_id``,
  closes the conversation (unless ``closedTimestamp`` did).
- Hold is a state machine like focus: repeated states collapse, a leading "off" is ignored, an
  interval still open ends at the close.
- First-contact resolution looks ahead 72 h at the customer's later inbound conversations in the whole
  fact table: it depends on other rows, so it is derived when the KPIs are computed, never stored, and
  a changed conversation moves the KPIs of the resolved conversations it repeats (``extra_days_sql``).
"""

from __future__ import annotations

from shared.kpi.families.scopes import CONVERSATION_KEY, CONVERSATIONS
from shared.kpi.families.sessions import CONTACT_CENTER_DIMENSIONS, CONTACT_CENTER_GROUPING_SETS
from shared.kpi.model import Family, Kpi, averaged, counted, rate, total
from shared.kpi.sqlparts import count_if, intervals, names, same, seconds
from shared.warehouse.tables import FACT_CONVERSATIONS

CONVERSATION_EVENTS = ("ConversationClosed", "CallHold", "CallUnhold", "MessageSent", "SurveyAnswered")
FCR_WINDOW_HOURS = 72
SERVICE_LEVEL_SECONDS: tuple[int, ...] = (10, 20, 30, 60, 120)

FACT_CONVERSATIONS_SQL = f"""
WITH
scope AS (SELECT DISTINCT provider_id, conversation_id FROM touched_conversations),
conversation_rows AS (
  SELECT c.* FROM raw_conversations AS c JOIN scope AS t ON {same("t", "c", *CONVERSATION_KEY)}
),
session_facts AS (
  SELECT f.* FROM fact_sessions AS f JOIN scope AS t ON {same("t", "f", *CONVERSATION_KEY)}
),
session_rollup AS (
  SELECT provider_id, conversation_id,
    LOGICAL_OR(incoming) AS offered,
    LOGICAL_OR(accepted) AS handled,
    LOGICAL_OR(is_agent_session AND transferred) AS transferred,
    MIN(CASE WHEN accepted THEN responded_ts END) AS answered_ts,
    MIN(queue_assigned_ts) AS queued_ts,
    SUM(CASE WHEN accepted THEN handle_s END) AS handle_s,
    SUM(CASE WHEN accepted THEN wrap_up_s END) AS wrap_up_s
  FROM session_facts
  GROUP BY provider_id, conversation_id
),
primary_sessions AS (
  SELECT provider_id, conversation_id, queue_id, agent_id FROM (
    SELECT provider_id, conversation_id, queue_id, agent_id,
      ROW_NUMBER() OVER (
        PARTITION BY provider_id, conversation_id
        ORDER BY CASE WHEN accepted THEN 0 WHEN incoming THEN 1 WHEN queue_id IS NOT NULL THEN 2 ELSE 3 END,
          created_ts, session_id) AS pick
    FROM session_facts
  ) AS ranked WHERE pick = 1
),
conversation_events AS (
  SELECT e.provider_id, e.conversation_id, e.event_id, e.event_ts, e.name, e.reason, e.custom_data
  FROM raw_events AS e JOIN scope AS t ON {same("t", "e", *CONVERSATION_KEY)}
  WHERE e.name IN ({names(CONVERSATION_EVENTS)})
),
closings AS (
  SELECT provider_id, conversation_id, event_ts, reason FROM (
    SELECT provider_id, conversation_id, event_ts, reason,
      ROW_NUMBER() OVER (PARTITION BY provider_id, conversation_id ORDER BY event_ts, event_id) AS pick
    FROM conversation_events WHERE name = 'ConversationClosed'
  ) AS ranked WHERE pick = 1
),
closed AS (
  SELECT c.*, COALESCE(c.closed_ts, cl.event_ts) AS close_ts, cl.reason AS close_reason
  FROM conversation_rows AS c
  LEFT JOIN closings AS cl ON {same("cl", "c", *CONVERSATION_KEY)}
),
holds AS (
  SELECT i.provider_id, i.conversation_id,
    SUM({seconds("i.event_ts", "COALESCE(i.next_ts, c.close_ts)")}) AS hold_s
  FROM ({intervals("conversation_events", CONVERSATION_KEY, "CallHold", "CallUnhold")}) AS i
  JOIN closed AS c ON {same("c", "i", *CONVERSATION_KEY)}
  WHERE i.name = 'CallHold'
  GROUP BY i.provider_id, i.conversation_id
),
messages AS (
  SELECT provider_id, conversation_id, event_ts, JSON_VALUE(custom_data, '$.sender') AS sender
  FROM conversation_events WHERE name = 'MessageSent'
),
first_customer_messages AS (
  SELECT provider_id, conversation_id, MIN(event_ts) AS asked_ts
  FROM messages WHERE sender = 'customer'
  GROUP BY provider_id, conversation_id
),
first_responses AS (
  SELECT q.provider_id, q.conversation_id, q.asked_ts, MIN(m.event_ts) AS answered_ts
  FROM first_customer_messages AS q
  JOIN messages AS m ON {same("m", "q", *CONVERSATION_KEY)} AND m.sender = 'agent' AND m.event_ts >= q.asked_ts
  GROUP BY q.provider_id, q.conversation_id, q.asked_ts
),
answers AS (
  SELECT provider_id, conversation_id,
    SAFE_CAST(JSON_VALUE(custom_data, '$.csat') AS INT64) AS csat,
    SAFE_CAST(JSON_VALUE(custom_data, '$.nps') AS INT64) AS nps
  FROM conversation_events WHERE name = 'SurveyAnswered'
),
surveys AS (
  SELECT provider_id, conversation_id,
    {count_if("csat BETWEEN 1 AND 5")} AS csat_answers,
    {count_if("csat BETWEEN 4 AND 5")} AS csat_top2,
    {count_if("nps BETWEEN 0 AND 10")} AS nps_answers,
    {count_if("nps BETWEEN 9 AND 10")} AS nps_promoters,
    {count_if("nps BETWEEN 0 AND 6")} AS nps_detractors
  FROM answers
  GROUP BY provider_id, conversation_id
),
flags AS (
  SELECT c.*,
    COALESCE(r.queued_ts, c.conversation_ts) AS waiting_since_ts,
    r.answered_ts,
    c.direction = 'inbound' AND COALESCE(r.offered, FALSE) AS incoming,
    COALESCE(r.handled, FALSE) AS handled,
    COALESCE(r.transferred, FALSE) AS transferred,
    r.handle_s AS sessions_handle_s,
    r.wrap_up_s AS sessions_wrap_up_s
  FROM closed AS c
  LEFT JOIN session_rollup AS r ON {same("r", "c", *CONVERSATION_KEY)}
)
SELECT f.provider_id, f.conversation_id, f.channel, f.direction, f.customer_id,
  p.queue_id, p.agent_id, f.conversation_ts, f.close_ts AS closed_ts, f.close_reason,
  f.waiting_since_ts, f.answered_ts, f.incoming, f.handled,
  f.direction = 'inbound' AND f.close_ts IS NOT NULL AND NOT f.handled AS abandoned,
  f.transferred,
  f.close_ts IS NOT NULL AND COALESCE(f.close_reason = 'Resolved', FALSE) AS resolved,
  CASE WHEN f.handled AND f.direction = 'inbound' THEN {seconds("f.waiting_since_ts", "f.answered_ts")}
    END AS speed_to_answer_s,
  CASE WHEN f.direction = 'inbound' AND f.close_ts IS NOT NULL AND NOT f.handled
    THEN {seconds("f.waiting_since_ts", "f.close_ts")} END AS time_to_abandon_s,
  CASE WHEN f.handled THEN f.sessions_handle_s END AS handle_s,
  CASE WHEN f.handled THEN COALESCE(h.hold_s, 0) END AS hold_s,
  CASE WHEN f.handled THEN COALESCE(f.sessions_wrap_up_s, 0) END AS wrap_up_s,
  {seconds("f.conversation_ts", "f.close_ts")} AS conversation_time_s,
  {seconds("fr.asked_ts", "fr.answered_ts")} AS first_response_s,
  COALESCE(s.csat_answers, 0) AS csat_answers,
  COALESCE(s.csat_top2, 0) AS csat_top2,
  COALESCE(s.nps_answers, 0) AS nps_answers,
  COALESCE(s.nps_promoters, 0) AS nps_promoters,
  COALESCE(s.nps_detractors, 0) AS nps_detractors
FROM flags AS f
LEFT JOIN primary_sessions AS p ON {same("p", "f", *CONVERSATION_KEY)}
LEFT JOIN holds AS h ON {same("h", "f", *CONVERSATION_KEY)}
LEFT JOIN first_responses AS fr ON {same("fr", "f", *CONVERSATION_KEY)}
LEFT JOIN surveys AS s ON {same("s", "f", *CONVERSATION_KEY)}
"""


def fcr_repeat_join(resolved: str, later: str) -> str:
    """The look-ahead: ``later`` is another inbound conversation of the customer of the resolved
    conversation ``resolved``, opened in the 72 hours after its close."""
    return (
        f"{later}.provider_id = {resolved}.provider_id AND {later}.customer_id = {resolved}.customer_id"
        f" AND {later}.conversation_id <> {resolved}.conversation_id AND {later}.direction = 'inbound'"
        f" AND {later}.conversation_ts > {resolved}.closed_ts"
        f" AND {later}.conversation_ts <= TIMESTAMP_ADD({resolved}.closed_ts, INTERVAL {FCR_WINDOW_HOURS} HOUR)"
    )


# Computed with the KPIs, from ``conversation_base`` (the fact rows of the affected days).
FCR_DERIVED_SQL = f"""
    repeat_contacts AS (
      SELECT x.provider_id, x.conversation_id
      FROM conversation_base AS x
      JOIN fact_conversations AS later ON {fcr_repeat_join("x", "later")}
      WHERE x.resolved
      GROUP BY x.provider_id, x.conversation_id
    ),
    conversation_rows AS (
      SELECT b.*,
        b.resolved AND b.customer_id IS NOT NULL AS fcr_eligible,
        b.resolved AND b.customer_id IS NOT NULL AND r.conversation_id IS NULL AS first_contact_resolved
      FROM conversation_base AS b
      LEFT JOIN repeat_contacts AS r
        ON r.provider_id = b.provider_id AND r.conversation_id = b.conversation_id
    )"""

# A resolved conversation closes at most this many UTC days before a conversation that repeats it.
FCR_WINDOW_DAYS = -(-FCR_WINDOW_HOURS // 24)
_LOOK_BACK = " UNION ALL ".join(f"SELECT {n} AS days" for n in range(FCR_WINDOW_DAYS + 1))

# The days a changed conversation moves besides its own close day: the close days of the earlier
# resolved conversations of its customer whose 72 h look-ahead reaches it. Its cost follows what
# changed: only the changed inbound conversations' customers are looked up, and each changed
# conversation meets an earlier one on an equal close day (one row per day its 72 h look-back
# reaches) before the exact 72 h test. Without that day, a customer with conversations on many days
# made the self-join quadratic in their conversation count (and a backfill changes every customer).
FCR_EXTRA_DAYS_SQL = f"""
WITH
repeats AS (
  SELECT later.provider_id, later.conversation_id, later.customer_id, later.direction,
    later.conversation_ts, UNIX_DATE(DATE(later.conversation_ts)) - back.days AS close_day
  FROM changed_fact_conversations AS later
  CROSS JOIN ({_LOOK_BACK}) AS back
  WHERE later.direction = 'inbound' AND later.customer_id IS NOT NULL
),
customers AS (SELECT DISTINCT provider_id, customer_id FROM repeats),
resolved AS (
  SELECT f.provider_id, f.conversation_id, f.customer_id, f.closed_ts, UNIX_DATE(DATE(f.closed_ts)) AS close_day
  FROM fact_conversations AS f
  JOIN customers AS k ON f.provider_id = k.provider_id AND f.customer_id = k.customer_id
  WHERE f.resolved
)
SELECT DISTINCT earlier.provider_id, DATE(earlier.closed_ts) AS day
FROM repeats AS later
JOIN resolved AS earlier ON earlier.close_day = later.close_day AND {fcr_repeat_join("earlier", "later")}
"""

CONVERSATION = Family(
    "conversation",
    FACT_CONVERSATIONS,
    "closed_ts",
    CONTACT_CENTER_DIMENSIONS,
    CONTACT_CENTER_GROUPING_SETS,
    scope=CONVERSATIONS,
    fact_sql=FACT_CONVERSATIONS_SQL,
    derived_sql=FCR_DERIVED_SQL,
    derived_columns=(
        ("fcr_eligible", "resolved, closed, and the customer is known"),
        (
            "first_contact_resolved",
            "fcr_eligible and the customer opened no other inbound conversation in the 72 h after the close",
        ),
    ),
    extra_days_sql=FCR_EXTRA_DAYS_SQL,
    depends_on=("session",),
    description="Conversations (D365 omnichannel definitions), attributed to the UTC day they closed.",
)

CONVERSATION_KPIS: tuple[Kpi, ...] = (
    counted(
        "incoming_conversations",
        "conversation",
        "Inbound conversations closed that day in which an agent was offered a session.",
        "incoming",
    ),
    counted(
        "outgoing_conversations",
        "conversation",
        "Outbound conversations closed that day.",
        "direction = 'outbound'",
    ),
    counted(
        "conversations_handled",
        "conversation",
        "Conversations closed that day in which an agent accepted a session.",
        "handled",
    ),
    counted(
        "conversations_abandoned",
        "conversation",
        "Inbound conversations closed that day that no agent accepted.",
        "abandoned",
    ),
    rate(
        "abandon_rate",
        "conversation",
        "Share of incoming conversations that were abandoned (offered to an agent, never accepted).",
        "incoming AND abandoned",
        "incoming",
    ),
    averaged(
        "avg_speed_to_answer_s",
        "conversation",
        "Seconds from the first queue entry (else the conversation start) to the first agent accept, "
        "over handled inbound conversations.",
        "speed_to_answer_s",
    ),
    averaged(
        "avg_time_to_abandon_s",
        "conversation",
        "Seconds from the first queue entry (else the conversation start) to the close, over abandoned "
        "conversations.",
        "time_to_abandon_s",
    ),
    *(
        rate(
            f"service_level_{seconds}s_rate",
            "conversation",
            f"Share of handled inbound conversations answered within {seconds} s (≤ {seconds} s).",
            f"speed_to_answer_s <= {seconds}",
            "speed_to_answer_s IS NOT NULL",
        )
        for seconds in SERVICE_LEVEL_SECONDS
    ),
    averaged(
        "avg_handle_time_s",
        "conversation",
        "Handle seconds summed over the accepted primary-agent sessions, averaged over handled "
        "conversations.",
        "handle_s",
        "handled",
    ),
    averaged(
        "avg_hold_time_s",
        "conversation",
        "CallHold to CallUnhold seconds summed per conversation, averaged over handled conversations.",
        "hold_s",
        "handled",
    ),
    averaged(
        "avg_wrap_up_time_s",
        "conversation",
        "WrapUpStarted to session close, summed over the accepted agent sessions, averaged over "
        "handled conversations.",
        "wrap_up_s",
        "handled",
    ),
    averaged(
        "avg_conversation_time_s",
        "conversation",
        "Seconds from conversation start to close, over closed conversations.",
        "conversation_time_s",
    ),
    rate(
        "transfer_rate",
        "conversation",
        "Share of handled conversations with an agent session that closed with reason Transferred.",
        "handled AND transferred",
        "handled",
    ),
    averaged(
        "avg_first_response_time_s",
        "conversation",
        "Seconds from the first customer message to the first agent message after it.",
        "first_response_s",
    ),
    Kpi(
        name="csat_rate",
        family="conversation",
        kind="ratio",
        unit="ratio",
        description="Share of csat answers (1-5) that are 4 or 5 (top-2 box); missing answers are excluded.",
        numerator=total("csat_top2"),
        denominator=total("csat_answers"),
    ),
    Kpi(
        name="nps",
        family="conversation",
        kind="score",
        unit="score",
        description="Net promoter score: % promoters (9-10) minus % detractors (0-6) of the nps answers.",
        numerator=total("nps_promoters - nps_detractors"),
        denominator=total("nps_answers"),
    ),
    rate(
        "first_contact_resolution_rate",
        "conversation",
        "Share of resolved conversations (of a known customer) whose customer opened no other inbound "
        "conversation in the 72 hours after the close.",
        "first_contact_resolved",
        "fcr_eligible",
    ),
)
