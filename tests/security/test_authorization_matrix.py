"""Who may call what: every route of ``functions/ingest`` and ``functions/providers`` against every
kind of credential, as one table, plus object-level authorization between providers.

Credentials (the columns):
- ``none``         no ``Authorization`` header
- ``malformed``    an ``Authorization`` header that is not ``Bearer <token>`` (``Basic ...``)
- ``wrong_token``  ``Bearer`` with a token that is neither a key nor the operator token
- ``unknown_key``  a well-formed API key that was never issued
- ``other``        the live key of another provider (``beta``, analytics on)
- ``disabled``     the live key of a provider whose analytics flag is off (``delta``)
- ``expired``      ``alpha``'s first key, ended by a rotation with ``revokeOthers``
- ``admin``        the operator token (``ANALYTICS_ADMIN_TOKEN``)
- ``own``          ``alpha``'s live key

A second table holds the columns of ``sigma``, a provider that requires signed requests
(``requireSignature``), each with its live key: ``signed`` (a valid ``X-Analytics-Signature``),
``unsigned`` (none), ``stale`` (valid, but an hour old) and ``wrong_secret`` (signed with a secret
that is not sigma's). Writes need a valid, fresh signature; reads are not signed.

Operator routes act on ``alpha`` (``{p}`` in the paths). Ingest routes have no object in the path:
the key decides whose data it is, so ``other`` succeeds there, on ``beta``'s data; the object-level
tests below prove it never reaches ``alpha``'s. Every refused call must leave the store as it was.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.auth.signing import HEADER, new_signing_secret, sign
from shared.endpoints import ingest as ingest_routes
from shared.endpoints import providers as provider_routes
from shared.store import store_for
from shared.store.records import AlertThreshold, AuditEntry, ReportSubscription
from tests.fuzz.bodies import RECENT
from tests.fuzz.harness import contract_problems, error_code
from tests.support.functions import function_client

Cell = tuple[int, str | None]
MISSING: Cell = (401, "missing_credentials")
INVALID: Cell = (401, "invalid_credentials")
ADMIN_ONLY: Cell = (403, "admin_only")
DISABLED: Cell = (403, "analytics_disabled")
OK: Cell = (200, None)
CREATED: Cell = (201, None)
ACCEPTED: Cell = (202, None)
UNKNOWN: Cell = (404, "customer_not_found")
UNSIGNED: Cell = (401, "signature_missing")
STALE: Cell = (401, "signature_expired")
FORGED: Cell = (401, "signature_invalid")

COLUMNS = ("none", "malformed", "wrong_token", "unknown_key", "other", "disabled", "expired", "admin", "own")

# fmt: off
MATRIX: dict[str, tuple[Cell, ...]] = {
    #    none        malformed   wrong_token unknown_key other       disabled    expired     admin       own
    "ingest POST /v1/conversations":
        (MISSING,    INVALID,    INVALID,    INVALID,    CREATED,    DISABLED,   INVALID,    INVALID,    CREATED),
    "ingest POST /v1/events":
        (MISSING,    INVALID,    INVALID,    INVALID,    OK,         DISABLED,   INVALID,    INVALID,    OK),
    "ingest POST /v1/activities":
        (MISSING,    INVALID,    INVALID,    INVALID,    OK,         DISABLED,   INVALID,    INVALID,    OK),
    "ingest GET /v1/event-definitions":
        (MISSING,    INVALID,    INVALID,    INVALID,    OK,         OK,         INVALID,    INVALID,    OK),
    # Erasure: another provider (or one with no data of the customer) learns nothing: 404, as unknown.
    "ingest DELETE /v1/customers/{c}":
        (MISSING,    INVALID,    INVALID,    INVALID,    UNKNOWN,    UNKNOWN,    INVALID,    INVALID,    ACCEPTED),
    "ingest GET /openapi.json":
        (OK,         OK,         OK,         OK,         OK,         OK,         OK,         OK,         OK),
    "ingest GET /healthz":
        (OK,         OK,         OK,         OK,         OK,         OK,         OK,         OK,         OK),
    "providers POST /v1/providers":
        (MISSING,    INVALID,    INVALID,    ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, CREATED,    ADMIN_ONLY),
    "providers GET /v1/providers/{p}":
        (MISSING,    INVALID,    INVALID,    ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, OK,         ADMIN_ONLY),
    "providers PATCH /v1/providers/{p}":
        (MISSING,    INVALID,    INVALID,    ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, OK,         ADMIN_ONLY),
    "providers POST /v1/providers/{p}/keys":
        (MISSING,    INVALID,    INVALID,    ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, CREATED,    ADMIN_ONLY),
    "providers POST /v1/providers/{p}/signing-secrets":
        (MISSING,    INVALID,    INVALID,    ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, CREATED,    ADMIN_ONLY),
    "providers GET /v1/providers/{p}/keys":
        (MISSING,    INVALID,    INVALID,    ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, OK,         ADMIN_ONLY),
    "providers GET /v1/providers/{p}/audit":
        (MISSING,    INVALID,    INVALID,    ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, OK,         ADMIN_ONLY),
    "providers GET /v1/providers/{p}/event-definitions":
        (MISSING,    INVALID,    INVALID,    ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, OK,         ADMIN_ONLY),
    "providers PUT /v1/providers/{p}/event-definitions/{name}":
        (MISSING,    INVALID,    INVALID,    ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, CREATED,    ADMIN_ONLY),
    "providers GET /v1/providers/{p}/failed-events":
        (MISSING,    INVALID,    INVALID,    ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, OK,         ADMIN_ONLY),
    "providers POST /v1/providers/{p}/failed-events/replay":
        (MISSING,    INVALID,    INVALID,    ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, OK,         ADMIN_ONLY),
    "providers POST /v1/providers/{p}/report-subscriptions":
        (MISSING,    INVALID,    INVALID,    ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, CREATED,    ADMIN_ONLY),
    "providers GET /v1/providers/{p}/report-subscriptions":
        (MISSING,    INVALID,    INVALID,    ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, OK,         ADMIN_ONLY),
    "providers DELETE /v1/providers/{p}/report-subscriptions/{s}":
        (MISSING,    INVALID,    INVALID,    ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, OK,         ADMIN_ONLY),
    "providers POST /v1/providers/{p}/alert-thresholds":
        (MISSING,    INVALID,    INVALID,    ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, CREATED,    ADMIN_ONLY),
    "providers GET /v1/providers/{p}/alert-thresholds":
        (MISSING,    INVALID,    INVALID,    ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, OK,         ADMIN_ONLY),
    "providers DELETE /v1/providers/{p}/alert-thresholds/{t}":
        (MISSING,    INVALID,    INVALID,    ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, OK,         ADMIN_ONLY),
    "providers GET /v1/providers/{p}/orphan-events":
        (MISSING,    INVALID,    INVALID,    ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, OK,         ADMIN_ONLY),
    "providers GET /v1/providers/{p}/settings":
        (MISSING,    INVALID,    INVALID,    ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, OK,         ADMIN_ONLY),
    "providers PUT /v1/providers/{p}/settings":
        (MISSING,    INVALID,    INVALID,    ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, OK,         ADMIN_ONLY),
    "providers GET /openapi.json":
        (OK,         OK,         OK,         OK,         OK,         OK,         OK,         OK,         OK),
    "providers GET /healthz":
        (OK,         OK,         OK,         OK,         OK,         OK,         OK,         OK,         OK),
}

SIGNING_COLUMNS = ("signed", "unsigned", "stale", "wrong_secret")
_OPERATOR = (ADMIN_ONLY,) * 4
_PUBLIC = (OK,) * 4
SIGNING_MATRIX: dict[str, tuple[Cell, ...]] = {
    #    signed      unsigned    stale       wrong_secret
    "ingest POST /v1/conversations":        (CREATED,    UNSIGNED,   STALE,      FORGED),
    "ingest POST /v1/events":               (OK,         UNSIGNED,   STALE,      FORGED),
    "ingest POST /v1/activities":           (OK,         UNSIGNED,   STALE,      FORGED),
    "ingest GET /v1/event-definitions":     (OK,         OK,         OK,         OK),
    "ingest DELETE /v1/customers/{c}":      (UNKNOWN,    UNSIGNED,   STALE,      FORGED),
    "ingest GET /openapi.json":             _PUBLIC,
    "ingest GET /healthz":                  _PUBLIC,
    **{route: _OPERATOR for route in MATRIX if route.startswith("providers ") and "/v1/" in route},
    "providers GET /openapi.json":          _PUBLIC,
    "providers GET /healthz":               _PUBLIC,
}
# fmt: on

TS = f"{RECENT}T12:00:00Z"
UNKNOWN_KEY = "cak_0123456789abcdef_" + "x" * 43
CUSTOMER = "matrix-customer"
SUBSCRIPTION = "matrix-subscription"
THRESHOLD = "matrix-threshold"


def body_for(route: str, serial: int) -> Any:
    """A valid body for the route, so that only the credential decides the answer."""
    path = route.split(" ", 2)[2]
    if path == "/v1/conversations":
        return {
            "conversation": {
                "conversationId": "matrix-conversation",
                "channel": "chat",
                "direction": "inbound",
                "conversationTimestamp": TS,
            }
        }
    if path == "/v1/events":
        return {
            "conversationId": "matrix-conversation",
            "providerSessionId": "s1",
            "events": [{"eventId": f"matrix-{serial}", "kpiEventName": "ChatStarted", "eventTimestamp": TS}],
        }
    if path == "/v1/activities":
        return {
            "activities": [
                {
                    "activityId": f"matrix-{serial}",
                    "activityType": "email",
                    "regardingType": "account",
                    "regardingId": "r1",
                    "startTimestamp": TS,
                    "parties": [{"partyId": "p1", "side": "us", "role": "from"}],
                }
            ]
        }
    if route.startswith("providers POST /v1/providers") and path == "/v1/providers":
        return {"providerId": f"newcomer-{serial}", "name": "Newcomer"}
    if route.startswith("providers PATCH"):
        return {"enableAnalytics": True}
    if route.startswith("providers PUT") and path.endswith("/settings"):
        return {"chatSessionGapMinutes": 20 + serial % 100}
    if route.startswith("providers PUT"):
        return {"description": "a custom event"}
    if route.startswith("providers POST") and path.endswith("/report-subscriptions"):
        return {"email": f"matrix-{serial}@example.com"}
    if route.startswith("providers POST") and path.endswith("/alert-thresholds"):
        return {"kpi": "abandon_rate", "operator": ">", "value": (serial % 1000) / 1000}
    return None


def concrete(path: str) -> str:
    """The subscription and threshold of alpha that exist (``Actors`` stores them)."""
    return path.replace("{s}", SUBSCRIPTION).replace("{t}", THRESHOLD)


class Actors:
    """alpha (own; an expired first key), beta (other), delta (analytics off), sigma (signs), the
    operator."""

    def __init__(self, env: dict[str, str]):
        self.ingest = function_client("ingest")
        self.providers = function_client("providers")
        self.store = store_for(env["ANALYTICS_STORE"])
        self.admin_token = env["ANALYTICS_ADMIN_TOKEN"]
        admin = {"Authorization": f"Bearer {self.admin_token}"}
        expired = self._register("alpha", True, admin)
        rotated = self.providers.post("/v1/providers/alpha/keys", json={"revokeOthers": True}, headers=admin)
        assert rotated.status_code == 201, rotated.get_data(as_text=True)
        self.tokens: dict[str, str | None] = {
            "none": None,
            "malformed": "Basic YWxwaGE6c2VjcmV0",
            "wrong_token": "Bearer not-the-operator-token",
            "unknown_key": f"Bearer {UNKNOWN_KEY}",
            "other": f"Bearer {self._register('beta', True, admin)}",
            "disabled": f"Bearer {self._register('delta', False, admin)}",
            "expired": f"Bearer {expired}",
            "admin": f"Bearer {self.admin_token}",
            "own": f"Bearer {rotated.json['apiKey']}",
        }
        sigma = f"Bearer {self._register('sigma', True, admin)}"
        issued = self.providers.post("/v1/providers/sigma/signing-secrets", headers=admin)
        assert issued.status_code == 201, issued.get_data(as_text=True)
        self.signing_secret = issued.json["signingSecret"]
        required = self.providers.patch("/v1/providers/sigma", json={"requireSignature": True}, headers=admin)
        assert required.status_code == 200 and required.json["requireSignature"] is True
        self.tokens.update({column: sigma for column in SIGNING_COLUMNS})
        # alpha's customer, whom only alpha's live key may erase (the "own" column)
        conversation = {
            **body_for("ingest POST /v1/conversations", 0)["conversation"],
            "conversationId": "matrix-customer-conversation",
            "customerId": CUSTOMER,
        }
        registered = self.ingest.post(
            "/v1/conversations",
            json={"conversation": conversation},
            headers={"Authorization": self.tokens["own"]},
        )
        assert registered.status_code == 201, registered.get_data(as_text=True)
        # alpha's report subscription and alert threshold, which the DELETE routes remove
        audit = AuditEntry("matrix-audit", "alpha", datetime.now(UTC), "operator", "setup", "x", None, None)
        self.store.add_subscription(
            ReportSubscription("alpha", SUBSCRIPTION, "ops@example.com", None, datetime.now(UTC), "operator"),
            audit,
        )
        self.store.add_threshold(
            AlertThreshold("alpha", THRESHOLD, "nps", "<", 0.0, {}, None, datetime.now(UTC), "operator"),
            replace(audit, audit_id="matrix-audit-2"),
        )

    def _register(self, provider_id: str, analytics: bool, admin: dict[str, str]) -> str:
        created = self.providers.post(
            "/v1/providers",
            json={"providerId": provider_id, "name": provider_id, "enableAnalytics": analytics},
            headers=admin,
        )
        assert created.status_code == 201, created.get_data(as_text=True)
        return created.json["apiKey"]

    def signature(self, column: str, raw: bytes) -> dict[str, str]:
        """The X-Analytics-Signature a signing column sends with ``raw``."""
        if column == "signed":
            return {HEADER: sign(self.signing_secret, raw)}
        if column == "stale":
            return {HEADER: sign(self.signing_secret, raw, timestamp=int(time.time()) - 3600)}
        if column == "wrong_secret":
            return {HEADER: sign(new_signing_secret()[1], raw)}
        return {}

    def call(self, route: str, column: str, serial: int) -> Any:
        function, method, path = route.split(" ", 2)
        client = self.ingest if function == "ingest" else self.providers
        headers = {} if self.tokens[column] is None else {"Authorization": self.tokens[column]}
        body = body_for(route, serial)
        url = (
            concrete(path)
            .replace("{p}", "alpha")
            .replace("{name}", f"MatrixEvent{serial}")
            .replace("{c}", CUSTOMER)
        )
        # The exact bytes sent, so that a signature covers them.
        raw = b"" if body is None else json.dumps(body).encode()
        if column in SIGNING_COLUMNS:
            headers.update(self.signature(column, raw))
        if body is None:
            return client.open(url, method=method, headers=headers)
        return client.open(url, method=method, data=raw, content_type="application/json", headers=headers)

    def snapshot(self) -> Any:
        """Everything a call could change, read through the store port."""
        until = datetime.now(UTC) + timedelta(days=2)
        per_provider = [
            (
                self.store.get_provider(p),
                self.store.list_api_keys(p),
                self.store.list_audit(p, 500).items,
                self.store.list_event_definitions(p),
                self.store.list_failed_events(p, None, 500).items,
                self.store.list_subscriptions(p),
                self.store.list_thresholds(p),
            )
            for p in ("alpha", "beta", "delta", "sigma")
        ]
        scans = [
            sorted(
                (e.provider_id, e.event_id) for page in self.store.scan_events(None, until, 500) for e in page
            ),
            sorted(
                (c.provider_id, c.conversation_id, repr(c.data))
                for page in self.store.scan_conversations(None, until, 500)
                for c in page
            ),
            sorted(
                (a.provider_id, a.activity_id, repr(a.data))
                for page in self.store.scan_activities(None, until, 500)
                for a in page
            ),
        ]
        return per_provider, scans


@pytest.mark.parametrize("route", list(MATRIX))
def test_authorization_matrix(env: dict[str, str], route: str) -> None:
    actors = Actors(env)
    wrong: list[str] = []
    cells = [
        *zip(COLUMNS, MATRIX[route], strict=True),
        *zip(SIGNING_COLUMNS, SIGNING_MATRIX[route], strict=True),
    ]
    for serial, (column, expected) in enumerate(cells):
        before = actors.snapshot() if expected[0] >= 400 else None
        response = actors.call(route, column, serial)
        payload = response.get_data()
        got = (response.status_code, error_code(payload) if response.status_code >= 300 else None)
        problems = contract_problems(response.status_code, response.headers.get, payload)
        if route.endswith("/openapi.json"):  # the public document is cacheable by design
            problems = [p for p in problems if "Cache-Control" not in p]
        if got != expected or problems:
            wrong.append(f"{column}: got {got}, expected {expected} {problems or ''}")
        if expected[0] == 401 and "WWW-Authenticate" not in response.headers:
            wrong.append(f"{column}: 401 without WWW-Authenticate")
        if before is not None and actors.snapshot() != before:
            wrong.append(f"{column}: refused with {got}, yet the store changed")
        created = actors.store.get_provider(f"newcomer-{serial}") is not None
        if route == "providers POST /v1/providers" and column != "admin" and created:
            wrong.append(f"{column}: a refused registration created the provider")
    assert not wrong, f"{route}:\n" + "\n".join(wrong)


def test_matrix_covers_every_route_of_both_functions() -> None:
    """A route added to either function without a row here fails this test."""
    declared = {
        f"{function} {r.method} {r.rule.replace('<provider_id>', '{p}').replace('<name>', '{name}').replace('<customer_id>', '{c}').replace('<subscription_id>', '{s}').replace('<threshold_id>', '{t}')}"
        for function, module in (("ingest", ingest_routes), ("providers", provider_routes))
        for r in module.ROUTES
    }
    public = {f"{f} GET {p}" for f in ("ingest", "providers") for p in ("/openapi.json", "/healthz")}
    assert set(MATRIX) == declared | public
    assert set(SIGNING_MATRIX) == set(MATRIX)
    for function, module in (("ingest", ingest_routes), ("providers", provider_routes)):
        for r in module.ROUTES:
            row = MATRIX[
                f"{function} {r.method} {r.rule.replace('<provider_id>', '{p}').replace('<name>', '{name}').replace('<customer_id>', '{c}').replace('<subscription_id>', '{s}').replace('<threshold_id>', '{t}')}"
            ]
            assert (row[COLUMNS.index("admin")][0] < 300) == (r.auth == "admin"), r.rule


MALFORMED_HEADERS = [
    ("", MISSING),
    ("Bearer", INVALID),
    ("Bearer ", INVALID),
    ("Bearer    ", INVALID),
    ("Basic YWRtaW46YWRtaW4=", INVALID),
    ("Token abc", INVALID),
    ("Bearer\tabc", INVALID),
    ("bearer", INVALID),
    ("Bearer cak_", INVALID),
    ("Bearer cak_0123456789abcdef", INVALID),
    ("Bearer cak_0123456789ABCDEF_" + "x" * 43, INVALID),
    ("Bearer cak_0123456789abcdef_" + "x" * 5000, INVALID),
    ("Bearer a,b", INVALID),
    ("Bearer \u00e9t\u00e9", INVALID),
]


@pytest.mark.parametrize(("header", "expected"), MALFORMED_HEADERS)
def test_malformed_authorization_headers_on_every_protected_route(
    env: dict[str, str], header: str, expected: Cell
) -> None:
    """However the header is broken: 401 with the right code, on ingest and operator routes alike."""
    ingest = function_client("ingest")
    providers = function_client("providers")
    wrong = []
    for route in MATRIX:
        if route.endswith(("/openapi.json", "/healthz")):
            continue
        function, method, path = route.split(" ", 2)
        client = ingest if function == "ingest" else providers
        url = concrete(path).replace("{p}", "alpha").replace("{name}", "MatrixEvent")
        response = client.open(url, method=method, json=body_for(route, 0), headers={"Authorization": header})
        got = (response.status_code, error_code(response.get_data()))
        key_shaped = header.startswith("Bearer cak_0123456789abcdef_")
        allowed = {expected, ADMIN_ONLY} if function == "providers" and key_shaped else {expected}
        if got not in allowed:
            wrong.append(f"{route}: {got}")
    assert not wrong, f"Authorization: {header[:60]!r}:\n" + "\n".join(wrong)


# -- object-level authorization ---------------------------------------------------------------------


def _conversation(conversation_id: str, channel: str, session: str) -> dict[str, Any]:
    return {
        "conversation": {
            "conversationId": conversation_id,
            "channel": channel,
            "direction": "inbound",
            "conversationTimestamp": TS,
            "customerId": f"customer-of-{channel}",
            "sessions": [
                {
                    "sessionId": session,
                    "sessionCreatedTimestamp": TS,
                    "participants": [
                        {
                            "participantId": f"agent-{channel}",
                            "participantType": "agent",
                            "participantMode": "primary",
                            "participantAddedTimestamp": TS,
                        }
                    ],
                }
            ],
        }
    }


def _events(reason: str) -> dict[str, Any]:
    return {
        "conversationId": "shared-id",
        "providerSessionId": "s1",
        "events": [
            {
                "eventId": "ev-1",
                "kpiEventName": "SessionStarted",
                "eventTimestamp": TS,
                "kpiEventReason": reason,
            },
            {
                "eventId": "ev-2",
                "kpiEventName": "SessionClosed",
                "eventTimestamp": TS,
                "kpiEventReason": reason,
            },
            {"eventId": "ev-3", "kpiEventName": "AlphaOnly", "eventTimestamp": TS},
            {"kpiEventName": "NotRegisteredAnywhere", "eventTimestamp": TS, "kpiEventReason": reason},
        ],
    }


def _activities(kind: str) -> dict[str, Any]:
    return {
        "activities": [
            {
                "activityId": "act-1",
                "activityType": kind,
                "regardingType": "account",
                "regardingId": f"r-{kind}",
                "startTimestamp": TS,
                "parties": [{"partyId": "p1", "side": "us", "role": "from"}],
            }
        ]
    }


def _alpha_state(actors: Actors) -> Any:
    store = actors.store
    until = datetime.now(UTC) + timedelta(days=2)
    return (
        store.get_conversation("alpha", "shared-id"),
        [store.get_event("alpha", e) for e in ("ev-1", "ev-2", "ev-3")],
        [a for page in store.scan_activities(None, until, 500) for a in page if a.provider_id == "alpha"],
        store.list_failed_events("alpha", None, 500).items,
        store.list_event_definitions("alpha"),
    )


def test_provider_b_can_never_read_or_change_provider_a_objects(env: dict[str, str]) -> None:
    """beta sends the very ids alpha uses: it gets its own, new objects, learns nothing about
    alpha's (no ``duplicate``, no ``updated``), and alpha's objects are unchanged in the store."""
    actors = Actors(env)
    alpha = {"Authorization": actors.tokens["own"]}
    beta = {"Authorization": actors.tokens["other"]}
    admin = {"Authorization": actors.tokens["admin"]}
    defined = actors.providers.put(
        "/v1/providers/alpha/event-definitions/AlphaOnly", json={"description": "alpha's"}, headers=admin
    )
    assert defined.status_code == 201, defined.get_data(as_text=True)

    assert (
        actors.ingest.post(
            "/v1/conversations", json=_conversation("shared-id", "voice", "sa"), headers=alpha
        ).status_code
        == 201
    )
    sent = actors.ingest.post("/v1/events", json=_events("alpha"), headers=alpha)
    assert [r["status"] for r in sent.json["results"]] == ["accepted", "accepted", "accepted", "rejected"]
    assert (
        actors.ingest.post("/v1/activities", json=_activities("meeting"), headers=alpha).json["created"] == 1
    )
    before = _alpha_state(actors)
    assert before[0] is not None and all(before[1]) and before[2] and before[3] and before[4]

    # beta writes the same ids with other content
    conversation = actors.ingest.post(
        "/v1/conversations", json=_conversation("shared-id", "chat", "sb"), headers=beta
    )
    assert conversation.status_code == 201 and conversation.json["created"] is True, conversation.json
    assert conversation.json["sessions"] == 1, "beta's conversation shows alpha's session"
    events = actors.ingest.post("/v1/events", json=_events("beta"), headers=beta)
    statuses = [r["status"] for r in events.json["results"]]
    assert statuses[:2] == ["accepted", "accepted"], f"beta learns alpha's event ids: {statuses}"
    assert statuses[2] == "rejected" and events.json["results"][2]["error"]["code"] == "unknown_event", (
        "beta may log alpha's custom event"
    )
    activity = actors.ingest.post("/v1/activities", json=_activities("email"), headers=beta)
    assert activity.json["results"][0]["status"] == "created", "beta updates alpha's activity"

    assert _alpha_state(actors) == before, "beta's calls changed alpha's objects"
    stored = actors.store.get_conversation("beta", "shared-id")
    assert stored is not None and stored.data["channel"] == "chat"
    assert actors.store.get_conversation("alpha", "shared-id").data["channel"] == "voice"
    assert actors.store.get_event("beta", "ev-1").reason == "beta"
    assert actors.store.get_event("alpha", "ev-1").reason == "alpha"

    # what each provider can list is its own
    names = {d["name"] for d in actors.ingest.get("/v1/event-definitions", headers=beta).json["items"]}
    assert "AlphaOnly" not in names
    assert "AlphaOnly" in {
        d["name"] for d in actors.ingest.get("/v1/event-definitions", headers=alpha).json["items"]
    }
    alpha_failed = actors.providers.get("/v1/providers/alpha/failed-events", headers=admin).json["items"]
    beta_failed = actors.providers.get("/v1/providers/beta/failed-events", headers=admin).json["items"]
    assert {f["failedId"] for f in alpha_failed}.isdisjoint({f["failedId"] for f in beta_failed})
    assert all(f["envelope"].get("kind") in ("event", "activity") for f in alpha_failed + beta_failed)

    # even the operator cannot address alpha's failed events through beta's path
    replay = actors.providers.post(
        "/v1/providers/beta/failed-events/replay",
        json={"failedIds": [f["failedId"] for f in alpha_failed]},
        headers=admin,
    )
    assert replay.status_code == 200
    assert {r["status"] for r in replay.json["results"]} == {"not_found"}
    assert _alpha_state(actors) == before


def test_provider_key_cannot_reach_operator_routes_of_any_provider(env: dict[str, str]) -> None:
    """alpha's key on beta's operator routes, and on its own: 403 admin_only, nothing changes."""
    actors = Actors(env)
    before = actors.snapshot()
    for target in ("alpha", "beta", "delta", "nobody"):
        for route in MATRIX:
            function, method, path = route.split(" ", 2)
            if function != "providers" or "{p}" not in path:
                continue
            url = concrete(path).replace("{p}", target).replace("{name}", "Sneaky")
            response = actors.providers.open(
                url, method=method, json=body_for(route, 0), headers={"Authorization": actors.tokens["own"]}
            )
            # the same answer whether the provider exists or not: no way to enumerate providers
            assert (response.status_code, error_code(response.get_data())) == ADMIN_ONLY, (url, response.json)
    assert actors.snapshot() == before


@pytest.mark.parametrize("token", [None, "", "Bearer ", "Bearer None", "Bearer null", "Bearer undefined"])
def test_operator_routes_fail_closed_without_an_operator_token(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, token: str | None
) -> None:
    """With ``ANALYTICS_ADMIN_TOKEN`` unset no credential opens an operator route, a provider key
    included: 503 ``admin_auth_not_configured`` (with Retry-After), and nothing changes."""
    from shared.config import reset_settings

    actors = Actors(env)
    monkeypatch.delenv("ANALYTICS_ADMIN_TOKEN")
    reset_settings()
    before = actors.snapshot()
    tokens = [token, actors.tokens["own"]] if token is not None else [None]
    for route in MATRIX:
        function, method, path = route.split(" ", 2)
        if function != "providers" or path in ("/openapi.json", "/healthz"):
            continue
        for presented in tokens:
            headers = {} if presented is None else {"Authorization": presented}
            url = concrete(path).replace("{p}", "alpha").replace("{name}", "Closed")
            response = actors.providers.open(url, method=method, json=body_for(route, 99), headers=headers)
            got = (response.status_code, error_code(response.get_data()))
            assert got == (503, "admin_auth_not_configured"), (route, presented, got)
            assert response.headers.get("Retry-After")
    assert actors.snapshot() == before


def test_a_revoked_key_stays_revoked_through_later_rotations(env: dict[str, str]) -> None:
    """Rotation with ``revokeOthers`` ends a key at once; a later ordinary rotation (grace period
    for the others) must not bring it back, and the list of keys says which are live."""
    actors = Actors(env)
    admin = {"Authorization": actors.tokens["admin"]}
    later = actors.providers.post("/v1/providers/alpha/keys", json={"revokeOthers": False}, headers=admin)
    assert later.status_code == 201
    for token, expected in ((actors.tokens["expired"], INVALID), (actors.tokens["own"], OK)):
        response = actors.ingest.get("/v1/event-definitions", headers={"Authorization": token})
        got = (response.status_code, error_code(response.get_data()) if response.status_code >= 300 else None)
        assert got == expected, (token[:20], got)
    listed = actors.providers.get("/v1/providers/alpha/keys", headers=admin).json["items"]
    expired_id = actors.tokens["expired"].removeprefix("Bearer ").split("_")[1]
    assert [k["active"] for k in listed if k["keyId"] == expired_id] == [False]
    assert sum(k["active"] for k in listed) == 2  # the grace-period key and the newest


def test_implicit_methods_are_no_way_around_authentication(env: dict[str, str]) -> None:
    """HEAD (added for every GET), OPTIONS and method-override headers: the same gate as GET/POST."""
    actors = Actors(env)
    key = {"Authorization": actors.tokens["own"]}
    for route in MATRIX:
        function, method, path = route.split(" ", 2)
        if path in ("/openapi.json", "/healthz"):
            continue
        client = actors.ingest if function == "ingest" else actors.providers
        url = concrete(path).replace("{p}", "alpha").replace("{name}", "Custom")
        if method == "GET":
            assert client.head(url).status_code == 401, url
            if function == "providers":
                assert client.head(url, headers=key).status_code == 403, url
        options = client.options(url)
        assert (options.status_code, error_code(options.get_data())) == (405, "method_not_allowed"), url
        override = client.post(url, headers={"X-HTTP-Method-Override": method, "X-Method-Override": method})
        assert override.status_code in (401, 405), (url, override.status_code)
