WITH scope AS (
  SELECT DISTINCT
    provider_id,
    customer_key
  FROM touched_customers
), candidates AS (
  SELECT
    c.provider_id,
    c.conversation_id,
    c.experience_id,
    c.platform,
    k.customer_key
  FROM `my-project`.`analytics`.`raw_conversations` AS c
  JOIN scope AS k
    ON k.provider_id = c.provider_id
    AND k.customer_key = CASE
      WHEN NOT c.customer_id IS NULL
      THEN CONCAT('customer:', c.customer_id)
      WHEN NOT c.contact_id IS NULL
      THEN CONCAT('contact:', c.contact_id)
      ELSE CONCAT('conversation:', c.conversation_id)
    END
), candidate_events AS (
  SELECT
    e.provider_id,
    e.conversation_id,
    e.event_id,
    e.event_ts,
    e.name,
    e.custom_data,
    k.experience_id,
    k.platform,
    k.customer_key
  FROM `my-project`.`analytics`.`raw_events` AS e
  JOIN candidates AS k
    ON k.provider_id = e.provider_id AND k.conversation_id = e.conversation_id
), chats AS (
  SELECT
    k.provider_id,
    k.conversation_id
  FROM candidates AS k
  WHERE
    NOT k.experience_id IS NULL
    OR EXISTS(
      SELECT
        1
      FROM candidate_events AS x
      WHERE
        x.provider_id = k.provider_id
        AND x.conversation_id = k.conversation_id
        AND x.name IN (
          'ChatStarted',
          'UserInteracted',
          'ModuleVisited',
          'EmailCaptured',
          'WebPushAsked',
          'OptInGiven',
          'Shared',
          'ParticipationCompleted',
          'AdventCalendarOpened',
          'PinSent',
          'PinVerified',
          'DataEntered',
          'CustomerDeleted'
        )
    )
), gaps AS (
  SELECT
    e.*,
    COALESCE(ps.chat_session_gap_s, 1800) AS gap_s,
    LAG(e.event_ts) OVER (PARTITION BY e.provider_id, e.customer_key ORDER BY e.event_ts, e.event_id) AS previous_ts
  FROM candidate_events AS e
  JOIN chats AS h
    ON h.provider_id = e.provider_id AND h.conversation_id = e.conversation_id
  LEFT JOIN `my-project`.`analytics`.`provider_settings` AS ps
    ON ps.provider_id = e.provider_id
), numbered AS (
  SELECT
    g.*,
    SUM(
      CASE
        WHEN g.previous_ts IS NULL
        OR TIMESTAMP_DIFF(g.event_ts, g.previous_ts, MICROSECOND) > g.gap_s * 1000000
        THEN 1
        ELSE 0
      END
    ) OVER (
      PARTITION BY g.provider_id, g.customer_key
      ORDER BY g.event_ts, g.event_id
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS session_no
  FROM gaps AS g
), starts AS (
  SELECT
    n.*,
    MIN(n.event_ts) OVER (PARTITION BY n.provider_id, n.customer_key, n.session_no) AS session_start_ts
  FROM numbered AS n
)
SELECT
  s.provider_id,
  s.customer_key,
  s.event_id,
  s.conversation_id,
  s.event_ts,
  s.name,
  s.experience_id,
  s.platform,
  CONCAT(s.customer_key, '@', CAST(UNIX_MICROS(s.session_start_ts) AS STRING)) AS chat_session_id,
  s.session_start_ts,
  CASE WHEN s.name = 'ModuleVisited' THEN JSON_VALUE(s.custom_data, '$.moduleId') END AS module_id,
  CASE
    WHEN s.name = 'ModuleVisited'
    THEN JSON_VALUE(s.custom_data, '$.moduleName')
  END AS module_name,
  CASE
    WHEN s.name = 'SurveyAnswered'
    THEN SAFE_CAST(JSON_VALUE(s.custom_data, '$.nps') AS INT64)
  END AS nps,
  CASE WHEN s.name = 'OptInGiven' THEN JSON_VALUE(s.custom_data, '$.topic') END AS opt_in_topic,
  CASE WHEN s.name = 'OptInGiven' THEN JSON_VALUE(s.custom_data, '$.level') END AS opt_in_level,
  CASE WHEN s.name = 'Shared' THEN JSON_VALUE(s.custom_data, '$.via') END AS share_via,
  CASE
    WHEN s.name = 'PinVerified'
    THEN JSON_VALUE(s.custom_data, '$.success') = 'true'
  END AS pin_success
FROM starts AS s
