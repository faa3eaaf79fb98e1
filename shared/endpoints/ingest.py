"""Routes of ``functions/ingest`` (providers, ``Authorization: Bearer <apiKey>``).

Every route that takes a body reads it through ``signed_body``: the provider's request signature
(``X-Analytics-Signature``, ``shared.auth.signing``) is checked on the raw bytes before they are parsed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from shared.auth.signing import HEADER as SIGNATURE_HEADER
from shared.auth.signing import verify_request
from shared.errors import ApiError
from shared.http.api import Api, Call, Route
from shared.http.body import parse_json, read_raw_body, require_object
from shared.ingest.activities import log_activities
from shared.ingest.conversations import register_conversation
from shared.ingest.events import Insert, log_events
from shared.openapi.spec import openapi_document
from shared.privacy.erasure import erase_customer
from shared.privacy.pseudonym import PseudonymSaltMissing, pseudonymizer
from shared.privacy.wire import ErasureReceipt
from shared.providers.event_definitions import list_definitions
from shared.warehouse import kept_from


def signed_body(call: Call) -> Any:
    """The parsed body, once the provider's signature over its raw bytes holds (or is not required)."""
    raw = read_raw_body(call.request, call.settings.max_body_bytes)
    assert call.provider is not None  # a "provider" route: the API key identified it
    verify_request(
        call.request.headers.getlist(SIGNATURE_HEADER),
        raw,
        call.provider,
        call.store,
        call.settings,
        call.now,
    )
    return parse_json(raw)


def keep_from(call: Call) -> date | None:
    """The first day the configured warehouse keeps: older data is refused, not silently dropped."""
    return kept_from(call.settings.warehouse_url, call.now.date())


def post_conversation(call: Call) -> tuple[int, Any]:
    body = require_object(signed_body(call))
    return register_conversation(call.store, call.provider, body, call.now, keep_from(call))


def event_insert(call: Call) -> Insert | None:
    """Where accepted events go: the store (``None``), or the event sink (docs/scale.md), whose rows
    are pseudonymised here, before they leave the function."""
    url = call.settings.event_sink_url
    if not url:
        return None
    from shared.ingest.sink import event_sink, sink_insert  # only this mode pays for the import

    try:
        pseudonyms = pseudonymizer(call.settings)
    except PseudonymSaltMissing as exc:
        raise ApiError(503, "privacy_not_configured", str(exc), headers={"Retry-After": "300"}) from exc
    try:
        sink = event_sink(url)
    except ValueError as exc:  # the deployment's setting, not the request: a server error, said clearly
        raise ApiError(500, "sink_misconfigured", str(exc)) from exc
    return sink_insert(sink, pseudonyms)


def post_events(call: Call) -> tuple[int, Any]:
    body = signed_body(call)
    insert = event_insert(call)
    from shared.sink import SinkUnavailable

    try:
        return 200, log_events(call.store, call.provider, body, call.now, keep_from(call), insert)
    except SinkUnavailable as exc:
        # Nothing is answered accepted unless the sink confirmed it: the provider retries the
        # request, and the warehouse counts each eventId once whatever landed twice.
        raise ApiError(
            503, "sink_unavailable", str(exc), headers={"Retry-After": str(exc.retry_after)}
        ) from exc


def post_activities(call: Call) -> tuple[int, Any]:
    body = signed_body(call)
    return 200, log_activities(call.store, call.provider, body, call.now, keep_from(call))


def get_event_definitions(call: Call) -> tuple[int, Any]:
    items = list_definitions(call.store, call.provider.provider_id)
    return 200, {"items": [d.model_dump(by_alias=True) for d in items]}


def delete_customer(call: Call, customer_id: str) -> tuple[int, Any]:
    """Erase one of the provider's customers (docs/privacy.md); works with analytics switched off."""
    assert call.provider is not None
    # No body: a provider that must sign signs the empty body, like any other request.
    verify_request(
        call.request.headers.getlist(SIGNATURE_HEADER),
        b"",
        call.provider,
        call.store,
        call.settings,
        call.now,
    )
    try:
        pseudonyms = pseudonymizer(call.settings)
    except PseudonymSaltMissing as exc:
        raise ApiError(503, "privacy_not_configured", str(exc), headers={"Retry-After": "300"}) from exc
    erasure = erase_customer(call.store, call.provider.provider_id, customer_id, pseudonyms, call.now)
    return 202, ErasureReceipt.of(erasure)


ROUTES = [
    Route("POST", "/v1/conversations", post_conversation, "provider", needs_analytics=True),
    Route("POST", "/v1/events", post_events, "provider", needs_analytics=True),
    Route("POST", "/v1/activities", post_activities, "provider", needs_analytics=True),
    Route("GET", "/v1/event-definitions", get_event_definitions, "provider"),
    Route("DELETE", "/v1/customers/<customer_id>", delete_customer, "provider"),
]

api = Api("ingest", ROUTES, lambda: openapi_document("ingest"))
