WITH candidates AS (
  SELECT DISTINCT
    provider_id,
    regarding_type,
    regarding_id
  FROM `my-project`.`analytics`.`fact_activities`
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
    FROM candidates
  ) AS p
  LEFT JOIN `my-project`.`analytics`.`provider_settings` AS s
    ON s.provider_id = p.provider_id
)
SELECT DISTINCT
  provider_id,
  regarding_type,
  regarding_id
FROM (
  SELECT
    provider_id,
    regarding_type,
    regarding_id
  FROM changed_fact_activities
  UNION ALL
  SELECT
    a.provider_id,
    a.regarding_type,
    a.regarding_id
  FROM `my-project`.`analytics`.`raw_activities` AS a
  JOIN touched_activities AS t
    ON t.provider_id = a.provider_id AND t.activity_id = a.activity_id
  UNION ALL
  SELECT
    f.provider_id,
    f.regarding_type,
    f.regarding_id
  FROM `my-project`.`analytics`.`fact_activities` AS f
  CROSS JOIN run_clock AS k
  JOIN settings AS w
    ON w.provider_id = f.provider_id
  WHERE
    f.status <> 'canceled'
    AND (
      (
        UNIX_DATE(DATE(f.start_ts)) <= UNIX_DATE(k.snapshot_day)
        AND UNIX_DATE(DATE(f.start_ts)) > UNIX_DATE(k.snapshot_day) - w.window_days
      )
      OR (
        f.status = 'scheduled' AND f.start_ts > k.now_ts
      )
    )
    AND NOT EXISTS(
      SELECT
        1
      FROM `my-project`.`analytics`.`relationship_snapshot` AS r
      WHERE
        r.snapshot_day = k.snapshot_day
        AND r.provider_id = f.provider_id
        AND r.regarding_type = f.regarding_type
        AND r.regarding_id = f.regarding_id
    )
  UNION ALL
  SELECT
    r.provider_id,
    r.regarding_type,
    r.regarding_id
  FROM `my-project`.`analytics`.`relationship_snapshot` AS r
  CROSS JOIN run_clock AS k
  WHERE
    r.snapshot_day = k.snapshot_day AND r.next_interaction_ts <= k.now_ts
) AS due
