"""Which warehouse columns hold customer identifiers, and how they are pseudonymised on the way in.

Applied to every row the aggregation stages, before it leaves the process: no raw customer
identifier reaches a warehouse table (docs/privacy.md has the inventory). Agents, bots, queues,
accounts and opportunities keep their ids: they are what supervisors slice KPIs by.

- conversations: ``customer_id``, ``contact_id`` and ``external_contact_id`` (a CRM contact is a
  person, in this system or another);
- participants: the id and the external id of every ``customer`` participant;
- events: ``participant_id``, except on the agent-desk session events (offer, accept, focus, close,
  wrap-up), which CIF logs from the agent's desktop and the session KPIs match to agent participants;
- activities: ``regarding_id`` of a contact or lead, and every customer-side party's id (its name is
  dropped: names never reach the warehouse), in ``parties`` and in ``raw_activity_parties`` alike.
"""

from __future__ import annotations

from typing import Any

from shared.kpi.families.sessions import SESSION_EVENTS
from shared.privacy.pseudonym import Pseudonymizer
from shared.warehouse.tables import (
    RAW_ACTIVITIES,
    RAW_ACTIVITY_PARTIES,
    RAW_CONVERSATIONS,
    RAW_EVENTS,
    RAW_PARTICIPANTS,
    Table,
)

Row = dict[str, Any]

AGENT_DESK_EVENTS = frozenset(SESSION_EVENTS)
PERSON_RECORD_TYPES = frozenset({"contact", "lead"})


def _conversation(row: Row, hash_: Pseudonymizer) -> None:
    for column in ("customer_id", "contact_id", "external_contact_id"):
        row[column] = hash_.optional(row["provider_id"], row[column])


def _participant(row: Row, hash_: Pseudonymizer) -> None:
    if row["participant_type"] == "customer":
        row["participant_id"] = hash_(row["provider_id"], row["participant_id"])
        row["external_participant_id"] = hash_.optional(row["provider_id"], row["external_participant_id"])


def _event(row: Row, hash_: Pseudonymizer) -> None:
    if row["name"] not in AGENT_DESK_EVENTS:
        row["participant_id"] = hash_.optional(row["provider_id"], row["participant_id"])


def _activity(row: Row, hash_: Pseudonymizer) -> None:
    provider_id = row["provider_id"]
    if row["regarding_type"] in PERSON_RECORD_TYPES:
        row["regarding_id"] = hash_(provider_id, row["regarding_id"])
    parties = []
    for party in row["parties"]:
        if party.get("side") == "customer":
            party = {k: v for k, v in party.items() if k != "name"}
            party["partyId"] = hash_(provider_id, party["partyId"])
        parties.append(party)
    row["parties"] = parties


def _activity_party(row: Row, hash_: Pseudonymizer) -> None:
    if row["side"] == "customer":
        row["party_id"] = hash_(row["provider_id"], row["party_id"])


_POLICY = {
    RAW_CONVERSATIONS.name: _conversation,
    RAW_PARTICIPANTS.name: _participant,
    RAW_EVENTS.name: _event,
    RAW_ACTIVITIES.name: _activity,
    RAW_ACTIVITY_PARTIES.name: _activity_party,
}


def pseudonymise_rows(table: Table, rows: list[Row], hash_: Pseudonymizer) -> list[Row]:
    """``rows`` of ``table`` with every customer identifier replaced by its pseudonym (in place)."""
    apply = _POLICY.get(table.name)
    if apply is not None:
        for row in rows:
            apply(row, hash_)
    return rows
