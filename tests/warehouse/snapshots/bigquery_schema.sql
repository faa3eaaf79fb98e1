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
  updated_at TIMESTAMP NOT NULL OPTIONS(description="When the store last changed this conversation"),
  backend_conversation_id STRING OPTIONS(description="CIF backendConversationId"),
  channel_context STRING OPTIONS(description="CIF channelContext"),
  external_correlation_id STRING OPTIONS(description="CIF externalCorrelationId of the conversation"),
  cif_provider_id STRING OPTIONS(description="CIF providerId as sent: the integration's label (provider_id is the key's)"),
  cif_provider_name STRING OPTIONS(description="CIF providerName as sent"),
  external_provider_id STRING OPTIONS(description="CIF externalProviderId"),
  external_provider_name STRING OPTIONS(description="CIF externalProviderName"),
  external_account_id STRING OPTIONS(description="CIF externalAccountId: the account in another system"),
  external_contact_id STRING OPTIONS(description="CIF externalContactId: pseudonymous, like contact_id"),
  custom_data JSON OPTIONS(description="CIF customData of the conversation: attribute -> value")
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
  session_channel STRING OPTIONS(description="Channel of this session when it differs"),
  session_name STRING OPTIONS(description="CIF sessionName"),
  client_session_id STRING OPTIONS(description="CIF clientSessionId: the agent desktop's session id"),
  creation_reason STRING OPTIONS(description="CIF sessionCreationReason"),
  external_correlation_id STRING OPTIONS(description="CIF externalCorrelationId of the session"),
  custom_data JSON OPTIONS(description="CIF customData of the session: attribute -> value")
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
  added_ts TIMESTAMP NOT NULL OPTIONS(description="participantAddedTimestamp"),
  external_participant_id STRING OPTIONS(description="CIF externalParticipantId (pseudonymous for customers)"),
  assign_reason STRING OPTIONS(description="CIF participantAssignReason"),
  custom_data JSON OPTIONS(description="CIF customData of the participant: attribute -> value")
)
CLUSTER BY provider_id
OPTIONS(description="One row per participant of a session.");

CREATE TABLE IF NOT EXISTS `demo-project.analytics.raw_events` (
  provider_id STRING NOT NULL OPTIONS(description="Provider"),
  event_id STRING NOT NULL OPTIONS(description="Event id (sent, or derived from the content)"),
  conversation_id STRING NOT NULL OPTIONS(description="Conversation"),
  session_id STRING NOT NULL OPTIONS(description="Session the event counts on (providerSessionId, else by clientSessionId)"),
  participant_id STRING OPTIONS(description="Participant that logged the event"),
  name STRING NOT NULL OPTIONS(description="kpiEventName"),
  reason STRING OPTIONS(description="kpiEventReason"),
  event_ts TIMESTAMP NOT NULL OPTIONS(description="eventTimestamp"),
  response_action STRING OPTIONS(description="notificationResponseAction (Accept/Reject)"),
  custom_data JSON OPTIONS(description="Typed customData"),
  schema STRING OPTIONS(description="Iglu-style schema URI with SchemaVer"),
  ingested_at TIMESTAMP NOT NULL OPTIONS(description="When the store accepted it"),
  provider_session_id STRING OPTIONS(description="providerSessionId as sent"),
  client_session_id STRING OPTIONS(description="CIF clientSessionId as sent"),
  external_correlation_id STRING OPTIONS(description="CIF externalCorrelationId of the event")
)
PARTITION BY DATE(event_ts)
CLUSTER BY provider_id, conversation_id
OPTIONS(description="One row per accepted KPI event (exactly once: keyed by provider and event id).", partition_expiration_days=400, require_partition_filter=FALSE);

CREATE TABLE IF NOT EXISTS `demo-project.analytics.event_landing` (
  provider_id STRING NOT NULL OPTIONS(description="Provider"),
  event_id STRING NOT NULL OPTIONS(description="Event id (sent, or derived from the content)"),
  conversation_id STRING NOT NULL OPTIONS(description="Conversation"),
  participant_id STRING OPTIONS(description="Participant that logged the event"),
  name STRING NOT NULL OPTIONS(description="kpiEventName"),
  reason STRING OPTIONS(description="kpiEventReason"),
  event_ts TIMESTAMP NOT NULL OPTIONS(description="eventTimestamp"),
  response_action STRING OPTIONS(description="notificationResponseAction (Accept/Reject)"),
  schema STRING OPTIONS(description="Iglu-style schema URI with SchemaVer"),
  ingested_at TIMESTAMP NOT NULL OPTIONS(description="When the store accepted it"),
  provider_session_id STRING OPTIONS(description="providerSessionId as sent"),
  client_session_id STRING OPTIONS(description="CIF clientSessionId as sent"),
  external_correlation_id STRING OPTIONS(description="CIF externalCorrelationId of the event"),
  custom_data STRING OPTIONS(description="Typed customData as JSON text"),
  digest STRING NOT NULL OPTIONS(description="Keyed sha256 of the event's content as sent: a reused eventId with other content differs")
)
PARTITION BY TIMESTAMP_TRUNC(ingested_at, HOUR)
CLUSTER BY provider_id, event_id
OPTIONS(description="Accepted KPI events as the ingest function appended them (event sink mode): every append, retries included. The aggregation copies each (provider_id, event_id) once into raw_events, the first write winning; partitions (per ingest hour) expire after 7 days.", partition_expiration_days=7, require_partition_filter=FALSE);

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

CREATE TABLE IF NOT EXISTS `demo-project.analytics.kpi_catalog` (
  name STRING NOT NULL OPTIONS(description="KPI name: the kpi column of kpi_daily and the column of the family's wide view"),
  family STRING NOT NULL OPTIONS(description="Family of the KPI (the fact table it is computed from)"),
  kind STRING NOT NULL OPTIONS(description="count, average, ratio or score"),
  unit STRING NOT NULL OPTIONS(description="count, seconds, ratio (a fraction in [0, 1]) or score (-100..100)"),
  description STRING NOT NULL OPTIONS(description="What the KPI means"),
  formula STRING NOT NULL OPTIONS(description="Numerator and denominator in words"),
  rollup STRING NOT NULL OPTIONS(description="SQL over kpi_daily rows that gives the KPI over several days or slices, e.g. SUM(numerator) / SUM(denominator)"),
  wide_view STRING NOT NULL OPTIONS(description="The wide daily view with one column per KPI of the family")
)
OPTIONS(description="Every KPI of the catalog (shared/kpi/catalog.py): its family, unit, meaning, formula and how to roll it up over several days or slices. The aggregation keeps it equal to the code.");

CREATE TABLE IF NOT EXISTS `demo-project.analytics.kpi_alerts` (
  provider_id STRING NOT NULL OPTIONS(description="Provider"),
  alert_id STRING NOT NULL OPTIONS(description="Alert id: one per threshold, day and slice"),
  threshold_id STRING NOT NULL OPTIONS(description="The threshold that was breached"),
  day DATE NOT NULL OPTIONS(description="UTC day of the KPI row"),
  kpi STRING NOT NULL OPTIONS(description="KPI name"),
  channel STRING OPTIONS(description="Channel slice (NULL = all channels)"),
  queue_id STRING OPTIONS(description="Queue slice (NULL = all queues)"),
  agent_id STRING OPTIONS(description="Agent slice (NULL = all agents)"),
  experience_id STRING OPTIONS(description="Chatbot experience slice (NULL = all)"),
  operator STRING NOT NULL OPTIONS(description="Comparison of the threshold: >, >=, < or <="),
  threshold FLOAT64 NOT NULL OPTIONS(description="Value of the threshold"),
  value FLOAT64 OPTIONS(description="KPI value when the alert last changed"),
  numerator FLOAT64 OPTIONS(description="Numerator of that row"),
  denominator FLOAT64 OPTIONS(description="Denominator of that row"),
  status STRING NOT NULL OPTIONS(description="open (breaching) or resolved (a restatement no longer breaches)"),
  occurrence INT64 NOT NULL OPTIONS(description="How many times this alert opened (a resolved alert may open again)"),
  opened_at TIMESTAMP NOT NULL OPTIONS(description="When it last opened"),
  resolved_at TIMESTAMP OPTIONS(description="When it was resolved; NULL while open"),
  updated_at TIMESTAMP NOT NULL OPTIONS(description="When the evaluation last changed this row")
)
PARTITION BY day
CLUSTER BY provider_id, kpi
OPTIONS(description="One row per KPI breach (provider, threshold, day, KPI, slice): opened when an aggregation wrote a row past a threshold, resolved when a restated day no longer breaches (docs/outputs.md).", partition_expiration_days=400, require_partition_filter=FALSE);

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

CREATE TABLE IF NOT EXISTS `demo-project.analytics.fact_chat_events` (
  provider_id STRING NOT NULL OPTIONS(description="Provider"),
  customer_key STRING NOT NULL OPTIONS(description="Whose session: customer:<id>, else contact:<id>, else conversation:<id>"),
  event_id STRING NOT NULL OPTIONS(description="Event id"),
  conversation_id STRING NOT NULL OPTIONS(description="Conversation the event was logged on"),
  event_ts TIMESTAMP NOT NULL OPTIONS(description="eventTimestamp"),
  name STRING NOT NULL OPTIONS(description="kpiEventName"),
  experience_id STRING OPTIONS(description="Chatbot experience of the event's conversation"),
  platform STRING OPTIONS(description="Platform of the event's conversation (mobile, desktop)"),
  chat_session_id STRING NOT NULL OPTIONS(description="The chat session: customer_key@start (microseconds since 1970)"),
  session_start_ts TIMESTAMP NOT NULL OPTIONS(description="First event of the chat session"),
  module_id STRING OPTIONS(description="ModuleVisited: moduleId"),
  module_name STRING OPTIONS(description="ModuleVisited: moduleName"),
  nps INT64 OPTIONS(description="SurveyAnswered: nps 0-10"),
  opt_in_topic STRING OPTIONS(description="OptInGiven: webpush or reminder"),
  opt_in_level STRING OPTIONS(description="OptInGiven: single or double"),
  share_via STRING OPTIONS(description="Shared: facebook, email, native, twitter or whatsapp"),
  pin_success BOOL OPTIONS(description="PinVerified: the PIN was right")
)
PARTITION BY DATE(event_ts)
CLUSTER BY provider_id
OPTIONS(description="One row per event logged on a chat conversation (one that names a chatbot experience or carries a chatbot event), with the chat session it belongs to and its typed details.", partition_expiration_days=400, require_partition_filter=FALSE);

CREATE TABLE IF NOT EXISTS `demo-project.analytics.fact_chat_sessions` (
  provider_id STRING NOT NULL OPTIONS(description="Provider"),
  customer_key STRING NOT NULL OPTIONS(description="Whose session (see fact_chat_events)"),
  chat_session_id STRING NOT NULL OPTIONS(description="customer_key@start (microseconds since 1970)"),
  session_start_ts TIMESTAMP NOT NULL OPTIONS(description="First event"),
  session_end_ts TIMESTAMP NOT NULL OPTIONS(description="Last event"),
  conversation_id STRING NOT NULL OPTIONS(description="Conversation of the first event"),
  experience_id STRING OPTIONS(description="Experience of the first event's conversation"),
  platform STRING OPTIONS(description="Platform of the first event's conversation"),
  events INT64 NOT NULL OPTIONS(description="Events in the session"),
  conversations INT64 NOT NULL OPTIONS(description="Conversations the session spans"),
  interacted BOOL NOT NULL OPTIONS(description="The customer typed or clicked (a UserInteracted event)"),
  span_s FLOAT64 NOT NULL OPTIONS(description="First to last event, seconds")
)
PARTITION BY DATE(session_start_ts)
CLUSTER BY provider_id
OPTIONS(description="One row per chat session: a customer's events across conversations until a gap of more than 30 minutes (a provider setting), attributed to the day, experience and platform where it started.", partition_expiration_days=400, require_partition_filter=FALSE);

CREATE TABLE IF NOT EXISTS `demo-project.analytics.chat_module_visits` (
  day DATE NOT NULL OPTIONS(description="UTC day of the visits"),
  provider_id STRING NOT NULL OPTIONS(description="Provider"),
  experience_id STRING NOT NULL OPTIONS(description="Chatbot experience ('(none)' when the conversation names none)"),
  module_id STRING NOT NULL OPTIONS(description="moduleId"),
  module_name STRING OPTIONS(description="moduleName (the greatest one sent that day, when they differ)"),
  visits INT64 NOT NULL OPTIONS(description="ModuleVisited events"),
  sessions INT64 NOT NULL OPTIONS(description="Distinct chat sessions that visited the module that day")
)
PARTITION BY day
CLUSTER BY provider_id
OPTIONS(description="The drill-down heatmap: ModuleVisited events per day, experience and module, and the distinct chat sessions that visited the module that day. A missing experience is '(none)'.", partition_expiration_days=400, require_partition_filter=FALSE);

CREATE TABLE IF NOT EXISTS `demo-project.analytics.provider_settings` (
  provider_id STRING NOT NULL OPTIONS(description="Provider"),
  chat_session_gap_s INT64 OPTIONS(description="Gap of silence that starts a new chat session, seconds (default 1800)"),
  relationship_window_days INT64 OPTIONS(description="Relationship snapshots' trailing window, days (default 90)"),
  relationship_contact_days INT64 OPTIONS(description="Expected contact frequency, days (default 7: weekly)"),
  relationship_weight_email FLOAT64 OPTIONS(description="Health-score weight of an e-mail (default 1, 0.5-1.5)"),
  relationship_weight_meeting FLOAT64 OPTIONS(description="Health-score weight of a meeting (default 1, 0.5-1.5)"),
  relationship_weight_phonecall FLOAT64 OPTIONS(description="Health-score weight of a phone call (default 1, 0.5-1.5)"),
  updated_at TIMESTAMP NOT NULL OPTIONS(description="When the operator last changed them")
)
OPTIONS(description="Each provider's analytics settings as the operational store holds them, copied by every aggregation run (the fact SQL reads them; a missing row means the defaults).");

CREATE TABLE IF NOT EXISTS `demo-project.analytics.raw_activity_parties` (
  provider_id STRING NOT NULL OPTIONS(description="Provider"),
  activity_id STRING NOT NULL OPTIONS(description="Activity"),
  party_id STRING NOT NULL OPTIONS(description="Party (pseudonymous for the customer side)"),
  side STRING NOT NULL OPTIONS(description="us or customer"),
  role STRING NOT NULL OPTIONS(description="from, to or attendee")
)
CLUSTER BY provider_id
OPTIONS(description="One row per party of an activity (as raw_activities.parties, flattened for SQL).");

CREATE TABLE IF NOT EXISTS `demo-project.analytics.fact_activities` (
  provider_id STRING NOT NULL OPTIONS(description="Provider"),
  activity_id STRING NOT NULL OPTIONS(description="Activity"),
  activity_type STRING NOT NULL OPTIONS(description="email, meeting or phonecall"),
  regarding_type STRING NOT NULL OPTIONS(description="account, contact, lead or opportunity"),
  regarding_id STRING NOT NULL OPTIONS(description="The record the activity is about"),
  status STRING NOT NULL OPTIONS(description="completed, scheduled or canceled"),
  start_ts TIMESTAMP NOT NULL OPTIONS(description="Start (sent time for e-mails)"),
  initiated_by STRING NOT NULL OPTIONS(description="Side of the 'from' party: us or customer"),
  minutes_us FLOAT64 NOT NULL OPTIONS(description="Minutes our side invested (seed 001's hourly-investment rules)"),
  minutes_customer FLOAT64 NOT NULL OPTIONS(description="Minutes the customer's side invested"),
  replied_to STRING OPTIONS(description="inReplyToActivityId"),
  response_s FLOAT64 OPTIONS(description="A reply to the other side's completed e-mail: seconds since it")
)
PARTITION BY DATE(start_ts)
CLUSTER BY provider_id
OPTIONS(description="One row per activity with its initiating side, the time each side invested and, for a reply to the other side's e-mail, the response time.", partition_expiration_days=400, require_partition_filter=FALSE);

CREATE TABLE IF NOT EXISTS `demo-project.analytics.relationship_snapshot` (
  snapshot_day DATE NOT NULL OPTIONS(description="UTC day of the snapshot"),
  provider_id STRING NOT NULL OPTIONS(description="Provider"),
  regarding_type STRING NOT NULL OPTIONS(description="account, contact, lead or opportunity"),
  regarding_id STRING NOT NULL OPTIONS(description="The record (pseudonymous for contacts and leads)"),
  window_days INT64 NOT NULL OPTIONS(description="Trailing window, UTC days including snapshot_day"),
  emails_sent INT64 NOT NULL OPTIONS(description="E-mails from us"),
  emails_received INT64 NOT NULL OPTIONS(description="E-mails from the customer"),
  meetings_by_us INT64 NOT NULL OPTIONS(description="Meetings we initiated"),
  meetings_by_customer INT64 NOT NULL OPTIONS(description="Meetings the customer initiated"),
  calls_by_us INT64 NOT NULL OPTIONS(description="Phone calls we initiated"),
  calls_by_customer INT64 NOT NULL OPTIONS(description="Phone calls the customer initiated"),
  initiated_by_us INT64 NOT NULL OPTIONS(description="Activities we initiated"),
  initiated_by_customer INT64 NOT NULL OPTIONS(description="Activities the customer initiated"),
  email_ratio_us FLOAT64 OPTIONS(description="emails_sent ÷ emails_received (NULL when none received)"),
  email_ratio_customer FLOAT64 OPTIONS(description="emails_received ÷ emails_sent (NULL when none sent)"),
  response_time_us_s FLOAT64 OPTIONS(description="Our average seconds to answer the customer's e-mails"),
  response_time_customer_s FLOAT64 OPTIONS(description="The customer's average seconds to answer ours"),
  hours_us FLOAT64 NOT NULL OPTIONS(description="Hours our side invested"),
  hours_customer FLOAT64 NOT NULL OPTIONS(description="Hours the customer's side invested"),
  last_interaction_ts TIMESTAMP OPTIONS(description="Latest completed activity start in the window"),
  next_interaction_ts TIMESTAMP OPTIONS(description="Earliest scheduled activity start after the run"),
  health_score INT64 NOT NULL OPTIONS(description="0-100 (docs/kpis.md has the formula)"),
  health_band STRING NOT NULL OPTIONS(description="good (60-100), fair (40-59) or poor (0-39)"),
  health_trend STRING NOT NULL OPTIONS(description="up, down or flat against the score 7 days earlier"),
  computed_at TIMESTAMP NOT NULL OPTIONS(description="When the aggregation computed this row")
)
PARTITION BY snapshot_day
CLUSTER BY provider_id, regarding_id
OPTIONS(description="One row per CRM record and UTC day: the relationship KPIs over the trailing window ending that day (completed activities only), recomputed by every run that changes or ages the record.", partition_expiration_days=400, require_partition_filter=FALSE);

CREATE TABLE IF NOT EXISTS `demo-project.analytics.relationship_contacts` (
  snapshot_day DATE NOT NULL OPTIONS(description="UTC day of the snapshot"),
  provider_id STRING NOT NULL OPTIONS(description="Provider"),
  regarding_type STRING NOT NULL OPTIONS(description="account, contact, lead or opportunity"),
  regarding_id STRING NOT NULL OPTIONS(description="The record"),
  side STRING NOT NULL OPTIONS(description="us or customer"),
  rank INT64 NOT NULL OPTIONS(description="1, 2 or 3"),
  party_id STRING NOT NULL OPTIONS(description="The person (pseudonymous on the customer side)"),
  interactions INT64 NOT NULL OPTIONS(description="Completed activities in the window they took part in")
)
PARTITION BY snapshot_day
CLUSTER BY provider_id, regarding_id
OPTIONS(description="The three most-contacted people on each side of a record (completed activities in the window they took part in, any role; ties by party_id), per UTC day like relationship_snapshot.", partition_expiration_days=400, require_partition_filter=FALSE);

CREATE TABLE IF NOT EXISTS `demo-project.analytics.relationship_daily_activity` (
  day DATE NOT NULL OPTIONS(description="UTC day of the activity's start"),
  provider_id STRING NOT NULL OPTIONS(description="Provider"),
  regarding_type STRING NOT NULL OPTIONS(description="account, contact, lead or opportunity"),
  regarding_id STRING NOT NULL OPTIONS(description="The record"),
  activity_type STRING NOT NULL OPTIONS(description="email, meeting or phonecall"),
  initiated_by STRING NOT NULL OPTIONS(description="us or customer"),
  activities INT64 NOT NULL OPTIONS(description="Completed activities")
)
PARTITION BY day
CLUSTER BY provider_id, regarding_id
OPTIONS(description="Completed activities per UTC day, record, type and initiating side: the activities chart.", partition_expiration_days=400, require_partition_filter=FALSE);

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
