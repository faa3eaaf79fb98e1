WITH scope AS (
  SELECT DISTINCT
    provider_id,
    conversation_id
  FROM touched_conversations
), conversation_rows AS (
  SELECT
    c.*
  FROM `my-project`.`analytics`.`raw_conversations` AS c
  JOIN scope AS t
    ON t.provider_id = c.provider_id AND t.conversation_id = c.conversation_id
), session_facts AS (
  SELECT
    f.*
  FROM `my-project`.`analytics`.`fact_sessions` AS f
  JOIN scope AS t
    ON t.provider_id = f.provider_id AND t.conversation_id = f.conversation_id
), session_rollup AS (
  SELECT
    provider_id,
    conversation_id,
    LOGICAL_OR(incoming) AS offered,
    LOGICAL_OR(accepted) AS handled,
    LOGICAL_OR(is_agent_session AND transferred) AS transferred,
    MIN(CASE WHEN accepted THEN responded_ts END) AS answered_ts,
    MIN(queue_assigned_ts) AS queued_ts,
    SUM(CASE WHEN accepted THEN handle_s END) AS handle_s,
    SUM(CASE WHEN accepted THEN wrap_up_s END) AS wrap_up_s
  FROM session_facts
  GROUP BY
    provider_id,
    conversation_id
), primary_sessions AS (
  SELECT
    provider_id,
    conversation_id,
    queue_id,
    agent_id
  FROM (
    SELECT
      provider_id,
      conversation_id,
      queue_id,
      agent_id,
      ROW_NUMBER() OVER (
        PARTITION BY provider_id, conversation_id
        ORDER BY CASE
          WHEN accepted
          THEN 0
          WHEN incoming
          THEN 1
          WHEN NOT queue_id IS NULL
          THEN 2
          ELSE 3
        END, created_ts, session_id
      ) AS pick
    FROM session_facts
  ) AS ranked
  WHERE
    pick = 1
), conversation_events AS (
  SELECT
    e.provider_id,
    e.conversation_id,
    e.event_id,
    e.event_ts,
    e.name,
    e.reason,
    e.custom_data
  FROM `my-project`.`analytics`.`raw_events` AS e
  JOIN scope AS t
    ON t.provider_id = e.provider_id AND t.conversation_id = e.conversation_id
  WHERE
    e.name IN ('ConversationClosed', 'CallHold', 'CallUnhold', 'MessageSent', 'SurveyAnswered')
), closings AS (
  SELECT
    provider_id,
    conversation_id,
    event_ts,
    reason
  FROM (
    SELECT
      provider_id,
      conversation_id,
      event_ts,
      reason,
      ROW_NUMBER() OVER (PARTITION BY provider_id, conversation_id ORDER BY event_ts, event_id) AS pick
    FROM conversation_events
    WHERE
      name = 'ConversationClosed'
  ) AS ranked
  WHERE
    pick = 1
), closed AS (
  SELECT
    c.*,
    COALESCE(c.closed_ts, cl.event_ts) AS close_ts,
    cl.reason AS close_reason
  FROM conversation_rows AS c
  LEFT JOIN closings AS cl
    ON cl.provider_id = c.provider_id AND cl.conversation_id = c.conversation_id
), holds AS (
  SELECT
    i.provider_id,
    i.conversation_id,
    SUM(
      CASE
        WHEN COALESCE(i.next_ts, c.close_ts) >= i.event_ts
        THEN TIMESTAMP_DIFF(COALESCE(i.next_ts, c.close_ts), i.event_ts, MICROSECOND) / 1000000
      END
    ) AS hold_s
  FROM (
    SELECT
      provider_id,
      conversation_id,
      name,
      event_ts,
      LEAD(event_ts) OVER (PARTITION BY provider_id, conversation_id ORDER BY event_ts, event_id) AS next_ts
    FROM (
      SELECT
        provider_id,
        conversation_id,
        name,
        event_ts,
        event_id,
        LAG(name) OVER (PARTITION BY provider_id, conversation_id ORDER BY event_ts, event_id) AS previous_name
      FROM conversation_events
      WHERE
        name IN ('CallHold', 'CallUnhold')
    ) AS stream
    WHERE
      (
        previous_name IS NULL AND name = 'CallHold'
      )
      OR (
        NOT previous_name IS NULL AND name <> previous_name
      )
  ) AS i
  JOIN closed AS c
    ON c.provider_id = i.provider_id AND c.conversation_id = i.conversation_id
  WHERE
    i.name = 'CallHold'
  GROUP BY
    i.provider_id,
    i.conversation_id
), messages AS (
  SELECT
    provider_id,
    conversation_id,
    event_ts,
    JSON_VALUE(custom_data, '$.sender') AS sender
  FROM conversation_events
  WHERE
    name = 'MessageSent'
), first_customer_messages AS (
  SELECT
    provider_id,
    conversation_id,
    MIN(event_ts) AS asked_ts
  FROM messages
  WHERE
    sender = 'customer'
  GROUP BY
    provider_id,
    conversation_id
), first_responses AS (
  SELECT
    q.provider_id,
    q.conversation_id,
    q.asked_ts,
    MIN(m.event_ts) AS answered_ts
  FROM first_customer_messages AS q
  JOIN messages AS m
    ON m.provider_id = q.provider_id
    AND m.conversation_id = q.conversation_id
    AND m.sender = 'agent'
    AND m.event_ts >= q.asked_ts
  GROUP BY
    q.provider_id,
    q.conversation_id,
    q.asked_ts
), answers AS (
  SELECT
    provider_id,
    conversation_id,
    SAFE_CAST(JSON_VALUE(custom_data, '$.csat') AS INT64) AS csat,
    SAFE_CAST(JSON_VALUE(custom_data, '$.nps') AS INT64) AS nps
  FROM conversation_events
  WHERE
    name = 'SurveyAnswered'
), surveys AS (
  SELECT
    provider_id,
    conversation_id,
    SUM(CASE WHEN csat BETWEEN 1 AND 5 THEN 1 ELSE 0 END) AS csat_answers,
    SUM(CASE WHEN csat BETWEEN 4 AND 5 THEN 1 ELSE 0 END) AS csat_top2,
    SUM(CASE WHEN nps BETWEEN 0 AND 10 THEN 1 ELSE 0 END) AS nps_answers,
    SUM(CASE WHEN nps BETWEEN 9 AND 10 THEN 1 ELSE 0 END) AS nps_promoters,
    SUM(CASE WHEN nps BETWEEN 0 AND 6 THEN 1 ELSE 0 END) AS nps_detractors
  FROM answers
  GROUP BY
    provider_id,
    conversation_id
), flags AS (
  SELECT
    c.*,
    COALESCE(r.queued_ts, c.conversation_ts) AS waiting_since_ts,
    r.answered_ts,
    c.direction = 'inbound' AND COALESCE(r.offered, FALSE) AS incoming,
    COALESCE(r.handled, FALSE) AS handled,
    COALESCE(r.transferred, FALSE) AS transferred,
    r.handle_s AS sessions_handle_s,
    r.wrap_up_s AS sessions_wrap_up_s
  FROM closed AS c
  LEFT JOIN session_rollup AS r
    ON r.provider_id = c.provider_id AND r.conversation_id = c.conversation_id
)
SELECT
  f.provider_id,
  f.conversation_id,
  f.channel,
  f.direction,
  f.customer_id,
  p.queue_id,
  p.agent_id,
  f.conversation_ts,
  f.close_ts AS closed_ts,
  f.close_reason,
  f.waiting_since_ts,
  f.answered_ts,
  f.incoming,
  f.handled,
  f.direction = 'inbound' AND NOT f.close_ts IS NULL AND NOT f.handled AS abandoned,
  f.transferred,
  NOT f.close_ts IS NULL AND COALESCE(f.close_reason = 'Resolved', FALSE) AS resolved,
  CASE
    WHEN f.handled AND f.direction = 'inbound'
    THEN CASE
      WHEN f.answered_ts >= f.waiting_since_ts
      THEN TIMESTAMP_DIFF(f.answered_ts, f.waiting_since_ts, MICROSECOND) / 1000000
    END
  END AS speed_to_answer_s,
  CASE
    WHEN f.direction = 'inbound' AND NOT f.close_ts IS NULL AND NOT f.handled
    THEN CASE
      WHEN f.close_ts >= f.waiting_since_ts
      THEN TIMESTAMP_DIFF(f.close_ts, f.waiting_since_ts, MICROSECOND) / 1000000
    END
  END AS time_to_abandon_s,
  CASE WHEN f.handled THEN f.sessions_handle_s END AS handle_s,
  CASE WHEN f.handled THEN COALESCE(h.hold_s, 0) END AS hold_s,
  CASE WHEN f.handled THEN COALESCE(f.sessions_wrap_up_s, 0) END AS wrap_up_s,
  CASE
    WHEN f.close_ts >= f.conversation_ts
    THEN TIMESTAMP_DIFF(f.close_ts, f.conversation_ts, MICROSECOND) / 1000000
  END AS conversation_time_s,
  CASE
    WHEN fr.answered_ts >= fr.asked_ts
    THEN TIMESTAMP_DIFF(fr.answered_ts, fr.asked_ts, MICROSECOND) / 1000000
  END AS first_response_s,
  COALESCE(s.csat_answers, 0) AS csat_answers,
  COALESCE(s.csat_top2, 0) AS csat_top2,
  COALESCE(s.nps_answers, 0) AS nps_answers,
  COALESCE(s.nps_promoters, 0) AS nps_promoters,
  COALESCE(s.nps_detractors, 0) AS nps_detractors
FROM flags AS f
LEFT JOIN primary_sessions AS p
  ON p.provider_id = f.provider_id AND p.conversation_id = f.conversation_id
LEFT JOIN holds AS h
  ON h.provider_id = f.provider_id AND h.conversation_id = f.conversation_id
LEFT JOIN first_responses AS fr
  ON fr.provider_id = f.provider_id AND fr.conversation_id = f.conversation_id
LEFT JOIN surveys AS s
  ON s.provider_id = f.provider_id AND s.conversation_id = f.conversation_id
