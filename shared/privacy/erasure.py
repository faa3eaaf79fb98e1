"""Customer erasure in the operational store: ``DELETE /v1/customers/{customerId}``.

What one request does, in an order that a retry can always finish (the customer is found by the
``customerId`` of their conversations, which is removed last):

1. for each conversation of the customer: the events lose the customer's participant ids, their
   free text (``additionalData``) and custom events' attributes; then failed events that came with
   those conversations or name the customer are redacted; then the conversation itself loses the
   customer's identifiers, free text and customer participants (``updated_at`` moves, so the next
   aggregation replaces its warehouse rows);
2. activities about the customer (customer-side party, contact or lead) are rewritten without them;
3. the non-personal receipt (``Erasure``: pseudonym, counts, times) is stored; the aggregation applies
   it to the warehouse (raw events keyed by the pseudonym) and counts it as ``customers_deleted``.

Erasing the same customer again returns the same receipt and is counted once; anything found the
second time is erased too and re-opens the receipt for the warehouse.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import datetime
from typing import Any

from shared.errors import ApiError
from shared.ingest.canonical import canonical_json
from shared.privacy.pseudonym import Pseudonymizer
from shared.schema.fields import MAX_IDENTIFIER_LENGTH, is_identifier
from shared.schema.registry import STANDARD_EVENTS
from shared.store.erasure import PERSON_RECORD_TYPES, Erasure
from shared.store.port import Store
from shared.store.records import Activity, Event, FailedEvent


def erasure_id(pseudonym: str) -> str:
    """Deterministic per customer, so a repeated request finds its receipt; reveals nothing."""
    return "er_" + hashlib.sha256(pseudonym.encode()).hexdigest()[:24]


def _erased_marker(erasure: str) -> str:
    return f"erased:{erasure}"


# What an erasure removes from a stored conversation: the customer's identifiers, free text, names
# (a desktop session is usually named after the customer) and custom data, at every level.
ERASED_CONVERSATION_FIELDS = (
    "customerId",
    "contactId",
    "externalContactId",
    "regionData",
    "additionalData",
    "customData",
)
ERASED_SESSION_FIELDS = ("sessionName", "clientSessionName", "sessionAdditionalData", "customData")
ERASED_PARTICIPANT_FIELDS = ("customData",)


def _without(data: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in fields}


def scrub_conversation(data: dict[str, Any] | None) -> dict[str, Any]:
    """The conversation without its customer: identifiers, free text, session names, custom data and
    customer participants go; channel, times, queues and agents (what the KPIs are made of) stay."""
    if data is None:
        return {}
    kept = _without(data, ERASED_CONVERSATION_FIELDS)
    sessions = []
    for session in kept.get("sessions", []):
        participants = [
            _without(p, ERASED_PARTICIPANT_FIELDS)
            for p in session.get("participants", [])
            if p.get("participantType") != "customer"
        ]
        sessions.append({**_without(session, ERASED_SESSION_FIELDS), "participants": participants})
    if "sessions" in kept:
        kept["sessions"] = sessions
    return kept


def _event_scrubber(person_ids: set[str]) -> Any:
    def scrub(event: Event) -> Event:
        custom = event.custom_data if event.name in STANDARD_EVENTS else {}
        participant = None if event.participant_id in person_ids else event.participant_id
        return replace(event, participant_id=participant, additional_data=None, custom_data=custom)

    return scrub


def _holds(value: Any, customer_id: str) -> bool:
    """Whether a decoded JSON value holds ``customer_id`` as a whole string value."""
    if isinstance(value, str):
        return value == customer_id
    if isinstance(value, dict):
        return any(_holds(v, customer_id) for v in value.values())
    if isinstance(value, list):
        return any(_holds(v, customer_id) for v in value)
    return False


def _failed_matcher(customer_id: str, conversation_ids: set[str]) -> Any:
    """Failed events of the customer's conversations, logged by the customer, or whose payload names it.

    Matched on the decoded value, whatever escaping the text used (``"é"`` or ``"\\u00e9"``); a payload
    kept truncated (not JSON any more) is searched for the id as a JSON string, as it was stored."""
    as_stored = {canonical_json(customer_id), json.dumps(customer_id)}

    def matches(failed: FailedEvent) -> bool:
        envelope = failed.envelope
        if envelope.get("conversationId") in conversation_ids or envelope.get("participantId") == customer_id:
            return True
        try:
            payload = json.loads(failed.payload)
        except ValueError:
            return any(token in failed.payload for token in as_stored)
        return _holds(payload, customer_id)

    return matches


def scrub_activity(activity: Activity, customer_id: str, marker: str, at: datetime) -> Activity:
    data = dict(activity.data)
    if data.get("regardingType") in PERSON_RECORD_TYPES and data.get("regardingId") == customer_id:
        data["regardingId"] = marker
    parties = []
    for party in data.get("parties", []):
        if party.get("side") == "customer" and party.get("partyId") == customer_id:
            party = {k: v for k, v in party.items() if k != "name"} | {"partyId": marker}
        parties.append(party)
    data["parties"] = parties
    return Activity(activity.provider_id, activity.activity_id, data, at)


def erase_customer(
    store: Store, provider_id: str, customer_id: str, pseudonyms: Pseudonymizer, now: datetime
) -> Erasure:
    """Erase one customer of one provider from the store; ``404`` when the provider has no data and
    no earlier erasure of this customer (a provider can only ever reach its own customers)."""
    if not is_identifier(customer_id):
        # The ingest rule exactly: every customerId a conversation was accepted with can be erased.
        raise ApiError(
            422,
            "invalid_customer_id",
            f"customerId must be 1..{MAX_IDENTIFIER_LENGTH} characters without control characters",
        )
    pseudonym = pseudonyms(provider_id, customer_id)
    erasure = erasure_id(pseudonym)
    counts = {"conversations": 0, "events": 0, "activities": 0, "failedEvents": 0}

    conversations = store.customer_conversations(provider_id, customer_id)
    conversation_ids = {c.conversation_id for c in conversations}
    handles: set[str] = set()  # the customer's participant ids in those conversations
    for conversation in conversations:
        persons = {customer_id} | {
            p["participantId"]
            for s in conversation.data.get("sessions", [])
            for p in s.get("participants", [])
            if p.get("participantType") == "customer"
        }
        handles |= persons - {customer_id}
        counts["events"] += store.rewrite_events(
            provider_id, conversation.conversation_id, _event_scrubber(persons)
        )
    counts["failedEvents"] = store.erase_failed_events(
        provider_id, _failed_matcher(customer_id, conversation_ids), now
    )
    for conversation in conversations:
        store.upsert_conversation(provider_id, conversation.conversation_id, scrub_conversation, now)
    counts["conversations"] = len(conversations)

    activities = store.customer_activities(provider_id, customer_id)
    marker = _erased_marker(erasure)
    store.upsert_activities([scrub_activity(a, customer_id, marker, now) for a in activities])
    counts["activities"] = len(activities)

    if not any(counts.values()):
        # Nothing (left) of this customer: the earlier receipt, or 404 when there never was one.
        earlier = store.get_erasure(provider_id, erasure)
        if earlier is None:
            raise ApiError(404, "customer_not_found", "this provider has no data of that customer")
        return earlier
    linked = tuple(sorted(pseudonyms(provider_id, h) for h in handles))
    return store.record_erasure(
        Erasure(provider_id, erasure, pseudonym, now, counts, participant_pseudonyms=linked)
    )
