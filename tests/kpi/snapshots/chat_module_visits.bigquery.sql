SELECT
  d.day,
  f.provider_id,
  COALESCE(f.experience_id, '(none)') AS experience_id,
  f.module_id,
  MAX(f.module_name) AS module_name,
  COUNT(*) AS visits,
  COUNT(DISTINCT f.chat_session_id) AS sessions
FROM `my-project`.`analytics`.`fact_chat_events` AS f
JOIN (
  SELECT DISTINCT
    provider_id,
    day
  FROM affected_days
) AS d
  ON d.provider_id = f.provider_id AND d.day = DATE(f.event_ts)
WHERE
  f.name = 'ModuleVisited' AND NOT f.module_id IS NULL
GROUP BY
  d.day,
  f.provider_id,
  COALESCE(f.experience_id, '(none)'),
  f.module_id
