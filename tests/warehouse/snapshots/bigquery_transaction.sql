DECLARE snapshot_day_list ARRAY<DATE> DEFAULT [];

DECLARE affected_day_list ARRAY<DATE> DEFAULT [];

BEGIN TRANSACTION;

MERGE `demo-project.analytics.raw_conversations` AS t
USING (SELECT provider_id, conversation_id, channel, direction, conversation_ts, closed_ts, customer_id, account_id, contact_id, experience_id, platform, updated_at, backend_conversation_id, channel_context, external_correlation_id, cif_provider_id, cif_provider_name, external_provider_id, external_provider_name, external_account_id, external_contact_id, PARSE_JSON(custom_data) AS custom_data FROM `demo-project.analytics._staging_raw_conversations` WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY provider_id, conversation_id ORDER BY _version DESC) = 1) AS s
ON t.provider_id = s.provider_id AND t.conversation_id = s.conversation_id
WHEN MATCHED THEN UPDATE SET channel = s.channel, direction = s.direction, conversation_ts = s.conversation_ts, closed_ts = s.closed_ts, customer_id = s.customer_id, account_id = s.account_id, contact_id = s.contact_id, experience_id = s.experience_id, platform = s.platform, updated_at = s.updated_at, backend_conversation_id = s.backend_conversation_id, channel_context = s.channel_context, external_correlation_id = s.external_correlation_id, cif_provider_id = s.cif_provider_id, cif_provider_name = s.cif_provider_name, external_provider_id = s.external_provider_id, external_provider_name = s.external_provider_name, external_account_id = s.external_account_id, external_contact_id = s.external_contact_id, custom_data = s.custom_data
WHEN NOT MATCHED THEN INSERT (provider_id, conversation_id, channel, direction, conversation_ts, closed_ts, customer_id, account_id, contact_id, experience_id, platform, updated_at, backend_conversation_id, channel_context, external_correlation_id, cif_provider_id, cif_provider_name, external_provider_id, external_provider_name, external_account_id, external_contact_id, custom_data) VALUES (s.provider_id, s.conversation_id, s.channel, s.direction, s.conversation_ts, s.closed_ts, s.customer_id, s.account_id, s.contact_id, s.experience_id, s.platform, s.updated_at, s.backend_conversation_id, s.channel_context, s.external_correlation_id, s.cif_provider_id, s.cif_provider_name, s.external_provider_id, s.external_provider_name, s.external_account_id, s.external_contact_id, s.custom_data);

MERGE `demo-project.analytics.raw_sessions` AS t
USING (
  SELECT FALSE AS _scope, provider_id, conversation_id, session_id, created_ts, queue_assigned_ts, agent_assigned_ts, queue_id, queue_name, session_channel, session_name, client_session_id, creation_reason, external_correlation_id, custom_data FROM (SELECT x.provider_id, x.conversation_id, x.session_id, x.created_ts, x.queue_assigned_ts, x.agent_assigned_ts, x.queue_id, x.queue_name, x.session_channel, x.session_name, x.client_session_id, x.creation_reason, x.external_correlation_id, PARSE_JSON(x.custom_data) AS custom_data FROM `demo-project.analytics._staging_raw_sessions` AS x
JOIN (SELECT provider_id, conversation_id, MAX(_version) AS v
      FROM `demo-project.analytics._staging_raw_conversations` GROUP BY provider_id, conversation_id) AS l
ON x.provider_id = l.provider_id AND x.conversation_id = l.conversation_id AND x._version = l.v) AS r
  UNION ALL
  SELECT TRUE AS _scope, provider_id, conversation_id, CAST(NULL AS STRING) AS session_id, CAST(NULL AS TIMESTAMP) AS created_ts, CAST(NULL AS TIMESTAMP) AS queue_assigned_ts, CAST(NULL AS TIMESTAMP) AS agent_assigned_ts, CAST(NULL AS STRING) AS queue_id, CAST(NULL AS STRING) AS queue_name, CAST(NULL AS STRING) AS session_channel, CAST(NULL AS STRING) AS session_name, CAST(NULL AS STRING) AS client_session_id, CAST(NULL AS STRING) AS creation_reason, CAST(NULL AS STRING) AS external_correlation_id, CAST(NULL AS JSON) AS custom_data FROM (SELECT DISTINCT provider_id, conversation_id FROM `demo-project.analytics._staging_raw_conversations`) AS k
) AS s
ON s._scope AND t.provider_id = s.provider_id AND t.conversation_id = s.conversation_id
WHEN MATCHED THEN DELETE
WHEN NOT MATCHED BY TARGET AND NOT s._scope THEN
  INSERT (provider_id, conversation_id, session_id, created_ts, queue_assigned_ts, agent_assigned_ts, queue_id, queue_name, session_channel, session_name, client_session_id, creation_reason, external_correlation_id, custom_data) VALUES (s.provider_id, s.conversation_id, s.session_id, s.created_ts, s.queue_assigned_ts, s.agent_assigned_ts, s.queue_id, s.queue_name, s.session_channel, s.session_name, s.client_session_id, s.creation_reason, s.external_correlation_id, s.custom_data);

MERGE `demo-project.analytics.raw_participants` AS t
USING (
  SELECT FALSE AS _scope, provider_id, conversation_id, session_id, participant_id, participant_type, participant_mode, added_ts, external_participant_id, assign_reason, custom_data FROM (SELECT x.provider_id, x.conversation_id, x.session_id, x.participant_id, x.participant_type, x.participant_mode, x.added_ts, x.external_participant_id, x.assign_reason, PARSE_JSON(x.custom_data) AS custom_data FROM `demo-project.analytics._staging_raw_participants` AS x
JOIN (SELECT provider_id, conversation_id, MAX(_version) AS v
      FROM `demo-project.analytics._staging_raw_conversations` GROUP BY provider_id, conversation_id) AS l
ON x.provider_id = l.provider_id AND x.conversation_id = l.conversation_id AND x._version = l.v) AS r
  UNION ALL
  SELECT TRUE AS _scope, provider_id, conversation_id, CAST(NULL AS STRING) AS session_id, CAST(NULL AS STRING) AS participant_id, CAST(NULL AS STRING) AS participant_type, CAST(NULL AS STRING) AS participant_mode, CAST(NULL AS TIMESTAMP) AS added_ts, CAST(NULL AS STRING) AS external_participant_id, CAST(NULL AS STRING) AS assign_reason, CAST(NULL AS JSON) AS custom_data FROM (SELECT DISTINCT provider_id, conversation_id FROM `demo-project.analytics._staging_raw_conversations`) AS k
) AS s
ON s._scope AND t.provider_id = s.provider_id AND t.conversation_id = s.conversation_id
WHEN MATCHED THEN DELETE
WHEN NOT MATCHED BY TARGET AND NOT s._scope THEN
  INSERT (provider_id, conversation_id, session_id, participant_id, participant_type, participant_mode, added_ts, external_participant_id, assign_reason, custom_data) VALUES (s.provider_id, s.conversation_id, s.session_id, s.participant_id, s.participant_type, s.participant_mode, s.added_ts, s.external_participant_id, s.assign_reason, s.custom_data);

CREATE TEMP TABLE event_session_corrections AS
SELECT e.provider_id, e.event_id, COALESCE(by_id.session_id, by_client.session_id, e.provider_session_id) AS session_id
FROM `demo-project.analytics.raw_events` AS e
JOIN (SELECT DISTINCT provider_id, conversation_id FROM `demo-project.analytics._staging_raw_conversations`) AS c ON c.provider_id = e.provider_id AND c.conversation_id = e.conversation_id
LEFT JOIN `demo-project.analytics.raw_sessions` AS by_id
  ON by_id.provider_id = e.provider_id AND by_id.conversation_id = e.conversation_id AND by_id.session_id = e.provider_session_id
LEFT JOIN (SELECT provider_id, conversation_id, client_session_id, session_id FROM `demo-project.analytics.raw_sessions` WHERE client_session_id IS NOT NULL
QUALIFY ROW_NUMBER() OVER (PARTITION BY provider_id, conversation_id, client_session_id ORDER BY created_ts, session_id) = 1) AS by_client
  ON by_client.provider_id = e.provider_id AND by_client.conversation_id = e.conversation_id AND by_client.client_session_id = e.client_session_id
WHERE e.client_session_id IS NOT NULL AND COALESCE(by_id.session_id, by_client.session_id, e.provider_session_id) <> e.session_id
  AND NOT EXISTS (SELECT 1 FROM `demo-project.analytics._staging_raw_events` AS x WHERE x.provider_id = e.provider_id AND x.event_id = e.event_id);

MERGE `demo-project.analytics.raw_events` AS t
USING (
  SELECT FALSE AS _fix, provider_id, event_id, conversation_id, session_id, participant_id, name, reason, event_ts, response_action, custom_data, schema, ingested_at, provider_session_id, client_session_id, external_correlation_id FROM (SELECT e.provider_id, e.event_id, e.conversation_id, CASE WHEN e.client_session_id IS NULL THEN e.session_id ELSE COALESCE(by_id.session_id, by_client.session_id, e.provider_session_id) END AS session_id, e.participant_id, e.name, e.reason, e.event_ts, e.response_action, e.custom_data, e.schema, e.ingested_at, e.provider_session_id, e.client_session_id, e.external_correlation_id FROM (SELECT provider_id, event_id, conversation_id, session_id, participant_id, name, reason, event_ts, response_action, PARSE_JSON(custom_data) AS custom_data, schema, ingested_at, provider_session_id, client_session_id, external_correlation_id FROM `demo-project.analytics._staging_raw_events` WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY provider_id, event_id ORDER BY _version ASC) = 1) AS e
LEFT JOIN `demo-project.analytics.raw_sessions` AS by_id
  ON by_id.provider_id = e.provider_id AND by_id.conversation_id = e.conversation_id AND by_id.session_id = e.provider_session_id
LEFT JOIN (SELECT provider_id, conversation_id, client_session_id, session_id FROM `demo-project.analytics.raw_sessions` WHERE client_session_id IS NOT NULL
QUALIFY ROW_NUMBER() OVER (PARTITION BY provider_id, conversation_id, client_session_id ORDER BY created_ts, session_id) = 1) AS by_client
  ON by_client.provider_id = e.provider_id AND by_client.conversation_id = e.conversation_id AND by_client.client_session_id = e.client_session_id) AS r
  UNION ALL
  SELECT TRUE AS _fix, provider_id, event_id, CAST(NULL AS STRING) AS conversation_id, session_id, CAST(NULL AS STRING) AS participant_id, CAST(NULL AS STRING) AS name, CAST(NULL AS STRING) AS reason, CAST(NULL AS TIMESTAMP) AS event_ts, CAST(NULL AS STRING) AS response_action, CAST(NULL AS JSON) AS custom_data, CAST(NULL AS STRING) AS schema, CAST(NULL AS TIMESTAMP) AS ingested_at, CAST(NULL AS STRING) AS provider_session_id, CAST(NULL AS STRING) AS client_session_id, CAST(NULL AS STRING) AS external_correlation_id FROM (SELECT provider_id, event_id, session_id FROM event_session_corrections) AS c
) AS s
ON t.provider_id = s.provider_id AND t.event_id = s.event_id
WHEN MATCHED AND s._fix THEN UPDATE SET session_id = s.session_id
WHEN NOT MATCHED AND NOT s._fix THEN INSERT (provider_id, event_id, conversation_id, session_id, participant_id, name, reason, event_ts, response_action, custom_data, schema, ingested_at, provider_session_id, client_session_id, external_correlation_id) VALUES (s.provider_id, s.event_id, s.conversation_id, s.session_id, s.participant_id, s.name, s.reason, s.event_ts, s.response_action, s.custom_data, s.schema, s.ingested_at, s.provider_session_id, s.client_session_id, s.external_correlation_id);

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

MERGE `demo-project.analytics.raw_activity_parties` AS t
USING (
  SELECT FALSE AS _scope, provider_id, activity_id, party_id, side, role FROM (SELECT x.provider_id, x.activity_id, x.party_id, x.side, x.role FROM `demo-project.analytics._staging_raw_activity_parties` AS x
JOIN (SELECT provider_id, activity_id, MAX(_version) AS v
      FROM `demo-project.analytics._staging_raw_activities` GROUP BY provider_id, activity_id) AS l
ON x.provider_id = l.provider_id AND x.activity_id = l.activity_id AND x._version = l.v) AS r
  UNION ALL
  SELECT TRUE AS _scope, provider_id, activity_id, CAST(NULL AS STRING) AS party_id, CAST(NULL AS STRING) AS side, CAST(NULL AS STRING) AS role FROM (SELECT DISTINCT provider_id, activity_id FROM `demo-project.analytics._staging_raw_activities`) AS k
) AS s
ON s._scope AND t.provider_id = s.provider_id AND t.activity_id = s.activity_id
WHEN MATCHED THEN DELETE
WHEN NOT MATCHED BY TARGET AND NOT s._scope THEN
  INSERT (provider_id, activity_id, party_id, side, role) VALUES (s.provider_id, s.activity_id, s.party_id, s.side, s.role);

CREATE TEMP TABLE run_clock AS
SELECT DATE '2026-11-23' AS snapshot_day, TIMESTAMP '2026-11-23 09:30:00.000000+00' AS now_ts;

SET snapshot_day_list = ARRAY(SELECT snapshot_day FROM run_clock);

CREATE TEMP TABLE restated_days AS
SELECT DATE '2026-11-20' AS day UNION ALL SELECT DATE '2026-11-21' AS day;

CREATE TEMP TABLE touched_conversations AS
SELECT DISTINCT provider_id, conversation_id FROM (
  SELECT provider_id, conversation_id FROM `demo-project.analytics._staging_raw_conversations`
  UNION ALL SELECT provider_id, conversation_id FROM `demo-project.analytics._staging_raw_events`
  UNION ALL SELECT provider_id, conversation_id FROM (SELECT
  provider_id,
  conversation_id
FROM `demo-project`.`analytics`.`raw_conversations`
WHERE
  DATE(conversation_ts) IN (
    SELECT
      day
    FROM restated_days
  )
  OR DATE(closed_ts) IN (
    SELECT
      day
    FROM restated_days
  )
UNION ALL
SELECT
  provider_id,
  conversation_id
FROM `demo-project`.`analytics`.`raw_events`
WHERE
  DATE(event_ts) IN (
    SELECT
      day
    FROM restated_days
  )) AS r
) AS u;

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

CREATE TEMP TABLE touched_customers AS
/* scope_query customers */;

CREATE TEMP TABLE touched_activities AS
SELECT DISTINCT provider_id, activity_id FROM (
  SELECT provider_id, activity_id FROM `demo-project.analytics._staging_raw_activities`
  UNION ALL SELECT provider_id, activity_id FROM (SELECT
  provider_id,
  activity_id
FROM `demo-project`.`analytics`.`raw_activities`
WHERE
  DATE(start_ts) IN (
    SELECT
      day
    FROM restated_days
  )) AS r
) AS u;

CREATE TEMP TABLE touched_threads AS
/* scope_query activity_threads */;

CREATE TEMP TABLE before_fact_sessions AS
/* in_scope_query session */;

MERGE `demo-project.analytics.fact_sessions` AS t
USING (
  SELECT FALSE AS _scope, provider_id, conversation_id, session_id, channel, queue_id, agent_id, is_agent_session, created_ts, queue_assigned_ts, offered_ts, responded_ts, incoming, accepted, rejected, timed_out, transferred, close_ts, close_reason, time_to_accept_s, time_to_reject_s, wait_s, handle_s, handle_from_focus, wrap_up_s, consults_requested, consults_accepted FROM (/* fact_query session */) AS r
  UNION ALL
  SELECT TRUE AS _scope, provider_id, conversation_id, CAST(NULL AS STRING) AS session_id, CAST(NULL AS STRING) AS channel, CAST(NULL AS STRING) AS queue_id, CAST(NULL AS STRING) AS agent_id, CAST(NULL AS BOOL) AS is_agent_session, CAST(NULL AS TIMESTAMP) AS created_ts, CAST(NULL AS TIMESTAMP) AS queue_assigned_ts, CAST(NULL AS TIMESTAMP) AS offered_ts, CAST(NULL AS TIMESTAMP) AS responded_ts, CAST(NULL AS BOOL) AS incoming, CAST(NULL AS BOOL) AS accepted, CAST(NULL AS BOOL) AS rejected, CAST(NULL AS BOOL) AS timed_out, CAST(NULL AS BOOL) AS transferred, CAST(NULL AS TIMESTAMP) AS close_ts, CAST(NULL AS STRING) AS close_reason, CAST(NULL AS FLOAT64) AS time_to_accept_s, CAST(NULL AS FLOAT64) AS time_to_reject_s, CAST(NULL AS FLOAT64) AS wait_s, CAST(NULL AS FLOAT64) AS handle_s, CAST(NULL AS BOOL) AS handle_from_focus, CAST(NULL AS FLOAT64) AS wrap_up_s, CAST(NULL AS INT64) AS consults_requested, CAST(NULL AS INT64) AS consults_accepted FROM (SELECT DISTINCT provider_id, conversation_id FROM touched_conversations) AS k
) AS s
ON s._scope AND t.provider_id = s.provider_id AND t.conversation_id = s.conversation_id
WHEN MATCHED THEN DELETE
WHEN NOT MATCHED BY TARGET AND NOT s._scope THEN
  INSERT (provider_id, conversation_id, session_id, channel, queue_id, agent_id, is_agent_session, created_ts, queue_assigned_ts, offered_ts, responded_ts, incoming, accepted, rejected, timed_out, transferred, close_ts, close_reason, time_to_accept_s, time_to_reject_s, wait_s, handle_s, handle_from_focus, wrap_up_s, consults_requested, consults_accepted) VALUES (s.provider_id, s.conversation_id, s.session_id, s.channel, s.queue_id, s.agent_id, s.is_agent_session, s.created_ts, s.queue_assigned_ts, s.offered_ts, s.responded_ts, s.incoming, s.accepted, s.rejected, s.timed_out, s.transferred, s.close_ts, s.close_reason, s.time_to_accept_s, s.time_to_reject_s, s.wait_s, s.handle_s, s.handle_from_focus, s.wrap_up_s, s.consults_requested, s.consults_accepted);

CREATE TEMP TABLE changed_fact_sessions AS
/* changed_query session */;

CREATE TEMP TABLE before_fact_chat_events AS
/* in_scope_query chat_event */;

MERGE `demo-project.analytics.fact_chat_events` AS t
USING (
  SELECT FALSE AS _scope, provider_id, customer_key, event_id, conversation_id, event_ts, name, experience_id, platform, chat_session_id, session_start_ts, module_id, module_name, nps, opt_in_topic, opt_in_level, share_via, pin_success FROM (/* fact_query chat_event */) AS r
  UNION ALL
  SELECT TRUE AS _scope, provider_id, customer_key, CAST(NULL AS STRING) AS event_id, CAST(NULL AS STRING) AS conversation_id, CAST(NULL AS TIMESTAMP) AS event_ts, CAST(NULL AS STRING) AS name, CAST(NULL AS STRING) AS experience_id, CAST(NULL AS STRING) AS platform, CAST(NULL AS STRING) AS chat_session_id, CAST(NULL AS TIMESTAMP) AS session_start_ts, CAST(NULL AS STRING) AS module_id, CAST(NULL AS STRING) AS module_name, CAST(NULL AS INT64) AS nps, CAST(NULL AS STRING) AS opt_in_topic, CAST(NULL AS STRING) AS opt_in_level, CAST(NULL AS STRING) AS share_via, CAST(NULL AS BOOL) AS pin_success FROM (SELECT DISTINCT provider_id, customer_key FROM touched_customers) AS k
) AS s
ON s._scope AND t.provider_id = s.provider_id AND t.customer_key = s.customer_key
WHEN MATCHED THEN DELETE
WHEN NOT MATCHED BY TARGET AND NOT s._scope THEN
  INSERT (provider_id, customer_key, event_id, conversation_id, event_ts, name, experience_id, platform, chat_session_id, session_start_ts, module_id, module_name, nps, opt_in_topic, opt_in_level, share_via, pin_success) VALUES (s.provider_id, s.customer_key, s.event_id, s.conversation_id, s.event_ts, s.name, s.experience_id, s.platform, s.chat_session_id, s.session_start_ts, s.module_id, s.module_name, s.nps, s.opt_in_topic, s.opt_in_level, s.share_via, s.pin_success);

CREATE TEMP TABLE changed_fact_chat_events AS
/* changed_query chat_event */;

CREATE TEMP TABLE before_fact_activities AS
/* in_scope_query relationship */;

MERGE `demo-project.analytics.fact_activities` AS t
USING (
  SELECT FALSE AS _scope, provider_id, activity_id, activity_type, regarding_type, regarding_id, status, start_ts, initiated_by, minutes_us, minutes_customer, replied_to, response_s FROM (/* fact_query relationship */) AS r
  UNION ALL
  SELECT TRUE AS _scope, provider_id, activity_id, CAST(NULL AS STRING) AS activity_type, CAST(NULL AS STRING) AS regarding_type, CAST(NULL AS STRING) AS regarding_id, CAST(NULL AS STRING) AS status, CAST(NULL AS TIMESTAMP) AS start_ts, CAST(NULL AS STRING) AS initiated_by, CAST(NULL AS FLOAT64) AS minutes_us, CAST(NULL AS FLOAT64) AS minutes_customer, CAST(NULL AS STRING) AS replied_to, CAST(NULL AS FLOAT64) AS response_s FROM (SELECT DISTINCT provider_id, activity_id FROM touched_threads) AS k
) AS s
ON s._scope AND t.provider_id = s.provider_id AND t.activity_id = s.activity_id
WHEN MATCHED THEN DELETE
WHEN NOT MATCHED BY TARGET AND NOT s._scope THEN
  INSERT (provider_id, activity_id, activity_type, regarding_type, regarding_id, status, start_ts, initiated_by, minutes_us, minutes_customer, replied_to, response_s) VALUES (s.provider_id, s.activity_id, s.activity_type, s.regarding_type, s.regarding_id, s.status, s.start_ts, s.initiated_by, s.minutes_us, s.minutes_customer, s.replied_to, s.response_s);

CREATE TEMP TABLE changed_fact_activities AS
/* changed_query relationship */;

CREATE TEMP TABLE before_fact_conversations AS
/* in_scope_query conversation */;

MERGE `demo-project.analytics.fact_conversations` AS t
USING (
  SELECT FALSE AS _scope, provider_id, conversation_id, channel, direction, customer_id, queue_id, agent_id, conversation_ts, closed_ts, close_reason, waiting_since_ts, answered_ts, incoming, handled, abandoned, transferred, resolved, speed_to_answer_s, time_to_abandon_s, handle_s, hold_s, wrap_up_s, conversation_time_s, first_response_s, csat_answers, csat_top2, nps_answers, nps_promoters, nps_detractors FROM (/* fact_query conversation */) AS r
  UNION ALL
  SELECT TRUE AS _scope, provider_id, conversation_id, CAST(NULL AS STRING) AS channel, CAST(NULL AS STRING) AS direction, CAST(NULL AS STRING) AS customer_id, CAST(NULL AS STRING) AS queue_id, CAST(NULL AS STRING) AS agent_id, CAST(NULL AS TIMESTAMP) AS conversation_ts, CAST(NULL AS TIMESTAMP) AS closed_ts, CAST(NULL AS STRING) AS close_reason, CAST(NULL AS TIMESTAMP) AS waiting_since_ts, CAST(NULL AS TIMESTAMP) AS answered_ts, CAST(NULL AS BOOL) AS incoming, CAST(NULL AS BOOL) AS handled, CAST(NULL AS BOOL) AS abandoned, CAST(NULL AS BOOL) AS transferred, CAST(NULL AS BOOL) AS resolved, CAST(NULL AS FLOAT64) AS speed_to_answer_s, CAST(NULL AS FLOAT64) AS time_to_abandon_s, CAST(NULL AS FLOAT64) AS handle_s, CAST(NULL AS FLOAT64) AS hold_s, CAST(NULL AS FLOAT64) AS wrap_up_s, CAST(NULL AS FLOAT64) AS conversation_time_s, CAST(NULL AS FLOAT64) AS first_response_s, CAST(NULL AS INT64) AS csat_answers, CAST(NULL AS INT64) AS csat_top2, CAST(NULL AS INT64) AS nps_answers, CAST(NULL AS INT64) AS nps_promoters, CAST(NULL AS INT64) AS nps_detractors FROM (SELECT DISTINCT provider_id, conversation_id FROM touched_conversations) AS k
) AS s
ON s._scope AND t.provider_id = s.provider_id AND t.conversation_id = s.conversation_id
WHEN MATCHED THEN DELETE
WHEN NOT MATCHED BY TARGET AND NOT s._scope THEN
  INSERT (provider_id, conversation_id, channel, direction, customer_id, queue_id, agent_id, conversation_ts, closed_ts, close_reason, waiting_since_ts, answered_ts, incoming, handled, abandoned, transferred, resolved, speed_to_answer_s, time_to_abandon_s, handle_s, hold_s, wrap_up_s, conversation_time_s, first_response_s, csat_answers, csat_top2, nps_answers, nps_promoters, nps_detractors) VALUES (s.provider_id, s.conversation_id, s.channel, s.direction, s.customer_id, s.queue_id, s.agent_id, s.conversation_ts, s.closed_ts, s.close_reason, s.waiting_since_ts, s.answered_ts, s.incoming, s.handled, s.abandoned, s.transferred, s.resolved, s.speed_to_answer_s, s.time_to_abandon_s, s.handle_s, s.hold_s, s.wrap_up_s, s.conversation_time_s, s.first_response_s, s.csat_answers, s.csat_top2, s.nps_answers, s.nps_promoters, s.nps_detractors);

CREATE TEMP TABLE changed_fact_conversations AS
/* changed_query conversation */;

CREATE TEMP TABLE before_fact_chat_sessions AS
/* in_scope_query chat_session */;

MERGE `demo-project.analytics.fact_chat_sessions` AS t
USING (
  SELECT FALSE AS _scope, provider_id, customer_key, chat_session_id, session_start_ts, session_end_ts, conversation_id, experience_id, platform, events, conversations, interacted, span_s FROM (/* fact_query chat_session */) AS r
  UNION ALL
  SELECT TRUE AS _scope, provider_id, customer_key, CAST(NULL AS STRING) AS chat_session_id, CAST(NULL AS TIMESTAMP) AS session_start_ts, CAST(NULL AS TIMESTAMP) AS session_end_ts, CAST(NULL AS STRING) AS conversation_id, CAST(NULL AS STRING) AS experience_id, CAST(NULL AS STRING) AS platform, CAST(NULL AS INT64) AS events, CAST(NULL AS INT64) AS conversations, CAST(NULL AS BOOL) AS interacted, CAST(NULL AS FLOAT64) AS span_s FROM (SELECT DISTINCT provider_id, customer_key FROM touched_customers) AS k
) AS s
ON s._scope AND t.provider_id = s.provider_id AND t.customer_key = s.customer_key
WHEN MATCHED THEN DELETE
WHEN NOT MATCHED BY TARGET AND NOT s._scope THEN
  INSERT (provider_id, customer_key, chat_session_id, session_start_ts, session_end_ts, conversation_id, experience_id, platform, events, conversations, interacted, span_s) VALUES (s.provider_id, s.customer_key, s.chat_session_id, s.session_start_ts, s.session_end_ts, s.conversation_id, s.experience_id, s.platform, s.events, s.conversations, s.interacted, s.span_s);

CREATE TEMP TABLE changed_fact_chat_sessions AS
/* changed_query chat_session */;

CREATE TEMP TABLE affected_days AS
SELECT DISTINCT provider_id, day FROM (
  SELECT provider_id, day FROM (/* days_query session */) AS session_days
  UNION ALL SELECT provider_id, day FROM (/* days_query chat_event */) AS chat_event_days
  UNION ALL SELECT provider_id, day FROM (/* days_query relationship */) AS relationship_days
  UNION ALL SELECT provider_id, day FROM (/* days_query conversation */) AS conversation_days
  UNION ALL SELECT provider_id, day FROM (/* days_query chat_session */) AS chat_session_days
  UNION ALL SELECT provider_id, day FROM (/* extra_days_query conversation */) AS conversation_extra_days
  UNION ALL SELECT provider_id, day FROM (SELECT p.provider_id, d.day FROM (SELECT DISTINCT provider_id FROM (SELECT provider_id FROM `demo-project.analytics.raw_conversations` UNION ALL SELECT provider_id FROM `demo-project.analytics.raw_events` UNION ALL SELECT provider_id FROM `demo-project.analytics.kpi_daily`) AS x) AS p
CROSS JOIN restated_days AS d) AS restated
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

MERGE `demo-project.analytics.chat_module_visits` AS t
USING (
  SELECT FALSE AS _scope, day, provider_id, experience_id, module_id, module_name, visits, sessions FROM (/* output_query chat_module_visits */) AS r
  UNION ALL
  SELECT TRUE AS _scope, day, provider_id, CAST(NULL AS STRING) AS experience_id, CAST(NULL AS STRING) AS module_id, CAST(NULL AS STRING) AS module_name, CAST(NULL AS INT64) AS visits, CAST(NULL AS INT64) AS sessions FROM (SELECT DISTINCT provider_id, day FROM affected_days) AS k
) AS s
ON s._scope AND t.provider_id = s.provider_id AND t.day = s.day AND t.day IN UNNEST(affected_day_list)
WHEN MATCHED THEN DELETE
WHEN NOT MATCHED BY TARGET AND NOT s._scope THEN
  INSERT (day, provider_id, experience_id, module_id, module_name, visits, sessions) VALUES (s.day, s.provider_id, s.experience_id, s.module_id, s.module_name, s.visits, s.sessions);

MERGE `demo-project.analytics.relationship_daily_activity` AS t
USING (
  SELECT FALSE AS _scope, day, provider_id, regarding_type, regarding_id, activity_type, initiated_by, activities FROM (/* output_query relationship_daily_activity */) AS r
  UNION ALL
  SELECT TRUE AS _scope, day, provider_id, CAST(NULL AS STRING) AS regarding_type, CAST(NULL AS STRING) AS regarding_id, CAST(NULL AS STRING) AS activity_type, CAST(NULL AS STRING) AS initiated_by, CAST(NULL AS INT64) AS activities FROM (SELECT DISTINCT provider_id, day FROM affected_days) AS k
) AS s
ON s._scope AND t.provider_id = s.provider_id AND t.day = s.day AND t.day IN UNNEST(affected_day_list)
WHEN MATCHED THEN DELETE
WHEN NOT MATCHED BY TARGET AND NOT s._scope THEN
  INSERT (day, provider_id, regarding_type, regarding_id, activity_type, initiated_by, activities) VALUES (s.day, s.provider_id, s.regarding_type, s.regarding_id, s.activity_type, s.initiated_by, s.activities);

CREATE TEMP TABLE touched_records AS
/* scope_query records */;

MERGE `demo-project.analytics.relationship_snapshot` AS t
USING (
  SELECT FALSE AS _scope, snapshot_day, provider_id, regarding_type, regarding_id, window_days, emails_sent, emails_received, meetings_by_us, meetings_by_customer, calls_by_us, calls_by_customer, initiated_by_us, initiated_by_customer, email_ratio_us, email_ratio_customer, response_time_us_s, response_time_customer_s, hours_us, hours_customer, last_interaction_ts, next_interaction_ts, health_score, health_band, health_trend, computed_at FROM (/* snapshot_query relationship_snapshot */) AS r
  UNION ALL
  SELECT TRUE AS _scope, snapshot_day, provider_id, regarding_type, regarding_id, CAST(NULL AS INT64) AS window_days, CAST(NULL AS INT64) AS emails_sent, CAST(NULL AS INT64) AS emails_received, CAST(NULL AS INT64) AS meetings_by_us, CAST(NULL AS INT64) AS meetings_by_customer, CAST(NULL AS INT64) AS calls_by_us, CAST(NULL AS INT64) AS calls_by_customer, CAST(NULL AS INT64) AS initiated_by_us, CAST(NULL AS INT64) AS initiated_by_customer, CAST(NULL AS FLOAT64) AS email_ratio_us, CAST(NULL AS FLOAT64) AS email_ratio_customer, CAST(NULL AS FLOAT64) AS response_time_us_s, CAST(NULL AS FLOAT64) AS response_time_customer_s, CAST(NULL AS FLOAT64) AS hours_us, CAST(NULL AS FLOAT64) AS hours_customer, CAST(NULL AS TIMESTAMP) AS last_interaction_ts, CAST(NULL AS TIMESTAMP) AS next_interaction_ts, CAST(NULL AS INT64) AS health_score, CAST(NULL AS STRING) AS health_band, CAST(NULL AS STRING) AS health_trend, CAST(NULL AS TIMESTAMP) AS computed_at FROM (SELECT DISTINCT k.snapshot_day, s.provider_id, s.regarding_type, s.regarding_id FROM touched_records AS s CROSS JOIN run_clock AS k) AS k
) AS s
ON s._scope AND t.snapshot_day = s.snapshot_day AND t.provider_id = s.provider_id AND t.regarding_type = s.regarding_type AND t.regarding_id = s.regarding_id AND t.snapshot_day IN UNNEST(snapshot_day_list)
WHEN MATCHED THEN DELETE
WHEN NOT MATCHED BY TARGET AND NOT s._scope THEN
  INSERT (snapshot_day, provider_id, regarding_type, regarding_id, window_days, emails_sent, emails_received, meetings_by_us, meetings_by_customer, calls_by_us, calls_by_customer, initiated_by_us, initiated_by_customer, email_ratio_us, email_ratio_customer, response_time_us_s, response_time_customer_s, hours_us, hours_customer, last_interaction_ts, next_interaction_ts, health_score, health_band, health_trend, computed_at) VALUES (s.snapshot_day, s.provider_id, s.regarding_type, s.regarding_id, s.window_days, s.emails_sent, s.emails_received, s.meetings_by_us, s.meetings_by_customer, s.calls_by_us, s.calls_by_customer, s.initiated_by_us, s.initiated_by_customer, s.email_ratio_us, s.email_ratio_customer, s.response_time_us_s, s.response_time_customer_s, s.hours_us, s.hours_customer, s.last_interaction_ts, s.next_interaction_ts, s.health_score, s.health_band, s.health_trend, s.computed_at);

MERGE `demo-project.analytics.relationship_contacts` AS t
USING (
  SELECT FALSE AS _scope, snapshot_day, provider_id, regarding_type, regarding_id, side, rank, party_id, interactions FROM (/* snapshot_query relationship_contacts */) AS r
  UNION ALL
  SELECT TRUE AS _scope, snapshot_day, provider_id, regarding_type, regarding_id, CAST(NULL AS STRING) AS side, CAST(NULL AS INT64) AS rank, CAST(NULL AS STRING) AS party_id, CAST(NULL AS INT64) AS interactions FROM (SELECT DISTINCT k.snapshot_day, s.provider_id, s.regarding_type, s.regarding_id FROM touched_records AS s CROSS JOIN run_clock AS k) AS k
) AS s
ON s._scope AND t.snapshot_day = s.snapshot_day AND t.provider_id = s.provider_id AND t.regarding_type = s.regarding_type AND t.regarding_id = s.regarding_id AND t.snapshot_day IN UNNEST(snapshot_day_list)
WHEN MATCHED THEN DELETE
WHEN NOT MATCHED BY TARGET AND NOT s._scope THEN
  INSERT (snapshot_day, provider_id, regarding_type, regarding_id, side, rank, party_id, interactions) VALUES (s.snapshot_day, s.provider_id, s.regarding_type, s.regarding_id, s.side, s.rank, s.party_id, s.interactions);

COMMIT TRANSACTION;

SELECT (SELECT COUNT(*) FROM touched_conversations) + (SELECT COUNT(*) FROM touched_activities) AS conversations_touched, (SELECT COUNT(*) FROM affected_days) AS provider_days, (SELECT COUNT(*) FROM kpi_new) AS kpi_rows, (SELECT STRING_AGG(d, ',' ORDER BY d) FROM (SELECT DISTINCT CAST(day AS STRING) AS d FROM affected_days) AS x) AS days;
