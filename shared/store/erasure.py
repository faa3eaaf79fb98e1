"""Store records and lookup keys of customer erasure (docs/privacy.md).

An ``Erasure`` is the non-personal receipt of one erasure request: the customer's pseudonym (never
the identifier), the provider, when it was asked for and applied, and how much was erased. It
survives the erasure, so a repeated request answers with the same receipt and counts once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.store.records import scoped_id

PERSON_RECORD_TYPES = ("contact", "lead")


def customer_key(provider_id: str, customer_id: str | None) -> str | None:
    """The indexed lookup key of a customer's store documents (the data itself is opaque JSON).

    A plain hash is enough here: the same document holds the identifier itself until it is erased,
    and then the key goes with it.
    """
    return None if customer_id is None else scoped_id(provider_id, "customer", customer_id)


def activity_customer_keys(provider_id: str, data: dict[str, Any]) -> list[str]:
    """Keys of the customers an activity is about: customer-side parties and a contact or lead."""
    ids = {p["partyId"] for p in data.get("parties", []) if p.get("side") == "customer"}
    if data.get("regardingType") in PERSON_RECORD_TYPES:
        ids.add(data["regardingId"])
    return sorted(scoped_id(provider_id, "customer", i) for i in ids)


@dataclass(frozen=True, slots=True)
class Erasure:
    """One customer's erasure. ``status`` is ``pending`` until the warehouse has applied it."""

    provider_id: str
    erasure_id: str
    pseudonym: str
    requested_at: datetime
    counts: dict[str, int] = field(default_factory=dict)
    status: str = "pending"  # pending | applied
    applied_at: datetime | None = None
    # Pseudonyms of the customer's participant ids where they differ from the customer id.
    participant_pseudonyms: tuple[str, ...] = ()

    @property
    def doc_id(self) -> str:
        return scoped_id(self.provider_id, "erasure", self.erasure_id)
