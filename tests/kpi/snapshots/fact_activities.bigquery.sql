WITH scope AS (
  SELECT DISTINCT
    provider_id,
    activity_id
  FROM touched_threads
), acts AS (
  SELECT
    a.*
  FROM `my-project`.`analytics`.`raw_activities` AS a
  JOIN scope AS s
    ON s.provider_id = a.provider_id AND s.activity_id = a.activity_id
), sides AS (
  SELECT
    p.provider_id,
    p.activity_id,
    SUM(CASE WHEN p.side = 'us' THEN 1 ELSE 0 END) AS ours,
    SUM(CASE WHEN p.side = 'customer' THEN 1 ELSE 0 END) AS theirs
  FROM `my-project`.`analytics`.`raw_activity_parties` AS p
  JOIN scope AS s
    ON s.provider_id = p.provider_id AND s.activity_id = p.activity_id
  GROUP BY
    p.provider_id,
    p.activity_id
), timed AS (
  SELECT
    a.*,
    COALESCE(d.ours, 0) AS ours,
    COALESCE(d.theirs, 0) AS theirs,
    COALESCE(
      CASE
        WHEN a.end_ts >= a.start_ts
        THEN TIMESTAMP_DIFF(a.end_ts, a.start_ts, MICROSECOND) / 1000000
      END / 60,
      0
    ) AS duration_min
  FROM acts AS a
  LEFT JOIN sides AS d
    ON d.provider_id = a.provider_id AND d.activity_id = a.activity_id
)
SELECT
  t.provider_id,
  t.activity_id,
  t.activity_type,
  t.regarding_type,
  t.regarding_id,
  t.status,
  t.start_ts,
  t.initiated_by,
  CASE t.activity_type
    WHEN 'email'
    THEN CASE WHEN t.initiated_by = 'us' THEN 5.0 WHEN t.ours > 0 THEN 2.5 ELSE 0 END
    WHEN 'meeting'
    THEN t.duration_min * t.ours
    ELSE CASE WHEN t.ours > 0 THEN t.duration_min ELSE 0 END
  END AS minutes_us,
  CASE t.activity_type
    WHEN 'email'
    THEN CASE WHEN t.initiated_by = 'customer' THEN 5.0 WHEN t.theirs > 0 THEN 2.5 ELSE 0 END
    ELSE CASE WHEN t.theirs > 0 THEN t.duration_min ELSE 0 END
  END AS minutes_customer,
  t.in_reply_to AS replied_to,
  CASE
    WHEN o.activity_type = 'email'
    AND o.status = 'completed'
    AND o.initiated_by <> t.initiated_by
    THEN CASE
      WHEN t.start_ts >= o.start_ts
      THEN TIMESTAMP_DIFF(t.start_ts, o.start_ts, MICROSECOND) / 1000000
    END
  END AS response_s
FROM timed AS t
LEFT JOIN `my-project`.`analytics`.`raw_activities` AS o
  ON o.provider_id = t.provider_id AND o.activity_id = t.in_reply_to
