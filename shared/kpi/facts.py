"""The fact tables, derived from the raw tables by SQL that runs in the warehouse.

The text is canonical SQL in BigQuery syntax with bare table names; ``shared.kpi.dialects`` qualifies
the names and renders it for each warehouse. Both queries return the rows of the conversations listed
in the ``touched_conversations`` staging table, whole, so the aggregator replaces them by key.

Decisions (docs/kpis.md explains them for users):
- Repeated or conflicting events: the first by ``event_ts``, then ``event_id``, wins — one offer
  outcome (accept, reject or time-out), one SessionStarted, one SessionClosed, one ConversationClosed.
- Events a consult or monitor participant logs on a session describe that participant, not the
  session; a consult's own first offer outcome says whether the consult was accepted.
- Focus and hold are state machines: repeated states collapse, a leading "off" is ignored, and an
  interval still open ends at the close. Durations whose end precedes their start are NULL (a clock
  error is not a measurement) and drop out of averages.
"""

from __future__ import annotations

OFFER_OUTCOMES = ("NotificationResponse", "NotificationTimedOut")
SESSION_EVENTS = (
    "NotificationReceived",
    *OFFER_OUTCOMES,
    "SessionStarted",
    "SessionClosed",
    "WrapUpStarted",
    "SessionInFocus",
    "SessionOutOfFocus",
)
CONVERSATION_EVENTS = ("ConversationClosed", "CallHold", "CallUnhold", "MessageSent", "SurveyAnswered")
FCR_WINDOW_HOURS = 72


def seconds(start: str, end: str) -> str:
    """Seconds from ``start`` to ``end``; NULL when either is missing or the end comes first."""
    return f"CASE WHEN {end} >= {start} THEN TIMESTAMP_DIFF({end}, {start}, MICROSECOND) / 1000000 END"


def count_if(condition: str) -> str:
    """Rows where ``condition`` is TRUE, 0 when none: unlike COUNTIF, never NULL in any dialect."""
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def _names(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _same(left: str, right: str, *columns: str) -> str:
    return " AND ".join(f"{left}.{c} = {right}.{c}" for c in columns)


CONVERSATION_KEY = ("provider_id", "conversation_id")
SESSION_KEY = ("provider_id", "conversation_id", "session_id")


def _intervals(source: str, key: tuple[str, ...], on: str, off: str) -> str:
    """Collapse an on/off event stream to state changes; every kept ``on`` row gets the time of the
    next change (``next_ts``, NULL while still on). Two passes because the filter needs LAG and the
    interval end needs LEAD over the filtered rows."""
    partition = ", ".join(key)
    cols = ", ".join(key)
    return f"""
      SELECT {cols}, name, event_ts,
        LEAD(event_ts) OVER (PARTITION BY {partition} ORDER BY event_ts, event_id) AS next_ts
      FROM (
        SELECT {cols}, name, event_ts, event_id,
          LAG(name) OVER (PARTITION BY {partition} ORDER BY event_ts, event_id) AS previous_name
        FROM {source}
        WHERE name IN ('{on}', '{off}')
      ) AS stream
      WHERE (previous_name IS NULL AND name = '{on}') OR (previous_name IS NOT NULL AND name <> previous_name)
    """


FACT_SESSIONS_SQL = f"""
WITH
scope AS (SELECT DISTINCT provider_id, conversation_id FROM touched_conversations),
session_rows AS (
  SELECT s.provider_id, s.conversation_id, s.session_id, s.created_ts, s.queue_assigned_ts,
    s.agent_assigned_ts, s.queue_id, COALESCE(s.session_channel, c.channel) AS channel
  FROM raw_sessions AS s
  JOIN scope AS t ON {_same("t", "s", *CONVERSATION_KEY)}
  JOIN raw_conversations AS c ON {_same("c", "s", *CONVERSATION_KEY)}
),
scoped_participants AS (
  SELECT p.* FROM raw_participants AS p JOIN scope AS t ON {_same("t", "p", *CONVERSATION_KEY)}
),
primary_agents AS (
  SELECT provider_id, conversation_id, session_id, agent_id FROM (
    SELECT provider_id, conversation_id, session_id, participant_id AS agent_id,
      ROW_NUMBER() OVER (PARTITION BY provider_id, conversation_id, session_id
                         ORDER BY added_ts, participant_id) AS pick
    FROM scoped_participants
    WHERE participant_type = 'agent' AND participant_mode = 'primary'
  ) AS ranked WHERE pick = 1
),
session_events AS (
  SELECT e.provider_id, e.conversation_id, e.session_id, e.participant_id, e.event_id, e.event_ts,
    e.name, e.reason, e.response_action, side.participant_mode AS side_mode,
    CASE WHEN e.name IN ({_names(OFFER_OUTCOMES)}) THEN 'outcome' ELSE e.name END AS kind
  FROM raw_events AS e
  JOIN scope AS t ON {_same("t", "e", *CONVERSATION_KEY)}
  LEFT JOIN scoped_participants AS side
    ON {_same("side", "e", *SESSION_KEY)} AND side.participant_id = e.participant_id
    AND side.participant_mode IN ('consult', 'monitor')
  WHERE e.name IN ({_names(SESSION_EVENTS)})
),
firsts AS (
  SELECT provider_id, conversation_id, session_id,
    MAX(CASE WHEN kind = 'NotificationReceived' THEN event_ts END) AS notified_ts,
    MAX(CASE WHEN kind = 'outcome' THEN event_ts END) AS outcome_ts,
    MAX(CASE WHEN kind = 'outcome' THEN
      CASE WHEN name = 'NotificationTimedOut' THEN 'TimedOut'
           WHEN response_action = 'Accept' THEN 'Accept'
           WHEN response_action = 'Reject' THEN 'Reject' END END) AS outcome,
    MAX(CASE WHEN kind = 'SessionStarted' THEN event_ts END) AS started_ts,
    MAX(CASE WHEN kind = 'SessionClosed' THEN event_ts END) AS closed_event_ts,
    MAX(CASE WHEN kind = 'SessionClosed' THEN reason END) AS closed_reason,
    MAX(CASE WHEN kind = 'WrapUpStarted' THEN event_ts END) AS wrap_up_started_ts
  FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY provider_id, conversation_id, session_id, kind
                                 ORDER BY event_ts, event_id) AS pick
    FROM session_events
    WHERE side_mode IS NULL AND name NOT IN ('SessionInFocus', 'SessionOutOfFocus')
  ) AS ranked
  WHERE pick = 1
  GROUP BY provider_id, conversation_id, session_id
),
consult_counts AS (
  SELECT p.provider_id, p.conversation_id, p.session_id, COUNT(*) AS requested,
    {count_if("o.name = 'NotificationResponse' AND o.response_action = 'Accept'")} AS accepted
  FROM scoped_participants AS p
  LEFT JOIN (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY provider_id, conversation_id, session_id, participant_id
                                 ORDER BY event_ts, event_id) AS pick
    FROM session_events WHERE side_mode = 'consult' AND kind = 'outcome'
  ) AS o ON {_same("o", "p", *SESSION_KEY)} AND o.participant_id = p.participant_id AND o.pick = 1
  WHERE p.participant_type = 'agent' AND p.participant_mode = 'consult'
  GROUP BY p.provider_id, p.conversation_id, p.session_id
),
states AS (
  SELECT s.*, a.agent_id,
    a.agent_id IS NOT NULL AS is_agent_session,
    COALESCE(f.notified_ts, s.agent_assigned_ts) AS offered_ts,
    f.outcome_ts, f.started_ts, f.wrap_up_started_ts, f.closed_event_ts, f.closed_reason,
    a.agent_id IS NOT NULL AND COALESCE(f.outcome = 'Accept', FALSE) AS accepted,
    a.agent_id IS NOT NULL AND COALESCE(f.outcome = 'Reject', FALSE) AS rejected,
    a.agent_id IS NOT NULL AND COALESCE(f.outcome = 'TimedOut', FALSE) AS timed_out,
    a.agent_id IS NOT NULL
      AND (f.notified_ts IS NOT NULL OR s.agent_assigned_ts IS NOT NULL OR f.outcome_ts IS NOT NULL) AS incoming
  FROM session_rows AS s
  LEFT JOIN primary_agents AS a ON {_same("a", "s", *SESSION_KEY)}
  LEFT JOIN firsts AS f ON {_same("f", "s", *SESSION_KEY)}
),
closes AS (
  SELECT st.*,
    CASE WHEN closed_event_ts IS NOT NULL THEN closed_event_ts
         WHEN rejected OR timed_out THEN outcome_ts END AS close_ts,
    CASE WHEN closed_event_ts IS NOT NULL THEN closed_reason
         WHEN rejected THEN 'Rejected' WHEN timed_out THEN 'TimedOut' END AS close_reason
  FROM states AS st
),
focus AS (
  SELECT i.provider_id, i.conversation_id, i.session_id,
    SUM({seconds("i.event_ts", "COALESCE(i.next_ts, c.close_ts)")}) AS focused_s
  FROM ({
    _intervals(
        "(SELECT * FROM session_events WHERE side_mode IS NULL) AS primary_events",
        SESSION_KEY,
        "SessionInFocus",
        "SessionOutOfFocus",
    )
}) AS i
  JOIN closes AS c ON {_same("c", "i", *SESSION_KEY)}
  WHERE i.name = 'SessionInFocus'
  GROUP BY i.provider_id, i.conversation_id, i.session_id
)
SELECT c.provider_id, c.conversation_id, c.session_id, c.channel, c.queue_id, c.agent_id,
  c.is_agent_session, c.created_ts, c.queue_assigned_ts, c.offered_ts,
  c.outcome_ts AS responded_ts,
  c.incoming, c.accepted, c.rejected, c.timed_out,
  COALESCE(c.close_reason = 'Transferred', FALSE) AS transferred,
  c.close_ts, c.close_reason,
  CASE WHEN c.accepted THEN {seconds("c.offered_ts", "c.outcome_ts")} END AS time_to_accept_s,
  CASE WHEN c.rejected THEN {seconds("c.offered_ts", "c.outcome_ts")} END AS time_to_reject_s,
  CASE WHEN c.accepted THEN {seconds("c.queue_assigned_ts", "c.outcome_ts")} END AS wait_s,
  CASE WHEN NOT c.accepted THEN NULL
       WHEN fo.provider_id IS NOT NULL THEN fo.focused_s
       ELSE {seconds("COALESCE(c.started_ts, c.outcome_ts)", "c.close_ts")} END AS handle_s,
  c.accepted AND fo.provider_id IS NOT NULL AS handle_from_focus,
  CASE WHEN c.accepted THEN {seconds("c.wrap_up_started_ts", "c.close_ts")} END AS wrap_up_s,
  COALESCE(cc.requested, 0) AS consults_requested,
  COALESCE(cc.accepted, 0) AS consults_accepted
FROM closes AS c
LEFT JOIN focus AS fo ON {_same("fo", "c", *SESSION_KEY)}
LEFT JOIN consult_counts AS cc ON {_same("cc", "c", *SESSION_KEY)}
"""


FACT_CONVERSATIONS_SQL = f"""
WITH
scope AS (SELECT DISTINCT provider_id, conversation_id FROM touched_conversations),
conversation_rows AS (
  SELECT c.* FROM raw_conversations AS c JOIN scope AS t ON {_same("t", "c", *CONVERSATION_KEY)}
),
session_facts AS (
  SELECT f.* FROM fact_sessions AS f JOIN scope AS t ON {_same("t", "f", *CONVERSATION_KEY)}
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
  FROM raw_events AS e JOIN scope AS t ON {_same("t", "e", *CONVERSATION_KEY)}
  WHERE e.name IN ({_names(CONVERSATION_EVENTS)})
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
  LEFT JOIN closings AS cl ON {_same("cl", "c", *CONVERSATION_KEY)}
),
holds AS (
  SELECT i.provider_id, i.conversation_id,
    SUM({seconds("i.event_ts", "COALESCE(i.next_ts, c.close_ts)")}) AS hold_s
  FROM ({_intervals("conversation_events", CONVERSATION_KEY, "CallHold", "CallUnhold")}) AS i
  JOIN closed AS c ON {_same("c", "i", *CONVERSATION_KEY)}
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
  JOIN messages AS m ON {_same("m", "q", *CONVERSATION_KEY)} AND m.sender = 'agent' AND m.event_ts >= q.asked_ts
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
  LEFT JOIN session_rollup AS r ON {_same("r", "c", *CONVERSATION_KEY)}
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
LEFT JOIN primary_sessions AS p ON {_same("p", "f", *CONVERSATION_KEY)}
LEFT JOIN holds AS h ON {_same("h", "f", *CONVERSATION_KEY)}
LEFT JOIN first_responses AS fr ON {_same("fr", "f", *CONVERSATION_KEY)}
LEFT JOIN surveys AS s ON {_same("s", "f", *CONVERSATION_KEY)}
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


# A resolved conversation closes at most this many UTC days before a conversation that repeats it.
FCR_WINDOW_DAYS = -(-FCR_WINDOW_HOURS // 24)
_LOOK_BACK = " UNION ALL ".join(f"SELECT {n} AS days" for n in range(FCR_WINDOW_DAYS + 1))

# The look-ahead is computed backwards from the touched conversations, so its cost follows what was
# touched: only the touched inbound conversations' customers are looked up, and each touched
# conversation meets an earlier one on an equal close day (one row per day its 72 h look-back reaches)
# before the exact 72 h test. Without that day, a customer with conversations on many days made the
# self-join quadratic in their conversation count (and a backfill touches every customer at once).
AFFECTED_DAYS_SQL = f"""
WITH
scope AS (SELECT DISTINCT provider_id, conversation_id FROM touched_conversations),
touched AS (
  SELECT c.provider_id, c.conversation_id, c.customer_id, c.direction, c.conversation_ts, c.closed_ts
  FROM fact_conversations AS c JOIN scope AS t ON {_same("t", "c", *CONVERSATION_KEY)}
),
repeats AS (
  SELECT later.provider_id, later.conversation_id, later.customer_id, later.direction,
    later.conversation_ts, UNIX_DATE(DATE(later.conversation_ts)) - back.days AS close_day
  FROM touched AS later
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
SELECT DISTINCT provider_id, day FROM (
  SELECT s.provider_id, DATE(s.close_ts) AS day
  FROM fact_sessions AS s JOIN scope AS t ON {_same("t", "s", *CONVERSATION_KEY)}
  WHERE s.close_ts IS NOT NULL
  UNION ALL
  SELECT provider_id, DATE(closed_ts) AS day FROM touched WHERE closed_ts IS NOT NULL
  UNION ALL
  SELECT earlier.provider_id, DATE(earlier.closed_ts) AS day
  FROM repeats AS later
  JOIN resolved AS earlier ON earlier.close_day = later.close_day AND {fcr_repeat_join("earlier", "later")}
) AS days
"""
