"""Routes of ``functions/providers`` (operators, ``Authorization: Bearer $ANALYTICS_ADMIN_TOKEN``)."""

from __future__ import annotations

from typing import Any

from shared.http.api import Api, Call, Route
from shared.http.body import read_json, require_object
from shared.openapi.spec import openapi_document
from shared.outputs import alerts, subscriptions
from shared.providers import event_definitions, failed_events, orphans, service, settings
from shared.warehouse import kept_from, retention_days


def _optional_body(call: Call) -> dict | None:
    if not call.request.content_length and not call.request.headers.get("Transfer-Encoding"):
        return None
    return require_object(read_json(call.request, call.settings.max_body_bytes))


def create_provider(call: Call) -> tuple[int, Any]:
    body = require_object(read_json(call.request, call.settings.max_body_bytes))
    return 201, service.register(call.store, call.settings, body, call.actor, call.now)


def get_provider(call: Call, provider_id: str) -> tuple[int, Any]:
    return 200, service.describe(call.store, service.require_provider(call.store, provider_id), call.now)


def patch_provider(call: Call, provider_id: str) -> tuple[int, Any]:
    body = require_object(read_json(call.request, call.settings.max_body_bytes))
    return 200, service.set_flag(call.store, provider_id, body, call.actor, call.now)


def rotate_key(call: Call, provider_id: str) -> tuple[int, Any]:
    return 201, service.rotate_key(
        call.store, call.settings, provider_id, _optional_body(call), call.actor, call.now
    )


def rotate_signing_secret(call: Call, provider_id: str) -> tuple[int, Any]:
    return 201, service.rotate_signing_secret(
        call.store, call.settings, provider_id, _optional_body(call), call.actor, call.now
    )


def list_keys(call: Call, provider_id: str) -> tuple[int, Any]:
    return 200, {
        "items": [k.model_dump(mode="json") for k in service.list_keys(call.store, provider_id, call.now)]
    }


def get_audit(call: Call, provider_id: str) -> tuple[int, Any]:
    limit = call.query_int("limit", 100, 1, 500)
    return 200, service.audit_page(call.store, provider_id, limit, call.request.args.get("cursor"))


def put_event_definition(call: Call, provider_id: str, name: str) -> tuple[int, Any]:
    body = require_object(read_json(call.request, call.settings.max_body_bytes))
    return event_definitions.put_definition(call.store, provider_id, name, body, call.now)


def get_event_definitions(call: Call, provider_id: str) -> tuple[int, Any]:
    service.require_provider(call.store, provider_id)
    items = event_definitions.list_definitions(call.store, provider_id)
    return 200, {"items": [d.model_dump(by_alias=True) for d in items]}


def get_failed_events(call: Call, provider_id: str) -> tuple[int, Any]:
    service.require_provider(call.store, provider_id)
    limit = call.query_int("limit", 100, 1, 500)
    page = failed_events.list_failed(
        call.store, provider_id, call.request.args.get("status"), limit, call.request.args.get("cursor")
    )
    return 200, page


def get_settings(call: Call, provider_id: str) -> tuple[int, Any]:
    return 200, settings.get_settings(call.store, provider_id)


def put_settings(call: Call, provider_id: str) -> tuple[int, Any]:
    body = require_object(read_json(call.request, call.settings.max_body_bytes))
    return 200, settings.put_settings(call.store, provider_id, body, call.actor, call.now)


def get_orphan_events(call: Call, provider_id: str) -> tuple[int, Any]:
    service.require_provider(call.store, provider_id)
    return 200, orphans.orphan_events(call.store, provider_id, retention_days(call.settings.warehouse_url))


def replay_failed_events(call: Call, provider_id: str) -> tuple[int, Any]:
    service.require_provider(call.store, provider_id)
    keep_from = kept_from(call.settings.warehouse_url, call.now.date())
    return 200, failed_events.replay(call.store, provider_id, _optional_body(call), call.now, keep_from)


def subscribe(call: Call, provider_id: str) -> tuple[int, Any]:
    body = require_object(read_json(call.request, call.settings.max_body_bytes))
    return 201, subscriptions.subscribe(call.store, provider_id, body, call.actor, call.now)


def get_subscriptions(call: Call, provider_id: str) -> tuple[int, Any]:
    items = subscriptions.subscriptions(call.store, provider_id, call.request.args.get("experienceId"))
    return 200, {"items": [s.model_dump(mode="json") for s in items]}


def unsubscribe(call: Call, provider_id: str, subscription_id: str) -> tuple[int, Any]:
    return 200, subscriptions.unsubscribe(call.store, provider_id, subscription_id, call.actor, call.now)


def add_threshold(call: Call, provider_id: str) -> tuple[int, Any]:
    body = require_object(read_json(call.request, call.settings.max_body_bytes))
    return 201, alerts.add_threshold(call.store, provider_id, body, call.actor, call.now)


def get_thresholds(call: Call, provider_id: str) -> tuple[int, Any]:
    return 200, {
        "items": [t.model_dump(mode="json") for t in alerts.list_thresholds(call.store, provider_id)]
    }


def remove_threshold(call: Call, provider_id: str, threshold_id: str) -> tuple[int, Any]:
    return 200, alerts.remove_threshold(call.store, provider_id, threshold_id, call.actor, call.now)


P = "/v1/providers/<provider_id>"
ROUTES = [
    Route("POST", "/v1/providers", create_provider, "admin"),
    Route("GET", P, get_provider, "admin"),
    Route("PATCH", P, patch_provider, "admin"),
    Route("POST", f"{P}/keys", rotate_key, "admin"),
    Route("GET", f"{P}/keys", list_keys, "admin"),
    Route("POST", f"{P}/signing-secrets", rotate_signing_secret, "admin"),
    Route("GET", f"{P}/audit", get_audit, "admin"),
    Route("GET", f"{P}/event-definitions", get_event_definitions, "admin"),
    Route("PUT", f"{P}/event-definitions/<name>", put_event_definition, "admin"),
    Route("GET", f"{P}/failed-events", get_failed_events, "admin"),
    Route("POST", f"{P}/failed-events/replay", replay_failed_events, "admin"),
    Route("POST", f"{P}/report-subscriptions", subscribe, "admin"),
    Route("GET", f"{P}/report-subscriptions", get_subscriptions, "admin"),
    Route("DELETE", f"{P}/report-subscriptions/<subscription_id>", unsubscribe, "admin"),
    Route("POST", f"{P}/alert-thresholds", add_threshold, "admin"),
    Route("GET", f"{P}/alert-thresholds", get_thresholds, "admin"),
    Route("DELETE", f"{P}/alert-thresholds/<threshold_id>", remove_threshold, "admin"),
    Route("GET", f"{P}/orphan-events", get_orphan_events, "admin"),
    Route("GET", f"{P}/settings", get_settings, "admin"),
    Route("PUT", f"{P}/settings", put_settings, "admin"),
]

api = Api("providers", ROUTES, lambda: openapi_document("providers"))
