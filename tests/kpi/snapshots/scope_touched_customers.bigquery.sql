SELECT DISTINCT
  provider_id,
  customer_key
FROM (
  SELECT
    c.provider_id,
    c.conversation_id,
    c.experience_id,
    c.platform,
    CASE
      WHEN NOT c.customer_id IS NULL
      THEN CONCAT('customer:', c.customer_id)
      WHEN NOT c.contact_id IS NULL
      THEN CONCAT('contact:', c.contact_id)
      ELSE CONCAT('conversation:', c.conversation_id)
    END AS customer_key
  FROM `my-project`.`analytics`.`raw_conversations` AS c
  JOIN touched_conversations AS t
    ON t.provider_id = c.provider_id AND t.conversation_id = c.conversation_id
  WHERE
    NOT c.experience_id IS NULL
    OR EXISTS(
      SELECT
        1
      FROM `my-project`.`analytics`.`raw_events` AS x
      WHERE
        x.provider_id = c.provider_id
        AND x.conversation_id = c.conversation_id
        AND x.name IN (
          'ChatStarted',
          'UserInteracted',
          'ModuleVisited',
          'EmailCaptured',
          'WebPushAsked',
          'OptInGiven',
          'Shared',
          'ParticipationCompleted',
          'AdventCalendarOpened',
          'PinSent',
          'PinVerified',
          'DataEntered',
          'CustomerDeleted'
        )
    )
  UNION ALL
  SELECT DISTINCT
    f.provider_id,
    f.conversation_id,
    f.experience_id,
    f.platform,
    f.customer_key
  FROM `my-project`.`analytics`.`fact_chat_events` AS f
  JOIN touched_conversations AS t
    ON t.provider_id = f.provider_id AND t.conversation_id = f.conversation_id
) AS touched
