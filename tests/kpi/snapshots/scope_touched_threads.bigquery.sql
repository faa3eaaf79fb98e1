SELECT DISTINCT
  provider_id,
  activity_id
FROM (
  SELECT
    provider_id,
    activity_id
  FROM touched_activities
  UNION ALL
  SELECT
    r.provider_id,
    r.activity_id
  FROM `my-project`.`analytics`.`raw_activities` AS r
  JOIN touched_activities AS t
    ON t.provider_id = r.provider_id AND t.activity_id = r.in_reply_to
) AS threads
