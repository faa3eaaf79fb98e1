WITH days AS (
  SELECT DISTINCT
    provider_id,
    day
  FROM affected_days
), conversation_base AS (
  SELECT
    f.*,
    d.day,
    COALESCE(f.channel, '(none)') AS slice_channel,
    COALESCE(f.queue_id, '(none)') AS slice_queue_id,
    COALESCE(f.agent_id, '(none)') AS slice_agent_id
  FROM `my-project`.`analytics`.`fact_conversations` AS f
  JOIN days AS d
    ON d.provider_id = f.provider_id AND d.day = DATE(f.closed_ts)
), repeat_contacts AS (
  SELECT
    x.provider_id,
    x.conversation_id
  FROM conversation_base AS x
  JOIN `my-project`.`analytics`.`fact_conversations` AS later
    ON later.provider_id = x.provider_id
    AND later.customer_id = x.customer_id
    AND later.conversation_id <> x.conversation_id
    AND later.direction = 'inbound'
    AND later.conversation_ts > x.closed_ts
    AND later.conversation_ts <= TIMESTAMP_ADD(x.closed_ts, INTERVAL '72' HOUR)
  WHERE
    x.resolved
  GROUP BY
    x.provider_id,
    x.conversation_id
), conversation_rows AS (
  SELECT
    b.*,
    b.resolved AND NOT b.customer_id IS NULL AS fcr_eligible,
    b.resolved AND NOT b.customer_id IS NULL AND r.conversation_id IS NULL AS first_contact_resolved
  FROM conversation_base AS b
  LEFT JOIN repeat_contacts AS r
    ON r.provider_id = b.provider_id AND r.conversation_id = b.conversation_id
), conversation_groups AS (
  SELECT
    provider_id,
    day,
    slice_channel AS channel,
    slice_queue_id AS queue_id,
    slice_agent_id AS agent_id,
    SUM(CASE WHEN incoming THEN 1 ELSE 0 END) AS m0,
    SUM(CASE WHEN direction = 'outbound' THEN 1 ELSE 0 END) AS m1,
    SUM(CASE WHEN handled THEN 1 ELSE 0 END) AS m2,
    SUM(CASE WHEN abandoned THEN 1 ELSE 0 END) AS m3,
    SUM(CASE WHEN incoming AND abandoned THEN 1 ELSE 0 END) AS m4,
    COALESCE(SUM(CASE WHEN NOT speed_to_answer_s IS NULL THEN speed_to_answer_s END), 0) AS m5,
    SUM(CASE WHEN NOT speed_to_answer_s IS NULL THEN 1 ELSE 0 END) AS m6,
    COALESCE(SUM(CASE WHEN NOT time_to_abandon_s IS NULL THEN time_to_abandon_s END), 0) AS m7,
    SUM(CASE WHEN NOT time_to_abandon_s IS NULL THEN 1 ELSE 0 END) AS m8,
    SUM(CASE WHEN speed_to_answer_s <= 10 THEN 1 ELSE 0 END) AS m9,
    SUM(CASE WHEN speed_to_answer_s <= 20 THEN 1 ELSE 0 END) AS m10,
    SUM(CASE WHEN speed_to_answer_s <= 30 THEN 1 ELSE 0 END) AS m11,
    SUM(CASE WHEN speed_to_answer_s <= 60 THEN 1 ELSE 0 END) AS m12,
    SUM(CASE WHEN speed_to_answer_s <= 120 THEN 1 ELSE 0 END) AS m13,
    COALESCE(SUM(CASE WHEN handled AND NOT handle_s IS NULL THEN handle_s END), 0) AS m14,
    SUM(CASE WHEN handled AND NOT handle_s IS NULL THEN 1 ELSE 0 END) AS m15,
    COALESCE(SUM(CASE WHEN handled AND NOT hold_s IS NULL THEN hold_s END), 0) AS m16,
    SUM(CASE WHEN handled AND NOT hold_s IS NULL THEN 1 ELSE 0 END) AS m17,
    COALESCE(SUM(CASE WHEN handled AND NOT wrap_up_s IS NULL THEN wrap_up_s END), 0) AS m18,
    SUM(CASE WHEN handled AND NOT wrap_up_s IS NULL THEN 1 ELSE 0 END) AS m19,
    COALESCE(SUM(CASE WHEN NOT conversation_time_s IS NULL THEN conversation_time_s END), 0) AS m20,
    SUM(CASE WHEN NOT conversation_time_s IS NULL THEN 1 ELSE 0 END) AS m21,
    SUM(CASE WHEN handled AND transferred THEN 1 ELSE 0 END) AS m22,
    COALESCE(SUM(CASE WHEN NOT first_response_s IS NULL THEN first_response_s END), 0) AS m23,
    SUM(CASE WHEN NOT first_response_s IS NULL THEN 1 ELSE 0 END) AS m24,
    COALESCE(SUM(csat_top2), 0) AS m25,
    COALESCE(SUM(csat_answers), 0) AS m26,
    COALESCE(SUM(nps_promoters - nps_detractors), 0) AS m27,
    COALESCE(SUM(nps_answers), 0) AS m28,
    SUM(CASE WHEN first_contact_resolved THEN 1 ELSE 0 END) AS m29,
    SUM(CASE WHEN fcr_eligible THEN 1 ELSE 0 END) AS m30
  FROM conversation_rows
  GROUP BY
    GROUPING SETS (
      (provider_id, day),
      (provider_id, day, slice_channel),
      (provider_id, day, slice_queue_id),
      (provider_id, day, slice_agent_id),
      (provider_id, day, slice_queue_id, slice_agent_id)
    )
), session_rows AS (
  SELECT
    f.*,
    d.day,
    COALESCE(f.channel, '(none)') AS slice_channel,
    COALESCE(f.queue_id, '(none)') AS slice_queue_id,
    COALESCE(f.agent_id, '(none)') AS slice_agent_id
  FROM `my-project`.`analytics`.`fact_sessions` AS f
  JOIN days AS d
    ON d.provider_id = f.provider_id AND d.day = DATE(f.close_ts)
), session_groups AS (
  SELECT
    provider_id,
    day,
    slice_channel AS channel,
    slice_queue_id AS queue_id,
    slice_agent_id AS agent_id,
    SUM(CASE WHEN incoming THEN 1 ELSE 0 END) AS m0,
    SUM(CASE WHEN accepted THEN 1 ELSE 0 END) AS m1,
    SUM(CASE WHEN rejected THEN 1 ELSE 0 END) AS m2,
    SUM(CASE WHEN timed_out THEN 1 ELSE 0 END) AS m3,
    SUM(CASE WHEN incoming AND transferred THEN 1 ELSE 0 END) AS m4,
    COALESCE(
      SUM(CASE WHEN accepted AND NOT time_to_accept_s IS NULL THEN time_to_accept_s END),
      0
    ) AS m5,
    SUM(CASE WHEN accepted AND NOT time_to_accept_s IS NULL THEN 1 ELSE 0 END) AS m6,
    COALESCE(
      SUM(CASE WHEN rejected AND NOT time_to_reject_s IS NULL THEN time_to_reject_s END),
      0
    ) AS m7,
    SUM(CASE WHEN rejected AND NOT time_to_reject_s IS NULL THEN 1 ELSE 0 END) AS m8,
    COALESCE(SUM(CASE WHEN accepted AND NOT handle_s IS NULL THEN handle_s END), 0) AS m9,
    SUM(CASE WHEN accepted AND NOT handle_s IS NULL THEN 1 ELSE 0 END) AS m10,
    COALESCE(SUM(CASE WHEN accepted AND NOT wait_s IS NULL THEN wait_s END), 0) AS m11,
    SUM(CASE WHEN accepted AND NOT wait_s IS NULL THEN 1 ELSE 0 END) AS m12,
    COALESCE(SUM(consults_requested), 0) AS m13,
    COALESCE(SUM(consults_accepted), 0) AS m14
  FROM session_rows
  GROUP BY
    GROUPING SETS (
      (provider_id, day),
      (provider_id, day, slice_channel),
      (provider_id, day, slice_queue_id),
      (provider_id, day, slice_agent_id),
      (provider_id, day, slice_queue_id, slice_agent_id)
    )
), chat_event_rows AS (
  SELECT
    f.*,
    d.day,
    COALESCE(f.experience_id, '(none)') AS slice_experience_id
  FROM `my-project`.`analytics`.`fact_chat_events` AS f
  JOIN days AS d
    ON d.provider_id = f.provider_id AND d.day = DATE(f.event_ts)
), chat_event_groups AS (
  SELECT
    provider_id,
    day,
    slice_experience_id AS experience_id,
    SUM(CASE WHEN name = 'ChatStarted' THEN 1 ELSE 0 END) AS m0,
    COUNT(DISTINCT CASE WHEN name = 'ChatStarted' THEN customer_key END) AS m1,
    SUM(CASE WHEN name = 'ParticipationCompleted' THEN 1 ELSE 0 END) AS m2,
    SUM(CASE WHEN name = 'EmailCaptured' THEN 1 ELSE 0 END) AS m3,
    SUM(CASE WHEN name = 'WebPushAsked' THEN 1 ELSE 0 END) AS m4,
    SUM(
      CASE
        WHEN name = 'OptInGiven' AND opt_in_topic = 'webpush' AND opt_in_level = 'single'
        THEN 1
        ELSE 0
      END
    ) AS m5,
    SUM(
      CASE
        WHEN name = 'OptInGiven' AND opt_in_topic = 'webpush' AND opt_in_level = 'double'
        THEN 1
        ELSE 0
      END
    ) AS m6,
    SUM(
      CASE
        WHEN name = 'OptInGiven' AND opt_in_topic = 'reminder' AND opt_in_level = 'single'
        THEN 1
        ELSE 0
      END
    ) AS m7,
    SUM(
      CASE
        WHEN name = 'OptInGiven' AND opt_in_topic = 'reminder' AND opt_in_level = 'double'
        THEN 1
        ELSE 0
      END
    ) AS m8,
    SUM(CASE WHEN share_via = 'facebook' THEN 1 ELSE 0 END) AS m9,
    SUM(CASE WHEN share_via = 'email' THEN 1 ELSE 0 END) AS m10,
    SUM(CASE WHEN share_via = 'native' THEN 1 ELSE 0 END) AS m11,
    SUM(CASE WHEN share_via = 'twitter' THEN 1 ELSE 0 END) AS m12,
    SUM(CASE WHEN share_via = 'whatsapp' THEN 1 ELSE 0 END) AS m13,
    SUM(CASE WHEN name = 'AdventCalendarOpened' THEN 1 ELSE 0 END) AS m14,
    COALESCE(
      SUM(
        CASE
          WHEN nps BETWEEN 0 AND 10
          THEN CASE WHEN nps BETWEEN 9 AND 10 THEN 1 WHEN nps BETWEEN 0 AND 6 THEN -1 ELSE 0 END
        END
      ),
      0
    ) AS m15,
    SUM(CASE WHEN nps BETWEEN 0 AND 10 THEN 1 ELSE 0 END) AS m16,
    SUM(CASE WHEN nps BETWEEN 0 AND 6 THEN 1 ELSE 0 END) AS m17,
    SUM(CASE WHEN nps BETWEEN 7 AND 8 THEN 1 ELSE 0 END) AS m18,
    SUM(CASE WHEN nps BETWEEN 9 AND 10 THEN 1 ELSE 0 END) AS m19,
    SUM(CASE WHEN nps = 0 THEN 1 ELSE 0 END) AS m20,
    SUM(CASE WHEN nps = 1 THEN 1 ELSE 0 END) AS m21,
    SUM(CASE WHEN nps = 2 THEN 1 ELSE 0 END) AS m22,
    SUM(CASE WHEN nps = 3 THEN 1 ELSE 0 END) AS m23,
    SUM(CASE WHEN nps = 4 THEN 1 ELSE 0 END) AS m24,
    SUM(CASE WHEN nps = 5 THEN 1 ELSE 0 END) AS m25,
    SUM(CASE WHEN nps = 6 THEN 1 ELSE 0 END) AS m26,
    SUM(CASE WHEN nps = 7 THEN 1 ELSE 0 END) AS m27,
    SUM(CASE WHEN nps = 8 THEN 1 ELSE 0 END) AS m28,
    SUM(CASE WHEN nps = 9 THEN 1 ELSE 0 END) AS m29,
    SUM(CASE WHEN nps = 10 THEN 1 ELSE 0 END) AS m30,
    SUM(CASE WHEN name = 'PinSent' THEN 1 ELSE 0 END) AS m31,
    SUM(CASE WHEN name = 'PinVerified' AND pin_success THEN 1 ELSE 0 END) AS m32,
    SUM(CASE WHEN name = 'PinVerified' AND NOT pin_success THEN 1 ELSE 0 END) AS m33
  FROM chat_event_rows
  GROUP BY
    GROUPING SETS (
      (provider_id, day),
      (provider_id, day, slice_experience_id)
    )
), chat_session_rows AS (
  SELECT
    f.*,
    d.day,
    COALESCE(f.experience_id, '(none)') AS slice_experience_id
  FROM `my-project`.`analytics`.`fact_chat_sessions` AS f
  JOIN days AS d
    ON d.provider_id = f.provider_id AND d.day = DATE(f.session_start_ts)
), chat_session_groups AS (
  SELECT
    provider_id,
    day,
    slice_experience_id AS experience_id,
    COUNT(*) AS m0,
    SUM(CASE WHEN interacted THEN 1 ELSE 0 END) AS m1,
    SUM(CASE WHEN NOT interacted THEN 1 ELSE 0 END) AS m2,
    COALESCE(SUM(span_s), 0) / 60 AS m3,
    SUM(CASE WHEN platform = 'mobile' THEN 1 ELSE 0 END) AS m4,
    SUM(CASE WHEN platform = 'desktop' THEN 1 ELSE 0 END) AS m5
  FROM chat_session_rows
  GROUP BY
    GROUPING SETS (
      (provider_id, day),
      (provider_id, day, slice_experience_id)
    )
), erasure_rows AS (
  SELECT
    f.*,
    d.day,
    COALESCE(f.experience_id, '(none)') AS slice_experience_id
  FROM (
    SELECT
      provider_id,
      requested_at AS deleted_at,
      CAST(NULL AS STRING) AS experience_id,
      'erasure' AS source
    FROM `my-project`.`analytics`.`customer_erasures`
    UNION ALL
    SELECT
      provider_id,
      event_ts AS deleted_at,
      experience_id,
      'event' AS source
    FROM `my-project`.`analytics`.`fact_chat_events`
    WHERE
      name = 'CustomerDeleted'
  ) AS f
  JOIN days AS d
    ON d.provider_id = f.provider_id AND d.day = DATE(f.deleted_at)
), erasure_groups AS (
  SELECT
    provider_id,
    day,
    slice_experience_id AS experience_id,
    COUNT(*) AS m0
  FROM erasure_rows
  GROUP BY
    GROUPING SETS (
      (provider_id, day),
      (provider_id, day, slice_experience_id)
    )
)
SELECT
  g.day,
  g.provider_id,
  k.kpi,
  g.channel,
  g.queue_id,
  g.agent_id,
  CAST(NULL AS STRING) AS experience_id,
  k.value,
  k.numerator,
  k.denominator,
  k.unit,
  CURRENT_TIMESTAMP() AS computed_at
FROM conversation_groups AS g
CROSS JOIN UNNEST([
  STRUCT(
    'incoming_conversations' AS kpi,
    CAST(g.m0 AS FLOAT64) AS value,
    CAST(g.m0 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'outgoing_conversations' AS kpi,
    CAST(g.m1 AS FLOAT64) AS value,
    CAST(g.m1 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'conversations_handled' AS kpi,
    CAST(g.m2 AS FLOAT64) AS value,
    CAST(g.m2 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'conversations_abandoned' AS kpi,
    CAST(g.m3 AS FLOAT64) AS value,
    CAST(g.m3 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'abandon_rate' AS kpi,
    CAST(CASE WHEN g.m0 > 0 THEN g.m4 / g.m0 END AS FLOAT64) AS value,
    CAST(g.m4 AS FLOAT64) AS numerator,
    CAST(g.m0 AS FLOAT64) AS denominator,
    'ratio' AS unit
  ),
  STRUCT(
    'avg_speed_to_answer_s' AS kpi,
    CAST(CASE WHEN g.m6 > 0 THEN g.m5 / g.m6 END AS FLOAT64) AS value,
    CAST(g.m5 AS FLOAT64) AS numerator,
    CAST(g.m6 AS FLOAT64) AS denominator,
    'seconds' AS unit
  ),
  STRUCT(
    'avg_time_to_abandon_s' AS kpi,
    CAST(CASE WHEN g.m8 > 0 THEN g.m7 / g.m8 END AS FLOAT64) AS value,
    CAST(g.m7 AS FLOAT64) AS numerator,
    CAST(g.m8 AS FLOAT64) AS denominator,
    'seconds' AS unit
  ),
  STRUCT(
    'service_level_10s_rate' AS kpi,
    CAST(CASE WHEN g.m6 > 0 THEN g.m9 / g.m6 END AS FLOAT64) AS value,
    CAST(g.m9 AS FLOAT64) AS numerator,
    CAST(g.m6 AS FLOAT64) AS denominator,
    'ratio' AS unit
  ),
  STRUCT(
    'service_level_20s_rate' AS kpi,
    CAST(CASE WHEN g.m6 > 0 THEN g.m10 / g.m6 END AS FLOAT64) AS value,
    CAST(g.m10 AS FLOAT64) AS numerator,
    CAST(g.m6 AS FLOAT64) AS denominator,
    'ratio' AS unit
  ),
  STRUCT(
    'service_level_30s_rate' AS kpi,
    CAST(CASE WHEN g.m6 > 0 THEN g.m11 / g.m6 END AS FLOAT64) AS value,
    CAST(g.m11 AS FLOAT64) AS numerator,
    CAST(g.m6 AS FLOAT64) AS denominator,
    'ratio' AS unit
  ),
  STRUCT(
    'service_level_60s_rate' AS kpi,
    CAST(CASE WHEN g.m6 > 0 THEN g.m12 / g.m6 END AS FLOAT64) AS value,
    CAST(g.m12 AS FLOAT64) AS numerator,
    CAST(g.m6 AS FLOAT64) AS denominator,
    'ratio' AS unit
  ),
  STRUCT(
    'service_level_120s_rate' AS kpi,
    CAST(CASE WHEN g.m6 > 0 THEN g.m13 / g.m6 END AS FLOAT64) AS value,
    CAST(g.m13 AS FLOAT64) AS numerator,
    CAST(g.m6 AS FLOAT64) AS denominator,
    'ratio' AS unit
  ),
  STRUCT(
    'avg_handle_time_s' AS kpi,
    CAST(CASE WHEN g.m15 > 0 THEN g.m14 / g.m15 END AS FLOAT64) AS value,
    CAST(g.m14 AS FLOAT64) AS numerator,
    CAST(g.m15 AS FLOAT64) AS denominator,
    'seconds' AS unit
  ),
  STRUCT(
    'avg_hold_time_s' AS kpi,
    CAST(CASE WHEN g.m17 > 0 THEN g.m16 / g.m17 END AS FLOAT64) AS value,
    CAST(g.m16 AS FLOAT64) AS numerator,
    CAST(g.m17 AS FLOAT64) AS denominator,
    'seconds' AS unit
  ),
  STRUCT(
    'avg_wrap_up_time_s' AS kpi,
    CAST(CASE WHEN g.m19 > 0 THEN g.m18 / g.m19 END AS FLOAT64) AS value,
    CAST(g.m18 AS FLOAT64) AS numerator,
    CAST(g.m19 AS FLOAT64) AS denominator,
    'seconds' AS unit
  ),
  STRUCT(
    'avg_conversation_time_s' AS kpi,
    CAST(CASE WHEN g.m21 > 0 THEN g.m20 / g.m21 END AS FLOAT64) AS value,
    CAST(g.m20 AS FLOAT64) AS numerator,
    CAST(g.m21 AS FLOAT64) AS denominator,
    'seconds' AS unit
  ),
  STRUCT(
    'transfer_rate' AS kpi,
    CAST(CASE WHEN g.m2 > 0 THEN g.m22 / g.m2 END AS FLOAT64) AS value,
    CAST(g.m22 AS FLOAT64) AS numerator,
    CAST(g.m2 AS FLOAT64) AS denominator,
    'ratio' AS unit
  ),
  STRUCT(
    'avg_first_response_time_s' AS kpi,
    CAST(CASE WHEN g.m24 > 0 THEN g.m23 / g.m24 END AS FLOAT64) AS value,
    CAST(g.m23 AS FLOAT64) AS numerator,
    CAST(g.m24 AS FLOAT64) AS denominator,
    'seconds' AS unit
  ),
  STRUCT(
    'csat_rate' AS kpi,
    CAST(CASE WHEN g.m26 > 0 THEN g.m25 / g.m26 END AS FLOAT64) AS value,
    CAST(g.m25 AS FLOAT64) AS numerator,
    CAST(g.m26 AS FLOAT64) AS denominator,
    'ratio' AS unit
  ),
  STRUCT(
    'nps' AS kpi,
    CAST(CASE WHEN g.m28 > 0 THEN 100 * g.m27 / g.m28 END AS FLOAT64) AS value,
    CAST(g.m27 AS FLOAT64) AS numerator,
    CAST(g.m28 AS FLOAT64) AS denominator,
    'score' AS unit
  ),
  STRUCT(
    'first_contact_resolution_rate' AS kpi,
    CAST(CASE WHEN g.m30 > 0 THEN g.m29 / g.m30 END AS FLOAT64) AS value,
    CAST(g.m29 AS FLOAT64) AS numerator,
    CAST(g.m30 AS FLOAT64) AS denominator,
    'ratio' AS unit
  )
]) AS k
UNION ALL
SELECT
  g.day,
  g.provider_id,
  k.kpi,
  g.channel,
  g.queue_id,
  g.agent_id,
  CAST(NULL AS STRING) AS experience_id,
  k.value,
  k.numerator,
  k.denominator,
  k.unit,
  CURRENT_TIMESTAMP() AS computed_at
FROM session_groups AS g
CROSS JOIN UNNEST([
  STRUCT(
    'incoming_sessions' AS kpi,
    CAST(g.m0 AS FLOAT64) AS value,
    CAST(g.m0 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'sessions_engaged' AS kpi,
    CAST(g.m1 AS FLOAT64) AS value,
    CAST(g.m1 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'sessions_rejected' AS kpi,
    CAST(g.m2 AS FLOAT64) AS value,
    CAST(g.m2 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'session_rejection_rate' AS kpi,
    CAST(CASE WHEN g.m0 > 0 THEN g.m2 / g.m0 END AS FLOAT64) AS value,
    CAST(g.m2 AS FLOAT64) AS numerator,
    CAST(g.m0 AS FLOAT64) AS denominator,
    'ratio' AS unit
  ),
  STRUCT(
    'sessions_timed_out' AS kpi,
    CAST(g.m3 AS FLOAT64) AS value,
    CAST(g.m3 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'session_timeout_rate' AS kpi,
    CAST(CASE WHEN g.m0 > 0 THEN g.m3 / g.m0 END AS FLOAT64) AS value,
    CAST(g.m3 AS FLOAT64) AS numerator,
    CAST(g.m0 AS FLOAT64) AS denominator,
    'ratio' AS unit
  ),
  STRUCT(
    'sessions_transferred' AS kpi,
    CAST(g.m4 AS FLOAT64) AS value,
    CAST(g.m4 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'session_transfer_rate' AS kpi,
    CAST(CASE WHEN g.m0 > 0 THEN g.m4 / g.m0 END AS FLOAT64) AS value,
    CAST(g.m4 AS FLOAT64) AS numerator,
    CAST(g.m0 AS FLOAT64) AS denominator,
    'ratio' AS unit
  ),
  STRUCT(
    'avg_session_time_to_accept_s' AS kpi,
    CAST(CASE WHEN g.m6 > 0 THEN g.m5 / g.m6 END AS FLOAT64) AS value,
    CAST(g.m5 AS FLOAT64) AS numerator,
    CAST(g.m6 AS FLOAT64) AS denominator,
    'seconds' AS unit
  ),
  STRUCT(
    'avg_session_time_to_reject_s' AS kpi,
    CAST(CASE WHEN g.m8 > 0 THEN g.m7 / g.m8 END AS FLOAT64) AS value,
    CAST(g.m7 AS FLOAT64) AS numerator,
    CAST(g.m8 AS FLOAT64) AS denominator,
    'seconds' AS unit
  ),
  STRUCT(
    'avg_session_handle_time_s' AS kpi,
    CAST(CASE WHEN g.m10 > 0 THEN g.m9 / g.m10 END AS FLOAT64) AS value,
    CAST(g.m9 AS FLOAT64) AS numerator,
    CAST(g.m10 AS FLOAT64) AS denominator,
    'seconds' AS unit
  ),
  STRUCT(
    'avg_session_wait_time_s' AS kpi,
    CAST(CASE WHEN g.m12 > 0 THEN g.m11 / g.m12 END AS FLOAT64) AS value,
    CAST(g.m11 AS FLOAT64) AS numerator,
    CAST(g.m12 AS FLOAT64) AS denominator,
    'seconds' AS unit
  ),
  STRUCT(
    'consults_requested' AS kpi,
    CAST(g.m13 AS FLOAT64) AS value,
    CAST(g.m13 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'consults_accepted' AS kpi,
    CAST(g.m14 AS FLOAT64) AS value,
    CAST(g.m14 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'consult_acceptance_rate' AS kpi,
    CAST(CASE WHEN g.m13 > 0 THEN g.m14 / g.m13 END AS FLOAT64) AS value,
    CAST(g.m14 AS FLOAT64) AS numerator,
    CAST(g.m13 AS FLOAT64) AS denominator,
    'ratio' AS unit
  )
]) AS k
UNION ALL
SELECT
  g.day,
  g.provider_id,
  k.kpi,
  CAST(NULL AS STRING) AS channel,
  CAST(NULL AS STRING) AS queue_id,
  CAST(NULL AS STRING) AS agent_id,
  g.experience_id,
  k.value,
  k.numerator,
  k.denominator,
  k.unit,
  CURRENT_TIMESTAMP() AS computed_at
FROM chat_event_groups AS g
CROSS JOIN UNNEST([
  STRUCT(
    'chat_starts' AS kpi,
    CAST(g.m0 AS FLOAT64) AS value,
    CAST(g.m0 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'participants' AS kpi,
    CAST(g.m1 AS FLOAT64) AS value,
    CAST(g.m1 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'participations' AS kpi,
    CAST(g.m2 AS FLOAT64) AS value,
    CAST(g.m2 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'new_customers' AS kpi,
    CAST(g.m3 AS FLOAT64) AS value,
    CAST(g.m3 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'webpush_asked' AS kpi,
    CAST(g.m4 AS FLOAT64) AS value,
    CAST(g.m4 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'webpush_optins_single' AS kpi,
    CAST(g.m5 AS FLOAT64) AS value,
    CAST(g.m5 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'webpush_optins_double' AS kpi,
    CAST(g.m6 AS FLOAT64) AS value,
    CAST(g.m6 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'reminder_optins_single' AS kpi,
    CAST(g.m7 AS FLOAT64) AS value,
    CAST(g.m7 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'reminder_optins_double' AS kpi,
    CAST(g.m8 AS FLOAT64) AS value,
    CAST(g.m8 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'shares_facebook' AS kpi,
    CAST(g.m9 AS FLOAT64) AS value,
    CAST(g.m9 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'shares_email' AS kpi,
    CAST(g.m10 AS FLOAT64) AS value,
    CAST(g.m10 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'shares_native' AS kpi,
    CAST(g.m11 AS FLOAT64) AS value,
    CAST(g.m11 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'shares_twitter' AS kpi,
    CAST(g.m12 AS FLOAT64) AS value,
    CAST(g.m12 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'shares_whatsapp' AS kpi,
    CAST(g.m13 AS FLOAT64) AS value,
    CAST(g.m13 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'advent_calendar_opened' AS kpi,
    CAST(g.m14 AS FLOAT64) AS value,
    CAST(g.m14 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'chat_nps' AS kpi,
    CAST(CASE WHEN g.m16 > 0 THEN 100 * g.m15 / g.m16 END AS FLOAT64) AS value,
    CAST(g.m15 AS FLOAT64) AS numerator,
    CAST(g.m16 AS FLOAT64) AS denominator,
    'score' AS unit
  ),
  STRUCT(
    'chat_nps_detractors' AS kpi,
    CAST(g.m17 AS FLOAT64) AS value,
    CAST(g.m17 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'chat_nps_passives' AS kpi,
    CAST(g.m18 AS FLOAT64) AS value,
    CAST(g.m18 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'chat_nps_promoters' AS kpi,
    CAST(g.m19 AS FLOAT64) AS value,
    CAST(g.m19 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'chat_nps_score_0' AS kpi,
    CAST(g.m20 AS FLOAT64) AS value,
    CAST(g.m20 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'chat_nps_score_1' AS kpi,
    CAST(g.m21 AS FLOAT64) AS value,
    CAST(g.m21 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'chat_nps_score_2' AS kpi,
    CAST(g.m22 AS FLOAT64) AS value,
    CAST(g.m22 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'chat_nps_score_3' AS kpi,
    CAST(g.m23 AS FLOAT64) AS value,
    CAST(g.m23 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'chat_nps_score_4' AS kpi,
    CAST(g.m24 AS FLOAT64) AS value,
    CAST(g.m24 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'chat_nps_score_5' AS kpi,
    CAST(g.m25 AS FLOAT64) AS value,
    CAST(g.m25 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'chat_nps_score_6' AS kpi,
    CAST(g.m26 AS FLOAT64) AS value,
    CAST(g.m26 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'chat_nps_score_7' AS kpi,
    CAST(g.m27 AS FLOAT64) AS value,
    CAST(g.m27 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'chat_nps_score_8' AS kpi,
    CAST(g.m28 AS FLOAT64) AS value,
    CAST(g.m28 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'chat_nps_score_9' AS kpi,
    CAST(g.m29 AS FLOAT64) AS value,
    CAST(g.m29 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'chat_nps_score_10' AS kpi,
    CAST(g.m30 AS FLOAT64) AS value,
    CAST(g.m30 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'pins_sent' AS kpi,
    CAST(g.m31 AS FLOAT64) AS value,
    CAST(g.m31 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'pins_succeeded' AS kpi,
    CAST(g.m32 AS FLOAT64) AS value,
    CAST(g.m32 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'pins_failed' AS kpi,
    CAST(g.m33 AS FLOAT64) AS value,
    CAST(g.m33 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  )
]) AS k
UNION ALL
SELECT
  g.day,
  g.provider_id,
  k.kpi,
  CAST(NULL AS STRING) AS channel,
  CAST(NULL AS STRING) AS queue_id,
  CAST(NULL AS STRING) AS agent_id,
  g.experience_id,
  k.value,
  k.numerator,
  k.denominator,
  k.unit,
  CURRENT_TIMESTAMP() AS computed_at
FROM chat_session_groups AS g
CROSS JOIN UNNEST([
  STRUCT(
    'chat_sessions' AS kpi,
    CAST(g.m0 AS FLOAT64) AS value,
    CAST(g.m0 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'chat_sessions_with_conversation' AS kpi,
    CAST(g.m1 AS FLOAT64) AS value,
    CAST(g.m1 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'chat_bounces' AS kpi,
    CAST(g.m2 AS FLOAT64) AS value,
    CAST(g.m2 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'chat_bounce_rate' AS kpi,
    CAST(CASE WHEN g.m0 > 0 THEN g.m2 / g.m0 END AS FLOAT64) AS value,
    CAST(g.m2 AS FLOAT64) AS numerator,
    CAST(g.m0 AS FLOAT64) AS denominator,
    'ratio' AS unit
  ),
  STRUCT(
    'screen_time_min' AS kpi,
    CAST(g.m3 AS FLOAT64) AS value,
    CAST(g.m3 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'minutes' AS unit
  ),
  STRUCT(
    'chat_sessions_mobile' AS kpi,
    CAST(g.m4 AS FLOAT64) AS value,
    CAST(g.m4 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  ),
  STRUCT(
    'chat_sessions_desktop' AS kpi,
    CAST(g.m5 AS FLOAT64) AS value,
    CAST(g.m5 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  )
]) AS k
UNION ALL
SELECT
  g.day,
  g.provider_id,
  k.kpi,
  CAST(NULL AS STRING) AS channel,
  CAST(NULL AS STRING) AS queue_id,
  CAST(NULL AS STRING) AS agent_id,
  g.experience_id,
  k.value,
  k.numerator,
  k.denominator,
  k.unit,
  CURRENT_TIMESTAMP() AS computed_at
FROM erasure_groups AS g
CROSS JOIN UNNEST([
  STRUCT(
    'customers_deleted' AS kpi,
    CAST(g.m0 AS FLOAT64) AS value,
    CAST(g.m0 AS FLOAT64) AS numerator,
    CAST(NULL AS FLOAT64) AS denominator,
    'count' AS unit
  )
]) AS k
