"""Self-describing JSON Schemas (Snowplow Iglu style) generated from the same pydantic models.

Two families are written under ``docs/schemas/<vendor>/<name>/jsonschema/<SchemaVer>.json``:

- one per standard event of the registry (vendor ``io.channelanalytics``), at the version the
  registry declares, so the ``iglu:`` URI stored on every accepted event resolves to a file;
- one per request body of the two HTTP functions (vendor ``io.channelanalytics.api``, ``1-0-0`` for
  HTTP API v1).

Iglu's self-describing meta-schema builds on JSON Schema draft 4, so pydantic's 2020-12 output is
lowered to draft 4 here (``const`` becomes a one-value ``enum``, ``$defs`` become ``definitions``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from shared.outputs.wire import ReportRequest, SubscriptionIn, ThresholdIn
from shared.schema.activity import ActivityBatch
from shared.schema.conversation import ConversationRequest
from shared.schema.events import EventBatch, KpiEvent
from shared.schema.provider import (
    AnalyticsSettings,
    EventDefinitionBody,
    KeyRotate,
    ProviderCreate,
    ProviderPatch,
    ReplayRequest,
)
from shared.schema.registry import ADDED_IN, STANDARD_EVENTS, VENDOR, EventSpec

SELF_DESCRIBING = "http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#"
API_VENDOR = f"{VENDOR}.api"
API_VERSION = "1-0-0"

REQUEST_BODIES: tuple[type[BaseModel], ...] = (
    ConversationRequest,
    EventBatch,
    ActivityBatch,
    ProviderCreate,
    ProviderPatch,
    KeyRotate,
    EventDefinitionBody,
    ReplayRequest,
    SubscriptionIn,
    ThresholdIn,
    ReportRequest,
    AnalyticsSettings,
)

# customData of an event without typed attributes: CIF pairs turned into attribute -> value.
_FREE_CUSTOM_DATA = {
    "type": "object",
    "maxProperties": 50,
    "additionalProperties": {
        "anyOf": [{"type": "string", "maxLength": 1000}, {"type": "boolean"}, {"type": "number"}]
    },
}


def _draft4(node: Any) -> Any:
    """Lower pydantic's JSON Schema 2020-12 to draft 4, the dialect of Iglu schemas."""
    if isinstance(node, list):
        return [_draft4(v) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "const":
            out["enum"] = [value]
        elif key == "$defs":
            out["definitions"] = {k: _draft4(v) for k, v in value.items()}
        elif key == "$ref":
            out[key] = value.replace("#/$defs/", "#/definitions/")
        elif key in ("properties", "definitions", "patternProperties"):
            out[key] = {k: _draft4(v) for k, v in value.items()}
        else:
            out[key] = _draft4(value)
    return out


def _self_describing(vendor: str, name: str, version: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": SELF_DESCRIBING,
        "self": {"vendor": vendor, "name": name, "format": "jsonschema", "version": version},
        **schema,
    }


def _event_custom_data(spec: EventSpec) -> dict[str, Any]:
    if spec.custom_data is None:
        return {
            **_FREE_CUSTOM_DATA,
            "description": "customData pairs as attribute -> value (no typed attributes)",
        }
    schema = _draft4(spec.custom_data.model_json_schema())
    schema.pop("title", None)
    return {
        **schema,
        "maxProperties": 50,
        "description": f"customData pairs as attribute -> value; typed attributes of {spec.name}, "
        "others are kept as sent",
    }


def _accepts_empty(model: type[BaseModel]) -> bool:
    """Whether an event may leave out customData: its typed model says so itself."""
    try:
        model.model_validate({})
    except ValidationError:
        return False
    return True


def _later_additions(version: str) -> set[str]:
    """``KpiEvent`` fields a standard event's schema of ``version`` does not have yet."""
    key = tuple(map(int, version.split("-")))
    return {
        f for added, fields in ADDED_IN.items() if tuple(map(int, added.split("-"))) > key for f in fields
    }


def event_versions(spec: EventSpec) -> list[str]:
    """Every published version of a standard event: ``1-0-0``, each addition since, the current one."""
    current = tuple(map(int, spec.version.split("-")))
    added = [v for v in ADDED_IN if tuple(map(int, v.split("-"))) <= current]
    return sorted({"1-0-0", *added, spec.version}, key=lambda v: tuple(map(int, v.split("-"))))


def event_schema(spec: EventSpec, version: str | None = None) -> dict[str, Any]:
    """The schema of one standard event: the wire fields of ``KpiEvent``, its name fixed, its rules
    (``notificationResponseAction`` required on ``NotificationResponse``) and its typed ``customData``;
    of an earlier ``version``, without the fields added since.

    On the wire ``customData`` is CIF's ``[{"attribute", "value"}]``; the schema describes it as the
    attribute -> value object the server builds from those pairs, stores and the KPIs read.
    """
    version = version or spec.version
    wire = _draft4(KpiEvent.model_json_schema())
    later = _later_additions(version) - ({"notificationResponseAction"} if spec.requires_action else set())
    properties = {k: v for k, v in wire["properties"].items() if k != "customData" and k not in later}
    properties["kpiEventName"] = {"type": "string", "enum": [spec.name]}
    required = list(wire["required"])
    if spec.requires_action:
        properties["notificationResponseAction"] = {"type": "string", "enum": ["Accept", "Reject"]}
        required.append("notificationResponseAction")
    if spec.reasons:
        reason = dict(properties["kpiEventReason"])
        reason["description"] = "usual reasons: " + ", ".join(spec.reasons)
        properties["kpiEventReason"] = reason
    properties["customData"] = _event_custom_data(spec)
    if spec.custom_data is not None and not _accepts_empty(spec.custom_data):
        required.append("customData")
    body = {
        "description": f"{spec.description.rstrip('.')} ({spec.kind} event, family {spec.family}).",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    return _self_describing(spec.vendor, spec.name, version, body)


def request_schemas() -> dict[str, dict[str, Any]]:
    """One self-contained schema per request body, keyed by model name."""
    out = {}
    for model in REQUEST_BODIES:
        _, defs = models_json_schema([(model, "validation")], ref_template="#/$defs/{model}", by_alias=True)
        all_defs = defs.get("$defs", {})
        schema = dict(all_defs.pop(model.__name__))
        if all_defs:
            schema["$defs"] = dict(sorted(all_defs.items()))
        body = _draft4(schema)
        body.pop("title", None)
        out[model.__name__] = _self_describing(API_VENDOR, model.__name__, API_VERSION, body)
    return out


def schema_documents() -> dict[str, dict[str, Any]]:
    """Every schema by its path under ``docs/schemas``: ``<vendor>/<name>/jsonschema/<version>.json``."""
    docs: dict[str, dict[str, Any]] = {}
    for spec in STANDARD_EVENTS.values():
        for version in event_versions(spec):
            docs[f"{spec.vendor}/{spec.name}/jsonschema/{version}.json"] = event_schema(spec, version)
    for name, schema in request_schemas().items():
        docs[f"{API_VENDOR}/{name}/jsonschema/{API_VERSION}.json"] = schema
    return docs
