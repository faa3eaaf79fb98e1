"""Every customer id ingest accepts can be erased: ids drawn from the whole accepted alphabet (every
character but the C0 controls and DEL: slashes, percent signs, every kind of space, C1 controls,
private-use and unassigned code points, any script), registered with a conversation and named in a
rejected event's payload, then erased through ``DELETE /v1/customers/{percent-encoded id}``. The
answer must be a 202 with both found, the failed-events listing must keep answering, and nothing of
the customer may be left."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.schema.fields import MAX_IDENTIFIER_LENGTH, is_identifier
from shared.store import store_for
from tests.fuzz.bodies import RECENT
from tests.fuzz.harness import (
    Campaign,
    World,
    contract_problems,
    error_code,
    fuzz_settings,
    strict_json,
    timeout_for,
)

# Everything Identifier accepts (lone surrogates cannot travel in UTF-8 at all).
ACCEPTED = st.characters(exclude_categories=("Cs",), exclude_characters=[*map(chr, range(0x20)), "\x7f"])
AWKWARD = st.sampled_from(
    [*"/%?#&+=.;\\ \u00a0\u200b\u200e\u2028\ufeff\u0085\ue000\U0010fffdé北🙂", "%2F", "..", "/"]
)
customer_ids = (
    st.lists(st.one_of(AWKWARD, ACCEPTED), min_size=1, max_size=40)
    .map("".join)
    .filter(lambda s: 1 <= len(s) <= MAX_IDENTIFIER_LENGTH)
)
TS = f"{RECENT}T12:00:00Z"


def _call(world: World, campaign: Campaign, method: str, path: str, key: str, body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {key}"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    response = world.ingest.open(
        path, method=method, data=json.dumps(body) if body is not None else None, headers=headers
    )
    payload = response.get_data()
    campaign.case(response.status_code)
    problems = contract_problems(response.status_code, response.headers.get, payload)
    if problems:
        campaign.fail("; ".join(problems), f"{method} {path}")
    return response.status_code, (strict_json(payload) if not problems else None), error_code(payload)


@pytest.mark.timeout(timeout_for(100, 0.2))
def test_every_accepted_customer_id_is_erased_with_its_failed_events(world: World) -> None:
    campaign = Campaign("erasure, ids from the whole accepted alphabet")

    @fuzz_settings(100)
    @given(customer=customer_ids)
    def run(customer: str) -> None:
        assert is_identifier(customer)
        provider_id, key = world.new_provider()
        repro = f"customerId {customer!r}"
        conversation = {
            "conversation": {
                "conversationId": "c-1",
                "channel": "chat",
                "direction": "inbound",
                "conversationTimestamp": TS,
                "customerId": customer,
            }
        }
        status, _, code = _call(world, campaign, "POST", "/v1/conversations", key, conversation)
        if status != 201:
            campaign.fail(f"an accepted-alphabet customerId was refused at ingest ({status} {code})", repro)
            return
        rejected = {
            "conversationId": "elsewhere",
            "providerSessionId": "s-1",
            "events": [
                {
                    "kpiEventName": "NotRegistered",
                    "eventTimestamp": TS,
                    "customData": [{"attribute": "who", "value": customer}],
                }
            ],
        }
        _call(world, campaign, "POST", "/v1/events", key, rejected)

        status, receipt, code = _call(
            world, campaign, "DELETE", f"/v1/customers/{quote(customer, safe='')}", key
        )
        if status != 202 or receipt is None:
            campaign.fail(f"erasure answered {status} {code}", repro)
            return
        counts = receipt["counts"]
        if counts["conversations"] != 1 or counts["failedEvents"] != 1:
            campaign.fail(f"erasure missed data: {counts}", repro)
        listing = world.providers.get(
            f"/v1/providers/{provider_id}/failed-events",
            headers=world.admin,
            query_string={"status": "erased"},
        )
        if listing.status_code != 200 or len(listing.json["items"]) != 1:
            campaign.fail(f"failed-events listing after erasure: {listing.status_code}", repro)
        store = store_for(world.store_url)
        left = store.get_conversation(provider_id, "c-1").data
        if "customerId" in left or store.customer_conversations(provider_id, customer):
            campaign.fail("the conversation still names the customer", repro)

    run()
    campaign.finish()
