"""Every customer id ingest accepts can be erased, with its failed events, and the operator's listing
keeps working afterwards (issue: ids with '/', no-break or zero-width spaces; non-ASCII payloads)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from tests.http.support import World, assert_error, batch, conversation, custom, event

AWKWARD = [
    "acct/42",
    "/leading-slash",
    "trailing-slash/",
    "a//b",
    "no\u00a0break space",
    "zero\u200bwidth",
    "José Müller",
    "%2F already encoded",
    "what?#fragment&x=1",
    "..",
    ".",
    "emoji 🙂",
    "c1\u0085control",
    "\u2028line separator",
    "x" * 100,
]


def _erase(world: World, auth: dict[str, str], customer: str) -> Any:
    return world.ingest.delete(f"/v1/customers/{quote(customer, safe='')}", headers=auth)


def _customer_with_failed_events(world: World, auth: dict[str, str], customer: str, n: int) -> None:
    """A conversation of ``customer`` with one rejected event, and a rejected event elsewhere whose
    payload names the customer (no conversation link: only the payload can find it)."""
    resp = world.ingest.post(
        "/v1/conversations", json=conversation(f"c-{n}", customerId=customer), headers=auth
    )
    assert resp.status_code == 201, resp.json
    rejected = event("NoSuchEvent", eventId=f"e-{n}")
    assert (
        world.ingest.post("/v1/events", json=batch(rejected, conversation_id=f"c-{n}"), headers=auth).json[
            "rejected"
        ]
        == 1
    )
    naming = event("AlsoUnknown", eventId=f"x-{n}", customData=custom(customer=customer))
    answer = world.ingest.post("/v1/events", json=batch(naming, conversation_id=f"other-{n}"), headers=auth)
    assert answer.json["rejected"] == 1


def test_every_accepted_customer_id_can_be_erased_with_its_failed_events(world: World) -> None:
    provider, auth = world.provider()
    for n, customer in enumerate(AWKWARD):
        _customer_with_failed_events(world, auth, customer, n)
    assert len(world.failed(provider, "open")) == 2 * len(AWKWARD)

    for n, customer in enumerate(AWKWARD):
        resp = _erase(world, auth, customer)
        assert resp.status_code == 202, (customer, resp.json)
        assert resp.json["counts"]["conversations"] == 1, customer
        assert resp.json["counts"]["failedEvents"] == 2, customer
        # The conversation lost the customer; the neighbours' data is untouched.
        assert "customerId" not in world.store.get_conversation(provider, f"c-{n}").data

    # The listing answers after erasures, and filters on the new status.
    assert world.failed(provider, "open") == []
    erased = world.failed(provider, "erased")
    assert len(erased) == 2 * len(AWKWARD)
    assert {f["status"] for f in world.failed(provider)} == {"erased"}
    for item in erased:
        assert item["payload"] is None and item["envelope"] == {}


def test_a_slash_at_the_end_is_part_of_the_id_never_dropped(world: World) -> None:
    provider, auth = world.provider()
    for n, customer in enumerate(("acct", "acct/")):
        world.ingest.post("/v1/conversations", json=conversation(f"c-{n}", customerId=customer), headers=auth)
    assert _erase(world, auth, "acct/").status_code == 202
    assert world.store.get_conversation(provider, "c-0").data["customerId"] == "acct"
    assert "customerId" not in world.store.get_conversation(provider, "c-1").data


def test_a_non_ascii_id_in_a_failed_payload_is_found_whatever_its_escaping(world: World) -> None:
    """The payload is kept as canonical JSON (UTF-8, unescaped): matching the escaped form missed it."""
    provider, auth = world.provider()
    customer = "Zoë Ångström 北京"
    world.ingest.post("/v1/conversations", json=conversation("c-1", customerId=customer), headers=auth)
    world.ingest.post(
        "/v1/events",
        json=batch(event("Unknown1", customData=custom(who=customer)), conversation_id="elsewhere"),
        headers=auth,
    )
    assert customer in world.store.list_failed_events(provider, None, 10).items[0].payload
    assert _erase(world, auth, customer).json["counts"]["failedEvents"] == 1
    assert world.failed(provider, "erased")[0]["payload"] is None


@pytest.mark.parametrize("customer", ["", "tab\there", "nul\x00", "del\x7f", "x" * 101])
def test_ids_ingest_refuses_are_refused_by_erasure_too(world: World, customer: str) -> None:
    provider, auth = world.provider()
    refused = world.ingest.post(
        "/v1/conversations", json=conversation("c-1", customerId=customer), headers=auth
    )
    # CIF sends "" for every field it has no value for: an empty id is "not sent", never an id.
    assert refused.status_code == (201 if customer == "" else 422)
    stored = world.store.get_conversation(provider, "c-1")
    assert stored is None or "customerId" not in stored.data
    if customer:
        assert_error(_erase(world, auth, customer), 422, "invalid_customer_id")
    else:
        assert_error(world.ingest.delete("/v1/customers/", headers=auth), 404, "route_not_found")
