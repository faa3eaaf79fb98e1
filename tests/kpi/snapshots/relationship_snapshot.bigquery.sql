WITH records AS (
  SELECT DISTINCT
    provider_id,
    regarding_type,
    regarding_id
  FROM touched_records
), settings AS (
  SELECT
    p.provider_id,
    COALESCE(s.relationship_window_days, 90) AS window_days,
    COALESCE(s.relationship_contact_days, 7) AS contact_days,
    COALESCE(s.relationship_weight_email, 1.0) AS w_email,
    COALESCE(s.relationship_weight_meeting, 1.0) AS w_meeting,
    COALESCE(s.relationship_weight_phonecall, 1.0) AS w_phonecall
  FROM (
    SELECT DISTINCT
      provider_id
    FROM records
  ) AS p
  LEFT JOIN `my-project`.`analytics`.`provider_settings` AS s
    ON s.provider_id = p.provider_id
), acts AS (
  SELECT
    f.*,
    w.window_days,
    w.contact_days,
    w.w_email,
    w.w_meeting,
    w.w_phonecall,
    UNIX_DATE(DATE(f.start_ts)) AS start_day
  FROM `my-project`.`analytics`.`fact_activities` AS f
  JOIN records AS r
    ON r.provider_id = f.provider_id
    AND r.regarding_type = f.regarding_type
    AND r.regarding_id = f.regarding_id
  JOIN settings AS w
    ON w.provider_id = f.provider_id
  WHERE
    f.status <> 'canceled'
), active AS (
  SELECT DISTINCT
    a.provider_id,
    a.regarding_type,
    a.regarding_id,
    a.window_days,
    a.contact_days,
    a.w_email,
    a.w_meeting,
    a.w_phonecall
  FROM acts AS a
  CROSS JOIN run_clock AS k
  WHERE
    a.status <> 'canceled'
    AND (
      (
        UNIX_DATE(DATE(a.start_ts)) <= UNIX_DATE(k.snapshot_day)
        AND UNIX_DATE(DATE(a.start_ts)) > UNIX_DATE(k.snapshot_day) - a.window_days
      )
      OR (
        a.status = 'scheduled' AND a.start_ts > k.now_ts
      )
    )
), as_of AS (
  SELECT
    x.*,
    o.back,
    UNIX_DATE(k.snapshot_day) - o.back AS as_of_day
  FROM active AS x
  CROSS JOIN run_clock AS k
  CROSS JOIN (
    SELECT
      0 AS back
    UNION ALL
    SELECT
      7 AS back
  ) AS o
), windowed AS (
  SELECT
    d.provider_id,
    d.regarding_type,
    d.regarding_id,
    d.back,
    a.*
  FROM as_of AS d
  JOIN acts AS a
    ON a.provider_id = d.provider_id
    AND a.regarding_type = d.regarding_type
    AND a.regarding_id = d.regarding_id
  WHERE
    a.status = 'completed'
    AND a.start_day <= d.as_of_day
    AND a.start_day > d.as_of_day - d.window_days
), counted AS (
  SELECT
    provider_id,
    regarding_type,
    regarding_id,
    back,
    SUM(CASE WHEN activity_type = 'email' AND initiated_by = 'us' THEN 1 ELSE 0 END) AS emails_sent,
    SUM(
      CASE WHEN activity_type = 'email' AND initiated_by = 'customer' THEN 1 ELSE 0 END
    ) AS emails_received,
    SUM(CASE WHEN activity_type = 'meeting' AND initiated_by = 'us' THEN 1 ELSE 0 END) AS meetings_by_us,
    SUM(
      CASE WHEN activity_type = 'meeting' AND initiated_by = 'customer' THEN 1 ELSE 0 END
    ) AS meetings_by_customer,
    SUM(CASE WHEN activity_type = 'phonecall' AND initiated_by = 'us' THEN 1 ELSE 0 END) AS calls_by_us,
    SUM(
      CASE
        WHEN activity_type = 'phonecall' AND initiated_by = 'customer'
        THEN 1
        ELSE 0
      END
    ) AS calls_by_customer,
    AVG(CASE WHEN initiated_by = 'us' THEN response_s END) AS response_time_us_s,
    AVG(CASE WHEN initiated_by = 'customer' THEN response_s END) AS response_time_customer_s,
    SUM(minutes_us) / 60 AS hours_us,
    SUM(minutes_customer) / 60 AS hours_customer,
    MAX(start_ts) AS last_interaction_ts,
    MAX(start_day) AS last_day
  FROM windowed
  GROUP BY
    provider_id,
    regarding_type,
    regarding_id,
    back
), scored AS (
  SELECT
    d.provider_id,
    d.regarding_type,
    d.regarding_id,
    d.back,
    d.as_of_day,
    d.window_days,
    d.contact_days,
    d.w_email,
    d.w_meeting,
    d.w_phonecall,
    COALESCE(c.emails_sent, 0) AS emails_sent,
    COALESCE(c.emails_received, 0) AS emails_received,
    COALESCE(c.meetings_by_us, 0) AS meetings_by_us,
    COALESCE(c.meetings_by_customer, 0) AS meetings_by_customer,
    COALESCE(c.calls_by_us, 0) AS calls_by_us,
    COALESCE(c.calls_by_customer, 0) AS calls_by_customer,
    c.response_time_us_s,
    c.response_time_customer_s,
    COALESCE(c.hours_us, 0) AS hours_us,
    COALESCE(c.hours_customer, 0) AS hours_customer,
    c.last_interaction_ts,
    c.last_day,
    CAST(d.window_days AS FLOAT64) / d.contact_days AS expected
  FROM as_of AS d
  LEFT JOIN counted AS c
    ON c.provider_id = d.provider_id
    AND c.regarding_type = d.regarding_type
    AND c.regarding_id = d.regarding_id
    AND c.back = d.back
), weighted AS (
  SELECT
    s.*,
    s.w_email * (
      s.emails_sent + s.emails_received
    ) + s.w_meeting * (
      s.meetings_by_us + s.meetings_by_customer
    ) + s.w_phonecall * (
      s.calls_by_us + s.calls_by_customer
    ) AS weighted_all,
    s.w_email * s.emails_sent + s.w_meeting * s.meetings_by_us + s.w_phonecall * s.calls_by_us AS weighted_us,
    s.w_email * s.emails_received + s.w_meeting * s.meetings_by_customer + s.w_phonecall * s.calls_by_customer AS weighted_customer,
    s.as_of_day - s.last_day AS quiet_days
  FROM scored AS s
), health AS (
  SELECT
    w.*,
    CAST(FLOOR(
      100 * (
        0.5 * LEAST(1.0, w.weighted_all / w.expected) + 0.3 * CASE
          WHEN w.last_day IS NULL
          THEN 0.0
          WHEN w.quiet_days <= w.contact_days
          THEN 1.0
          WHEN w.quiet_days >= 4 * w.contact_days
          THEN 0.0
          ELSE 1.0 - (
            w.quiet_days - w.contact_days
          ) / (
            3 * CAST(w.contact_days AS FLOAT64)
          )
        END + 0.2 * LEAST(1.0, LEAST(w.weighted_us, w.weighted_customer) / (
          w.expected / 2
        ))
      ) + 0.5
    ) AS INT64) AS health_score
  FROM weighted AS w
), upcoming AS (
  SELECT
    a.provider_id,
    a.regarding_type,
    a.regarding_id,
    MIN(a.start_ts) AS next_interaction_ts
  FROM acts AS a
  CROSS JOIN run_clock AS k
  WHERE
    a.status = 'scheduled' AND a.start_ts > k.now_ts
  GROUP BY
    a.provider_id,
    a.regarding_type,
    a.regarding_id
)
SELECT
  k.snapshot_day,
  h.provider_id,
  h.regarding_type,
  h.regarding_id,
  h.window_days,
  h.emails_sent,
  h.emails_received,
  h.meetings_by_us,
  h.meetings_by_customer,
  h.calls_by_us,
  h.calls_by_customer,
  h.emails_sent + h.meetings_by_us + h.calls_by_us AS initiated_by_us,
  h.emails_received + h.meetings_by_customer + h.calls_by_customer AS initiated_by_customer,
  CASE WHEN h.emails_received > 0 THEN h.emails_sent / h.emails_received END AS email_ratio_us,
  CASE WHEN h.emails_sent > 0 THEN h.emails_received / h.emails_sent END AS email_ratio_customer,
  h.response_time_us_s,
  h.response_time_customer_s,
  h.hours_us,
  h.hours_customer,
  h.last_interaction_ts,
  u.next_interaction_ts,
  h.health_score,
  CASE
    WHEN h.health_score >= 60
    THEN 'good'
    WHEN h.health_score >= 40
    THEN 'fair'
    ELSE 'poor'
  END AS health_band,
  CASE
    WHEN h.health_score - e.health_score >= 5
    THEN 'up'
    WHEN e.health_score - h.health_score >= 5
    THEN 'down'
    ELSE 'flat'
  END AS health_trend,
  k.now_ts AS computed_at
FROM health AS h
CROSS JOIN run_clock AS k
JOIN health AS e
  ON e.provider_id = h.provider_id
  AND e.regarding_type = h.regarding_type
  AND e.regarding_id = h.regarding_id
  AND e.back = 7
LEFT JOIN upcoming AS u
  ON u.provider_id = h.provider_id
  AND u.regarding_type = h.regarding_type
  AND u.regarding_id = h.regarding_id
WHERE
  h.back = 0
