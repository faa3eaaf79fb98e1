"""The OpenAPI 3.1 documents of the HTTP functions, generated from the pydantic models, and the
committed documents: ``docs/openapi/<function>.json`` plus the JSON Schemas of ``schemas.py`` under
``docs/schemas``.

The committed copies are checked against this in the tests (a drift test), and each function
serves its own OpenAPI document at ``GET /openapi.json``. ``python -m shared.openapi.spec`` (or
``make openapi``) rewrites them all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from shared.aggregate.wire import AggregateReport, AggregateRequest
from shared.http.api import CORRELATION_HEADER, CORRELATION_PATTERN
from shared.openapi.schemas import schema_documents
from shared.outputs.wire import (
    ReportAnswer,
    ReportRequest,
    SubscriptionIn,
    SubscriptionOut,
    ThresholdIn,
    ThresholdOut,
)
from shared.privacy.wire import ErasureReceipt
from shared.schema.activity import ActivityBatch, ActivityResponse
from shared.schema.conversation import ConversationRequest, ConversationResponse
from shared.schema.events import BatchResponse, EventBatch
from shared.schema.provider import (
    AnalyticsSettings,
    AnalyticsSettingsOut,
    AuditPage,
    EventDefinitionBody,
    EventDefinitionOut,
    FailedEventPage,
    KeyCreated,
    KeyOut,
    KeyRotate,
    OrphanEventsOut,
    ProviderCreate,
    ProviderCreated,
    ProviderOut,
    ProviderPatch,
    ReplayRequest,
    ReplayResponse,
    SigningSecretCreated,
)

VERSION = "1.0.0"
DOCS = Path(__file__).resolve().parents[2] / "docs"
COMMITTED = DOCS / "openapi"
SCHEMAS = DOCS / "schemas"

ERRORS: dict[int, str] = {
    400: "Malformed request (bad JSON, duplicate keys, bad query, bad X-Correlation-Id)",
    401: "Missing or invalid credentials",
    403: "Not allowed (analytics disabled, provider key on an operator route)",
    404: "Unknown object or route",
    405: "Method not allowed",
    409: "Conflict",
    413: "Body, batch or item too large",
    415: "Body is not JSON",
    422: "Invalid fields (per-field details)",
    429: "Too many requests from this provider (rate_limited); retry after Retry-After seconds",
    503: "Store unavailable (or operator auth not configured); retry after Retry-After seconds",
}

# CIF's correlationId: accepted on every authenticated call, echoed on its answer, logged with it.
CORRELATION_SCHEMA = {"type": "string", "pattern": CORRELATION_PATTERN, "maxLength": 128}
CORRELATION_PARAMETER = {
    "name": CORRELATION_HEADER,
    "in": "header",
    "required": False,
    "schema": CORRELATION_SCHEMA,
    "description": "CIF correlationId (a GUID grouping related calls for diagnostic telemetry): echoed in "
    "the answer and written in the call's structured log line; 400 invalid_correlation_id when malformed",
}
CORRELATION_ECHO = {
    CORRELATION_HEADER: {
        "description": "the request's X-Correlation-Id, when it sent one",
        "schema": CORRELATION_SCHEMA,
    }
}

ERROR_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "Bearer challenge", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "integer"}}},
    503: {"Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "integer"}}},
}


@dataclass(frozen=True)
class Op:
    method: str
    path: str
    summary: str
    status: int
    response: type[BaseModel] | None
    request: type[BaseModel] | None = None
    errors: tuple[int, ...] = (400, 401, 415, 422, 503)
    list_of: bool = False
    query: tuple[tuple[str, str, str], ...] = ()
    updates: bool = False  # also answers 200 when the object already existed
    public: bool = False  # no credentials (health, the document itself)
    signed: bool = False  # takes X-Analytics-Signature (docs/api.md, Request signing)


PAGE = (("limit", "integer", "1..500, default 100"), ("cursor", "string", "nextCursor of the previous page"))

OPS: dict[str, list[Op]] = {
    "ingest": [
        Op(
            "post",
            "/v1/conversations",
            "Register or update a conversation (initLogAnalytics)",
            201,
            ConversationResponse,
            ConversationRequest,
            (400, 401, 403, 413, 415, 422, 503),
            updates=True,
            signed=True,
        ),
        Op(
            "post",
            "/v1/events",
            "Log KPI events (logAnalyticsEvent), per-event results",
            200,
            BatchResponse,
            EventBatch,
            (400, 401, 403, 413, 415, 422, 503),
            signed=True,
        ),
        Op(
            "post",
            "/v1/activities",
            "Log relationship activities (e-mails, meetings, calls)",
            200,
            ActivityResponse,
            ActivityBatch,
            (400, 401, 403, 413, 415, 422, 503),
            signed=True,
        ),
        Op(
            "get",
            "/v1/event-definitions",
            "Events this provider may log (System and Custom)",
            200,
            EventDefinitionOut,
            errors=(401, 503),
            list_of=True,
        ),
        Op(
            "delete",
            "/v1/customers/{customerId}",
            "Erase a customer's personal data (store now, warehouse at the next run); works with "
            "analytics switched off; 404 for a customer this provider has no data of",
            202,
            ErasureReceipt,
            errors=(401, 404, 422, 503),
            signed=True,
        ),
    ],
    "providers": [
        Op(
            "post",
            "/v1/providers",
            "Register a provider; returns its first API key once",
            201,
            ProviderCreated,
            ProviderCreate,
            (400, 401, 403, 409, 413, 415, 422, 503),
        ),
        Op(
            "get",
            "/v1/providers/{providerId}",
            "Read a provider (never its keys)",
            200,
            ProviderOut,
            errors=(400, 401, 403, 404, 503),
        ),
        Op(
            "patch",
            "/v1/providers/{providerId}",
            "Switch analytics or the signature requirement on or off (audited)",
            200,
            ProviderOut,
            ProviderPatch,
            (400, 401, 403, 404, 409, 413, 415, 422, 503),
        ),
        Op(
            "post",
            "/v1/providers/{providerId}/keys",
            "Rotate: issue a new key, expire the others",
            201,
            KeyCreated,
            KeyRotate,
            (400, 401, 403, 404, 413, 415, 422, 503),
        ),
        Op(
            "post",
            "/v1/providers/{providerId}/signing-secrets",
            "Issue a request-signing secret (shown once); the others expire after the grace period",
            201,
            SigningSecretCreated,
            KeyRotate,
            (400, 401, 403, 404, 413, 415, 422, 503),
        ),
        Op(
            "get",
            "/v1/providers/{providerId}/keys",
            "List key ids and their expiry",
            200,
            KeyOut,
            errors=(400, 401, 403, 404, 503),
            list_of=True,
        ),
        Op(
            "get",
            "/v1/providers/{providerId}/audit",
            "The analytics-flag audit trail",
            200,
            AuditPage,
            errors=(400, 401, 403, 404, 503),
            query=PAGE,
        ),
        Op(
            "get",
            "/v1/providers/{providerId}/event-definitions",
            "System and Custom events",
            200,
            EventDefinitionOut,
            errors=(400, 401, 403, 404, 503),
            list_of=True,
        ),
        Op(
            "put",
            "/v1/providers/{providerId}/event-definitions/{name}",
            "Register or change a custom event",
            201,
            EventDefinitionOut,
            EventDefinitionBody,
            (400, 401, 403, 404, 409, 413, 415, 422, 503),
            updates=True,
        ),
        Op(
            "get",
            "/v1/providers/{providerId}/failed-events",
            "Rejected events with reason and payload",
            200,
            FailedEventPage,
            errors=(400, 401, 403, 404, 503),
            query=(("status", "string", "open, replayed or erased"), *PAGE),
        ),
        Op(
            "post",
            "/v1/providers/{providerId}/failed-events/replay",
            "Re-validate and ingest failed events",
            200,
            ReplayResponse,
            ReplayRequest,
            (400, 401, 403, 404, 413, 415, 422, 503),
        ),
        Op(
            "post",
            "/v1/providers/{providerId}/report-subscriptions",
            "Subscribe a recipient to the daily report e-mail (of one experience, optionally); audited",
            201,
            SubscriptionOut,
            SubscriptionIn,
            (400, 401, 403, 404, 409, 413, 415, 422, 503),
        ),
        Op(
            "get",
            "/v1/providers/{providerId}/report-subscriptions",
            "List the daily report's recipients",
            200,
            SubscriptionOut,
            errors=(400, 401, 403, 404, 503),
            list_of=True,
            query=(("experienceId", "string", "only this experience's subscriptions"),),
        ),
        Op(
            "delete",
            "/v1/providers/{providerId}/report-subscriptions/{subscriptionId}",
            "Unsubscribe (audited); answers the removed subscription",
            200,
            SubscriptionOut,
            errors=(400, 401, 403, 404, 503),
        ),
        Op(
            "post",
            "/v1/providers/{providerId}/alert-thresholds",
            "Add a KPI breach threshold on a KPI and slice of the catalog (audited)",
            201,
            ThresholdOut,
            ThresholdIn,
            (400, 401, 403, 404, 409, 413, 415, 422, 503),
        ),
        Op(
            "get",
            "/v1/providers/{providerId}/alert-thresholds",
            "List the KPI breach thresholds",
            200,
            ThresholdOut,
            errors=(400, 401, 403, 404, 503),
            list_of=True,
        ),
        Op(
            "delete",
            "/v1/providers/{providerId}/alert-thresholds/{thresholdId}",
            "Remove a threshold (audited); its alerts stay in kpi_alerts",
            200,
            ThresholdOut,
            errors=(400, 401, 403, 404, 503),
        ),
        Op(
            "get",
            "/v1/providers/{providerId}/orphan-events",
            "Events waiting for a conversation that was never registered (as of the last aggregation)",
            200,
            OrphanEventsOut,
            errors=(400, 401, 403, 404, 503),
        ),
        Op(
            "get",
            "/v1/providers/{providerId}/settings",
            "The provider's analytics settings (chat-session gap, relationship window, contact frequency "
            "and weights), defaults filled in",
            200,
            AnalyticsSettingsOut,
            errors=(400, 401, 403, 404, 503),
        ),
        Op(
            "put",
            "/v1/providers/{providerId}/settings",
            "Replace the analytics settings (a field left out is its default); audited. They apply to "
            "what the aggregation recomputes from then on: restate past days to apply them to history",
            200,
            AnalyticsSettingsOut,
            AnalyticsSettings,
            (400, 401, 403, 404, 413, 415, 422, 503),
        ),
    ],
    "aggregate": [
        Op(
            "post",
            "/",
            "Run one aggregation (Cloud Scheduler); optionally restate days",
            200,
            AggregateReport,
            AggregateRequest,
            (400, 401, 403, 409, 413, 415, 422, 503),
        ),
    ],
    "report": [
        Op(
            "post",
            "/",
            "Send the daily report e-mail of a UTC day (default yesterday) to every subscriber, once",
            200,
            ReportAnswer,
            ReportRequest,
            (400, 401, 403, 409, 413, 415, 422, 503),
        ),
    ],
}

# Functions whose routes (all but the public ones) are provider routes, held to the per-provider request
# rate (shared/http/ratelimit.py): each of them may answer 429 rate_limited.
RATE_LIMITED = {"ingest"}

# Every function also answers these two, without credentials.
COMMON = [
    Op("get", "/healthz", "Liveness: the function is up", 200, None, errors=(), public=True),
    Op("get", "/openapi.json", "This document", 200, None, errors=(), public=True),
]
HEALTH_SCHEMA = {
    "type": "object",
    "required": ["status", "function"],
    "properties": {"status": {"type": "string", "enum": ["ok"]}, "function": {"type": "string"}},
}
OPENAPI_SCHEMA = {"type": "object", "description": "an OpenAPI 3.1 document"}

# The optional request signature of the ingest writes: a second credential next to the API key.
SIGNATURE_SCHEME = {
    "type": "apiKey",
    "in": "header",
    "name": "X-Analytics-Signature",
    "description": "t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.<raw body>' under a signing secret>; "
    "required when the provider's requireSignature is on, checked whenever sent (docs/api.md)",
}
# Signed writes take the API key with a signature, or (while the provider does not require one) alone.
SIGNED = [{"bearer": [], "signature": []}, {"bearer": []}]

# Path parameters carry the same rules as the models: an id outside them can name no object.
PATH_PARAMS = {
    "customerId": {"type": "string", "minLength": 1, "maxLength": 100},
    "providerId": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{1,62}$"},
    "name": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[A-Za-z][A-Za-z0-9_.-]*$"},
    "subscriptionId": {"type": "string", "minLength": 1, "maxLength": 100},
    "thresholdId": {"type": "string", "minLength": 1, "maxLength": 100},
}

TITLES = {
    "ingest": ("Channel Analytics ingest", "Provider API: conversations, KPI events, activities."),
    "providers": (
        "Channel Analytics providers",
        "Operator API: providers, the analytics flag, keys, signing secrets, failed events, report "
        "subscriptions, alert thresholds.",
    ),
    "aggregate": (
        "Channel Analytics aggregate",
        "Scheduler API: one exactly-once aggregation run from the store into the warehouse.",
    ),
    "report": (
        "Channel Analytics report",
        "Scheduler API: the daily report e-mail, sent once per subscriber and day.",
    ),
}

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "description": "specific snake_case code"},
                "message": {"type": "string"},
                "details": {"type": "array", "items": {"type": "object"}},
            },
        }
    },
}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _operation_id(op: Op) -> str:
    path = op.path.strip("/").replace("/", "_").replace("{", "").replace("}", "")
    if not path:  # the aggregate function's only route is its root
        return f"{op.method}_root"
    return f"{op.method}_{path.replace('-', '_').replace('.', '_')}"


def _response_schema(op: Op) -> dict[str, Any]:
    if op.path == "/healthz":
        return HEALTH_SCHEMA
    if op.path == "/openapi.json":
        return OPENAPI_SCHEMA
    assert op.response is not None
    if op.list_of:
        return {
            "type": "object",
            "required": ["items"],
            "properties": {"items": {"type": "array", "items": _ref(op.response)}},
        }
    return _ref(op.response)


def _operation(op: Op, rate_limited: bool = False) -> dict[str, Any]:
    body = _response_schema(op)
    responses: dict[str, Any] = {
        str(op.status): {"description": "OK", "content": {"application/json": {"schema": body}}}
    }
    # Every authenticated call may answer 400 invalid_correlation_id; rate-limited ones 429.
    errors = op.errors if op.public else tuple(sorted({*op.errors, 400}))
    if rate_limited:
        errors = tuple(sorted({*errors, 429}))
    for status in errors:
        responses[str(status)] = {
            "description": ERRORS[status],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        if status in ERROR_HEADERS:
            responses[str(status)]["headers"] = dict(ERROR_HEADERS[status])
    if op.updates:
        responses["200"] = {"description": "Updated", "content": {"application/json": {"schema": body}}}
    if not op.public:
        for response in responses.values():
            response["headers"] = {**response.get("headers", {}), **CORRELATION_ECHO}
    params = [
        {"name": name, "in": "path", "required": True, "schema": schema}
        for name, schema in PATH_PARAMS.items()
        if "{" + name + "}" in op.path
    ] + [
        {"name": name, "in": "query", "required": False, "schema": {"type": kind}, "description": desc}
        for name, kind, desc in op.query
    ]
    if not op.public:
        params.append(CORRELATION_PARAMETER)
    entry: dict[str, Any] = {
        "summary": op.summary,
        "operationId": _operation_id(op),
        "responses": dict(sorted(responses.items())),
    }
    if op.public:
        entry["security"] = []
    elif op.signed:
        entry["security"] = SIGNED
    if params:
        entry["parameters"] = params
    if op.request is not None:
        entry["requestBody"] = {
            "required": op.request not in (KeyRotate, ReplayRequest, AggregateRequest, ReportRequest),
            "content": {"application/json": {"schema": _ref(op.request)}},
        }
    return entry


@cache
def openapi_document(function: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of one HTTP function (``ingest`` or ``providers``)."""
    ops = [*OPS[function], *COMMON]
    models = {m for op in ops for m in (op.request, op.response) if m is not None}
    modes = [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)]
    _, defs = models_json_schema(modes, ref_template="#/components/schemas/{model}", by_alias=True)
    schemas = dict(sorted(defs.get("$defs", {}).items()))
    schemas["Error"] = ERROR_SCHEMA
    paths: dict[str, Any] = {}
    for op in ops:
        limited = function in RATE_LIMITED and not op.public
        paths.setdefault(op.path, {})[op.method] = _operation(op, limited)
    title, description = TITLES[function]
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": VERSION, "description": description},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                **({"signature": SIGNATURE_SCHEME} if any(op.signed for op in ops) else {}),
            },
        },
    }


def _json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def render(function: str) -> str:
    return _json(openapi_document(function))


def committed_documents() -> dict[Path, str]:
    """Every generated document by its path under ``docs/``, with the exact text to commit."""
    docs = {COMMITTED / f"{function}.json": render(function) for function in OPS}
    for relative, schema in schema_documents().items():
        docs[SCHEMAS / relative] = _json(schema)
    return docs


def stale_documents() -> list[Path]:
    """JSON files under ``docs/schemas`` that no model generates any more (a renamed event...)."""
    expected = set(committed_documents())
    return sorted(p for p in SCHEMAS.rglob("*.json") if p not in expected) if SCHEMAS.exists() else []


def write_committed() -> list[Path]:
    """Write every document and drop stale schema files, so the tree matches the models."""
    for path in stale_documents():
        path.unlink()
    written = []
    for path, text in committed_documents().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for p in write_committed():
        print(f"wrote {p.relative_to(DOCS.parent)}")
