CREATE SCHEMA IF NOT EXISTS `demo-project.analytics` OPTIONS(location="EU");

CREATE TABLE IF NOT EXISTS `demo-project.analytics.raw_conversations` (
  provider_id STRING NOT NULL OPTIONS(description="Provider that owns the conversation"),
  conversation_id STRING NOT NULL OPTIONS(description="Provider's conversation id"),
  channel STRING NOT NULL OPTIONS(description="Channel, e.g. voice, chat, sms"),
  direction STRING NOT NULL OPTIONS(description="inbound or outbound"),
  conversation_ts TIMESTAMP NOT NULL OPTIONS(description="When the conversation started"),
  closed_ts TIMESTAMP OPTIONS(description="closedTimestamp when the provider sent one"),
  customer_id STRING OPTIONS(description="Pseudonymous customer id"),
  account_id STRING OPTIONS(description="CRM account"),
  contact_id STRING OPTIONS(description="CRM contact"),
  experience_id STRING OPTIONS(description="Chatbot experience"),
  platform STRING OPTIONS(description="mobile or desktop (chatbots)"),
  updated_at TIMESTAMP NOT NULL OPTIONS(description="When the store last changed this conversation")
)
CLUSTER BY provider_id
OPTIONS(description="One row per conversation as last registered by the provider (initLogAnalytics).");

CREATE TABLE IF NOT EXISTS `demo-project.analytics.raw_sessions` (
  provider_id STRING NOT NULL OPTIONS(description="Provider"),
  conversation_id STRING NOT NULL OPTIONS(description="Conversation"),
  session_id STRING NOT NULL OPTIONS(description="Session id (providerSessionId in events)"),
  created_ts TIMESTAMP NOT NULL OPTIONS(description="sessionCreatedTimestamp"),
  queue_assigned_ts TIMESTAMP OPTIONS(description="sessionQueueAssignedTimestamp"),
  agent_assigned_ts TIMESTAMP OPTIONS(description="sessionAgentAssignedTimestamp"),
  queue_id STRING OPTIONS(description="Queue"),
  queue_name STRING OPTIONS(description="Queue name"),
  session_channel STRING OPTIONS(description="Channel of this session when it differs")
)
CLUSTER BY provider_id
OPTIONS(description="One row per session of a conversation.");

CREATE TABLE IF NOT EXISTS `demo-project.analytics.raw_participants` (
  provider_id STRING NOT NULL OPTIONS(description="Provider"),
  conversation_id STRING NOT NULL OPTIONS(description="Conversation"),
  session_id STRING NOT NULL OPTIONS(description="Session"),
  participant_id STRING NOT NULL OPTIONS(description="Participant (agent id for agents)"),
  participant_type STRING NOT NULL OPTIONS(description="agent, bot or customer"),
  participant_mode STRING NOT NULL OPTIONS(description="primary, consult or monitor"),
  added_ts TIMESTAMP NOT NULL OPTIONS(description="participantAddedTimestamp")
)
CLUSTER BY provider_id
OPTIONS(description="One row per participant of a session.");

CREATE TABLE IF NOT EXISTS `demo-project.analytics.raw_events` (
  provider_id STRING NOT NULL OPTIONS(description="Provider"),
  event_id STRING NOT NULL OPTIONS(description="Event id (sent, or derived from the content)"),
  conversation_id STRING NOT NULL OPTIONS(description="Conversation"),
  session_id STRING NOT NULL OPTIONS(description="providerSessionId"),
  participant_id STRING OPTIONS(description="Participant that logged the event"),
  name STRING NOT NULL OPTIONS(description="kpiEventName"),
  reason STRING OPTIONS(description="kpiEventReason"),
  event_ts TIMESTAMP NOT NULL OPTIONS(description="eventTimestamp"),
  response_action STRING OPTIONS(description="notificationResponseAction (Accept/Reject)"),
  custom_data JSON OPTIONS(description="Typed customData"),
  schema STRING OPTIONS(description="Iglu-style schema URI with SchemaVer"),
  ingested_at TIMESTAMP NOT NULL OPTIONS(description="When the store accepted it")
)
PARTITION BY DATE(event_ts)
CLUSTER BY provider_id, conversation_id
OPTIONS(description="One row per accepted KPI event (exactly once: keyed by provider and event id).", partition_expiration_days=400, require_partition_filter=FALSE);

CREATE TABLE IF NOT EXISTS `demo-project.analytics.raw_activities` (
  provider_id STRING NOT NULL OPTIONS(description="Provider"),
  activity_id STRING NOT NULL OPTIONS(description="Activity id"),
  activity_type STRING NOT NULL OPTIONS(description="email, meeting or phonecall"),
  regarding_type STRING NOT NULL OPTIONS(description="account, contact, lead or opportunity"),
  regarding_id STRING NOT NULL OPTIONS(description="The record the activity is about"),
  account_id STRING OPTIONS(description="Account"),
  status STRING NOT NULL OPTIONS(description="completed, scheduled or canceled"),
  start_ts TIMESTAMP NOT NULL OPTIONS(description="Start (sent time for e-mails)"),
  end_ts TIMESTAMP OPTIONS(description="End (meetings and calls)"),
  in_reply_to STRING OPTIONS(description="Activity this one answers"),
  initiated_by STRING NOT NULL OPTIONS(description="us or customer"),
  parties JSON NOT NULL OPTIONS(description="Parties with side and role"),
  ingested_at TIMESTAMP NOT NULL OPTIONS(description="When the store last changed it")
)
PARTITION BY DATE(start_ts)
CLUSTER BY provider_id, regarding_id
OPTIONS(description="One row per relationship activity (e-mail, meeting, phone call), latest version.", partition_expiration_days=400, require_partition_filter=FALSE);

CREATE TABLE IF NOT EXISTS `demo-project.analytics.raw_failed_events` (
  provider_id STRING NOT NULL OPTIONS(description="Provider"),
  failed_id STRING NOT NULL OPTIONS(description="Failed-event id (content hash)"),
  received_at TIMESTAMP NOT NULL OPTIONS(description="When it was rejected"),
  code STRING NOT NULL OPTIONS(description="Rejection code, e.g. invalid_event"),
  message STRING NOT NULL OPTIONS(description="Rejection message"),
  kind STRING NOT NULL OPTIONS(description="event or activity"),
  status STRING NOT NULL OPTIONS(description="open, replayed or erased (a customer erasure redacted it)"),
  replayed_at TIMESTAMP OPTIONS(description="When an operator replayed it")
)
PARTITION BY DATE(received_at)
CLUSTER BY provider_id, code
OPTIONS(description="Events and activities we rejected, with the reason; replayed ones say so.", partition_expiration_days=400, require_partition_filter=FALSE);

CREATE TABLE IF NOT EXISTS `demo-project.analytics.customer_erasures` (
  provider_id STRING NOT NULL OPTIONS(description="Provider whose customer was erased"),
  erasure_id STRING NOT NULL OPTIONS(description="Receipt id returned to the provider (DELETE /v1/customers/{id})"),
  requested_at TIMESTAMP NOT NULL OPTIONS(description="When the provider asked for the erasure"),
  applied_at TIMESTAMP NOT NULL OPTIONS(description="When the aggregation applied it to the warehouse")
)
PARTITION BY DATE(requested_at)
CLUSTER BY provider_id
OPTIONS(description="One row per customer erased on the provider's request (docs/privacy.md): the receipt only, no identifier and no pseudonym. customers_deleted counts these rows by the day they were requested.", partition_expiration_days=400, require_partition_filter=FALSE);

CREATE TABLE IF NOT EXISTS `demo-project.analytics.kpi_daily` (
  day DATE NOT NULL OPTIONS(description="UTC day the KPI is attributed to"),
  provider_id STRING NOT NULL OPTIONS(description="Provider"),
  kpi STRING NOT NULL OPTIONS(description="KPI name from the catalog"),
  channel STRING OPTIONS(description="Channel slice (NULL = all channels)"),
  queue_id STRING OPTIONS(description="Queue slice (NULL = all queues)"),
  agent_id STRING OPTIONS(description="Agent slice (NULL = all agents)"),
  experience_id STRING OPTIONS(description="Chatbot experience slice (NULL = all)"),
  value FLOAT64 OPTIONS(description="The KPI value (NULL when the denominator is 0)"),
  numerator FLOAT64 OPTIONS(description="Numerator (or the sum for averages)"),
  denominator FLOAT64 OPTIONS(description="Denominator (or the count for averages)"),
  unit STRING NOT NULL OPTIONS(description="count, seconds, ratio or score"),
  computed_at TIMESTAMP NOT NULL OPTIONS(description="When the aggregation computed this row")
)
PARTITION BY day
CLUSTER BY provider_id, kpi
OPTIONS(description="One row per KPI, provider, day and slice. A NULL dimension means 'all'; the row with every dimension NULL is the provider's total for the day. A missing value of a dimension is '(none)'.", partition_expiration_days=400, require_partition_filter=FALSE);

CREATE TABLE IF NOT EXISTS `demo-project.analytics.fact_sessions` (
  provider_id STRING NOT NULL OPTIONS(description="Provider"),
  conversation_id STRING NOT NULL OPTIONS(description="Conversation"),
  session_id STRING NOT NULL OPTIONS(description="Session"),
  channel STRING NOT NULL OPTIONS(description="Session channel, else the conversation's channel"),
  queue_id STRING OPTIONS(description="Queue of the session"),
  agent_id STRING OPTIONS(description="Primary agent participant (first added); NULL for bot-only sessions"),
  is_agent_session BOOL NOT NULL OPTIONS(description="The session has a primary agent participant"),
  created_ts TIMESTAMP NOT NULL OPTIONS(description="sessionCreatedTimestamp"),
  queue_assigned_ts TIMESTAMP OPTIONS(description="sessionQueueAssignedTimestamp"),
  offered_ts TIMESTAMP OPTIONS(description="First NotificationReceived, else sessionAgentAssignedTimestamp"),
  responded_ts TIMESTAMP OPTIONS(description="First offer outcome (accept, reject or time-out)"),
  incoming BOOL NOT NULL OPTIONS(description="Agent session that was offered to its agent"),
  accepted BOOL NOT NULL OPTIONS(description="The first offer outcome is NotificationResponse Accept"),
  rejected BOOL NOT NULL OPTIONS(description="The first offer outcome is NotificationResponse Reject"),
  timed_out BOOL NOT NULL OPTIONS(description="The first offer outcome is NotificationTimedOut"),
  transferred BOOL NOT NULL OPTIONS(description="The session closed with reason Transferred"),
  close_ts TIMESTAMP OPTIONS(description="First SessionClosed, else the reject or time-out; NULL while open"),
  close_reason STRING OPTIONS(description="kpiEventReason of SessionClosed, else Rejected or TimedOut"),
  time_to_accept_s FLOAT64 OPTIONS(description="Offered to accepted, seconds"),
  time_to_reject_s FLOAT64 OPTIONS(description="Offered to rejected, seconds"),
  wait_s FLOAT64 OPTIONS(description="Queue assigned to accepted, seconds"),
  handle_s FLOAT64 OPTIONS(description="Focused seconds, else started to closed (wrap-up included); accepted only"),
  handle_from_focus BOOL NOT NULL OPTIONS(description="handle_s comes from SessionInFocus/SessionOutOfFocus events"),
  wrap_up_s FLOAT64 OPTIONS(description="WrapUpStarted to close, seconds; accepted only"),
  consults_requested INT64 NOT NULL OPTIONS(description="Consult agents added to the session"),
  consults_accepted INT64 NOT NULL OPTIONS(description="Consult agents whose first offer outcome is Accept")
)
PARTITION BY DATE(close_ts)
CLUSTER BY provider_id
OPTIONS(description="One row per session, with the offer outcome, close and durations the session KPIs are built from.", partition_expiration_days=400, require_partition_filter=FALSE);

CREATE TABLE IF NOT EXISTS `demo-project.analytics.fact_conversations` (
  provider_id STRING NOT NULL OPTIONS(description="Provider"),
  conversation_id STRING NOT NULL OPTIONS(description="Conversation"),
  channel STRING NOT NULL OPTIONS(description="Channel of the conversation"),
  direction STRING NOT NULL OPTIONS(description="inbound or outbound"),
  customer_id STRING OPTIONS(description="Pseudonymous customer id (first-contact resolution)"),
  queue_id STRING OPTIONS(description="Queue of the primary session (first accepted, else first offered)"),
  agent_id STRING OPTIONS(description="Agent of the primary session"),
  conversation_ts TIMESTAMP NOT NULL OPTIONS(description="Conversation start"),
  closed_ts TIMESTAMP OPTIONS(description="closedTimestamp, else first ConversationClosed; NULL while open"),
  close_reason STRING OPTIONS(description="kpiEventReason of the first ConversationClosed"),
  waiting_since_ts TIMESTAMP NOT NULL OPTIONS(description="First queue entry, else the conversation start"),
  answered_ts TIMESTAMP OPTIONS(description="First agent accept"),
  incoming BOOL NOT NULL OPTIONS(description="Inbound and an agent was offered"),
  handled BOOL NOT NULL OPTIONS(description="An agent accepted"),
  abandoned BOOL NOT NULL OPTIONS(description="Inbound, closed, no agent accepted"),
  transferred BOOL NOT NULL OPTIONS(description="An agent session closed with reason Transferred"),
  resolved BOOL NOT NULL OPTIONS(description="Closed with ConversationClosed reason Resolved"),
  speed_to_answer_s FLOAT64 OPTIONS(description="waiting_since_ts to answered_ts; handled inbound only"),
  time_to_abandon_s FLOAT64 OPTIONS(description="waiting_since_ts to closed_ts; abandoned only"),
  handle_s FLOAT64 OPTIONS(description="Sum of the accepted agent sessions' handle_s; handled only"),
  hold_s FLOAT64 OPTIONS(description="CallHold to CallUnhold seconds, summed; handled only"),
  wrap_up_s FLOAT64 OPTIONS(description="Sum of the accepted agent sessions' wrap_up_s; handled only"),
  conversation_time_s FLOAT64 OPTIONS(description="Start to close, seconds"),
  first_response_s FLOAT64 OPTIONS(description="First customer message to the first agent message after it"),
  csat_answers INT64 NOT NULL OPTIONS(description="csat answers (1-5)"),
  csat_top2 INT64 NOT NULL OPTIONS(description="csat answers of 4 or 5"),
  nps_answers INT64 NOT NULL OPTIONS(description="nps answers (0-10)"),
  nps_promoters INT64 NOT NULL OPTIONS(description="nps answers of 9 or 10"),
  nps_detractors INT64 NOT NULL OPTIONS(description="nps answers of 0 to 6")
)
PARTITION BY DATE(closed_ts)
CLUSTER BY provider_id
OPTIONS(description="One row per conversation, with the answer, abandonment, durations, surveys and resolution the conversation KPIs are built from.", partition_expiration_days=400, require_partition_filter=FALSE);

CREATE TABLE IF NOT EXISTS `demo-project.analytics.orphan_events` (
  provider_id STRING NOT NULL OPTIONS(description="Provider"),
  conversation_id STRING NOT NULL OPTIONS(description="The conversation id the events name"),
  events INT64 NOT NULL OPTIONS(description="Events logged under it"),
  first_event_ts TIMESTAMP NOT NULL OPTIONS(description="eventTimestamp of the earliest"),
  last_event_ts TIMESTAMP NOT NULL OPTIONS(description="eventTimestamp of the latest"),
  first_ingested_at TIMESTAMP NOT NULL OPTIONS(description="When the first of them was accepted")
)
PARTITION BY DATE(last_event_ts)
CLUSTER BY provider_id
OPTIONS(description="Events waiting for their conversation: one row per conversation id that events were logged under but that was never registered. They count in no KPI until the conversation arrives (the next run then counts them and removes the row); they wait as long as their days are kept.", partition_expiration_days=400, require_partition_filter=FALSE);

CREATE VIEW IF NOT EXISTS `demo-project.analytics.kpi_provider_daily`
OPTIONS(description="Provider totals per day: the rows of kpi_daily whose dimensions are all NULL.")
AS SELECT day, provider_id, kpi, value, numerator, denominator, unit FROM `demo-project`.`analytics`.`kpi_daily` WHERE channel IS NULL AND queue_id IS NULL AND agent_id IS NULL AND experience_id IS NULL;
