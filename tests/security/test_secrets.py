"""Secrets: API keys at rest, in responses and in logs; constant-time comparison; what an internal
error shows; the security headers on every kind of response."""

from __future__ import annotations

import ast
import hmac
import logging
import sqlite3
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import shared.auth.api_keys
import shared.auth.guard
from shared.endpoints import providers as provider_routes
from tests.fuzz.bodies import RECENT
from tests.fuzz.harness import contract_problems, error_code, strict_json
from tests.support.functions import ROOT, function_client

TS = f"{RECENT}T12:00:00Z"
AUTH_SOURCES = sorted((ROOT / "shared" / "auth").glob("*.py"))


class Flow:
    """Both functions over the test's store, recording every response."""

    def __init__(self, env: dict[str, str]):
        self.env = env
        self.ingest = function_client("ingest")
        self.providers = function_client("providers")
        self.admin_token = env["ANALYTICS_ADMIN_TOKEN"]
        self.admin = {"Authorization": f"Bearer {self.admin_token}"}
        self.responses: list[tuple[str, Any]] = []
        self.keys: list[str] = []

    def call(self, client: Any, method: str, path: str, **kwargs: Any) -> Any:
        response = client.open(path, method=method, **kwargs)
        self.responses.append((f"{method} {path}", response))
        return response

    def register(self, provider_id: str) -> str:
        created = self.call(
            self.providers,
            "POST",
            "/v1/providers",
            json={"providerId": provider_id, "name": provider_id, "enableAnalytics": True},
            headers=self.admin,
        )
        assert created.status_code == 201, created.get_data(as_text=True)
        self.keys.append(created.json["apiKey"])
        return created.json["apiKey"]

    def rotate(self, provider_id: str, revoke: bool) -> str:
        rotated = self.call(
            self.providers,
            "POST",
            f"/v1/providers/{provider_id}/keys",
            json={"revokeOthers": revoke},
            headers=self.admin,
        )
        assert rotated.status_code == 201, rotated.get_data(as_text=True)
        self.keys.append(rotated.json["apiKey"])
        return rotated.json["apiKey"]

    @property
    def store_path(self) -> Path:
        return Path(self.env["ANALYTICS_STORE"].removeprefix("sqlite:///"))

    def store_files(self) -> Iterator[Path]:
        yield from sorted(self.store_path.parent.glob(self.store_path.name + "*"))

    def rows(self) -> list[tuple[str, tuple[Any, ...]]]:
        """Every row of every table of the SQLite store, read-only."""
        db = sqlite3.connect(f"file:{self.store_path}?mode=ro", uri=True)
        try:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            return [(t, row) for t in tables for row in db.execute(f'SELECT * FROM "{t}"')]
        finally:
            db.close()

    def stored_hashes(self) -> list[str]:
        db = sqlite3.connect(f"file:{self.store_path}?mode=ro", uri=True)
        try:
            columns = [r[1] for r in db.execute("PRAGMA table_info(api_keys)")]
            hash_column = next(c for c in columns if "hash" in c)
            return [r[0] for r in db.execute(f'SELECT "{hash_column}" FROM api_keys')]
        finally:
            db.close()


def secret_of(key: str) -> str:
    """``cak_<key id>_<secret>`` -> the secret part (the key id is a public handle)."""
    assert key.startswith("cak_"), key
    return key.split("_", 2)[2]


def full_flow(flow: Flow) -> None:
    """Register, switch on, ingest (accepted and rejected), rotate twice, read everything back,
    and make every kind of error: a broad sample of what the functions log and answer."""
    alpha = flow.register("alpha")
    flow.register("beta")
    flow.call(
        flow.providers, "PATCH", "/v1/providers/alpha", json={"enableAnalytics": True}, headers=flow.admin
    )
    key = {"Authorization": f"Bearer {alpha}"}
    conversation = {
        "conversationId": "c1",
        "channel": "chat",
        "direction": "inbound",
        "conversationTimestamp": TS,
    }
    flow.call(flow.ingest, "POST", "/v1/conversations", json={"conversation": conversation}, headers=key)
    events = [
        {"kpiEventName": "ChatStarted", "eventTimestamp": TS},
        {"kpiEventName": "NoSuchEvent", "eventTimestamp": TS},
        {"kpiEventName": "ChatStarted", "eventTimestamp": "yesterday"},
    ]
    body = {"conversationId": "c1", "providerSessionId": "s1", "events": events}
    flow.call(flow.ingest, "POST", "/v1/events", json=body, headers=key)
    flow.call(flow.ingest, "POST", "/v1/activities", json={"activities": [{"activityId": "a"}]}, headers=key)
    second = flow.rotate("alpha", revoke=False)
    third = flow.rotate("alpha", revoke=True)
    for token in (alpha, second, third, third[:-1] + ("A" if third[-1] != "A" else "B")):
        flow.call(flow.ingest, "GET", "/v1/event-definitions", headers={"Authorization": f"Bearer {token}"})
        flow.call(flow.providers, "GET", "/v1/providers/alpha", headers={"Authorization": f"Bearer {token}"})
    flow.call(flow.ingest, "GET", "/v1/event-definitions", headers=flow.admin)
    flow.call(
        flow.ingest, "GET", "/v1/event-definitions", headers={"Authorization": f"Basic {flow.admin_token}"}
    )
    flow.call(
        flow.providers, "GET", "/v1/providers/alpha", headers={"Authorization": f"Bearer {flow.admin_token}x"}
    )
    flow.call(
        flow.providers, "GET", "/v1/providers/alpha", headers={"Authorization": f"Token {flow.admin_token}"}
    )
    flow.call(
        flow.ingest, "POST", "/v1/events", data=b"{", headers={**key, "Content-Type": "application/json"}
    )
    for path in (
        "/v1/providers/alpha",
        "/v1/providers/alpha/keys",
        "/v1/providers/alpha/audit",
        "/v1/providers/alpha/event-definitions",
        "/v1/providers/alpha/failed-events",
        "/v1/providers/beta/keys",
        "/openapi.json",
    ):
        flow.call(flow.providers, "GET", path, headers=flow.admin)
    flow.call(flow.ingest, "GET", "/openapi.json")


def test_api_keys_are_stored_only_as_hashes(env: dict[str, str]) -> None:
    flow = Flow(env)
    full_flow(flow)
    secrets = [secret_of(k) for k in flow.keys]
    assert len(secrets) == 4 and len(set(secrets)) == 4
    for path in flow.store_files():
        data = path.read_bytes()
        for key, secret in zip(flow.keys, secrets, strict=True):
            assert secret.encode() not in data, f"a key's secret is in {path.name} in plain text"
            assert key.encode() not in data
        assert flow.admin_token.encode() not in data, f"the operator token is in {path.name}"
    for table, row in flow.rows():
        text = repr(row)
        assert not any(s in text for s in secrets), f"a key's secret is in a row of {table}"
        assert flow.admin_token not in text, f"the operator token is in a row of {table}"
    hashes = flow.stored_hashes()
    assert len(hashes) == 4
    for stored in hashes:
        assert stored not in secrets and len(stored) >= 64, "api_keys holds something other than a hash"


def _json_keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _json_keys(v)
    elif isinstance(value, list):
        for v in value:
            yield from _json_keys(v)


SHOWN_ONCE = ("POST /v1/providers", "POST /v1/providers/alpha/keys")
# Fields about signing secrets that hold ids and times only (tests/security/test_signing.py proves
# no signing secret is ever read back).
SECRET_METADATA = {"signingsecrets", "secretid"}


def test_responses_never_carry_a_key_a_hash_or_the_operator_token(env: dict[str, str]) -> None:
    """Only the 201 that issues a key shows it (once, as ``apiKey``); nothing shows a hash or the
    operator token; reads show no key-like field at all."""
    flow = Flow(env)
    full_flow(flow)
    secrets = [secret_of(k) for k in flow.keys]
    hashes = flow.stored_hashes()
    issued = 0
    for label, response in flow.responses:
        text = response.get_data(as_text=True) + "".join(f"{k}: {v}\n" for k, v in response.headers.items())
        assert flow.admin_token not in text, f"{label} echoes the operator token"
        assert not any(h in text for h in hashes), f"{label} shows a stored key hash"
        shown = [s for s in secrets if s in text]
        if label in SHOWN_ONCE and response.status_code == 201:
            issued += 1
            assert len(shown) == 1 and response.json["apiKey"].endswith(shown[0]), label
        else:
            assert not shown, f"{label} ({response.status_code}) shows an API key"
        if label.startswith("GET ") and response.status_code == 200 and "openapi" not in label:
            names = {k.lower() for k in _json_keys(strict_json(response.get_data()))}
            leaked = {
                n
                for n in names - SECRET_METADATA
                if any(w in n for w in ("apikey", "secret", "hash", "token", "pepper"))
            }
            assert not leaked, f"{label} has key-like fields {leaked}"
    assert issued == 4


def test_keys_and_the_operator_token_never_reach_the_logs(
    env: dict[str, str], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    flow = Flow(env)
    full_flow(flow)
    # an internal error on an authenticated call, so the error path logs too
    boom = RuntimeError("forced failure")
    monkeypatch.setattr("shared.endpoints.ingest.log_events", lambda *a, **k: (_ for _ in ()).throw(boom))
    forced = flow.call(
        flow.ingest,
        "POST",
        "/v1/events",
        json={"conversationId": "c", "providerSessionId": "s", "events": [{}]},
        headers={"Authorization": f"Bearer {flow.keys[-1]}"},
    )
    assert forced.status_code == 500
    assert caplog.records, "nothing was logged at all: the check below would prove nothing"
    secrets = [secret_of(k) for k in flow.keys]
    for record in caplog.records:
        text = record.getMessage() + repr(record.args)
        if record.exc_info:
            text += "".join(traceback.format_exception(*record.exc_info))
        text += str(getattr(record, "exc_text", "") or "")
        assert flow.admin_token not in text, f"the operator token is logged: {record.name}"
        assert not any(s in text for s in secrets), f"an API key is logged: {record.name}: {text[:200]}"
    assert flow.admin_token not in caplog.text and not any(s in caplog.text for s in secrets)


def test_key_comparison_is_constant_time(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Every check of a presented secret goes through ``hmac.compare_digest`` — also when the key id
    is unknown (so a miss costs what a hit costs) and for the operator token."""
    flow = Flow(env)
    key = flow.register("alpha")
    calls: list[tuple[Any, Any]] = []
    original = hmac.compare_digest

    def recording(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return original(a, b)

    monkeypatch.setattr(hmac, "compare_digest", recording)
    for module in (shared.auth.api_keys, shared.auth.guard):
        if hasattr(module, "compare_digest"):
            monkeypatch.setattr(module, "compare_digest", recording)
    stored = flow.stored_hashes()[0]

    def compared(headers: dict[str, str], client: Any, path: str) -> list[tuple[Any, Any]]:
        calls.clear()
        client.get(path, headers=headers)
        return list(calls)

    hit = compared({"Authorization": f"Bearer {key}"}, flow.ingest, "/v1/event-definitions")
    assert any(stored in (_text(a), _text(b)) for a, b in hit), (
        "a valid key is not compared with compare_digest"
    )

    wrong_secret = key[:-1] + ("A" if key[-1] != "A" else "B")
    miss = compared({"Authorization": f"Bearer {wrong_secret}"}, flow.ingest, "/v1/event-definitions")
    assert any(stored in (_text(a), _text(b)) for a, b in miss), (
        "a wrong secret is not compared in constant time"
    )

    unknown = "cak_0123456789abcdef_" + secret_of(key)
    assert compared({"Authorization": f"Bearer {unknown}"}, flow.ingest, "/v1/event-definitions"), (
        "an unknown key id skips the comparison: response time tells which key ids exist"
    )

    admin = compared(flow.admin, flow.providers, "/v1/providers/alpha")
    assert any(flow.admin_token in (_text(a), _text(b)) for a, b in admin), (
        "the operator token is not compared with compare_digest"
    )
    wrong_admin = compared({"Authorization": "Bearer not-the-token"}, flow.providers, "/v1/providers/alpha")
    assert any(flow.admin_token in (_text(a), _text(b)) for a, b in wrong_admin)


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes | bytearray) else str(value)


SECRET_WORDS = ("secret", "hash", "token", "key", "digest", "pepper")


def test_credentials_are_never_compared_with_equality_operators() -> None:
    """Static guard: in ``shared/auth`` no ``==``/``!=``/``in`` sets a secret, hash or token against
    another value (those short-circuit on the first differing byte). Checks of a key's shape against
    literals (``!= "_"``) are fine."""
    offenders = []
    for path in AUTH_SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Compare):
                continue
            if not any(isinstance(op, ast.Eq | ast.NotEq | ast.In | ast.NotIn) for op in node.ops):
                continue
            operands = (node.left, *node.comparators)
            if any(isinstance(o, ast.Constant | ast.JoinedStr) for o in operands):
                continue
            names = [
                n.id if isinstance(n, ast.Name) else n.attr
                for operand in operands
                for n in ast.walk(operand)
                if isinstance(n, ast.Name | ast.Attribute)
            ]
            if any(word in name.lower() for name in names for word in SECRET_WORDS):
                offenders.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    assert AUTH_SOURCES and not offenders, offenders


def test_operator_routes_refuse_provider_keys(env: dict[str, str]) -> None:
    """Every operator route, with a live provider key (its own provider's path included): 403
    ``admin_only`` — whatever the scheme's case."""
    flow = Flow(env)
    key = flow.register("alpha")
    for route in provider_routes.ROUTES:
        path = route.rule.replace("<provider_id>", "alpha").replace("<name>", "Custom")
        for scheme in ("Bearer", "bearer", "BEARER"):
            response = flow.providers.open(
                path, method=route.method, json={}, headers={"Authorization": f"{scheme} {key}"}
            )
            assert (response.status_code, error_code(response.get_data())) == (403, "admin_only"), (
                route.method,
                path,
                scheme,
                response.get_data(as_text=True),
            )


def test_security_headers_on_every_kind_of_response(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """nosniff, a Content-Security-Policy and ``Cache-Control: no-store`` on 2xx, 4xx and 5xx alike
    (the public OpenAPI document alone may be cached)."""
    flow = Flow(env)
    key = {"Authorization": f"Bearer {flow.register('alpha')}"}
    ingest, providers, admin = flow.ingest, flow.providers, flow.admin
    samples = {
        "200": ingest.get("/v1/event-definitions", headers=key),
        "201": providers.post("/v1/providers", json={"providerId": "beta", "name": "b"}, headers=admin),
        "400": ingest.post("/v1/events", data=b"{", headers={**key, "Content-Type": "application/json"}),
        "401": ingest.get("/v1/event-definitions"),
        "403": providers.get("/v1/providers/alpha", headers=key),
        "404 route": ingest.get("/nope", headers=key),
        "404 object": providers.get("/v1/providers/nobody", headers=admin),
        "404 framework": ingest.get("/favicon.ico"),
        "405": ingest.get("/v1/events", headers=key),
        "409": providers.post("/v1/providers", json={"providerId": "beta", "name": "b"}, headers=admin),
        "413": ingest.post(
            "/v1/events", data=b"x" * (1024 * 1024 + 1), headers={**key, "Content-Type": "application/json"}
        ),
        "415": ingest.post("/v1/events", data=b"{}", headers={**key, "Content-Type": "text/plain"}),
        "422": providers.patch("/v1/providers/alpha", json={"enableAnalytics": "yes"}, headers=admin),
        "healthz": ingest.get("/healthz"),
    }
    monkeypatch.setattr("shared.endpoints.ingest.list_definitions", _explode)
    samples["500"] = ingest.get("/v1/event-definitions", headers=key)
    wrong = {
        name: problems
        for name, response in samples.items()
        if (problems := contract_problems(response.status_code, response.headers.get, response.get_data()))
        and not (name == "500" and problems == ["server error 500"])
    }
    assert not wrong, wrong
    for function in (ingest, providers):
        document = function.get("/openapi.json")
        assert document.status_code == 200
        assert document.headers.get("X-Content-Type-Options") == "nosniff"
        assert document.headers.get("Content-Security-Policy")


def _explode(*_: Any, **__: Any) -> Any:
    raise RuntimeError('forced: File "/srv/app/secret_module.py", line 7, in handler')


@pytest.mark.parametrize(
    ("function", "target", "method", "path", "body"),
    [
        ("ingest", "shared.endpoints.ingest.log_events", "POST", "/v1/events", {"conversationId": "c"}),
        (
            "ingest",
            "shared.endpoints.ingest.register_conversation",
            "POST",
            "/v1/conversations",
            {"conversation": {}},
        ),
        ("ingest", "shared.endpoints.ingest.list_definitions", "GET", "/v1/event-definitions", None),
        (
            "providers",
            "shared.providers.service.register",
            "POST",
            "/v1/providers",
            {"providerId": "x1", "name": "x"},
        ),
        ("providers", "shared.providers.service.provider_out", "GET", "/v1/providers/alpha", None),
        ("providers", "shared.providers.service.rotate_key", "POST", "/v1/providers/alpha/keys", None),
        (
            "providers",
            "shared.providers.failed_events.list_failed",
            "GET",
            "/v1/providers/alpha/failed-events",
            None,
        ),
    ],
)
def test_an_internal_error_is_a_bare_500(
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    function: str,
    target: str,
    method: str,
    path: str,
    body: Any,
) -> None:
    """A bug of ours: 500 ``internal_error`` with empty details, the security headers, and nothing
    of the exception — no traceback, type, message or file path; the log gets the traceback."""
    flow = Flow(env)
    key = flow.register("alpha")
    headers = flow.admin if function == "providers" else {"Authorization": f"Bearer {key}"}
    monkeypatch.setattr(target, _explode)
    client = flow.ingest if function == "ingest" else flow.providers
    response = (
        client.open(path, method=method, json=body, headers=headers)
        if body
        else client.open(path, method=method, headers=headers)
    )
    assert response.status_code == 500
    doc = strict_json(response.get_data())
    assert doc["error"]["code"] == "internal_error" and doc["error"]["details"] == []
    text = response.get_data(as_text=True) + "".join(f"{k}: {v}" for k, v in response.headers.items())
    for leak in ("Traceback", "RuntimeError", "forced", 'File "', "secret_module", ".py", "line 7"):
        assert leak not in text, f"the 500 shows {leak!r}: {text[:300]}"
    assert contract_problems(500, response.headers.get, response.get_data()) == ["server error 500"]
    assert "RuntimeError" in caplog.text, "the internal error was not logged for the operators"
