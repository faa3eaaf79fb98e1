"""Timestamps that look like ISO 8601 but name no instant get one clear error each, not a parser's
"unexpected extra characters" (a leap second, an offset without minutes, a time of day out of range)."""

from __future__ import annotations

import pytest

from tests.http.support import batch, event


@pytest.mark.parametrize(
    ("stamp", "says"),
    [
        ("2026-06-30T23:59:60Z", "leap second"),
        ("2026-06-30T12:00:00+05", "+05:00"),
        ("2026-06-30T12:00:00-11", "-11:00"),
        ("2026-06-30T24:00:00Z", "time of day out of range"),
        ("2026-06-30T12:61:00Z", "time of day out of range"),
        ("2026-06-30T12:00:00+24:00", "offset out of range"),
        ("2026-06-30T12:00:00", "time zone"),
        ("1717243200", "ISO 8601"),
    ],
)
def test_each_malformed_timestamp_gets_one_clear_message(world, acme, stamp, says):
    body = world.ingest.post("/v1/events", json=batch(event(eventTimestamp=stamp)), headers=acme).json
    error = body["results"][0]["error"]
    assert error["code"] == "invalid_event"
    assert [d["field"] for d in error["details"]] == ["eventTimestamp"]
    assert says in error["details"][0]["message"], error["details"][0]["message"]


@pytest.mark.parametrize(
    "stamp", ["2026-06-30T12:00:00+0530", "2026-06-30T12:00+05:30", "2026-06-30t12:00:00.123456789z"]
)
def test_other_iso_spellings_of_an_instant_are_accepted(world, acme, stamp):
    body = world.ingest.post("/v1/events", json=batch(event(eventTimestamp=stamp)), headers=acme).json
    assert body["accepted"] == 1, body
