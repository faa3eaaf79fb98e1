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
        C("session_id", "STRING", "providerSessionId", True),
        C("participant_id", "STRING", "Participant that logged the event"),
        C("name", "STRING", "kpiEventName", True),
        C("reason", "STRING", "kpiEventReason"),
        C("event_ts", "TIMESTAMP", "eventTimestamp", True),
        C("response_action", "STRING", "notificationResponseAction (Accept/Reject)"),
        C("custom_data", "JSON", "Typed customData"),
        C("schema", "STRING", "Iglu-style schema URI with SchemaVer"),
        C("ingested_at", "TIMESTAMP", "When the store accepted it", True),
    ),
    key=("provider_id", "event_id"),
    partition_by="event_ts",
    cluster_by=("provider_id", "conversation_id"),
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

# Fact tables: derived in the warehouse by the SQL in shared/kpi/facts.py, one row per session and per
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
