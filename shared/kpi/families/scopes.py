"""The entities a new raw record touches, declared once for every family that is scoped by them.

- ``conversations`` (the root): a conversation registered or updated, or one of its events, touches
  the conversation; a restated day touches every conversation with a start, close or event on it.
- ``customers``: chat sessions span conversations, so a touched conversation touches its customer —
  as registered now and as the chat facts knew it before (a conversation whose customer changed moves
  its events from one customer's sessions to another's, and both are recomputed).
"""

from __future__ import annotations

from shared.kpi.model import Scope
from shared.kpi.sqlparts import names, same
from shared.schema.registry import STANDARD_EVENTS

CONVERSATION_KEY = ("provider_id", "conversation_id")

CONVERSATIONS = Scope(
    "conversations",
    "touched_conversations",
    CONVERSATION_KEY,
    staged=("raw_conversations", "raw_events"),
    restated_sql="""
SELECT provider_id, conversation_id FROM raw_conversations
WHERE DATE(conversation_ts) IN (SELECT day FROM restated_days) OR DATE(closed_ts) IN (SELECT day FROM restated_days)
UNION ALL
SELECT provider_id, conversation_id FROM raw_events WHERE DATE(event_ts) IN (SELECT day FROM restated_days)
""",
)

# Chatbot events: the registry family "chatbot". A conversation is a chat conversation when it names a
# chatbot experience, or when a chatbot event was logged on it (a provider may leave experienceId out).
CHATBOT_EVENTS = tuple(name for name, spec in STANDARD_EVENTS.items() if spec.family == "chatbot")


def customer_key(alias: str) -> str:
    """Who a chat conversation's events belong to: its customer, else its CRM contact, else the
    conversation itself (a visitor nobody identified). The prefix keeps the three id spaces apart."""
    return (
        f"CASE WHEN {alias}.customer_id IS NOT NULL THEN CONCAT('customer:', {alias}.customer_id)"
        f" WHEN {alias}.contact_id IS NOT NULL THEN CONCAT('contact:', {alias}.contact_id)"
        f" ELSE CONCAT('conversation:', {alias}.conversation_id) END"
    )


def chat_conversations(source: str) -> str:
    """The chat conversations among the ``raw_conversations`` rows of ``source`` (an aliased relation
    named ``c``), with their customer key."""
    return f"""
  SELECT c.provider_id, c.conversation_id, c.experience_id, c.platform, {customer_key("c")} AS customer_key
  FROM {source}
  WHERE c.experience_id IS NOT NULL OR EXISTS (
    SELECT 1 FROM raw_events AS x
    WHERE {same("x", "c", *CONVERSATION_KEY)} AND x.name IN ({names(CHATBOT_EVENTS)})
  )"""


CUSTOMERS = Scope(
    "customers",
    "touched_customers",
    ("provider_id", "customer_key"),
    sql=f"""
SELECT DISTINCT provider_id, customer_key FROM (
  {chat_conversations(f"raw_conversations AS c JOIN touched_conversations AS t ON {same('t', 'c', *CONVERSATION_KEY)}")}
  UNION ALL
  SELECT DISTINCT f.provider_id, f.conversation_id, f.experience_id, f.platform, f.customer_key
  FROM fact_chat_events AS f
  JOIN touched_conversations AS t ON {same("t", "f", *CONVERSATION_KEY)}
) AS touched
""",
    parents=(CONVERSATIONS,),
)
