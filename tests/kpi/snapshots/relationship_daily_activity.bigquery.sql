SELECT
  d.day,
  f.provider_id,
  f.regarding_type,
  f.regarding_id,
  f.activity_type,
  f.initiated_by,
  COUNT(*) AS activities
FROM `my-project`.`analytics`.`fact_activities` AS f
JOIN (
  SELECT DISTINCT
    provider_id,
    day
  FROM affected_days
) AS d
  ON d.provider_id = f.provider_id AND d.day = DATE(f.start_ts)
WHERE
  f.status = 'completed'
GROUP BY
  d.day,
  f.provider_id,
  f.regarding_type,
  f.regarding_id,
  f.activity_type,
  f.initiated_by
