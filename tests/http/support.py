"""What every HTTP test shares: the response contract checked on every call, and body builders.

``Checked`` wraps a Flask test client so that *every* response any test sees is held to the v1
contract (no 5xx but a deliberate 503, JSON bodies, the error shape, no traceback, the security
headers) — a test cannot forget to check it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from shared.store.port import Store
from shared.store.records import Event

SNAKE_CASE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}
NOW = datetime.now(UTC).replace(microsecond=0)


def ts(offset_s: float = 0, base: datetime | None = None) -> str:
    """An ISO 8601 UTC instant ``offset_s`` seconds after ``base`` (default: an hour ago)."""
    return (
        ((base or NOW - timedelta(hours=1)) + timedelta(seconds=offset_s)).isoformat().replace("+00:00", "Z")
    )


def contract_violations(resp: TestResponse) -> list[str]:
    problems = []
    if resp.status_code >= 500 and resp.status_code != 503:
        problems.append(f"server error {resp.status_code}")
    if resp.mimetype != "application/json":
        problems.append(f"Content-Type {resp.mimetype!r}")
    text = resp.get_data(as_text=True)
    if "Traceback" in text or 'File "' in text:
        problems.append("a stack trace in the body")
    for name, value in SECURITY_HEADERS.items():
        if resp.headers.get(name) != value:
            problems.append(f"header {name} is {resp.headers.get(name)!r}")
    if "no-store" not in resp.headers.get("Cache-Control", "") and resp.request.path != "/openapi.json":
        problems.append("no Cache-Control: no-store")
    if resp.request.method != "HEAD":
        try:
            body = json.loads(text)
        except ValueError:
            return [*problems, f"body is not JSON: {text[:200]!r}"]
        if resp.status_code >= 400:
            problems.extend(_error_shape(body))
    return problems


def _error_shape(body: Any) -> list[str]:
    if not isinstance(body, dict) or set(body) != {"error"} or not isinstance(body["error"], dict):
        return [f"error body {body!r} is not {{'error': {{...}}}}"]
    err = body["error"]
    problems = []
    if set(err) != {"code", "message", "details"}:
        problems.append(f"error keys {sorted(err)}")
    if not isinstance(err.get("code"), str) or not SNAKE_CASE.fullmatch(err["code"]):
        problems.append(f"error code {err.get('code')!r} is not snake_case")
    if not isinstance(err.get("message"), str) or not err["message"]:
        problems.append("empty error message")
    if not isinstance(err.get("details"), list) or not all(isinstance(d, dict) for d in err["details"]):
        problems.append("details is not a list of objects")
    return problems


class Checked:
    """A test client that checks the HTTP contract on every response it returns."""

    def __init__(self, client: FlaskClient):
        self.client = client

    def open(self, path: str, **kwargs: Any) -> TestResponse:
        resp = self.client.open(path, **kwargs)
        problems = contract_violations(resp)
        assert not problems, f"{kwargs.get('method', 'GET')} {path} -> {resp.status_code}: {problems}"
        return resp

    def get(self, path: str, **kw: Any) -> TestResponse:
        return self.open(path, method="GET", **kw)

    def head(self, path: str, **kw: Any) -> TestResponse:
        return self.open(path, method="HEAD", **kw)

    def post(self, path: str, **kw: Any) -> TestResponse:
        return self.open(path, method="POST", **kw)

    def put(self, path: str, **kw: Any) -> TestResponse:
        return self.open(path, method="PUT", **kw)

    def patch(self, path: str, **kw: Any) -> TestResponse:
        return self.open(path, method="PATCH", **kw)

    def delete(self, path: str, **kw: Any) -> TestResponse:
        return self.open(path, method="DELETE", **kw)


def assert_error(resp: TestResponse, status: int, code: str) -> dict[str, Any]:
    """The response is exactly this error; its ``error`` object."""
    assert (resp.status_code, resp.json and resp.json.get("error", {}).get("code")) == (status, code), (
        resp.status_code,
        resp.get_data(as_text=True)[:500],
    )
    return resp.json["error"]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def conversation(conversation_id: str = "conv-1", **fields: Any) -> dict[str, Any]:
    """A valid ``POST /v1/conversations`` body; ``fields`` override or add conversation fields."""
    conv = {
        "conversationId": conversation_id,
        "channel": "chat",
        "direction": "inbound",
        "conversationTimestamp": ts(0),
        **fields,
    }
    return {"conversation": {k: v for k, v in conv.items() if v is not None}}


def session(session_id: str = "sess-1", *participants: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "sessionId": session_id,
        "sessionCreatedTimestamp": ts(1),
        "participants": list(participants),
        **fields,
    }


def participant(participant_id: str, kind: str = "agent", mode: str = "primary") -> dict[str, Any]:
    return {
        "participantId": participant_id,
        "participantType": kind,
        "participantMode": mode,
        "participantAddedTimestamp": ts(2),
    }


def event(name: str = "SessionStarted", offset_s: float = 10, **fields: Any) -> dict[str, Any]:
    """One valid KPI event (no ``eventId`` unless given)."""
    return {"kpiEventName": name, "eventTimestamp": ts(offset_s), **fields}


def custom(**attributes: Any) -> list[dict[str, Any]]:
    """CIF ``customData`` pairs."""
    return [{"attribute": k, "value": v} for k, v in attributes.items()]


def batch(*events: dict[str, Any], conversation_id: str = "conv-1", session_id: str = "sess-1", **env: Any):
    return {"conversationId": conversation_id, "providerSessionId": session_id, **env, "events": list(events)}


def activity(activity_id: str = "act-1", **fields: Any) -> dict[str, Any]:
    return {
        "activityId": activity_id,
        "activityType": "email",
        "regardingType": "account",
        "regardingId": "acc-1",
        "startTimestamp": ts(0),
        "parties": [
            {"partyId": "seller-1", "side": "us", "role": "from"},
            {"partyId": "buyer-1", "side": "customer", "role": "to"},
        ],
        **fields,
    }


def stored_events(store: Store, provider_id: str) -> list[Event]:
    """Every event of one provider, read back through the store port's scan."""
    out: list[Event] = []
    for page in store.scan_events(None, datetime.now(UTC) + timedelta(days=2), 200):
        out.extend(e for e in page if e.provider_id == provider_id)
    return out


@dataclass
class World:
    """Both functions (contract-checked) over one embedded store, the operator token at hand."""

    ingest: Checked
    providers: Checked
    admin: dict[str, str]
    store: Store
    serial: int = 0
    keys: dict[str, str] = field(default_factory=dict)
    path: str = ""  # the SQLite file, where a test needs to lock it from outside

    def provider(self, provider_id: str | None = None, analytics: bool = True) -> tuple[str, dict[str, str]]:
        """Register a provider over HTTP; its id and its ``Authorization`` header."""
        self.serial += 1
        provider_id = provider_id or f"prov-{self.serial}"
        resp = self.providers.post(
            "/v1/providers",
            json={"providerId": provider_id, "name": f"Provider {provider_id}", "enableAnalytics": analytics},
            headers=self.admin,
        )
        assert resp.status_code == 201, resp.json
        self.keys[provider_id] = resp.json["apiKey"]
        return provider_id, bearer(resp.json["apiKey"])

    def failed(self, provider_id: str, status: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
        """Every failed event of a provider, paged through the operator API."""
        items: list[dict[str, Any]] = []
        query: dict[str, Any] = {"limit": limit}
        if status:
            query["status"] = status
        while True:
            resp = self.providers.get(
                f"/v1/providers/{provider_id}/failed-events", query_string=query, headers=self.admin
            )
            assert resp.status_code == 200, resp.json
            items.extend(resp.json["items"])
            if not resp.json["nextCursor"]:
                return items
            query["cursor"] = resp.json["nextCursor"]
