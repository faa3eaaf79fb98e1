WITH scope AS (
  SELECT DISTINCT
    provider_id,
    customer_key
  FROM touched_customers
), events AS (
  SELECT
    f.*
  FROM `my-project`.`analytics`.`fact_chat_events` AS f
  JOIN scope AS k
    ON k.provider_id = f.provider_id AND k.customer_key = f.customer_key
), firsts AS (
  SELECT
    provider_id,
    customer_key,
    chat_session_id,
    conversation_id,
    experience_id,
    platform
  FROM (
    SELECT
      provider_id,
      customer_key,
      chat_session_id,
      conversation_id,
      experience_id,
      platform,
      ROW_NUMBER() OVER (
        PARTITION BY provider_id, customer_key, chat_session_id
        ORDER BY event_ts, event_id
      ) AS pick
    FROM events
  ) AS ranked
  WHERE
    pick = 1
), spans AS (
  SELECT
    provider_id,
    customer_key,
    chat_session_id,
    MIN(session_start_ts) AS session_start_ts,
    MAX(event_ts) AS session_end_ts,
    COUNT(*) AS events,
    COUNT(DISTINCT conversation_id) AS conversations,
    LOGICAL_OR(name = 'UserInteracted') AS interacted
  FROM events
  GROUP BY
    provider_id,
    customer_key,
    chat_session_id
)
SELECT
  s.provider_id,
  s.customer_key,
  s.chat_session_id,
  s.session_start_ts,
  s.session_end_ts,
  f.conversation_id,
  f.experience_id,
  f.platform,
  s.events,
  s.conversations,
  s.interacted,
  CASE
    WHEN s.session_end_ts >= s.session_start_ts
    THEN TIMESTAMP_DIFF(s.session_end_ts, s.session_start_ts, MICROSECOND) / 1000000
  END AS span_s
FROM spans AS s
JOIN firsts AS f
  ON f.provider_id = s.provider_id
  AND f.customer_key = s.customer_key
  AND f.chat_session_id = s.chat_session_id
