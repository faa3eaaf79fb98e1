"""Rejected payloads are kept within a bound: past 64 KiB only their start, with the whole payload's
size and sha256, so a failed event always fits a Firestore document; retries still keep it once."""

from __future__ import annotations

import hashlib

from shared.ingest.canonical import canonical_json
from shared.store.records import MAX_KEPT_PAYLOAD_BYTES
from tests.http.support import batch, event


def test_an_oversized_rejected_event_is_kept_truncated_with_its_digest(world, acme):
    huge = event("CallHold", eventId="huge", additionalData="é" * 150_000)  # 300 kB of UTF-8
    body = batch(huge)
    first = world.ingest.post("/v1/events", json=body, headers=acme).json
    assert first["results"][0]["error"]["code"] == "event_too_large"
    world.ingest.post("/v1/events", json=body, headers=acme)  # a retry keeps it once

    [kept] = world.failed("acme")
    whole = canonical_json(huge).encode()
    assert kept["payloadTruncated"] is True
    assert kept["payloadBytes"] == len(whole)
    assert kept["payloadDigest"] == hashlib.sha256(whole).hexdigest()
    assert isinstance(kept["payload"], str) and len(kept["payload"].encode()) <= MAX_KEPT_PAYLOAD_BYTES
    assert whole.decode().startswith(kept["payload"])

    replay = world.providers.post(
        "/v1/providers/acme/failed-events/replay", json={"failedIds": [kept["failedId"]]}, headers=world.admin
    ).json
    assert replay["results"][0]["error"]["code"] == "payload_truncated"


def test_payloads_that_could_be_replayed_are_kept_whole(world, acme):
    near = event("NoSuchEvent", eventId="near", additionalData="x" * 30_000)
    world.ingest.post("/v1/events", json=batch(near), headers=acme)
    [kept] = world.failed("acme")
    assert kept["payloadTruncated"] is False and kept["payload"] == near
    assert kept["payloadBytes"] is None and kept["payloadDigest"] is None
