WITH scope AS (
  SELECT DISTINCT
    provider_id,
    conversation_id
  FROM `my-project`.`analytics`.`touched_conversations`
)
SELECT DISTINCT
  provider_id,
  day
FROM (
  SELECT
    s.provider_id,
    DATE(s.close_ts) AS day
  FROM `my-project`.`analytics`.`fact_sessions` AS s
  JOIN scope AS t
    ON t.provider_id = s.provider_id AND t.conversation_id = s.conversation_id
  WHERE
    NOT s.close_ts IS NULL
  UNION ALL
  SELECT
    c.provider_id,
    DATE(c.closed_ts) AS day
  FROM `my-project`.`analytics`.`fact_conversations` AS c
  JOIN scope AS t
    ON t.provider_id = c.provider_id AND t.conversation_id = c.conversation_id
  WHERE
    NOT c.closed_ts IS NULL
  UNION ALL
  SELECT
    earlier.provider_id,
    DATE(earlier.closed_ts) AS day
  FROM `my-project`.`analytics`.`fact_conversations` AS later
  JOIN scope AS t
    ON t.provider_id = later.provider_id AND t.conversation_id = later.conversation_id
  JOIN `my-project`.`analytics`.`fact_conversations` AS earlier
    ON later.provider_id = earlier.provider_id
    AND later.customer_id = earlier.customer_id
    AND later.conversation_id <> earlier.conversation_id
    AND later.direction = 'inbound'
    AND later.conversation_ts > earlier.closed_ts
    AND later.conversation_ts <= TIMESTAMP_ADD(earlier.closed_ts, INTERVAL '72' HOUR)
  WHERE
    earlier.resolved
) AS days
