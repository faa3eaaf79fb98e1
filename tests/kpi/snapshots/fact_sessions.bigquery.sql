WITH scope AS (
  SELECT DISTINCT
    provider_id,
    conversation_id
  FROM touched_conversations
), session_rows AS (
  SELECT
    s.provider_id,
    s.conversation_id,
    s.session_id,
    s.created_ts,
    s.queue_assigned_ts,
    s.agent_assigned_ts,
    s.queue_id,
    COALESCE(s.session_channel, c.channel) AS channel
  FROM `my-project`.`analytics`.`raw_sessions` AS s
  JOIN scope AS t
    ON t.provider_id = s.provider_id AND t.conversation_id = s.conversation_id
  JOIN `my-project`.`analytics`.`raw_conversations` AS c
    ON c.provider_id = s.provider_id AND c.conversation_id = s.conversation_id
), scoped_participants AS (
  SELECT
    p.*
  FROM `my-project`.`analytics`.`raw_participants` AS p
  JOIN scope AS t
    ON t.provider_id = p.provider_id AND t.conversation_id = p.conversation_id
), primary_agents AS (
  SELECT
    provider_id,
    conversation_id,
    session_id,
    agent_id
  FROM (
    SELECT
      provider_id,
      conversation_id,
      session_id,
      participant_id AS agent_id,
      ROW_NUMBER() OVER (
        PARTITION BY provider_id, conversation_id, session_id
        ORDER BY added_ts, participant_id
      ) AS pick
    FROM scoped_participants
    WHERE
      participant_type = 'agent' AND participant_mode = 'primary'
  ) AS ranked
  WHERE
    pick = 1
), session_events AS (
  SELECT
    e.provider_id,
    e.conversation_id,
    e.session_id,
    e.participant_id,
    e.event_id,
    e.event_ts,
    e.name,
    e.reason,
    e.response_action,
    side.participant_mode AS side_mode,
    CASE
      WHEN e.name IN ('NotificationResponse', 'NotificationTimedOut')
      THEN 'outcome'
      ELSE e.name
    END AS kind
  FROM `my-project`.`analytics`.`raw_events` AS e
  JOIN scope AS t
    ON t.provider_id = e.provider_id AND t.conversation_id = e.conversation_id
  LEFT JOIN scoped_participants AS side
    ON side.provider_id = e.provider_id
    AND side.conversation_id = e.conversation_id
    AND side.session_id = e.session_id
    AND side.participant_id = e.participant_id
    AND side.participant_mode IN ('consult', 'monitor')
  WHERE
    e.name IN (
      'NotificationReceived',
      'NotificationResponse',
      'NotificationTimedOut',
      'SessionStarted',
      'SessionClosed',
      'WrapUpStarted',
      'SessionInFocus',
      'SessionOutOfFocus'
    )
), firsts AS (
  SELECT
    provider_id,
    conversation_id,
    session_id,
    MAX(CASE WHEN kind = 'NotificationReceived' THEN event_ts END) AS notified_ts,
    MAX(CASE WHEN kind = 'outcome' THEN event_ts END) AS outcome_ts,
    MAX(
      CASE
        WHEN kind = 'outcome'
        THEN CASE
          WHEN name = 'NotificationTimedOut'
          THEN 'TimedOut'
          WHEN response_action = 'Accept'
          THEN 'Accept'
          WHEN response_action = 'Reject'
          THEN 'Reject'
        END
      END
    ) AS outcome,
    MAX(CASE WHEN kind = 'SessionStarted' THEN event_ts END) AS started_ts,
    MAX(CASE WHEN kind = 'SessionClosed' THEN event_ts END) AS closed_event_ts,
    MAX(CASE WHEN kind = 'SessionClosed' THEN reason END) AS closed_reason,
    MAX(CASE WHEN kind = 'WrapUpStarted' THEN event_ts END) AS wrap_up_started_ts
  FROM (
    SELECT
      *,
      ROW_NUMBER() OVER (
        PARTITION BY provider_id, conversation_id, session_id, kind
        ORDER BY event_ts, event_id
      ) AS pick
    FROM session_events
    WHERE
      side_mode IS NULL AND NOT name IN ('SessionInFocus', 'SessionOutOfFocus')
  ) AS ranked
  WHERE
    pick = 1
  GROUP BY
    provider_id,
    conversation_id,
    session_id
), consult_counts AS (
  SELECT
    p.provider_id,
    p.conversation_id,
    p.session_id,
    COUNT(*) AS requested,
    SUM(
      CASE
        WHEN o.name = 'NotificationResponse' AND o.response_action = 'Accept'
        THEN 1
        ELSE 0
      END
    ) AS accepted
  FROM scoped_participants AS p
  LEFT JOIN (
    SELECT
      *,
      ROW_NUMBER() OVER (
        PARTITION BY provider_id, conversation_id, session_id, participant_id
        ORDER BY event_ts, event_id
      ) AS pick
    FROM session_events
    WHERE
      side_mode = 'consult' AND kind = 'outcome'
  ) AS o
    ON o.provider_id = p.provider_id
    AND o.conversation_id = p.conversation_id
    AND o.session_id = p.session_id
    AND o.participant_id = p.participant_id
    AND o.pick = 1
  WHERE
    p.participant_type = 'agent' AND p.participant_mode = 'consult'
  GROUP BY
    p.provider_id,
    p.conversation_id,
    p.session_id
), states AS (
  SELECT
    s.*,
    a.agent_id,
    NOT a.agent_id IS NULL AS is_agent_session,
    COALESCE(f.notified_ts, s.agent_assigned_ts) AS offered_ts,
    f.outcome_ts,
    f.started_ts,
    f.wrap_up_started_ts,
    f.closed_event_ts,
    f.closed_reason,
    NOT a.agent_id IS NULL AND COALESCE(f.outcome = 'Accept', FALSE) AS accepted,
    NOT a.agent_id IS NULL AND COALESCE(f.outcome = 'Reject', FALSE) AS rejected,
    NOT a.agent_id IS NULL AND COALESCE(f.outcome = 'TimedOut', FALSE) AS timed_out,
    NOT a.agent_id IS NULL
    AND (
      NOT f.notified_ts IS NULL
      OR NOT s.agent_assigned_ts IS NULL
      OR NOT f.outcome_ts IS NULL
    ) AS incoming
  FROM session_rows AS s
  LEFT JOIN primary_agents AS a
    ON a.provider_id = s.provider_id
    AND a.conversation_id = s.conversation_id
    AND a.session_id = s.session_id
  LEFT JOIN firsts AS f
    ON f.provider_id = s.provider_id
    AND f.conversation_id = s.conversation_id
    AND f.session_id = s.session_id
), closes AS (
  SELECT
    st.*,
    CASE
      WHEN NOT closed_event_ts IS NULL
      THEN closed_event_ts
      WHEN rejected OR timed_out
      THEN outcome_ts
    END AS close_ts,
    CASE
      WHEN NOT closed_event_ts IS NULL
      THEN closed_reason
      WHEN rejected
      THEN 'Rejected'
      WHEN timed_out
      THEN 'TimedOut'
    END AS close_reason
  FROM states AS st
), focus AS (
  SELECT
    i.provider_id,
    i.conversation_id,
    i.session_id,
    SUM(
      CASE
        WHEN COALESCE(i.next_ts, c.close_ts) >= i.event_ts
        THEN TIMESTAMP_DIFF(COALESCE(i.next_ts, c.close_ts), i.event_ts, MICROSECOND) / 1000000
      END
    ) AS focused_s
  FROM (
    SELECT
      provider_id,
      conversation_id,
      session_id,
      name,
      event_ts,
      LEAD(event_ts) OVER (PARTITION BY provider_id, conversation_id, session_id ORDER BY event_ts, event_id) AS next_ts
    FROM (
      SELECT
        provider_id,
        conversation_id,
        session_id,
        name,
        event_ts,
        event_id,
        LAG(name) OVER (PARTITION BY provider_id, conversation_id, session_id ORDER BY event_ts, event_id) AS previous_name
      FROM (
        SELECT
          *
        FROM session_events
        WHERE
          side_mode IS NULL
      ) AS primary_events
      WHERE
        name IN ('SessionInFocus', 'SessionOutOfFocus')
    ) AS stream
    WHERE
      (
        previous_name IS NULL AND name = 'SessionInFocus'
      )
      OR (
        NOT previous_name IS NULL AND name <> previous_name
      )
  ) AS i
  JOIN closes AS c
    ON c.provider_id = i.provider_id
    AND c.conversation_id = i.conversation_id
    AND c.session_id = i.session_id
  WHERE
    i.name = 'SessionInFocus'
  GROUP BY
    i.provider_id,
    i.conversation_id,
    i.session_id
)
SELECT
  c.provider_id,
  c.conversation_id,
  c.session_id,
  c.channel,
  c.queue_id,
  c.agent_id,
  c.is_agent_session,
  c.created_ts,
  c.queue_assigned_ts,
  c.offered_ts,
  c.outcome_ts AS responded_ts,
  c.incoming,
  c.accepted,
  c.rejected,
  c.timed_out,
  COALESCE(c.close_reason = 'Transferred', FALSE) AS transferred,
  c.close_ts,
  c.close_reason,
  CASE
    WHEN c.accepted
    THEN CASE
      WHEN c.outcome_ts >= c.offered_ts
      THEN TIMESTAMP_DIFF(c.outcome_ts, c.offered_ts, MICROSECOND) / 1000000
    END
  END AS time_to_accept_s,
  CASE
    WHEN c.rejected
    THEN CASE
      WHEN c.outcome_ts >= c.offered_ts
      THEN TIMESTAMP_DIFF(c.outcome_ts, c.offered_ts, MICROSECOND) / 1000000
    END
  END AS time_to_reject_s,
  CASE
    WHEN c.accepted
    THEN CASE
      WHEN c.outcome_ts >= c.queue_assigned_ts
      THEN TIMESTAMP_DIFF(c.outcome_ts, c.queue_assigned_ts, MICROSECOND) / 1000000
    END
  END AS wait_s,
  CASE
    WHEN NOT c.accepted
    THEN NULL
    WHEN NOT fo.provider_id IS NULL
    THEN fo.focused_s
    ELSE CASE
      WHEN c.close_ts >= COALESCE(c.started_ts, c.outcome_ts)
      THEN TIMESTAMP_DIFF(c.close_ts, COALESCE(c.started_ts, c.outcome_ts), MICROSECOND) / 1000000
    END
  END AS handle_s,
  c.accepted AND NOT fo.provider_id IS NULL AS handle_from_focus,
  CASE
    WHEN c.accepted
    THEN CASE
      WHEN c.close_ts >= c.wrap_up_started_ts
      THEN TIMESTAMP_DIFF(c.close_ts, c.wrap_up_started_ts, MICROSECOND) / 1000000
    END
  END AS wrap_up_s,
  COALESCE(cc.requested, 0) AS consults_requested,
  COALESCE(cc.accepted, 0) AS consults_accepted
FROM closes AS c
LEFT JOIN focus AS fo
  ON fo.provider_id = c.provider_id
  AND fo.conversation_id = c.conversation_id
  AND fo.session_id = c.session_id
LEFT JOIN consult_counts AS cc
  ON cc.provider_id = c.provider_id
  AND cc.conversation_id = c.conversation_id
  AND cc.session_id = c.session_id
