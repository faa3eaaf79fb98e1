"""The generated API documents: the OpenAPI 3.1 document of each function and the Iglu-style JSON
Schemas of every standard event and request body.

- drift: what is committed under ``docs/`` is exactly what the models generate now;
- served: ``GET /openapi.json`` is the committed document;
- valid: ``openapi-spec-validator`` accepts both documents; every schema is valid draft 4 (Iglu's
  dialect) and uses no keyword outside its dialect (a pydantic quirk once leaked ``ge``/``le``);
- true: the route tables and the documents list the same operations, and the schemas accept what
  the server accepts and refuse what it refuses.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator, Draft202012Validator
from openapi_spec_validator import validate as validate_openapi

from shared.endpoints import aggregate as aggregate_routes
from shared.endpoints import ingest as ingest_routes
from shared.endpoints import providers as provider_routes
from shared.endpoints import report as report_routes
from shared.openapi.schemas import API_VENDOR, REQUEST_BODIES, SELF_DESCRIBING, schema_documents
from shared.openapi.spec import (
    COMMITTED,
    DOCS,
    SCHEMAS,
    committed_documents,
    openapi_document,
    stale_documents,
)
from shared.schema.registry import STANDARD_EVENTS, VENDOR
from tests.http.support import Checked, activity, batch, conversation, custom, event, participant, session
from tests.support.functions import function_client

FUNCTIONS = {
    "ingest": ingest_routes.ROUTES,
    "providers": provider_routes.ROUTES,
    "aggregate": aggregate_routes.ROUTES,
    "report": report_routes.ROUTES,
}
REGENERATE = "run `python -m shared.openapi.spec` (or `make openapi`) and commit the result"

DRAFT4_KEYWORDS = {
    "$schema", "$ref", "id", "title", "description", "default", "type", "enum", "format",
    "properties", "required", "additionalProperties", "patternProperties", "dependencies",
    "items", "additionalItems", "minItems", "maxItems", "uniqueItems",
    "minLength", "maxLength", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "multipleOf", "minProperties", "maxProperties", "allOf", "anyOf", "oneOf", "not", "definitions",
}  # fmt: skip
OPENAPI_SCHEMA_KEYWORDS = (DRAFT4_KEYWORDS - {"id", "definitions", "dependencies"}) | {
    "$defs", "const", "examples", "prefixItems", "contains", "propertyNames", "readOnly", "writeOnly",
    "deprecated", "discriminator", "example",
}  # fmt: skip
MAP_KEYWORDS = {"properties", "patternProperties", "definitions", "$defs"}
SCHEMA_KEYWORDS = {"items", "additionalProperties", "not", "additionalItems", "contains", "propertyNames"}
LIST_KEYWORDS = {"allOf", "anyOf", "oneOf", "prefixItems"}


def unknown_keywords(schema: Any, allowed: set[str], where: str = "#") -> list[str]:
    """Keywords outside the dialect, found by walking only where subschemas live."""
    if isinstance(schema, bool):
        return []
    assert isinstance(schema, dict), where
    found = [f"{where}/{k}" for k in schema if k not in allowed]
    for key, value in schema.items():
        if key in MAP_KEYWORDS:
            for name, sub in value.items():
                found += unknown_keywords(sub, allowed, f"{where}/{key}/{name}")
        elif key in SCHEMA_KEYWORDS and isinstance(value, dict | bool):
            found += unknown_keywords(value, allowed, f"{where}/{key}")
        elif key in LIST_KEYWORDS or (key == "items" and isinstance(value, list)):
            for i, sub in enumerate(value):
                found += unknown_keywords(sub, allowed, f"{where}/{key}/{i}")
    return found


# -- drift ------------------------------------------------------------------------------------------


def test_committed_documents_match_the_models():
    drifted = []
    for path, text in committed_documents().items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            drifted.append(str(path.relative_to(DOCS.parent)))
    assert not drifted, f"out of date: {drifted}; {REGENERATE}"
    stale = [str(p.relative_to(DOCS.parent)) for p in stale_documents()]
    assert not stale, f"no model generates {stale}; {REGENERATE}"


def test_every_event_and_request_body_has_a_schema_at_its_iglu_path():
    paths = {p.relative_to(SCHEMAS).as_posix() for p in committed_documents() if p.is_relative_to(SCHEMAS)}
    expected = {
        f"{VENDOR}/{name}/jsonschema/{version}.json"
        for name, spec in STANDARD_EVENTS.items()
        for version in ("1-0-0", spec.version)  # earlier versions stay published: stored events name them
    }
    expected |= {f"{API_VENDOR}/{m.__name__}/jsonschema/1-0-0.json" for m in REQUEST_BODIES}
    assert paths == expected
    assert {p.name for p in COMMITTED.glob("*.json")} == {f"{function}.json" for function in FUNCTIONS}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_served_openapi_is_the_committed_document(env, function):
    served = function_client(function).get("/openapi.json")
    assert served.status_code == 200
    committed = json.loads((COMMITTED / f"{function}.json").read_text(encoding="utf-8"))
    assert served.json == committed


# -- valid ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("function", FUNCTIONS)
def test_openapi_documents_are_valid_openapi_3_1(function):
    document = json.loads((COMMITTED / f"{function}.json").read_text(encoding="utf-8"))
    assert document["openapi"] == "3.1.0"
    validate_openapi(document)
    for name, schema in document["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
        assert unknown_keywords(schema, OPENAPI_SCHEMA_KEYWORDS, name) == []
    refs = re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', json.dumps(document))
    assert set(refs) <= set(document["components"]["schemas"])


@pytest.mark.parametrize("relative", sorted(schema_documents()))
def test_schemas_are_self_describing_draft4(relative):
    schema = json.loads((SCHEMAS / relative).read_text(encoding="utf-8"))
    vendor, name, fmt, version = Path(relative).with_suffix("").parts
    assert schema["$schema"] == SELF_DESCRIBING
    assert schema["self"] == {"vendor": vendor, "name": name, "format": fmt, "version": version}
    assert re.fullmatch(r"[a-zA-Z0-9-_.]+", vendor) and re.fullmatch(r"[a-zA-Z0-9-_]+", name)
    assert re.fullmatch(r"[0-9]+-[0-9]+-[0-9]+", version) and fmt == "jsonschema"
    Draft4Validator.check_schema({k: v for k, v in schema.items() if k not in ("$schema", "self")})
    assert unknown_keywords(schema, DRAFT4_KEYWORDS | {"self"}) == []
    assert schema["type"] == "object" and schema["additionalProperties"] is False


# -- true -------------------------------------------------------------------------------------------


def _operations_of(routes) -> set[tuple[str, str]]:
    return {
        (r.method.lower(), re.sub(r"<([a-z_]+)>", lambda m: "{" + _camel(m[1]) + "}", r.rule)) for r in routes
    }


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_documents_list_exactly_the_routes(function):
    document = openapi_document(function)
    documented = {(m, p) for p, ops in document["paths"].items() for m in ops}
    expected = _operations_of(FUNCTIONS[function]) | {("get", "/healthz"), ("get", "/openapi.json")}
    assert documented == expected


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_operation_documents_its_errors(function):
    for path, ops in openapi_document(function)["paths"].items():
        for method, op in ops.items():
            statuses = set(op["responses"])
            if op.get("security") == []:
                continue
            assert {"401", "503"} <= statuses, (method, path)
            assert "Retry-After" in op["responses"]["503"]["headers"]
            if "requestBody" in op:
                assert {"400", "413", "415", "422"} <= statuses, (method, path)
            if function == "providers":
                assert {"400", "403"} <= statuses, (method, path)  # invalid_actor, admin_only
            if "{providerId}" in path:
                assert "404" in statuses, (method, path)


def _schema(vendor: str, name: str, version: str = "1-0-0") -> Draft4Validator:
    schema = json.loads(
        (SCHEMAS / vendor / name / "jsonschema" / f"{version}.json").read_text(encoding="utf-8")
    )
    return Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


EVENT_SAMPLES: dict[str, list[dict[str, Any]]] = {
    "MessageSent": [custom(sender="agent")],
    "SurveyAnswered": [custom(csat=4), custom(nps=10, comment="great"), custom(csat="5", nps="0")],
    "ModuleVisited": [custom(moduleId="m-1"), custom(moduleId="m-2", moduleName="Quiz")],
    "OptInGiven": [custom(topic="webpush", level="double")],
    "Shared": [custom(via="email")],
    "PinVerified": [custom(success=True), custom(success="false")],
    "DataEntered": [custom(field="email")],
    "UserInteracted": [custom(interaction="clicked"), []],
}
BAD_CUSTOM_DATA: dict[str, list[dict[str, Any]]] = {
    "MessageSent": [{}, {"sender": "robot"}],
    "SurveyAnswered": [{}, {"csat": 0}, {"csat": 6}, {"nps": 11}, {"csat": True}, {"csat": 4.5}],
    "ModuleVisited": [{}, {"moduleId": ""}],
    "OptInGiven": [{"topic": "webpush"}, {"topic": "sms", "level": "single"}],
    "Shared": [{"via": "myspace"}],
    "PinVerified": [{}],
    "DataEntered": [{"field": ""}],
    "UserInteracted": [{"interaction": "swiped"}],
}


@pytest.mark.parametrize("name", sorted(STANDARD_EVENTS))
def test_event_schemas_accept_what_the_server_stores(world, acme, name):
    """Every accepted standard event, with its customData as stored, validates against its schema."""
    spec = STANDARD_EVENTS[name]
    extra = {"notificationResponseAction": "Accept"} if spec.requires_action else {}
    samples = EVENT_SAMPLES.get(name, [[], custom(note="free-form", count=3, flag=True)])
    validator = _schema(VENDOR, name, spec.version)
    for i, pairs in enumerate(samples):
        sent = event(name, offset_s=i, eventId=f"{name}-{i}", kpiEventReason="Completed", **extra)
        if pairs:
            sent["customData"] = pairs
        resp = world.ingest.post("/v1/events", json=batch(sent), headers=acme)
        assert resp.json["results"][0]["status"] == "accepted", resp.json
        stored = world.store.get_event("acme", f"{name}-{i}")
        assert stored.schema == f"iglu:{VENDOR}/{name}/jsonschema/{spec.version}"
        instance = {k: v for k, v in sent.items() if k != "customData"}
        if stored.custom_data or spec.custom_data is not None:
            instance["customData"] = stored.custom_data
        errors = [e.message for e in validator.iter_errors(instance)]
        assert errors == [], (instance, errors)


@pytest.mark.parametrize("name", sorted(BAD_CUSTOM_DATA))
def test_event_schemas_refuse_what_the_server_rejects(world, acme, name):
    validator = _schema(VENDOR, name)
    for i, data in enumerate(BAD_CUSTOM_DATA[name]):
        sent = event(name, offset_s=i, customData=[{"attribute": k, "value": v} for k, v in data.items()])
        if not data:
            del sent["customData"]
        resp = world.ingest.post("/v1/events", json=batch(sent), headers=acme)
        assert resp.json["results"][0]["error"]["code"] == "invalid_custom_data", (data, resp.json)
        instance = {**{k: v for k, v in sent.items() if k != "customData"}, "customData": data}
        assert not validator.is_valid(instance), data
        if not data:
            assert not validator.is_valid({k: v for k, v in sent.items() if k != "customData"})


def test_action_rule_is_in_the_schemas():
    response = _schema(VENDOR, "NotificationResponse")
    started = _schema(VENDOR, "SessionStarted")
    base = event("NotificationResponse")
    assert not response.is_valid(base)
    assert response.is_valid({**base, "notificationResponseAction": "Reject"})
    assert not started.is_valid({**event("SessionStarted"), "notificationResponseAction": "Accept"})
    assert not started.is_valid(event("NotificationResponse"))  # the name is fixed per schema


def _valid_bodies() -> dict[str, tuple[str, str, str, dict[str, Any]]]:
    """Each request body the server takes, with where to send it."""
    return {
        "ConversationRequest": (
            "ingest",
            "POST",
            "/v1/conversations",
            conversation(session=session("s-1", participant("a-1")), customData=custom(tier="gold")),
        ),
        "EventBatch": (
            "ingest",
            "POST",
            "/v1/events",
            batch(
                event(eventId="e-1"),
                event("MessageSent", customData=custom(sender="bot")),
                participantId="a-1",
            ),
        ),
        "ActivityBatch": ("ingest", "POST", "/v1/activities", {"activities": [activity()]}),
        "ProviderCreate": (
            "providers",
            "POST",
            "/v1/providers",
            {"providerId": "newco", "name": "New", "enableAnalytics": True},
        ),
        "ProviderPatch": ("providers", "PATCH", "/v1/providers/acme", {"enableAnalytics": False}),
        "KeyRotate": ("providers", "POST", "/v1/providers/acme/keys", {"revokeOthers": False}),
        "EventDefinitionBody": (
            "providers",
            "PUT",
            "/v1/providers/acme/event-definitions/MyEvent",
            {"version": "1-0-0", "active": True, "description": "d"},
        ),
        "ReplayRequest": (
            "providers",
            "POST",
            "/v1/providers/acme/failed-events/replay",
            {"failedIds": ["x"]},
        ),
        # Before any subscription exists: the run has nobody to send to.
        "ReportRequest": ("report", "POST", "/", {"day": "2026-11-20"}),
        "SubscriptionIn": (
            "providers",
            "POST",
            "/v1/providers/acme/report-subscriptions",
            {"email": "ada@example.com", "experienceId": "exp-1"},
        ),
        "ThresholdIn": (
            "providers",
            "POST",
            "/v1/providers/acme/alert-thresholds",
            {
                "kpi": "abandon_rate",
                "operator": ">",
                "value": 0.1,
                "slice": {"queueId": "*"},
                "minDenominator": 5,
            },
        ),
        "AnalyticsSettings": (
            "providers",
            "PUT",
            "/v1/providers/acme/settings",
            {"chatSessionGapMinutes": 20, "relationshipWeights": {"email": 1.5, "meeting": 0.5}},
        ),
    }


def test_request_schemas_agree_with_the_server(world, acme):
    bodies = _valid_bodies()
    assert set(bodies) == {m.__name__ for m in REQUEST_BODIES}
    report = Checked(function_client("report"))
    for name, (client, method, path, body) in bodies.items():
        validator = _schema(API_VENDOR, name)
        assert [e.message for e in validator.iter_errors(body)] == [], name
        headers = acme if client == "ingest" else world.admin
        target = report if client == "report" else getattr(world, client)
        assert target.open(path, method=method, json=body, headers=headers).status_code < 300, name
        # An unknown field is refused by both.
        extended = {**body, "unexpected": True}
        assert not validator.is_valid(extended), name
        resp = target.open(path, method=method, json=extended, headers=headers)
        assert resp.status_code == 422, (name, resp.json)


def test_the_keyword_check_sees_a_leak():
    """The dialect check above must not pass vacuously: pydantic once emitted raw ``ge``/``le``."""
    leaked = {"properties": {"csat": {"anyOf": [{"type": "integer", "ge": 1}, {"type": "null"}]}}}
    assert unknown_keywords(leaked, DRAFT4_KEYWORDS) == ["#/properties/csat/anyOf/0/ge"]
