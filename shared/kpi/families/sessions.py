"""The session family (seed 003): one fact row per session, KPIs per agent session by close day.

Decisions (docs/kpis.md explains them for users):
- Repeated or conflicting events: the first by ``event_ts``, then ``event_id``, wins — one offer
  outcome (accept, reject or time-out), one SessionStarted, one SessionClosed.
- Events a consult or monitor participant logs on a session describe that participant, not the
  session; a consult's own first offer outcome says whether the consult was accepted.
- Focus is a state machine: repeated states collapse, a leading "off" is ignored, and an interval
  still open ends at the close. Durations whose end precedes their start are NULL (a clock error is
  not a measurement) and drop out of averages.
"""

from __future__ import annotations

from shared.kpi.families.scopes import CONVERSATION_KEY, CONVERSATIONS
from shared.kpi.model import Dimension, Family, Kpi, averaged, counted, rate, total
from shared.kpi.sqlparts import count_if, intervals, names, same, seconds
from shared.warehouse.tables import FACT_SESSIONS

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
SESSION_KEY = ("provider_id", "conversation_id", "session_id")

CONTACT_CENTER_DIMENSIONS: tuple[Dimension, ...] = ("channel", "queue_id", "agent_id")
CONTACT_CENTER_GROUPING_SETS: tuple[tuple[Dimension, ...], ...] = (
    (),
    ("channel",),
    ("queue_id",),
    ("agent_id",),
    ("queue_id", "agent_id"),
)

FACT_SESSIONS_SQL = f"""
WITH
scope AS (SELECT DISTINCT provider_id, conversation_id FROM touched_conversations),
session_rows AS (
  SELECT s.provider_id, s.conversation_id, s.session_id, s.created_ts, s.queue_assigned_ts,
    s.agent_assigned_ts, s.queue_id, COALESCE(s.session_channel, c.channel) AS channel
  FROM raw_sessions AS s
  JOIN scope AS t ON {same("t", "s", *CONVERSATION_KEY)}
  JOIN raw_conversations AS c ON {same("c", "s", *CONVERSATION_KEY)}
),
scoped_participants AS (
  SELECT p.* FROM raw_participants AS p JOIN scope AS t ON {same("t", "p", *CONVERSATION_KEY)}
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
    CASE WHEN e.name IN ({names(OFFER_OUTCOMES)}) THEN 'outcome' ELSE e.name END AS kind
  FROM raw_events AS e
  JOIN scope AS t ON {same("t", "e", *CONVERSATION_KEY)}
  LEFT JOIN scoped_participants AS side
    ON {same("side", "e", *SESSION_KEY)} AND side.participant_id = e.participant_id
    AND side.participant_mode IN ('consult', 'monitor')
  WHERE e.name IN ({names(SESSION_EVENTS)})
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
  ) AS o ON {same("o", "p", *SESSION_KEY)} AND o.participant_id = p.participant_id AND o.pick = 1
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
  LEFT JOIN primary_agents AS a ON {same("a", "s", *SESSION_KEY)}
  LEFT JOIN firsts AS f ON {same("f", "s", *SESSION_KEY)}
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
    intervals(
        "(SELECT * FROM session_events WHERE side_mode IS NULL) AS primary_events",
        SESSION_KEY,
        "SessionInFocus",
        "SessionOutOfFocus",
    )
}) AS i
  JOIN closes AS c ON {same("c", "i", *SESSION_KEY)}
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
LEFT JOIN focus AS fo ON {same("fo", "c", *SESSION_KEY)}
LEFT JOIN consult_counts AS cc ON {same("cc", "c", *SESSION_KEY)}
"""

SESSION = Family(
    "session",
    FACT_SESSIONS,
    "close_ts",
    CONTACT_CENTER_DIMENSIONS,
    CONTACT_CENTER_GROUPING_SETS,
    scope=CONVERSATIONS,
    fact_sql=FACT_SESSIONS_SQL,
    description="Agent sessions (seed 003), attributed to the UTC day the session closed.",
)

SESSION_KPIS: tuple[Kpi, ...] = (
    counted(
        "incoming_sessions", "session", "Agent sessions offered to their agent, closed that day.", "incoming"
    ),
    counted("sessions_engaged", "session", "Agent sessions the agent accepted.", "accepted"),
    counted("sessions_rejected", "session", "Agent sessions the agent rejected.", "rejected"),
    rate("session_rejection_rate", "session", "Rejected ÷ incoming sessions.", "rejected", "incoming"),
    counted("sessions_timed_out", "session", "Agent sessions whose offer timed out.", "timed_out"),
    rate("session_timeout_rate", "session", "Timed-out ÷ incoming sessions.", "timed_out", "incoming"),
    counted(
        "sessions_transferred",
        "session",
        "Incoming sessions that closed with reason Transferred.",
        "incoming AND transferred",
    ),
    rate(
        "session_transfer_rate",
        "session",
        "Transferred ÷ incoming sessions.",
        "incoming AND transferred",
        "incoming",
    ),
    averaged(
        "avg_session_time_to_accept_s",
        "session",
        "Seconds from the offer (NotificationReceived, else agent assigned) to the accept.",
        "time_to_accept_s",
        "accepted",
    ),
    averaged(
        "avg_session_time_to_reject_s",
        "session",
        "Seconds from the offer (NotificationReceived, else agent assigned) to the reject.",
        "time_to_reject_s",
        "rejected",
    ),
    averaged(
        "avg_session_handle_time_s",
        "session",
        "Focused seconds (SessionInFocus/SessionOutOfFocus) where present, else started to closed; "
        "wrap-up included; over accepted sessions.",
        "handle_s",
        "accepted",
    ),
    averaged(
        "avg_session_wait_time_s",
        "session",
        "Seconds from queue assignment to the accept.",
        "wait_s",
        "accepted",
    ),
    Kpi(
        name="consults_requested",
        family="session",
        kind="count",
        unit="count",
        description="Consult agents added to sessions closed that day.",
        numerator=total("consults_requested"),
    ),
    Kpi(
        name="consults_accepted",
        family="session",
        kind="count",
        unit="count",
        description="Consult agents who accepted the consult.",
        numerator=total("consults_accepted"),
    ),
    Kpi(
        name="consult_acceptance_rate",
        family="session",
        kind="ratio",
        unit="ratio",
        description="Accepted ÷ requested consults.",
        numerator=total("consults_accepted"),
        denominator=total("consults_requested"),
    ),
)
