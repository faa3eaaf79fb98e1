DECLARE affected_day_list ARRAY<DATE> DEFAULT [];

BEGIN TRANSACTION;

MERGE `demo-project.analytics.raw_conversations` AS t
USING (SELECT provider_id, conversation_id, channel, direction, conversation_ts, closed_ts, customer_id, account_id, contact_id, experience_id, platform, updated_at FROM `demo-project.analytics._staging_raw_conversations` WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY provider_id, conversation_id ORDER BY _version DESC) = 1) AS s
ON t.provider_id = s.provider_id AND t.conversation_id = s.conversation_id
WHEN MATCHED THEN UPDATE SET channel = s.channel, direction = s.direction, conversation_ts = s.conversation_ts, closed_ts = s.closed_ts, customer_id = s.customer_id, account_id = s.account_id, contact_id = s.contact_id, experience_id = s.experience_id, platform = s.platform, updated_at = s.updated_at
WHEN NOT MATCHED THEN INSERT (provider_id, conversation_id, channel, direction, conversation_ts, closed_ts, customer_id, account_id, contact_id, experience_id, platform, updated_at) VALUES (s.provider_id, s.conversation_id, s.channel, s.direction, s.conversation_ts, s.closed_ts, s.customer_id, s.account_id, s.contact_id, s.experience_id, s.platform, s.updated_at);

MERGE `demo-project.analytics.raw_sessions` AS t
USING (
  SELECT FALSE AS _scope, provider_id, conversation_id, session_id, created_ts, queue_assigned_ts, agent_assigned_ts, queue_id, queue_name, session_channel FROM (SELECT x.provider_id, x.conversation_id, x.session_id, x.created_ts, x.queue_assigned_ts, x.agent_assigned_ts, x.queue_id, x.queue_name, x.session_channel FROM `demo-project.analytics._staging_raw_sessions` AS x
JOIN (SELECT provider_id, conversation_id, MAX(_version) AS v
      FROM `demo-project.analytics._staging_raw_conversations` GROUP BY provider_id, conversation_id) AS l
ON x.provider_id = l.provider_id AND x.conversation_id = l.conversation_id AND x._version = l.v) AS r
  UNION ALL
  SELECT TRUE AS _scope, provider_id, conversation_id, CAST(NULL AS STRING) AS session_id, CAST(NULL AS TIMESTAMP) AS created_ts, CAST(NULL AS TIMESTAMP) AS queue_assigned_ts, CAST(NULL AS TIMESTAMP) AS agent_assigned_ts, CAST(NULL AS STRING) AS queue_id, CAST(NULL AS STRING) AS queue_name, CAST(NULL AS STRING) AS session_channel FROM (SELECT DISTINCT provider_id, conversation_id FROM `demo-project.analytics._staging_raw_conversations`) AS k
) AS s
ON s._scope AND t.provider_id = s.provider_id AND t.conversation_id = s.conversation_id
WHEN MATCHED THEN DELETE
WHEN NOT MATCHED BY TARGET AND NOT s._scope THEN
  INSERT (provider_id, conversation_id, session_id, created_ts, queue_assigned_ts, agent_assigned_ts, queue_id, queue_name, session_channel) VALUES (s.provider_id, s.conversation_id, s.session_id, s.created_ts, s.queue_assigned_ts, s.agent_assigned_ts, s.queue_id, s.queue_name, s.session_channel);

MERGE `demo-project.analytics.raw_participants` AS t
USING (
  SELECT FALSE AS _scope, provider_id, conversation_id, session_id, participant_id, participant_type, participant_mode, added_ts FROM (SELECT x.provider_id, x.conversation_id, x.session_id, x.participant_id, x.participant_type, x.participant_mode, x.added_ts FROM `demo-project.analytics._staging_raw_participants` AS x
JOIN (SELECT provider_id, conversation_id, MAX(_version) AS v
      FROM `demo-project.analytics._staging_raw_conversations` GROUP BY provider_id, conversation_id) AS l
ON x.provider_id = l.provider_id AND x.conversation_id = l.conversation_id AND x._version = l.v) AS r
  UNION ALL
  SELECT TRUE AS _scope, provider_id, conversation_id, CAST(NULL AS STRING) AS session_id, CAST(NULL AS STRING) AS participant_id, CAST(NULL AS STRING) AS participant_type, CAST(NULL AS STRING) AS participant_mode, CAST(NULL AS TIMESTAMP) AS added_ts FROM (SELECT DISTINCT provider_id, conversation_id FROM `demo-project.analytics._staging_raw_conversations`) AS k
) AS s
ON s._scope AND t.provider_id = s.provider_id AND t.conversation_id = s.conversation_id
WHEN MATCHED THEN DELETE
WHEN NOT MATCHED BY TARGET AND NOT s._scope THEN
  INSERT (provider_id, conversation_id, session_id, participant_id, participant_type, participant_mode, added_ts) VALUES (s.provider_id, s.conversation_id, s.session_id, s.participant_id, s.participant_type, s.participant_mode, s.added_ts);

MERGE `demo-project.analytics.raw_events` AS t
USING (SELECT provider_id, event_id, conversation_id, session_id, participant_id, name, reason, event_ts, response_action, PARSE_JSON(custom_data) AS custom_data, schema, ingested_at FROM `demo-project.analytics._staging_raw_events` WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY provider_id, event_id ORDER BY _version ASC) = 1) AS s
ON t.provider_id = s.provider_id AND t.event_id = s.event_id
WHEN NOT MATCHED THEN INSERT (provider_id, event_id, conversation_id, session_id, participant_id, name, reason, event_ts, response_action, custom_data, schema, ingested_at) VALUES (s.provider_id, s.event_id, s.conversation_id, s.session_id, s.participant_id, s.name, s.reason, s.event_ts, s.response_action, s.custom_data, s.schema, s.ingested_at);

MERGE `demo-project.analytics.raw_failed_events` AS t
USING (SELECT provider_id, failed_id, received_at, code, message, kind, status, replayed_at FROM `demo-project.analytics._staging_raw_failed_events` WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY provider_id, failed_id ORDER BY _version DESC) = 1) AS s
ON t.provider_id = s.provider_id AND t.failed_id = s.failed_id
WHEN MATCHED THEN UPDATE SET received_at = s.received_at, code = s.code, message = s.message, kind = s.kind, status = s.status, replayed_at = s.replayed_at
WHEN NOT MATCHED THEN INSERT (provider_id, failed_id, received_at, code, message, kind, status, replayed_at) VALUES (s.provider_id, s.failed_id, s.received_at, s.code, s.message, s.kind, s.status, s.replayed_at);

MERGE `demo-project.analytics.raw_activities` AS t
USING (SELECT provider_id, activity_id, activity_type, regarding_type, regarding_id, account_id, status, start_ts, end_ts, in_reply_to, initiated_by, PARSE_JSON(parties) AS parties, ingested_at FROM `demo-project.analytics._staging_raw_activities` WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY provider_id, activity_id ORDER BY _version DESC) = 1) AS s
ON t.provider_id = s.provider_id AND t.activity_id = s.activity_id
WHEN MATCHED THEN UPDATE SET activity_type = s.activity_type, regarding_type = s.regarding_type, regarding_id = s.regarding_id, account_id = s.account_id, status = s.status, start_ts = s.start_ts, end_ts = s.end_ts, in_reply_to = s.in_reply_to, initiated_by = s.initiated_by, parties = s.parties, ingested_at = s.ingested_at
WHEN NOT MATCHED THEN INSERT (provider_id, activity_id, activity_type, regarding_type, regarding_id, account_id, status, start_ts, end_ts, in_reply_to, initiated_by, parties, ingested_at) VALUES (s.provider_id, s.activity_id, s.activity_type, s.regarding_type, s.regarding_id, s.account_id, s.status, s.start_ts, s.end_ts, s.in_reply_to, s.initiated_by, s.parties, s.ingested_at);

CREATE TEMP TABLE touched_conversations AS
SELECT DISTINCT provider_id, conversation_id FROM (
  SELECT provider_id, conversation_id FROM `demo-project.analytics._staging_raw_conversations`
  UNION ALL SELECT provider_id, conversation_id FROM `demo-project.analytics._staging_raw_events`
  UNION ALL SELECT provider_id, conversation_id FROM `demo-project.analytics.raw_conversations` WHERE DATE(conversation_ts) IN (DATE '2026-11-20', DATE '2026-11-21') OR DATE(closed_ts) IN (DATE '2026-11-20', DATE '2026-11-21')
  UNION ALL SELECT provider_id, conversation_id FROM `demo-project.analytics.raw_events` WHERE DATE(event_ts) IN (DATE '2026-11-20', DATE '2026-11-21')
) AS u;

CREATE TEMP TABLE affected_days_before AS
/* affected_days_query */;

MERGE `demo-project.analytics.fact_sessions` AS t
USING (
  SELECT FALSE AS _scope, provider_id, conversation_id, session_id, channel, queue_id, agent_id, is_agent_session, created_ts, queue_assigned_ts, offered_ts, responded_ts, incoming, accepted, rejected, timed_out, transferred, close_ts, close_reason, time_to_accept_s, time_to_reject_s, wait_s, handle_s, handle_from_focus, wrap_up_s, consults_requested, consults_accepted FROM (/* fact_session_query */) AS r
  UNION ALL
  SELECT TRUE AS _scope, provider_id, conversation_id, CAST(NULL AS STRING) AS session_id, CAST(NULL AS STRING) AS channel, CAST(NULL AS STRING) AS queue_id, CAST(NULL AS STRING) AS agent_id, CAST(NULL AS BOOL) AS is_agent_session, CAST(NULL AS TIMESTAMP) AS created_ts, CAST(NULL AS TIMESTAMP) AS queue_assigned_ts, CAST(NULL AS TIMESTAMP) AS offered_ts, CAST(NULL AS TIMESTAMP) AS responded_ts, CAST(NULL AS BOOL) AS incoming, CAST(NULL AS BOOL) AS accepted, CAST(NULL AS BOOL) AS rejected, CAST(NULL AS BOOL) AS timed_out, CAST(NULL AS BOOL) AS transferred, CAST(NULL AS TIMESTAMP) AS close_ts, CAST(NULL AS STRING) AS close_reason, CAST(NULL AS FLOAT64) AS time_to_accept_s, CAST(NULL AS FLOAT64) AS time_to_reject_s, CAST(NULL AS FLOAT64) AS wait_s, CAST(NULL AS FLOAT64) AS handle_s, CAST(NULL AS BOOL) AS handle_from_focus, CAST(NULL AS FLOAT64) AS wrap_up_s, CAST(NULL AS INT64) AS consults_requested, CAST(NULL AS INT64) AS consults_accepted FROM (SELECT DISTINCT provider_id, conversation_id FROM touched_conversations) AS k
) AS s
ON s._scope AND t.provider_id = s.provider_id AND t.conversation_id = s.conversation_id
WHEN MATCHED THEN DELETE
WHEN NOT MATCHED BY TARGET AND NOT s._scope THEN
  INSERT (provider_id, conversation_id, session_id, channel, queue_id, agent_id, is_agent_session, created_ts, queue_assigned_ts, offered_ts, responded_ts, incoming, accepted, rejected, timed_out, transferred, close_ts, close_reason, time_to_accept_s, time_to_reject_s, wait_s, handle_s, handle_from_focus, wrap_up_s, consults_requested, consults_accepted) VALUES (s.provider_id, s.conversation_id, s.session_id, s.channel, s.queue_id, s.agent_id, s.is_agent_session, s.created_ts, s.queue_assigned_ts, s.offered_ts, s.responded_ts, s.incoming, s.accepted, s.rejected, s.timed_out, s.transferred, s.close_ts, s.close_reason, s.time_to_accept_s, s.time_to_reject_s, s.wait_s, s.handle_s, s.handle_from_focus, s.wrap_up_s, s.consults_requested, s.consults_accepted);

MERGE `demo-project.analytics.fact_conversations` AS t
USING (
  SELECT FALSE AS _scope, provider_id, conversation_id, channel, direction, customer_id, queue_id, agent_id, conversation_ts, closed_ts, close_reason, waiting_since_ts, answered_ts, incoming, handled, abandoned, transferred, resolved, speed_to_answer_s, time_to_abandon_s, handle_s, hold_s, wrap_up_s, conversation_time_s, first_response_s, csat_answers, csat_top2, nps_answers, nps_promoters, nps_detractors FROM (/* fact_conversation_query */) AS r
  UNION ALL
  SELECT TRUE AS _scope, provider_id, conversation_id, CAST(NULL AS STRING) AS channel, CAST(NULL AS STRING) AS direction, CAST(NULL AS STRING) AS customer_id, CAST(NULL AS STRING) AS queue_id, CAST(NULL AS STRING) AS agent_id, CAST(NULL AS TIMESTAMP) AS conversation_ts, CAST(NULL AS TIMESTAMP) AS closed_ts, CAST(NULL AS STRING) AS close_reason, CAST(NULL AS TIMESTAMP) AS waiting_since_ts, CAST(NULL AS TIMESTAMP) AS answered_ts, CAST(NULL AS BOOL) AS incoming, CAST(NULL AS BOOL) AS handled, CAST(NULL AS BOOL) AS abandoned, CAST(NULL AS BOOL) AS transferred, CAST(NULL AS BOOL) AS resolved, CAST(NULL AS FLOAT64) AS speed_to_answer_s, CAST(NULL AS FLOAT64) AS time_to_abandon_s, CAST(NULL AS FLOAT64) AS handle_s, CAST(NULL AS FLOAT64) AS hold_s, CAST(NULL AS FLOAT64) AS wrap_up_s, CAST(NULL AS FLOAT64) AS conversation_time_s, CAST(NULL AS FLOAT64) AS first_response_s, CAST(NULL AS INT64) AS csat_answers, CAST(NULL AS INT64) AS csat_top2, CAST(NULL AS INT64) AS nps_answers, CAST(NULL AS INT64) AS nps_promoters, CAST(NULL AS INT64) AS nps_detractors FROM (SELECT DISTINCT provider_id, conversation_id FROM touched_conversations) AS k
) AS s
ON s._scope AND t.provider_id = s.provider_id AND t.conversation_id = s.conversation_id
WHEN MATCHED THEN DELETE
WHEN NOT MATCHED BY TARGET AND NOT s._scope THEN
  INSERT (provider_id, conversation_id, channel, direction, customer_id, queue_id, agent_id, conversation_ts, closed_ts, close_reason, waiting_since_ts, answered_ts, incoming, handled, abandoned, transferred, resolved, speed_to_answer_s, time_to_abandon_s, handle_s, hold_s, wrap_up_s, conversation_time_s, first_response_s, csat_answers, csat_top2, nps_answers, nps_promoters, nps_detractors) VALUES (s.provider_id, s.conversation_id, s.channel, s.direction, s.customer_id, s.queue_id, s.agent_id, s.conversation_ts, s.closed_ts, s.close_reason, s.waiting_since_ts, s.answered_ts, s.incoming, s.handled, s.abandoned, s.transferred, s.resolved, s.speed_to_answer_s, s.time_to_abandon_s, s.handle_s, s.hold_s, s.wrap_up_s, s.conversation_time_s, s.first_response_s, s.csat_answers, s.csat_top2, s.nps_answers, s.nps_promoters, s.nps_detractors);

MERGE `demo-project.analytics.orphan_events` AS t
USING (
  SELECT FALSE AS _scope, provider_id, conversation_id, events, first_event_ts, last_event_ts, first_ingested_at FROM (SELECT e.provider_id, e.conversation_id, COUNT(*) AS events, MIN(e.event_ts) AS first_event_ts,
  MAX(e.event_ts) AS last_event_ts, MIN(e.ingested_at) AS first_ingested_at
FROM `demo-project.analytics.raw_events` AS e
JOIN (SELECT DISTINCT provider_id, conversation_id FROM touched_conversations) AS t ON t.provider_id = e.provider_id AND t.conversation_id = e.conversation_id
LEFT JOIN `demo-project.analytics.raw_conversations` AS c
  ON c.provider_id = e.provider_id AND c.conversation_id = e.conversation_id
WHERE c.conversation_id IS NULL
GROUP BY e.provider_id, e.conversation_id) AS r
  UNION ALL
  SELECT TRUE AS _scope, provider_id, conversation_id, CAST(NULL AS INT64) AS events, CAST(NULL AS TIMESTAMP) AS first_event_ts, CAST(NULL AS TIMESTAMP) AS last_event_ts, CAST(NULL AS TIMESTAMP) AS first_ingested_at FROM (SELECT DISTINCT provider_id, conversation_id FROM touched_conversations) AS k
) AS s
ON s._scope AND t.provider_id = s.provider_id AND t.conversation_id = s.conversation_id
WHEN MATCHED THEN DELETE
WHEN NOT MATCHED BY TARGET AND NOT s._scope THEN
  INSERT (provider_id, conversation_id, events, first_event_ts, last_event_ts, first_ingested_at) VALUES (s.provider_id, s.conversation_id, s.events, s.first_event_ts, s.last_event_ts, s.first_ingested_at);

CREATE TEMP TABLE affected_days AS
SELECT DISTINCT provider_id, day FROM (
  SELECT provider_id, day FROM affected_days_before
  UNION ALL SELECT provider_id, day FROM (/* affected_days_query */) AS after_facts
  UNION ALL SELECT provider_id, day FROM (SELECT p.provider_id, d.day FROM (SELECT DISTINCT provider_id FROM (SELECT provider_id FROM `demo-project.analytics.raw_conversations` UNION ALL SELECT provider_id FROM `demo-project.analytics.raw_events` UNION ALL SELECT provider_id FROM `demo-project.analytics.kpi_daily`) AS x) AS p
CROSS JOIN (SELECT DATE '2026-11-20' AS day UNION ALL SELECT DATE '2026-11-21' AS day) AS d) AS restated
) AS u;

CREATE TEMP TABLE kpi_new AS
/* kpi_query */;

SET affected_day_list = ARRAY(SELECT DISTINCT day FROM affected_days);

MERGE `demo-project.analytics.kpi_daily` AS t
USING (
  SELECT FALSE AS _scope, day, provider_id, kpi, channel, queue_id, agent_id, experience_id, value, numerator, denominator, unit, computed_at FROM (SELECT * FROM kpi_new) AS r
  UNION ALL
  SELECT TRUE AS _scope, day, provider_id, CAST(NULL AS STRING) AS kpi, CAST(NULL AS STRING) AS channel, CAST(NULL AS STRING) AS queue_id, CAST(NULL AS STRING) AS agent_id, CAST(NULL AS STRING) AS experience_id, CAST(NULL AS FLOAT64) AS value, CAST(NULL AS FLOAT64) AS numerator, CAST(NULL AS FLOAT64) AS denominator, CAST(NULL AS STRING) AS unit, CAST(NULL AS TIMESTAMP) AS computed_at FROM (SELECT DISTINCT provider_id, day FROM affected_days) AS k
) AS s
ON s._scope AND t.provider_id = s.provider_id AND t.day = s.day AND t.day IN UNNEST(affected_day_list)
WHEN MATCHED THEN DELETE
WHEN NOT MATCHED BY TARGET AND NOT s._scope THEN
  INSERT (day, provider_id, kpi, channel, queue_id, agent_id, experience_id, value, numerator, denominator, unit, computed_at) VALUES (s.day, s.provider_id, s.kpi, s.channel, s.queue_id, s.agent_id, s.experience_id, s.value, s.numerator, s.denominator, s.unit, s.computed_at);

COMMIT TRANSACTION;

SELECT (SELECT COUNT(*) FROM touched_conversations) AS conversations_touched, (SELECT COUNT(*) FROM affected_days) AS provider_days, (SELECT COUNT(*) FROM kpi_new) AS kpi_rows, (SELECT STRING_AGG(d, ',' ORDER BY d) FROM (SELECT DISTINCT CAST(day AS STRING) AS d FROM affected_days) AS x) AS days;
