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
), windowed AS (
  SELECT
    a.*
  FROM acts AS a
  JOIN active AS x
    ON x.provider_id = a.provider_id
    AND x.regarding_type = a.regarding_type
    AND x.regarding_id = a.regarding_id
  CROSS JOIN run_clock AS k
  WHERE
    a.status = 'completed'
    AND a.start_day <= UNIX_DATE(k.snapshot_day)
    AND a.start_day > UNIX_DATE(k.snapshot_day) - a.window_days
), people AS (
  SELECT
    w.provider_id,
    w.regarding_type,
    w.regarding_id,
    p.side,
    p.party_id,
    COUNT(DISTINCT w.activity_id) AS interactions
  FROM windowed AS w
  JOIN `my-project`.`analytics`.`raw_activity_parties` AS p
    ON p.provider_id = w.provider_id AND p.activity_id = w.activity_id
  GROUP BY
    w.provider_id,
    w.regarding_type,
    w.regarding_id,
    p.side,
    p.party_id
), ranked AS (
  SELECT
    p.*,
    ROW_NUMBER() OVER (
      PARTITION BY p.provider_id, p.regarding_type, p.regarding_id, p.side
      ORDER BY p.interactions DESC, p.party_id
    ) AS rank
  FROM people AS p
)
SELECT
  k.snapshot_day,
  r.provider_id,
  r.regarding_type,
  r.regarding_id,
  r.side,
  r.rank,
  r.party_id,
  r.interactions
FROM ranked AS r
CROSS JOIN run_clock AS k
WHERE
  r.rank <= 3
