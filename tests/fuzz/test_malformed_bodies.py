"""Hypothesis campaigns of malformed bodies against the ingest routes and the operator routes.

Generated bodies break one thing at a time, anywhere: wrong JSON types at every field (nested ones
included), missing and unknown fields (mass assignment), strings past their limits and up to ~40 KB,
deeply nested JSON, unicode edge cases (NUL, lone surrogates escaped as ``\\ud800`` or sent as bytes
that are not UTF-8, RTL overrides, BOM, non-characters), NaN/Infinity, timestamps far in the past and
future, with extreme offsets or without a zone, registry rule violations; and, at the transport level,
missing and wrong content types and charsets, empty bodies, invalid UTF-8, truncated JSON, duplicate
keys, top-level arrays and scalars, nesting thousands deep and bodies past 1 MiB.

Every response: no 5xx; every non-2xx a JSON error with a specific snake_case code (the exact one
where the contract determines it); certainly-invalid input refused, certainly-valid input taken; and
every event or activity rejected in a 200 kept in the failed-events store with its reason and raw
payload (listed through ``GET /v1/providers/{id}/failed-events``), every accepted event stored.

Case counts: ``CA_FUZZ_EXAMPLES`` (see ``harness``) and the ``fuzz:`` terminal summary lines.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.store import store_for
from tests.fuzz.bodies import (
    OPERATOR_BODIES,
    RECENT,
    activity_batches,
    body_level_expectation,
    break_object,
    conversation_bodies,
    definition_names,
    depth,
    encode,
    event_batches,
    has_surrogate,
)
from tests.fuzz.harness import (
    Campaign,
    World,
    check_batch,
    contract_problems,
    error_code,
    fuzz_settings,
    short,
    strict_json,
    timeout_for,
)

pytestmark = pytest.mark.slow

MAX_BODY = 1024 * 1024


def send(client: Any, method: str, path: str, raw: bytes, token: str, content_type: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return client.open(path, method=method, data=raw, headers=headers)


def describe(method: str, path: str, content_type: str | None, raw: bytes) -> str:
    return f"{method} {path} Content-Type: {content_type} body={short(raw, 400)}"


def examine(
    campaign: Campaign, response: Any, repro: str, expected: tuple[int, str | None] | None, body: Any = None
) -> Any:
    """Record the case; check the contract and the expectation. The parsed 2xx body, or None."""
    status = response.status_code
    payload = response.get_data()
    campaign.case(status)
    problems = contract_problems(status, response.headers.get, payload)
    code = error_code(payload) if status >= 300 else None
    levels = depth(body) if body is not None else None
    # The contract sets no nesting limit; the server's is about 32 levels. Near it, either answer goes.
    near_the_limit = levels is not None and 25 <= levels < 40 and code == "json_too_deep"
    # An escaped lone surrogate ("\ud800") may be refused for the whole body or per field.
    surrogate = body is not None and has_surrogate(body) and (status, code) == (400, "invalid_utf8")
    if expected is not None and (status, code) != expected and not (near_the_limit or surrogate):
        problems.append(f"{status} {code} where {expected[0]} {expected[1]} was due")
    if levels is not None and levels < 25 and code == "json_too_deep":
        problems.append(f"json_too_deep for a body only {levels} levels deep")
    if problems:
        # One finding per distinct set of symptoms.
        campaign.fail("; ".join(sorted(set(problems))), repro)
    if 200 <= status < 300 and not problems:
        return strict_json(payload)
    return None


def _body_expectation(body: Any, raw: bytes, ascii_only: bool) -> tuple[int, str] | None:
    return body_level_expectation(body, raw, ascii_only, MAX_BODY)


# -- ingest -----------------------------------------------------------------------------------------


@pytest.mark.timeout(timeout_for(500, 0.05))
def test_events(world: World) -> None:
    campaign = Campaign("bodies POST /v1/events")

    @fuzz_settings(500)
    @given(batch=event_batches(), ascii_only=st.booleans())
    def run(batch: Any, ascii_only: bool) -> None:
        body, verdicts, envelope_verdict = batch
        provider_id, key = world.new_provider()
        raw = encode(body, ascii_only)
        repro = describe("POST", "/v1/events", "application/json", raw)
        expected = _body_expectation(body, raw, ascii_only)
        if expected is None:
            if not isinstance(body, dict):
                expected = (422, "body_not_object")
            elif envelope_verdict is True:
                expected = (422, "invalid_envelope")
            elif envelope_verdict is False:
                expected = (200, None)
        response = send(world.ingest, "POST", "/v1/events", raw, key, "application/json")
        answer = examine(campaign, response, repro, expected, body)
        if answer is not None and response.status_code == 200:
            check_batch(campaign, world, provider_id, "event", body, answer, repro, verdicts)

    run()
    campaign.finish()


@pytest.mark.timeout(timeout_for(400, 0.05))
def test_conversations(world: World) -> None:
    campaign = Campaign("bodies POST /v1/conversations")
    provider_id, key = world.new_provider()
    store = store_for(world.store_url)

    @fuzz_settings(400)
    @given(case=conversation_bodies(), ascii_only=st.booleans())
    def run(case: Any, ascii_only: bool) -> None:
        body, verdict = case
        raw = encode(body, ascii_only)
        repro = describe("POST", "/v1/conversations", "application/json", raw)
        expected = _body_expectation(body, raw, ascii_only)
        if expected is None:
            if not isinstance(body, dict):
                expected = (422, "body_not_object")
            elif verdict is True:
                expected = (422, "validation_failed")
        response = send(world.ingest, "POST", "/v1/conversations", raw, key, "application/json")
        answer = examine(campaign, response, repro, expected, body)
        if verdict is False and expected is None and response.status_code not in (200, 201):
            campaign.fail(f"a valid conversation was answered {response.status_code}", repro)
        if answer is not None:
            conversation_id = body["conversation"]["conversationId"]
            if store.get_conversation(provider_id, conversation_id) is None:
                campaign.fail("a conversation answered 2xx is not in the store", repro)

    run()
    campaign.finish()


@pytest.mark.timeout(timeout_for(400, 0.05))
def test_activities(world: World) -> None:
    campaign = Campaign("bodies POST /v1/activities")

    @fuzz_settings(400)
    @given(batch=activity_batches(), ascii_only=st.booleans())
    def run(batch: Any, ascii_only: bool) -> None:
        body, verdicts, envelope_verdict = batch
        provider_id, key = world.new_provider()
        raw = encode(body, ascii_only)
        repro = describe("POST", "/v1/activities", "application/json", raw)
        expected = _body_expectation(body, raw, ascii_only)
        if expected is None:
            expected = (422, "invalid_envelope") if envelope_verdict else (200, None)
        response = send(world.ingest, "POST", "/v1/activities", raw, key, "application/json")
        answer = examine(campaign, response, repro, expected, body)
        if answer is not None and response.status_code == 200:
            check_batch(campaign, world, provider_id, "activity", body, answer, repro, verdicts)

    run()
    campaign.finish()


# -- operator routes --------------------------------------------------------------------------------

OPERATOR_OK = {
    "POST /v1/providers": {(201, None), (409, "provider_exists")},
    # ops1 has no signing secret: requiring signatures is a conflict, not an error of the body.
    "PATCH /v1/providers/{id}": {(200, None), (409, "signing_secret_required")},
    "POST /v1/providers/{id}/keys": {(201, None)},
    "PUT /v1/providers/{id}/event-definitions/{name}": {(201, None), (200, None), (409, "system_event")},
    "POST /v1/providers/{id}/failed-events/replay": {(200, None)},
}


@pytest.mark.timeout(timeout_for(500, 0.03))
def test_operator_routes(world: World) -> None:
    campaign = Campaign("bodies operator routes")
    token = world.admin["Authorization"].removeprefix("Bearer ")
    world.new_provider(provider_id="ops1")

    @st.composite
    def cases(draw: st.DrawFn) -> tuple[str, str, Any, bool | None]:
        route = draw(st.sampled_from(sorted(OPERATOR_BODIES)))
        valid, fields, reserved = OPERATOR_BODIES[route]
        body = draw(valid)
        verdict: bool | None = False
        if draw(st.integers(0, 9)) >= 3:
            body, verdict = draw(break_object(body, fields, reserved))
        path = route.split(" ", 1)[1].replace("{id}", "ops1")
        path = path.replace("{name}", draw(definition_names))
        return route, path, body, verdict

    @fuzz_settings(500)
    @given(case=cases(), ascii_only=st.booleans())
    def run(case: Any, ascii_only: bool) -> None:
        route, path, body, verdict = case
        method = route.split(" ", 1)[0]
        raw = encode(body, ascii_only)
        repro = describe(method, path, "application/json", raw)
        expected = _body_expectation(body, raw, ascii_only)
        if expected is None:
            if not isinstance(body, dict):
                expected = (422, "body_not_object")
            elif verdict is True:
                expected = (422, "validation_failed")
        response = send(world.providers, method, path, raw, token, "application/json")
        examine(campaign, response, repro, expected, body)
        if verdict is False and expected is None:
            got = (
                response.status_code,
                error_code(response.get_data()) if response.status_code >= 300 else None,
            )
            if got not in OPERATOR_OK[route]:
                campaign.fail(f"{route}: a valid body was answered {got[0]} {got[1]}", repro)

    run()
    campaign.finish()


# -- the transport: content types, encodings, JSON syntax, sizes ------------------------------------

EVENT = {"kpiEventName": "ChatStarted", "eventTimestamp": f"{RECENT}T00:00:00Z"}
ACTIVITY = {
    "activityId": "a1",
    "activityType": "email",
    "regardingType": "account",
    "regardingId": "r1",
    "startTimestamp": f"{RECENT}T00:00:00Z",
    "parties": [{"partyId": "p1", "side": "us", "role": "from"}],
}
# (function, method, path, a valid body, body required, statuses meaning "taken")
ROUTES: list[tuple[str, str, str, dict[str, Any], bool, set[tuple[int, str | None]]]] = [
    (
        "ingest",
        "POST",
        "/v1/events",
        {"conversationId": "c1", "providerSessionId": "s1", "events": [EVENT]},
        True,
        {(200, None)},
    ),
    (
        "ingest",
        "POST",
        "/v1/conversations",
        {
            "conversation": {
                "conversationId": "c1",
                "channel": "chat",
                "direction": "inbound",
                "conversationTimestamp": f"{RECENT}T00:00:00Z",
            }
        },
        True,
        {(200, None), (201, None)},
    ),
    ("ingest", "POST", "/v1/activities", {"activities": [ACTIVITY]}, True, {(200, None)}),
    (
        "providers",
        "POST",
        "/v1/providers",
        {"providerId": "newcomer", "name": "Newcomer"},
        True,
        {(201, None), (409, "provider_exists")},
    ),
    ("providers", "PATCH", "/v1/providers/ops1", {"enableAnalytics": True}, True, {(200, None)}),
    ("providers", "POST", "/v1/providers/ops1/keys", {"revokeOthers": False}, False, {(201, None)}),
    (
        "providers",
        "PUT",
        "/v1/providers/ops1/event-definitions/CustomThing",
        {"description": "a custom event"},
        True,
        {(200, None), (201, None)},
    ),
    (
        "providers",
        "POST",
        "/v1/providers/ops1/failed-events/replay",
        {"limit": 10},
        False,
        {(200, None)},
    ),
]
REFUSED_TYPES = [
    None,
    "",
    "text/plain",
    "text/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "application/xml",
    "application/octet-stream",
]
WRONG_CHARSETS = [
    "application/json; charset=latin-1",
    "application/json; charset=utf-16",
    "application/json; charset=cp1252",
]
JSON_TYPES = [
    "application/json; charset=UTF-8",
    "application/json;charset=utf8",
    "APPLICATION/JSON",
    "application/vnd.api+json",
    "application/merge-patch+json",
]
INVALID_UTF8 = [
    b"\xff",
    b"\xfe\xff",
    b"\xc3\x28",
    b"\xed\xa0\x80",
    b"\xc0\xaf",
    b"\xf8\x88\x80\x80\x80",
    b"\x80",
]
TAKEN = "taken"


@st.composite
def transport_cases(draw: st.DrawFn) -> tuple[int, str, str | None, bytes, Any]:
    """``(route index, label, content type, raw body, expectation)``; the expectation is a
    ``(status, code)``, ``TAKEN`` (the route's success answer) or None (invariants only)."""
    index = draw(st.integers(0, len(ROUTES) - 1))
    _, _, _, base, required, _ = ROUTES[index]
    text = json.dumps(base)
    first_key = next(iter(base))
    kind = draw(
        st.sampled_from(
            [
                "content_type",
                "charset",
                "json_type",
                "empty",
                "invalid_utf8",
                "truncated",
                "duplicate_key",
                "nested_duplicate_key",
                "non_finite",
                "not_object",
                "deep",
                "oversized",
                "at_the_limit",
                "bom",
                "garbage",
                "whitespace",
            ]
        )
    )
    ctype: str | None = "application/json"
    raw = text.encode()
    expected: Any = None
    if kind == "content_type":
        ctype = draw(st.sampled_from(REFUSED_TYPES))
        expected = (415, "unsupported_media_type")
    elif kind == "charset":
        ctype = draw(st.sampled_from(WRONG_CHARSETS))
        expected = (415, "unsupported_charset")
    elif kind == "json_type":
        ctype = draw(st.sampled_from(JSON_TYPES))
        expected = TAKEN
    elif kind == "empty":
        raw = b""
        expected = (400, "empty_body") if required else TAKEN
    elif kind == "invalid_utf8":
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.sampled_from(INVALID_UTF8)) + raw[at:]
        expected = (400, "invalid_utf8")
    elif kind == "truncated":
        raw = raw[: draw(st.integers(1, len(raw) - 1))]
        expected = (400, "malformed_json")
    elif kind == "duplicate_key":
        dup = json.dumps({first_key: draw(st.sampled_from([1, "x", None, [], {}]))})[1:-1]
        raw = ("{" + dup + ", " + text[1:]).encode()
        expected = (400, "duplicate_json_key")
    elif kind == "nested_duplicate_key":
        raw = text.replace('"ChatStarted"', '"ChatStarted", "kpiEventName": "ChatStarted"', 1).encode()
        raw = raw.replace(b'"channel": "chat"', b'"channel": "chat", "channel": "voice"', 1)
        raw = raw.replace(b'"activityId": "a1"', b'"activityId": "a1", "activityId": "a2"', 1)
        expected = (400, "duplicate_json_key") if raw != text.encode() else TAKEN
    elif kind == "non_finite":
        literal = draw(st.sampled_from(["NaN", "Infinity", "-Infinity"]))
        where = draw(st.sampled_from(["top", "nested"]))
        field = f'"zz": {literal}' if where == "top" else f'"zz": [1, {{"a": {literal}}}]'
        raw = ("{" + field + ", " + text[1:]).encode()
        expected = (400, "malformed_json")
    elif kind == "not_object":
        raw = draw(
            st.sampled_from(
                [b"[]", b"[" + text.encode() + b"]", b'"text"', b"42", b"true", b"null", b"-0.5e3"]
            )
        )
        expected = (422, "body_not_object")
    elif kind == "deep":
        levels = draw(st.sampled_from([40, 64, 100, 1000, 50_000]))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        raw = (opener * levels + "1" + closer * levels).encode()
        expected = (400, "json_too_deep")
    elif kind == "oversized":
        pad = MAX_BODY + draw(st.integers(1, 4096))
        raw = ('{"pad": "' + "x" * pad + '"}').encode()
        expected = (413, "body_too_large")
    elif kind == "at_the_limit":
        filler = MAX_BODY - len(text) - len(', "pad": ""')
        raw = (text[:-1] + ', "pad": "' + "x" * filler + '"}').encode()
        assert len(raw) == MAX_BODY
        expected = None  # not too large; the unknown field may be refused, as anything but 413
    elif kind == "bom":
        raw = b"\xef\xbb\xbf" + raw
    elif kind == "garbage":
        raw = draw(st.binary(min_size=1, max_size=64))
    elif kind == "whitespace":
        raw = b" \r\n\t" + raw + b"\n "
        expected = TAKEN
    return index, kind, ctype, raw, expected


@pytest.mark.timeout(timeout_for(800, 0.03))
def test_transport(world: World) -> None:
    campaign = Campaign("transport, all body routes")
    _, key = world.new_provider()
    world.new_provider(provider_id="ops1")
    token = {"ingest": key, "providers": world.admin["Authorization"].removeprefix("Bearer ")}
    client = {"ingest": world.ingest, "providers": world.providers}

    @fuzz_settings(800)
    @given(case=transport_cases())
    def run(case: Any) -> None:
        index, kind, ctype, raw, expected = case
        function, method, path, _, _, taken = ROUTES[index]
        repro = f"[{kind}] " + describe(method, path, ctype, raw)
        response = send(client[function], method, path, raw, token[function], ctype)
        got = (response.status_code, error_code(response.get_data()) if response.status_code >= 300 else None)
        examine(campaign, response, repro, None if expected == TAKEN else expected)
        if expected == TAKEN and got not in taken:
            campaign.fail(f"[{kind}] {method} {path}: a valid body was answered {got[0]} {got[1]}", repro)
        if kind == "at_the_limit" and got[0] == 413:
            campaign.fail(f"[{kind}] a body of exactly {MAX_BODY} bytes was refused as too large", repro)
        if kind == "garbage" and got[0] == 415:
            campaign.fail("[garbage] answered 415 although the Content-Type was application/json", repro)

    run()
    campaign.finish()
