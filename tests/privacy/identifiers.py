"""The raw customer identifiers a generated day of traffic carries, read from its request bodies."""

from __future__ import annotations

from typing import Any

from tools.traffic import Traffic

PERSON_RECORDS = ("contact", "lead")


def customer_identifiers(traffic: Traffic) -> set[str]:
    """Every value in the input that identifies a customer: ids, contact ids, customer participant
    ids and names, customer-side activity parties and the contacts activities are about."""
    found: set[str] = set()
    for request in traffic.requests:
        body: dict[str, Any] = request.body
        conversation = body.get("conversation")
        if isinstance(conversation, dict):
            for field in ("customerId", "contactId"):
                if conversation.get(field):
                    found.add(conversation[field])
            sessions = conversation.get("sessions") or [conversation.get("session") or {}]
            for session in sessions:
                for participant in session.get("participants", []):
                    if participant.get("participantType") == "customer":
                        found.add(participant["participantId"])
                        if participant.get("participantName"):
                            found.add(participant["participantName"])
        for activity in body.get("activities", []):
            if not isinstance(activity, dict):
                continue
            if activity.get("regardingType") in PERSON_RECORDS:
                found.add(activity["regardingId"])
            for party in activity.get("parties", []):
                if isinstance(party, dict) and party.get("side") == "customer":
                    found.add(party["partyId"])
                    if party.get("name"):
                        found.add(party["name"])
    return found
