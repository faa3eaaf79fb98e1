WITH repeats AS (
  SELECT
    later.provider_id,
    later.conversation_id,
    later.customer_id,
    later.direction,
    later.conversation_ts,
    UNIX_DATE(DATE(later.conversation_ts)) - back.days AS close_day
  FROM changed_fact_conversations AS later
  CROSS JOIN (
    SELECT
      0 AS days
    UNION ALL
    SELECT
      1 AS days
    UNION ALL
    SELECT
      2 AS days
    UNION ALL
    SELECT
      3 AS days
  ) AS back
  WHERE
    later.direction = 'inbound' AND NOT later.customer_id IS NULL
), customers AS (
  SELECT DISTINCT
    provider_id,
    customer_id
  FROM repeats
), resolved AS (
  SELECT
    f.provider_id,
    f.conversation_id,
    f.customer_id,
    f.closed_ts,
    UNIX_DATE(DATE(f.closed_ts)) AS close_day
  FROM `my-project`.`analytics`.`fact_conversations` AS f
  JOIN customers AS k
    ON f.provider_id = k.provider_id AND f.customer_id = k.customer_id
  WHERE
    f.resolved
)
SELECT DISTINCT
  earlier.provider_id,
  DATE(earlier.closed_ts) AS day
FROM repeats AS later
JOIN resolved AS earlier
  ON earlier.close_day = later.close_day
  AND later.provider_id = earlier.provider_id
  AND later.customer_id = earlier.customer_id
  AND later.conversation_id <> earlier.conversation_id
  AND later.direction = 'inbound'
  AND later.conversation_ts > earlier.closed_ts
  AND later.conversation_ts <= TIMESTAMP_ADD(earlier.closed_ts, INTERVAL '72' HOUR)
