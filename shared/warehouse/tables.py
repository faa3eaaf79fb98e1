"""Warehouse tables declared once, as data: adapters render their DDL from this, the data dictionary
and the Terraform schemas are generated from it.

Raw tables mirror the operational store (one row per stored object, latest version wins); fact
tables are derived from them by SQL in the warehouse; ``kpi_daily`` holds the KPI rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnType = Literal["STRING", "INT64", "FLOAT64", "BOOL", "TIMESTAMP", "DATE", "JSON"]


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    description: str
    required: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    partition_by: str | None = None
    cluster_by: tuple[str, ...] = ()
    # Day partitions of this table expire after this many days (BigQuery), shorter than the
    # warehouse's retention; None: the warehouse's retention (``partition_expiration_days``).
    partition_expiration_days: int | None = None
    # BigQuery partitions by UTC day, or by hour of a TIMESTAMP column (a table read by a sliding
    # window of minutes: each run then scans an hour or two, not the whole day so far).
    partition_granularity: Literal["DAY", "HOUR"] = "DAY"


def C(name: str, type_: ColumnType, description: str, required: bool = False) -> Column:
    return Column(name, type_, description, required)


RAW_CONVERSATIONS = Table(
    "raw_conversations",
    "One row per conversation as last registered by the provider (initLogAnalytics).",
    (
        C("provider_id", "STRING", "Provider that owns the conversation", True),
        C("conversation_id", "STRING", "Provider's conversation id", True),
        C("channel", "STRING", "Channel, e.g. voice, chat, sms", True),
        C("direction", "STRING", "inbound or outbound", True),
        C("conversation_ts", "TIMESTAMP", "When the conversation started", True),
        C("closed_ts", "TIMESTAMP", "closedTimestamp when the provider sent one"),
        C("customer_id", "STRING", "Pseudonymous customer id"),
        C("account_id", "STRING", "CRM account"),
        C("contact_id", "STRING", "CRM contact"),
        C("experience_id", "STRING", "Chatbot experience"),
        C("platform", "STRING", "mobile or desktop (chatbots)"),
        C("updated_at", "TIMESTAMP", "When the store last changed this conversation", True),
        C("backend_conversation_id", "STRING", "CIF backendConversationId"),
        C("channel_context", "STRING", "CIF channelContext"),
        C("external_correlation_id", "STRING", "CIF externalCorrelationId of the conversation"),
        C(
            "cif_provider_id",
            "STRING",
            "CIF providerId as sent: the integration's label (provider_id is the key's)",
        ),
        C("cif_provider_name", "STRING", "CIF providerName as sent"),
        C("external_provider_id", "STRING", "CIF externalProviderId"),
        C("external_provider_name", "STRING", "CIF externalProviderName"),
        C("external_account_id", "STRING", "CIF externalAccountId: the account in another system"),
        C("external_contact_id", "STRING", "CIF externalContactId: pseudonymous, like contact_id"),
        C("custom_data", "JSON", "CIF customData of the conversation: attribute -> value"),
    ),
    key=("provider_id", "conversation_id"),
    cluster_by=("provider_id",),
)

RAW_SESSIONS = Table(
    "raw_sessions",
    "One row per session of a conversation.",
    (
        C("provider_id", "STRING", "Provider", True),
        C("conversation_id", "STRING", "Conversation", True),
        C("session_id", "STRING", "Session id (providerSessionId in events)", True),
        C("created_ts", "TIMESTAMP", "sessionCreatedTimestamp", True),
        C("queue_assigned_ts", "TIMESTAMP", "sessionQueueAssignedTimestamp"),
        C("agent_assigned_ts", "TIMESTAMP", "sessionAgentAssignedTimestamp"),
        C("queue_id", "STRING", "Queue"),
        C("queue_name", "STRING", "Queue name"),
        C("session_channel", "STRING", "Channel of this session when it differs"),
        C("session_name", "STRING", "CIF sessionName"),
        C("client_session_id", "STRING", "CIF clientSessionId: the agent desktop's session id"),
        C("creation_reason", "STRING", "CIF sessionCreationReason"),
        C("external_correlation_id", "STRING", "CIF externalCorrelationId of the session"),
        C("custom_data", "JSON", "CIF customData of the session: attribute -> value"),
    ),
    key=("provider_id", "conversation_id", "session_id"),
    cluster_by=("provider_id",),
)

RAW_PARTICIPANTS = Table(
    "raw_participants",
    "One row per participant of a session.",
    (
        C("provider_id", "STRING", "Provider", True),
        C("conversation_id", "STRING", "Conversation", True),
        C("session_id", "STRING", "Session", True),
        C("participant_id", "STRING", "Participant (agent id for agents)", True),
        C("participant_type", "STRING", "agent, bot or customer", True),
        C("participant_mode", "STRING", "primary, consult or monitor", True),
        C("added_ts", "TIMESTAMP", "participantAddedTimestamp", True),
        C("external_participant_id", "STRING", "CIF externalParticipantId (pseudonymous for customers)"),
        C("assign_reason", "STRING", "CIF participantAssignReason"),
        C("custom_data", "JSON", "CIF customData of the participant: attribute -> value"),
    ),
    key=("provider_id", "conversation_id", "session_id", "participant_id"),
    cluster_by=("provider_id",),
)

RAW_EVENTS = Table(
    "raw_events",
    "One row per accepted KPI event (exactly once: keyed by provider and event id).",
    (
        C("provider_id", "STRING", "Provider", True),
        C("event_id", "STRING", "Event id (sent, or derived from the content)", True),
        C("conversation_id", "STRING", "Conversation", True),
        C(
            "session_id",
            "STRING",
            "Session the event counts on (providerSessionId, else by clientSessionId)",
            True,
        ),
        C("participant_id", "STRING", "Participant that logged the event"),
        C("name", "STRING", "kpiEventName", True),
        C("reason", "STRING", "kpiEventReason"),
        C("event_ts", "TIMESTAMP", "eventTimestamp", True),
        C("response_action", "STRING", "notificationResponseAction (Accept/Reject)"),
        C("custom_data", "JSON", "Typed customData"),
        C("schema", "STRING", "Iglu-style schema URI with SchemaVer"),
        C("ingested_at", "TIMESTAMP", "When the store accepted it", True),
        C("provider_session_id", "STRING", "providerSessionId as sent"),
        C("client_session_id", "STRING", "CIF clientSessionId as sent"),
        C("external_correlation_id", "STRING", "CIF externalCorrelationId of the event"),
    ),
    key=("provider_id", "event_id"),
    partition_by="event_ts",
    cluster_by=("provider_id", "conversation_id"),
)

# The event sink's landing table (ANALYTICS_EVENT_SINK=bigquery-write://..., docs/scale.md): the ingest
# function appends every accepted event here with the Storage Write API (at least once: a retried
# append or a provider's retry lands twice), and the aggregation deduplicates it into raw_events inside
# the warehouse (shared/aggregate/landing.py). Rows are pseudonymised before the append, like every
# warehouse row (docs/privacy.md). Partitioned by ingest hour: a run reads the last minutes' rows, so it
# scans one or two hourly partitions; the partitions expire after LANDING_RETENTION_DAYS.
LANDING_RETENTION_DAYS = 7
EVENT_LANDING = Table(
    "event_landing",
    "Accepted KPI events as the ingest function appended them (event sink mode): every append, retries "
    "included. The aggregation copies each (provider_id, event_id) once into raw_events, the first write "
    f"winning; partitions (per ingest hour) expire after {LANDING_RETENTION_DAYS} days.",
    (
        *(c for c in RAW_EVENTS.columns if c.name not in ("session_id", "custom_data")),
        C("custom_data", "STRING", "Typed customData as JSON text"),
        C(
            "digest",
            "STRING",
            "Keyed sha256 of the event's content as sent: a reused eventId with other content differs",
            True,
        ),
    ),
    key=("provider_id", "event_id", "ingested_at"),
    partition_by="ingested_at",
    cluster_by=("provider_id", "event_id"),
    partition_expiration_days=LANDING_RETENTION_DAYS,
    partition_granularity="HOUR",
)

RAW_ACTIVITIES = Table(
    "raw_activities",
    "One row per relationship activity (e-mail, meeting, phone call), latest version.",
    (
        C("provider_id", "STRING", "Provider", True),
        C("activity_id", "STRING", "Activity id", True),
        C("activity_type", "STRING", "email, meeting or phonecall", True),
        C("regarding_type", "STRING", "account, contact, lead or opportunity", True),
        C("regarding_id", "STRING", "The record the activity is about", True),
        C("account_id", "STRING", "Account"),
        C("status", "STRING", "completed, scheduled or canceled", True),
        C("start_ts", "TIMESTAMP", "Start (sent time for e-mails)", True),
        C("end_ts", "TIMESTAMP", "End (meetings and calls)"),
        C("in_reply_to", "STRING", "Activity this one answers"),
        C("initiated_by", "STRING", "us or customer", True),
        C("parties", "JSON", "Parties with side and role", True),
        C("ingested_at", "TIMESTAMP", "When the store last changed it", True),
    ),
    key=("provider_id", "activity_id"),
    partition_by="start_ts",
    cluster_by=("provider_id", "regarding_id"),
)

RAW_FAILED_EVENTS = Table(
    "raw_failed_events",
    "Events and activities we rejected, with the reason; replayed ones say so.",
    (
        C("provider_id", "STRING", "Provider", True),
        C("failed_id", "STRING", "Failed-event id (content hash)", True),
        C("received_at", "TIMESTAMP", "When it was rejected", True),
        C("code", "STRING", "Rejection code, e.g. invalid_event", True),
        C("message", "STRING", "Rejection message", True),
        C("kind", "STRING", "event or activity", True),
        C("status", "STRING", "open, replayed or erased (a customer erasure redacted it)", True),
        C("replayed_at", "TIMESTAMP", "When an operator replayed it"),
    ),
    key=("provider_id", "failed_id"),
    partition_by="received_at",
    cluster_by=("provider_id", "code"),
)

CUSTOMER_ERASURES = Table(
    "customer_erasures",
    "One row per customer erased on the provider's request (docs/privacy.md): the receipt only, no "
    "identifier and no pseudonym. customers_deleted counts these rows by the day they were requested.",
    (
        C("provider_id", "STRING", "Provider whose customer was erased", True),
        C("erasure_id", "STRING", "Receipt id returned to the provider (DELETE /v1/customers/{id})", True),
        C("requested_at", "TIMESTAMP", "When the provider asked for the erasure", True),
        C("applied_at", "TIMESTAMP", "When the aggregation applied it to the warehouse", True),
    ),
    key=("provider_id", "erasure_id"),
    partition_by="requested_at",
    cluster_by=("provider_id",),
)

KPI_DAILY = Table(
    "kpi_daily",
    "One row per KPI, provider, day and slice. A NULL dimension means 'all'; the row with every "
    "dimension NULL is the provider's total for the day. A missing value of a dimension is '(none)'.",
    (
        C("day", "DATE", "UTC day the KPI is attributed to", True),
        C("provider_id", "STRING", "Provider", True),
        C("kpi", "STRING", "KPI name from the catalog", True),
        C("channel", "STRING", "Channel slice (NULL = all channels)"),
        C("queue_id", "STRING", "Queue slice (NULL = all queues)"),
        C("agent_id", "STRING", "Agent slice (NULL = all agents)"),
        C("experience_id", "STRING", "Chatbot experience slice (NULL = all)"),
        C("value", "FLOAT64", "The KPI value (NULL when the denominator is 0)"),
        C("numerator", "FLOAT64", "Numerator (or the sum for averages)"),
        C("denominator", "FLOAT64", "Denominator (or the count for averages)"),
        C("unit", "STRING", "count, seconds, ratio or score", True),
        C("computed_at", "TIMESTAMP", "When the aggregation computed this row", True),
    ),
    key=("day", "provider_id", "kpi", "channel", "queue_id", "agent_id", "experience_id"),
    partition_by="day",
    cluster_by=("provider_id", "kpi"),
)

KPI_PROVIDER_DAILY_VIEW = (
    "kpi_provider_daily",
    "Provider totals per day: the rows of kpi_daily whose dimensions are all NULL.",
    "SELECT day, provider_id, kpi, value, numerator, denominator, unit FROM kpi_daily "
    "WHERE channel IS NULL AND queue_id IS NULL AND agent_id IS NULL AND experience_id IS NULL",
)

KPI_CATALOG = Table(
    "kpi_catalog",
    "Every KPI of the catalog (shared/kpi/catalog.py): its family, unit, meaning, formula and how to roll "
    "it up over several days or slices. The aggregation keeps it equal to the code.",
    (
        C(
            "name",
            "STRING",
            "KPI name: the kpi column of kpi_daily and the column of the family's wide view",
            True,
        ),
        C("family", "STRING", "Family of the KPI (the fact table it is computed from)", True),
        C("kind", "STRING", "count, average, ratio or score", True),
        C("unit", "STRING", "count, seconds, ratio (a fraction in [0, 1]) or score (-100..100)", True),
        C("description", "STRING", "What the KPI means", True),
        C("formula", "STRING", "Numerator and denominator in words", True),
        C(
            "rollup",
            "STRING",
            "SQL over kpi_daily rows that gives the KPI over several days or slices, e.g. "
            "SUM(numerator) / SUM(denominator)",
            True,
        ),
        C("wide_view", "STRING", "The wide daily view with one column per KPI of the family", True),
    ),
    key=("name",),
)

KPI_ALERTS = Table(
    "kpi_alerts",
    "One row per KPI breach (provider, threshold, day, KPI, slice): opened when an aggregation wrote a "
    "row past a threshold, resolved when a restated day no longer breaches (docs/outputs.md).",
    (
        C("provider_id", "STRING", "Provider", True),
        C("alert_id", "STRING", "Alert id: one per threshold, day and slice", True),
        C("threshold_id", "STRING", "The threshold that was breached", True),
        C("day", "DATE", "UTC day of the KPI row", True),
        C("kpi", "STRING", "KPI name", True),
        C("channel", "STRING", "Channel slice (NULL = all channels)"),
        C("queue_id", "STRING", "Queue slice (NULL = all queues)"),
        C("agent_id", "STRING", "Agent slice (NULL = all agents)"),
        C("experience_id", "STRING", "Chatbot experience slice (NULL = all)"),
        C("operator", "STRING", "Comparison of the threshold: >, >=, < or <=", True),
        C("threshold", "FLOAT64", "Value of the threshold", True),
        C("value", "FLOAT64", "KPI value when the alert last changed"),
        C("numerator", "FLOAT64", "Numerator of that row"),
        C("denominator", "FLOAT64", "Denominator of that row"),
        C("status", "STRING", "open (breaching) or resolved (a restatement no longer breaches)", True),
        C("occurrence", "INT64", "How many times this alert opened (a resolved alert may open again)", True),
        C("opened_at", "TIMESTAMP", "When it last opened", True),
        C("resolved_at", "TIMESTAMP", "When it was resolved; NULL while open"),
        C("updated_at", "TIMESTAMP", "When the evaluation last changed this row", True),
    ),
    key=("provider_id", "alert_id"),
    partition_by="day",
    cluster_by=("provider_id", "kpi"),
)

# Fact tables: derived in the warehouse by the SQL of their family (shared/kpi/families/), one row per session and per
# conversation, replaced whole for every conversation an aggregation touches. Rows exist before the
# close too (close timestamp NULL), so look-aheads such as first-contact resolution see open contacts.
FACT_SESSIONS = Table(
    "fact_sessions",
    "One row per session, with the offer outcome, close and durations the session KPIs are built from.",
    (
        C("provider_id", "STRING", "Provider", True),
        C("conversation_id", "STRING", "Conversation", True),
        C("session_id", "STRING", "Session", True),
        C("channel", "STRING", "Session channel, else the conversation's channel", True),
        C("queue_id", "STRING", "Queue of the session"),
        C("agent_id", "STRING", "Primary agent participant (first added); NULL for bot-only sessions"),
        C("is_agent_session", "BOOL", "The session has a primary agent participant", True),
        C("created_ts", "TIMESTAMP", "sessionCreatedTimestamp", True),
        C("queue_assigned_ts", "TIMESTAMP", "sessionQueueAssignedTimestamp"),
        C("offered_ts", "TIMESTAMP", "First NotificationReceived, else sessionAgentAssignedTimestamp"),
        C("responded_ts", "TIMESTAMP", "First offer outcome (accept, reject or time-out)"),
        C("incoming", "BOOL", "Agent session that was offered to its agent", True),
        C("accepted", "BOOL", "The first offer outcome is NotificationResponse Accept", True),
        C("rejected", "BOOL", "The first offer outcome is NotificationResponse Reject", True),
        C("timed_out", "BOOL", "The first offer outcome is NotificationTimedOut", True),
        C("transferred", "BOOL", "The session closed with reason Transferred", True),
        C("close_ts", "TIMESTAMP", "First SessionClosed, else the reject or time-out; NULL while open"),
        C("close_reason", "STRING", "kpiEventReason of SessionClosed, else Rejected or TimedOut"),
        C("time_to_accept_s", "FLOAT64", "Offered to accepted, seconds"),
        C("time_to_reject_s", "FLOAT64", "Offered to rejected, seconds"),
        C("wait_s", "FLOAT64", "Queue assigned to accepted, seconds"),
        C("handle_s", "FLOAT64", "Focused seconds, else started to closed (wrap-up included); accepted only"),
        C("handle_from_focus", "BOOL", "handle_s comes from SessionInFocus/SessionOutOfFocus events", True),
        C("wrap_up_s", "FLOAT64", "WrapUpStarted to close, seconds; accepted only"),
        C("consults_requested", "INT64", "Consult agents added to the session", True),
        C("consults_accepted", "INT64", "Consult agents whose first offer outcome is Accept", True),
    ),
    key=("provider_id", "conversation_id", "session_id"),
    partition_by="close_ts",
    cluster_by=("provider_id",),
)

FACT_CONVERSATIONS = Table(
    "fact_conversations",
    "One row per conversation, with the answer, abandonment, durations, surveys and resolution the "
    "conversation KPIs are built from.",
    (
        C("provider_id", "STRING", "Provider", True),
        C("conversation_id", "STRING", "Conversation", True),
        C("channel", "STRING", "Channel of the conversation", True),
        C("direction", "STRING", "inbound or outbound", True),
        C("customer_id", "STRING", "Pseudonymous customer id (first-contact resolution)"),
        C("queue_id", "STRING", "Queue of the primary session (first accepted, else first offered)"),
        C("agent_id", "STRING", "Agent of the primary session"),
        C("conversation_ts", "TIMESTAMP", "Conversation start", True),
        C("closed_ts", "TIMESTAMP", "closedTimestamp, else first ConversationClosed; NULL while open"),
        C("close_reason", "STRING", "kpiEventReason of the first ConversationClosed"),
        C("waiting_since_ts", "TIMESTAMP", "First queue entry, else the conversation start", True),
        C("answered_ts", "TIMESTAMP", "First agent accept"),
        C("incoming", "BOOL", "Inbound and an agent was offered", True),
        C("handled", "BOOL", "An agent accepted", True),
        C("abandoned", "BOOL", "Inbound, closed, no agent accepted", True),
        C("transferred", "BOOL", "An agent session closed with reason Transferred", True),
        C("resolved", "BOOL", "Closed with ConversationClosed reason Resolved", True),
        C("speed_to_answer_s", "FLOAT64", "waiting_since_ts to answered_ts; handled inbound only"),
        C("time_to_abandon_s", "FLOAT64", "waiting_since_ts to closed_ts; abandoned only"),
        C("handle_s", "FLOAT64", "Sum of the accepted agent sessions' handle_s; handled only"),
        C("hold_s", "FLOAT64", "CallHold to CallUnhold seconds, summed; handled only"),
        C("wrap_up_s", "FLOAT64", "Sum of the accepted agent sessions' wrap_up_s; handled only"),
        C("conversation_time_s", "FLOAT64", "Start to close, seconds"),
        C("first_response_s", "FLOAT64", "First customer message to the first agent message after it"),
        C("csat_answers", "INT64", "csat answers (1-5)", True),
        C("csat_top2", "INT64", "csat answers of 4 or 5", True),
        C("nps_answers", "INT64", "nps answers (0-10)", True),
        C("nps_promoters", "INT64", "nps answers of 9 or 10", True),
        C("nps_detractors", "INT64", "nps answers of 0 to 6", True),
    ),
    key=("provider_id", "conversation_id"),
    partition_by="closed_ts",
    cluster_by=("provider_id",),
)

# Chatbot engagement (seed 002). Chat sessions span conversations: both fact tables are replaced whole
# for every customer an aggregation touches (shared/kpi/families/chat_events.py has the session rule).
FACT_CHAT_EVENTS = Table(
    "fact_chat_events",
    "One row per event logged on a chat conversation (one that names a chatbot experience or carries a "
    "chatbot event), with the chat session it belongs to and its typed details.",
    (
        C("provider_id", "STRING", "Provider", True),
        C(
            "customer_key",
            "STRING",
            "Whose session: customer:<id>, else contact:<id>, else conversation:<id>",
            True,
        ),
        C("event_id", "STRING", "Event id", True),
        C("conversation_id", "STRING", "Conversation the event was logged on", True),
        C("event_ts", "TIMESTAMP", "eventTimestamp", True),
        C("name", "STRING", "kpiEventName", True),
        C("experience_id", "STRING", "Chatbot experience of the event's conversation"),
        C("platform", "STRING", "Platform of the event's conversation (mobile, desktop)"),
        C(
            "chat_session_id",
            "STRING",
            "The chat session: customer_key@start (microseconds since 1970)",
            True,
        ),
        C("session_start_ts", "TIMESTAMP", "First event of the chat session", True),
        C("module_id", "STRING", "ModuleVisited: moduleId"),
        C("module_name", "STRING", "ModuleVisited: moduleName"),
        C("nps", "INT64", "SurveyAnswered: nps 0-10"),
        C("opt_in_topic", "STRING", "OptInGiven: webpush or reminder"),
        C("opt_in_level", "STRING", "OptInGiven: single or double"),
        C("share_via", "STRING", "Shared: facebook, email, native, twitter or whatsapp"),
        C("pin_success", "BOOL", "PinVerified: the PIN was right"),
    ),
    key=("provider_id", "event_id"),
    partition_by="event_ts",
    cluster_by=("provider_id",),
)

FACT_CHAT_SESSIONS = Table(
    "fact_chat_sessions",
    "One row per chat session: a customer's events across conversations until a gap of more than 30 "
    "minutes (a provider setting), attributed to the day, experience and platform where it started.",
    (
        C("provider_id", "STRING", "Provider", True),
        C("customer_key", "STRING", "Whose session (see fact_chat_events)", True),
        C("chat_session_id", "STRING", "customer_key@start (microseconds since 1970)", True),
        C("session_start_ts", "TIMESTAMP", "First event", True),
        C("session_end_ts", "TIMESTAMP", "Last event", True),
        C("conversation_id", "STRING", "Conversation of the first event", True),
        C("experience_id", "STRING", "Experience of the first event's conversation"),
        C("platform", "STRING", "Platform of the first event's conversation"),
        C("events", "INT64", "Events in the session", True),
        C("conversations", "INT64", "Conversations the session spans", True),
        C("interacted", "BOOL", "The customer typed or clicked (a UserInteracted event)", True),
        C("span_s", "FLOAT64", "First to last event, seconds", True),
    ),
    key=("provider_id", "customer_key", "chat_session_id"),
    partition_by="session_start_ts",
    cluster_by=("provider_id",),
)

CHAT_MODULE_VISITS = Table(
    "chat_module_visits",
    "The drill-down heatmap: ModuleVisited events per day, experience and module, and the distinct chat "
    "sessions that visited the module that day. A missing experience is '(none)'.",
    (
        C("day", "DATE", "UTC day of the visits", True),
        C("provider_id", "STRING", "Provider", True),
        C("experience_id", "STRING", "Chatbot experience ('(none)' when the conversation names none)", True),
        C("module_id", "STRING", "moduleId", True),
        C("module_name", "STRING", "moduleName (the greatest one sent that day, when they differ)"),
        C("visits", "INT64", "ModuleVisited events", True),
        C("sessions", "INT64", "Distinct chat sessions that visited the module that day", True),
    ),
    key=("day", "provider_id", "experience_id", "module_id"),
    partition_by="day",
    cluster_by=("provider_id",),
)

PROVIDER_SETTINGS = Table(
    "provider_settings",
    "Each provider's analytics settings as the operational store holds them, copied by every "
    "aggregation run (the fact SQL reads them; a missing row means the defaults).",
    (
        C("provider_id", "STRING", "Provider", True),
        C(
            "chat_session_gap_s",
            "INT64",
            "Gap of silence that starts a new chat session, seconds (default 1800)",
        ),
        C("relationship_window_days", "INT64", "Relationship snapshots' trailing window, days (default 90)"),
        C("relationship_contact_days", "INT64", "Expected contact frequency, days (default 7: weekly)"),
        C("relationship_weight_email", "FLOAT64", "Health-score weight of an e-mail (default 1, 0.5-1.5)"),
        C("relationship_weight_meeting", "FLOAT64", "Health-score weight of a meeting (default 1, 0.5-1.5)"),
        C(
            "relationship_weight_phonecall",
            "FLOAT64",
            "Health-score weight of a phone call (default 1, 0.5-1.5)",
        ),
        C("updated_at", "TIMESTAMP", "When the operator last changed them", True),
    ),
    key=("provider_id",),
)

# Relationship analytics (seed 001). Activities are facts of their own (replaced per activity, and per
# reply, since a reply's response time needs the e-mail it answers); the snapshot tables hold one row
# per CRM record per UTC day, recomputed for today by every run that changes or ages the record.
RAW_ACTIVITY_PARTIES = Table(
    "raw_activity_parties",
    "One row per party of an activity (as raw_activities.parties, flattened for SQL).",
    (
        C("provider_id", "STRING", "Provider", True),
        C("activity_id", "STRING", "Activity", True),
        C("party_id", "STRING", "Party (pseudonymous for the customer side)", True),
        C("side", "STRING", "us or customer", True),
        C("role", "STRING", "from, to or attendee", True),
    ),
    key=("provider_id", "activity_id", "party_id"),
    cluster_by=("provider_id",),
)

FACT_ACTIVITIES = Table(
    "fact_activities",
    "One row per activity with its initiating side, the time each side invested and, for a reply to "
    "the other side's e-mail, the response time.",
    (
        C("provider_id", "STRING", "Provider", True),
        C("activity_id", "STRING", "Activity", True),
        C("activity_type", "STRING", "email, meeting or phonecall", True),
        C("regarding_type", "STRING", "account, contact, lead or opportunity", True),
        C("regarding_id", "STRING", "The record the activity is about", True),
        C("status", "STRING", "completed, scheduled or canceled", True),
        C("start_ts", "TIMESTAMP", "Start (sent time for e-mails)", True),
        C("initiated_by", "STRING", "Side of the 'from' party: us or customer", True),
        C("minutes_us", "FLOAT64", "Minutes our side invested (seed 001's hourly-investment rules)", True),
        C("minutes_customer", "FLOAT64", "Minutes the customer's side invested", True),
        C("replied_to", "STRING", "inReplyToActivityId"),
        C("response_s", "FLOAT64", "A reply to the other side's completed e-mail: seconds since it"),
    ),
    key=("provider_id", "activity_id"),
    partition_by="start_ts",
    cluster_by=("provider_id",),
)

RELATIONSHIP_SNAPSHOT = Table(
    "relationship_snapshot",
    "One row per CRM record and UTC day: the relationship KPIs over the trailing window ending that day "
    "(completed activities only), recomputed by every run that changes or ages the record.",
    (
        C("snapshot_day", "DATE", "UTC day of the snapshot", True),
        C("provider_id", "STRING", "Provider", True),
        C("regarding_type", "STRING", "account, contact, lead or opportunity", True),
        C("regarding_id", "STRING", "The record (pseudonymous for contacts and leads)", True),
        C("window_days", "INT64", "Trailing window, UTC days including snapshot_day", True),
        C("emails_sent", "INT64", "E-mails from us", True),
        C("emails_received", "INT64", "E-mails from the customer", True),
        C("meetings_by_us", "INT64", "Meetings we initiated", True),
        C("meetings_by_customer", "INT64", "Meetings the customer initiated", True),
        C("calls_by_us", "INT64", "Phone calls we initiated", True),
        C("calls_by_customer", "INT64", "Phone calls the customer initiated", True),
        C("initiated_by_us", "INT64", "Activities we initiated", True),
        C("initiated_by_customer", "INT64", "Activities the customer initiated", True),
        C("email_ratio_us", "FLOAT64", "emails_sent ÷ emails_received (NULL when none received)"),
        C("email_ratio_customer", "FLOAT64", "emails_received ÷ emails_sent (NULL when none sent)"),
        C("response_time_us_s", "FLOAT64", "Our average seconds to answer the customer's e-mails"),
        C("response_time_customer_s", "FLOAT64", "The customer's average seconds to answer ours"),
        C("hours_us", "FLOAT64", "Hours our side invested", True),
        C("hours_customer", "FLOAT64", "Hours the customer's side invested", True),
        C("last_interaction_ts", "TIMESTAMP", "Latest completed activity start in the window"),
        C("next_interaction_ts", "TIMESTAMP", "Earliest scheduled activity start after the run"),
        C("health_score", "INT64", "0-100 (docs/kpis.md has the formula)", True),
        C("health_band", "STRING", "good (60-100), fair (40-59) or poor (0-39)", True),
        C("health_trend", "STRING", "up, down or flat against the score 7 days earlier", True),
        C("computed_at", "TIMESTAMP", "When the aggregation computed this row", True),
    ),
    key=("snapshot_day", "provider_id", "regarding_type", "regarding_id"),
    partition_by="snapshot_day",
    cluster_by=("provider_id", "regarding_id"),
)

RELATIONSHIP_CONTACTS = Table(
    "relationship_contacts",
    "The three most-contacted people on each side of a record (completed activities in the window they "
    "took part in, any role; ties by party_id), per UTC day like relationship_snapshot.",
    (
        C("snapshot_day", "DATE", "UTC day of the snapshot", True),
        C("provider_id", "STRING", "Provider", True),
        C("regarding_type", "STRING", "account, contact, lead or opportunity", True),
        C("regarding_id", "STRING", "The record", True),
        C("side", "STRING", "us or customer", True),
        C("rank", "INT64", "1, 2 or 3", True),
        C("party_id", "STRING", "The person (pseudonymous on the customer side)", True),
        C("interactions", "INT64", "Completed activities in the window they took part in", True),
    ),
    key=("snapshot_day", "provider_id", "regarding_type", "regarding_id", "side", "rank"),
    partition_by="snapshot_day",
    cluster_by=("provider_id", "regarding_id"),
)

RELATIONSHIP_DAILY_ACTIVITY = Table(
    "relationship_daily_activity",
    "Completed activities per UTC day, record, type and initiating side: the activities chart.",
    (
        C("day", "DATE", "UTC day of the activity's start", True),
        C("provider_id", "STRING", "Provider", True),
        C("regarding_type", "STRING", "account, contact, lead or opportunity", True),
        C("regarding_id", "STRING", "The record", True),
        C("activity_type", "STRING", "email, meeting or phonecall", True),
        C("initiated_by", "STRING", "us or customer", True),
        C("activities", "INT64", "Completed activities", True),
    ),
    key=("day", "provider_id", "regarding_type", "regarding_id", "activity_type", "initiated_by"),
    partition_by="day",
    cluster_by=("provider_id", "regarding_id"),
)

ORPHAN_EVENTS = Table(
    "orphan_events",
    "Events waiting for their conversation: one row per conversation id that events were logged under "
    "but that was never registered. They count in no KPI until the conversation arrives (the next run "
    "then counts them and removes the row); they wait as long as their days are kept.",
    (
        C("provider_id", "STRING", "Provider", True),
        C("conversation_id", "STRING", "The conversation id the events name", True),
        C("events", "INT64", "Events logged under it", True),
        C("first_event_ts", "TIMESTAMP", "eventTimestamp of the earliest", True),
        C("last_event_ts", "TIMESTAMP", "eventTimestamp of the latest", True),
        C("first_ingested_at", "TIMESTAMP", "When the first of them was accepted", True),
    ),
    key=("provider_id", "conversation_id"),
    partition_by="last_event_ts",
    cluster_by=("provider_id",),
)
