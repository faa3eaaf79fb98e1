"""Every error code the two functions can answer, each with its exact status and the v1 error shape.

The contract checks common to all responses (JSON, ``{"error": {"code","message","details"}}``, no
5xx, no traceback, security headers) run on every call through ``support.Checked``.
"""

from __future__ import annotations

import io
import json
import time

import pytest

from shared.config import reset_settings
from shared.endpoints import ingest as ingest_routes
from shared.endpoints import providers as provider_routes
from shared.ingest.canonical import canonical_json
from shared.store.codec import encode_cursor
from tests.http.support import (
    activity,
    assert_error,
    batch,
    bearer,
    conversation,
    event,
)

JSON = {"Content-Type": "application/json"}
INGEST_WRITES = ["/v1/conversations", "/v1/events", "/v1/activities"]


def _concrete(rule: str) -> str:
    return (
        rule.replace("<provider_id>", "acme")
        .replace("<name>", "MyEvent")
        .replace("<subscription_id>", "sub-1")
        .replace("<threshold_id>", "th-1")
    )


# Taken from the route tables, so a new route is held to the auth rules without anyone listing it.
OPERATOR_ROUTES = [(r.method, _concrete(r.rule)) for r in provider_routes.ROUTES]
PROVIDER_ROUTES = [(r.method, r.rule) for r in ingest_routes.ROUTES]
WRITE_ROUTES = [r.rule for r in ingest_routes.ROUTES if r.needs_analytics]


# -- 400: the request cannot be read ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b'{"conversationId": "c", ', "malformed_json"),
        (b"{'single': 'quotes'}", "malformed_json"),
        (b'{"a": NaN}', "malformed_json"),
        (b'{"a": -Infinity}', "malformed_json"),
        (b'{"a": 1e400}', "malformed_json"),
        (b'{"a": ' + b"9" * 5000 + b"}", "malformed_json"),
        (b'{"a": 1, "a": 2}', "duplicate_json_key"),
        (b'{"outer": {"k": 1, "k": 1}}', "duplicate_json_key"),
        (b'{"a": "caf\xe9"}', "invalid_utf8"),
        (b'{"a": "\\ud800"}', "invalid_utf8"),
        (b'{"\\udfff": 1}', "invalid_utf8"),
        (b"", "empty_body"),
        (b"[" * 40 + b"]" * 40, "json_too_deep"),
        (b'{"a":' * 33 + b"1" + b"}" * 33, "json_too_deep"),
        (b"[" * 100_000 + b"]" * 100_000, "json_too_deep"),
    ],
    ids=lambda v: v.decode("latin-1")[:24] if isinstance(v, bytes) else v,
)
@pytest.mark.parametrize("path", INGEST_WRITES)
def test_unreadable_bodies_are_400(world, acme, path, raw, code):
    resp = world.ingest.post(path, data=raw, headers={**acme, **JSON})
    err = assert_error(resp, 400, code)
    assert err["message"]


def test_unreadable_body_on_operator_routes_is_400(world):
    resp = world.providers.post(
        "/v1/providers", data=b'{"providerId": "x", "providerId": "y"}', headers={**world.admin, **JSON}
    )
    assert_error(resp, 400, "duplicate_json_key")
    resp = world.providers.patch("/v1/providers/acme", data=b"", headers={**world.admin, **JSON})
    assert_error(resp, 400, "empty_body")


@pytest.mark.parametrize(
    "query",
    [
        "limit=abc",
        "limit=0",
        "limit=501",
        "limit=-1",
        "limit=%2B5",
        "limit=5_0",
        "limit=",
        "limit=1e2",
        "status=bogus",
        "status=OPEN",
    ],
)
def test_invalid_query_is_400(world, acme, query):
    resp = world.providers.get(f"/v1/providers/acme/failed-events?{query}", headers=world.admin)
    assert_error(resp, 400, "invalid_query")


@pytest.mark.parametrize("query", ["limit=x", "limit=1000"])
def test_invalid_query_on_audit_is_400(world, acme, query):
    assert_error(
        world.providers.get(f"/v1/providers/acme/audit?{query}", headers=world.admin), 400, "invalid_query"
    )


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "%%%",
        encode_cursor("only-one-part"),
        encode_cursor("a", "b", "c"),
        encode_cursor({"a": 1}, "b"),
        encode_cursor(1, 2),
        encode_cursor(None, "x"),
        "eyJhIjoxfQ==",  # base64 of {"a":1}: JSON, but not a list
    ],
)
@pytest.mark.parametrize("route", ["failed-events", "audit"])
def test_invalid_cursor_is_400(world, acme, route, cursor):
    resp = world.providers.get(
        f"/v1/providers/acme/{route}", query_string={"cursor": cursor}, headers=world.admin
    )
    assert_error(resp, 400, "invalid_cursor")


@pytest.mark.parametrize("actor", ["", "x" * 101, "tab\there", "nul\x7f"])
def test_invalid_actor_is_400(world, acme, actor):
    resp = world.providers.get("/v1/providers/acme", headers={**world.admin, "X-Analytics-Actor": actor})
    assert_error(resp, 400, "invalid_actor")


def test_non_ascii_actor_is_400(world, acme):
    # Werkzeug reads header bytes as latin-1; a UTF-8 name arrives as non-ASCII text and is refused.
    headers = {**world.admin, "X-Analytics-Actor": "Zoë".encode().decode("latin-1")}
    assert_error(world.providers.get("/v1/providers/acme", headers=headers), 400, "invalid_actor")


# -- 401: no or invalid credentials -----------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), PROVIDER_ROUTES)
def test_provider_routes_without_credentials_are_401(world, method, path):
    resp = world.ingest.open(path, method=method, json={})
    assert_error(resp, 401, "missing_credentials")
    assert resp.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path"), OPERATOR_ROUTES)
def test_operator_routes_without_credentials_are_401(world, method, path):
    resp = world.providers.open(path, method=method, json={})
    assert_error(resp, 401, "missing_credentials")


@pytest.mark.parametrize(
    "header",
    [
        "Basic YWRtaW46YWRtaW4=",
        "Bearer",
        "Bearer    ",
        "Token abc",
        "bearer",
        "cak_0123456789abcdef_secret",  # a key without the scheme
    ],
)
def test_malformed_authorization_header_is_401(world, acme, header):
    resp = world.ingest.post("/v1/events", json=batch(event()), headers={"Authorization": header})
    assert_error(resp, 401, "invalid_credentials")
    assert "invalid_token" in resp.headers["WWW-Authenticate"]


def test_wrong_keys_are_401(world, acme):
    real = world.keys["acme"]
    key_id = real.split("_")[1]
    wrong = [
        "cak_" + key_id + "_" + "A" * 43,  # the real key id with another secret
        "cak_ffffffffffffffff_" + real.split("_", 2)[2],  # the real secret under an unknown id
        real[:-1] + ("A" if real[-1] != "A" else "B"),  # one character changed
        real + "x",
        "cak_NOTHEXNOTHEXNOTH_secret",
        "not-a-key-at-all",
        "test-admin-token",  # the operator token is not a provider key
    ]
    for key in wrong:
        resp = world.ingest.post("/v1/events", json=batch(event()), headers=bearer(key))
        assert_error(resp, 401, "invalid_credentials")
    assert world.ingest.post("/v1/events", json=batch(event()), headers=acme).status_code == 200


def test_wrong_operator_token_is_401(world):
    resp = world.providers.get("/v1/providers/acme", headers=bearer("not-the-token"))
    assert_error(resp, 401, "invalid_credentials")


def test_key_revoked_by_rotation_with_revoke_others_is_401(world, acme):
    rotated = world.providers.post(
        "/v1/providers/acme/keys", json={"revokeOthers": True}, headers=world.admin
    )
    assert rotated.status_code == 201
    resp = world.ingest.post("/v1/events", json=batch(event()), headers=acme)
    assert_error(resp, 401, "invalid_credentials")
    ok = world.ingest.post("/v1/events", json=batch(event()), headers=bearer(rotated.json["apiKey"]))
    assert ok.status_code == 200


def test_old_key_works_during_grace_and_is_401_after_it(world, acme, monkeypatch):
    monkeypatch.setenv("ANALYTICS_KEY_ROTATION_GRACE_SECONDS", "1")
    reset_settings()
    rotated = world.providers.post("/v1/providers/acme/keys", headers=world.admin)
    assert rotated.status_code == 201
    new = bearer(rotated.json["apiKey"])
    # Within the grace period both keys work.
    assert world.ingest.post("/v1/events", json=batch(event(offset_s=1)), headers=acme).status_code == 200
    assert world.ingest.post("/v1/events", json=batch(event(offset_s=2)), headers=new).status_code == 200
    time.sleep(1.1)
    assert_error(
        world.ingest.post("/v1/events", json=batch(event(offset_s=3)), headers=acme),
        401,
        "invalid_credentials",
    )
    assert world.ingest.post("/v1/events", json=batch(event(offset_s=4)), headers=new).status_code == 200


# -- 403: not allowed -------------------------------------------------------------------------------


def test_every_write_route_needs_analytics():
    assert sorted(WRITE_ROUTES) == sorted(INGEST_WRITES)
    assert len(OPERATOR_ROUTES) == 20 and all(r.auth == "admin" for r in provider_routes.ROUTES)


@pytest.mark.parametrize("path", INGEST_WRITES)
def test_analytics_disabled_is_403_and_stores_nothing(world, path):
    provider_id, key = world.provider("quiet", analytics=False)
    bodies = {
        "/v1/conversations": conversation(),
        "/v1/events": batch(event(eventId="e-1"), event("Nope")),
        "/v1/activities": {"activities": [activity()]},
    }
    err = assert_error(world.ingest.post(path, json=bodies[path], headers=key), 403, "analytics_disabled")
    assert "quiet" in err["message"]
    assert world.store.get_conversation(provider_id, "conv-1") is None
    assert world.store.get_event(provider_id, "e-1") is None
    assert world.failed(provider_id) == []
    # Reading the event registry needs no analytics.
    assert world.ingest.get("/v1/event-definitions", headers=key).status_code == 200


@pytest.mark.parametrize(("method", "path"), OPERATOR_ROUTES)
def test_provider_key_on_operator_route_is_403(world, acme, method, path):
    resp = world.providers.open(path, method=method, json={"enableAnalytics": True}, headers=acme)
    assert_error(resp, 403, "admin_only")


# -- 404 / 405 --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/providers/ghost", None),
        ("PATCH", "/v1/providers/ghost", {"enableAnalytics": True}),
        ("POST", "/v1/providers/ghost/keys", None),
        ("GET", "/v1/providers/ghost/keys", None),
        ("GET", "/v1/providers/ghost/audit", None),
        ("GET", "/v1/providers/ghost/event-definitions", None),
        ("PUT", "/v1/providers/ghost/event-definitions/MyEvent", {}),
        ("GET", "/v1/providers/ghost/failed-events", None),
        ("POST", "/v1/providers/ghost/failed-events/replay", {}),
        ("GET", "/v1/providers/NOT%20AN%20ID", None),
        ("GET", "/v1/providers/" + "a" * 5000, None),
    ],
)
def test_unknown_provider_is_404(world, method, path, body):
    kwargs = {"json": body} if body is not None else {}
    err = assert_error(
        world.providers.open(path, method=method, headers=world.admin, **kwargs), 404, "provider_not_found"
    )
    assert len(err["message"]) < 200  # an id is echoed, but bounded


@pytest.mark.parametrize("client", ["ingest", "providers"])
@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/v2/events",
        "/v1/providers/acme/nope",
        "/robots.txt",
        "/favicon.ico",
        "/v1",
        "/v1//events",
        "/v1/events//",
        "/v1/providers//acme",
        "/v1/events%0A",
        "/v1/providers/ac%0Ame",
    ],
)
def test_unknown_route_is_404(world, acme, client, path):
    resp = getattr(world, client).get(path, headers=world.admin if client == "providers" else acme)
    assert_error(resp, 404, "route_not_found")


@pytest.mark.parametrize(
    ("client", "method", "path", "allow"),
    [
        ("ingest", "GET", "/v1/events", "POST"),
        ("ingest", "DELETE", "/v1/conversations", "POST"),
        ("ingest", "PUT", "/v1/activities", "POST"),
        ("ingest", "POST", "/v1/event-definitions", "GET, HEAD"),
        ("ingest", "POST", "/healthz", "GET, HEAD"),
        ("ingest", "OPTIONS", "/v1/events", "POST"),
        ("providers", "DELETE", "/v1/providers/acme", "GET, HEAD, PATCH"),
        ("providers", "PUT", "/v1/providers", "POST"),
        ("providers", "DELETE", "/v1/providers/acme/keys", "GET, HEAD, POST"),
        ("providers", "POST", "/v1/providers/acme/event-definitions/X", "PUT"),
        ("providers", "GET", "/v1/providers/acme/failed-events/replay", "POST"),
        ("providers", "TRACE", "/openapi.json", "GET, HEAD"),
    ],
)
def test_wrong_method_is_405_with_allow(world, client, method, path, allow):
    resp = getattr(world, client).open(path, method=method, headers=world.admin)
    assert_error(resp, 405, "method_not_allowed")
    assert resp.headers["Allow"] == allow


# -- 409 --------------------------------------------------------------------------------------------


def test_registering_a_provider_twice_is_409(world, acme):
    resp = world.providers.post(
        "/v1/providers", json={"providerId": "acme", "name": "Other"}, headers=world.admin
    )
    assert_error(resp, 409, "provider_exists")
    assert world.providers.get("/v1/providers/acme", headers=world.admin).json["name"] == "Acme"


@pytest.mark.parametrize("name", ["SurveyAnswered", "SessionClosed", "NotificationResponse"])
def test_redefining_a_standard_event_is_409(world, acme, name):
    resp = world.providers.put(f"/v1/providers/acme/event-definitions/{name}", json={}, headers=world.admin)
    assert_error(resp, 409, "system_event")


# -- 413: too large ---------------------------------------------------------------------------------

MIB = 1024 * 1024


def _padded(body: dict, size: int) -> bytes:
    raw = json.dumps(body).encode()
    return raw + b" " * (size - len(raw))


def test_body_over_1_mib_is_413_and_exactly_1_mib_is_read(world, acme):
    body = batch(event(eventId="edge"))
    resp = world.ingest.post("/v1/events", data=_padded(body, MIB + 1), headers={**acme, **JSON})
    assert_error(resp, 413, "body_too_large")
    assert world.store.get_event("acme", "edge") is None
    resp = world.ingest.post("/v1/events", data=_padded(body, MIB), headers={**acme, **JSON})
    assert resp.status_code == 200 and resp.json["accepted"] == 1


def test_body_over_1_mib_without_content_length_is_413(world, acme):
    # A chunked upload: no Content-Length, the server (gunicorn) marks the input as terminated.
    stream = io.BytesIO(_padded(batch(event(eventId="chunked")), MIB + 1))
    resp = world.ingest.post(
        "/v1/events",
        input_stream=stream,
        headers={**acme, **JSON, "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""},
    )
    assert not resp.request.headers.get("Content-Length")
    assert_error(resp, 413, "body_too_large")
    assert world.store.get_event("acme", "chunked") is None


def test_body_limit_applies_on_operator_routes(world, acme):
    resp = world.providers.patch(
        "/v1/providers/acme",
        data=_padded({"enableAnalytics": False}, MIB + 1),
        headers={**world.admin, **JSON},
    )
    assert_error(resp, 413, "body_too_large")
    assert world.providers.get("/v1/providers/acme", headers=world.admin).json["enableAnalytics"] is True


def test_more_than_500_events_is_413_and_500_is_fine(world, acme):
    events = [event(offset_s=i, eventId=f"e-{i}") for i in range(501)]
    assert_error(world.ingest.post("/v1/events", json=batch(*events), headers=acme), 413, "too_many_events")
    assert world.store.get_event("acme", "e-0") is None
    resp = world.ingest.post("/v1/events", json=batch(*events[:500]), headers=acme)
    assert resp.status_code == 200 and resp.json["accepted"] == 500


def test_more_than_500_activities_is_413(world, acme):
    acts = [activity(f"a-{i}") for i in range(501)]
    assert_error(
        world.ingest.post("/v1/activities", json={"activities": acts}, headers=acme),
        413,
        "too_many_activities",
    )
    resp = world.ingest.post("/v1/activities", json={"activities": acts[:500]}, headers=acme)
    assert resp.status_code == 200 and resp.json["created"] == 500


def _event_of_size(size: int, event_id: str) -> dict:
    """An event whose canonical JSON is exactly ``size`` bytes (the measure of the 32 KiB limit)."""
    base = event(
        eventId=event_id,
        additionalData="",
        customData=[{"attribute": f"k{i}", "value": "v" * 1000} for i in range(31)],
    )
    missing = size - len(canonical_json(base).encode())
    assert 0 <= missing <= 2000  # what additionalData can carry
    base["additionalData"] = "a" * missing
    assert len(canonical_json(base).encode()) == size
    return base


def test_event_size_limit_is_exactly_32_kib(world, acme):
    at_limit = _event_of_size(32 * 1024, "at-limit")
    over = _event_of_size(32 * 1024 + 1, "over")
    resp = world.ingest.post("/v1/events", json=batch(at_limit, over), headers=acme)
    assert [(r["status"], r["error"] and r["error"]["code"]) for r in resp.json["results"]] == [
        ("accepted", None),
        ("rejected", "event_too_large"),
    ]


def test_event_over_32_kib_is_rejected_alone_and_kept(world, acme):
    big = event(
        eventId="big",
        additionalData="x" * 2000,
        customData=[{"attribute": f"k{i}", "value": "v" * 1000} for i in range(40)],
    )
    assert len(json.dumps(big)) > 32 * 1024
    small = event(eventId="small")
    resp = world.ingest.post("/v1/events", json=batch(small, big), headers=acme)
    assert resp.status_code == 200
    assert (resp.json["accepted"], resp.json["rejected"]) == (1, 1)
    result = resp.json["results"][1]
    assert (result["status"], result["eventId"], result["error"]["code"]) == (
        "rejected",
        "big",
        "event_too_large",
    )
    assert world.store.get_event("acme", "small") is not None
    assert world.store.get_event("acme", "big") is None
    [failed] = world.failed("acme")
    assert failed["code"] == "event_too_large" and failed["payload"] == big


# -- 415 --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonx",
        "text/json",
    ],
)
def test_not_json_is_415(world, acme, content_type):
    headers = {**acme, **({"Content-Type": content_type} if content_type else {})}
    resp = world.ingest.post("/v1/events", data=json.dumps(batch(event())).encode(), headers=headers)
    assert_error(resp, 415, "unsupported_media_type")


@pytest.mark.parametrize("charset", ["latin-1", "utf-16", "iso-8859-1"])
def test_non_utf8_charset_is_415(world, acme, charset):
    headers = {**acme, "Content-Type": f"application/json; charset={charset}"}
    resp = world.ingest.post("/v1/events", data=json.dumps(batch(event())).encode(), headers=headers)
    assert_error(resp, 415, "unsupported_charset")


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=UTF-8", "application/vnd.api+json", "Application/JSON"]
)
def test_json_media_types_are_accepted(world, acme, content_type):
    resp = world.ingest.post(
        "/v1/events", data=json.dumps(batch(event())).encode(), headers={**acme, "Content-Type": content_type}
    )
    assert resp.status_code == 200


def test_415_on_operator_routes(world):
    resp = world.providers.post(
        "/v1/providers", data=b"providerId=x", headers={**world.admin, "Content-Type": "text/plain"}
    )
    assert_error(resp, 415, "unsupported_media_type")


# -- 422: invalid fields ----------------------------------------------------------------------------


def _fields(err: dict) -> dict[str, str]:
    return {d["field"]: d["code"] for d in err["details"]}


def test_validation_failed_lists_every_bad_field(world):
    resp = world.providers.post(
        "/v1/providers",
        json={"providerId": "Bad Id!", "name": "", "enableAnalytics": "yes"},
        headers=world.admin,
    )
    err = assert_error(resp, 422, "validation_failed")
    assert _fields(err) == {
        "providerId": "string_pattern_mismatch",
        "name": "string_too_short",
        "enableAnalytics": "bool_type",
    }
    assert all(d["message"] for d in err["details"])


def test_conversation_validation_details(world, acme):
    body = conversation(direction="sideways", conversationTimestamp="yesterday", channel="x" * 101)
    body["conversation"]["unknownField"] = 1
    del body["conversation"]["conversationId"]
    err = assert_error(
        world.ingest.post("/v1/conversations", json=body, headers=acme), 422, "validation_failed"
    )
    assert _fields(err) == {
        "conversation.conversationId": "missing",
        "conversation.channel": "string_too_long",
        "conversation.direction": "literal_error",
        "conversation.conversationTimestamp": "value_error",
        "conversation.unknownField": "extra_forbidden",
    }


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"providerSessionId": "s", "events": [{}]}, {"conversationId": "missing"}),
        ({"conversationId": "c", "providerSessionId": "s", "events": []}, {"events": "too_short"}),
        ({"conversationId": "c", "providerSessionId": "s", "events": {}}, {"events": "list_type"}),
        ({"conversationId": 7, "providerSessionId": "s", "events": [{}]}, {"conversationId": "string_type"}),
        (
            {"conversationId": "c", "providerSessionId": "s", "events": [{}], "extra": 1},
            {"extra": "extra_forbidden"},
        ),
        (
            {"conversationId": "c\n", "providerSessionId": "s", "events": [{}]},
            {"conversationId": "string_pattern_mismatch"},
        ),
    ],
)
def test_invalid_event_envelope_is_422(world, acme, body, fields):
    err = assert_error(world.ingest.post("/v1/events", json=body, headers=acme), 422, "invalid_envelope")
    assert _fields(err) == fields
    assert world.failed("acme") == []  # an envelope error is the client's to fix: nothing half-stored


@pytest.mark.parametrize(
    "body", [{}, {"activities": []}, {"activities": "x"}, {"activities": [{}], "more": 1}]
)
def test_invalid_activity_envelope_is_422(world, acme, body):
    assert_error(world.ingest.post("/v1/activities", json=body, headers=acme), 422, "invalid_envelope")


@pytest.mark.parametrize("body", [[], "text", 1, None, True])
@pytest.mark.parametrize(
    ("client", "method", "path"),
    [
        ("ingest", "POST", "/v1/conversations"),
        ("ingest", "POST", "/v1/events"),
        ("ingest", "POST", "/v1/activities"),
        ("providers", "POST", "/v1/providers"),
        ("providers", "PATCH", "/v1/providers/acme"),
        ("providers", "POST", "/v1/providers/acme/keys"),
        ("providers", "PUT", "/v1/providers/acme/event-definitions/MyEvent"),
        ("providers", "POST", "/v1/providers/acme/failed-events/replay"),
    ],
)
def test_body_that_is_not_an_object_is_422(world, acme, client, method, path, body):
    headers = acme if client == "ingest" else world.admin
    resp = getattr(world, client).open(
        path, method=method, data=json.dumps(body), headers={**headers, **JSON}
    )
    assert_error(resp, 422, "body_not_object")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"enableAnalytics": True, "name": "Renamed"}, {"name": "extra_forbidden"}),
        ({"enableAnalytics": True, "providerId": "other"}, {"providerId": "extra_forbidden"}),
        ({"enableAnalytics": True, "createdAt": "2000-01-01T00:00:00Z"}, {"createdAt": "extra_forbidden"}),
        ({"apiKey": "cak_x"}, {"apiKey": "extra_forbidden"}),
        ({}, {"": "missing"}),  # either switch, or both; never neither
        ({"enableAnalytics": "false"}, {"enableAnalytics": "bool_type"}),
        ({"enableAnalytics": 0}, {"enableAnalytics": "bool_type"}),
        ({"enableAnalytics": None}, {"enableAnalytics": "bool_type"}),
    ],
)
def test_patch_refuses_unknown_fields_no_mass_assignment(world, acme, body, fields):
    before = world.providers.get("/v1/providers/acme", headers=world.admin).json
    err = assert_error(
        world.providers.patch("/v1/providers/acme", json=body, headers=world.admin), 422, "validation_failed"
    )
    assert _fields(err) == fields
    assert world.providers.get("/v1/providers/acme", headers=world.admin).json == before


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/providers/acme/keys", {"revokeOthers": "yes"}),
        ("/v1/providers/acme/keys", {"expiresAt": "2030-01-01T00:00:00Z"}),
        ("/v1/providers/acme/failed-events/replay", {"failedIds": "x"}),
        ("/v1/providers/acme/failed-events/replay", {"limit": 0}),
        ("/v1/providers/acme/failed-events/replay", {"limit": 501}),
    ],
)
def test_operator_body_fields_are_validated(world, acme, path, body):
    assert_error(world.providers.post(path, json=body, headers=world.admin), 422, "validation_failed")


@pytest.mark.parametrize(
    ("name", "body", "field"),
    [
        ("MyEvent", {"version": "1.0"}, "version"),
        ("MyEvent", {"active": "yes"}, "active"),
        ("MyEvent", {"name": "Other"}, "name"),
        ("MyEvent", {"description": "x" * 501}, "description"),
        ("9starts-with-digit", {}, "name"),
        ("has space", {}, "name"),
    ],
)
def test_event_definition_fields_are_validated(world, acme, name, body, field):
    err = assert_error(
        world.providers.put(f"/v1/providers/acme/event-definitions/{name}", json=body, headers=world.admin),
        422,
        "validation_failed",
    )
    assert field in _fields(err)


# -- 503 ----------------------------------------------------------------------------------------------


def test_operator_routes_closed_without_admin_token(world, monkeypatch):
    monkeypatch.delenv("ANALYTICS_ADMIN_TOKEN")
    reset_settings()
    resp = world.providers.get("/v1/providers/acme", headers=world.admin)
    assert_error(resp, 503, "admin_auth_not_configured")
    assert int(resp.headers["Retry-After"]) > 0
