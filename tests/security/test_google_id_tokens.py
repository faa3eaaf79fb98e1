"""Cloud Scheduler's Google ID tokens on operator routes.

Tokens are minted and signed here with a real RSA key whose certificate a local HTTP server
publishes, in the format Google's certificate endpoint uses; the function fetches and checks it
exactly as it fetches Google's in the cloud.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt, jwt

from shared.auth import google_oidc
from shared.config import reset_settings
from tests.support.functions import function_client

SCHEDULER = "scheduler@demo-project.iam.gserviceaccount.com"
HOST = "analytics-aggregate-abc123-ew.a.run.app"
AUDIENCE = f"https://{HOST}"
KID = "test-key-1"


def _key_and_cert() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-google-signer")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return private_pem, cert.public_bytes(serialization.Encoding.PEM)


PRIVATE_PEM, CERT_PEM = _key_and_cert()
OTHER_PRIVATE_PEM, _ = _key_and_cert()


@pytest.fixture(scope="module")
def certs_url() -> Iterator[str]:
    body = json.dumps({KID: CERT_PEM.decode()}).encode()

    class Certs(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Certs)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/oauth2/v1/certs"
    server.shutdown()
    server.server_close()


def id_token(
    *,
    email: str = SCHEDULER,
    audience: str = AUDIENCE,
    issuer: str = "https://accounts.google.com",
    expires_in: int = 3600,
    verified: bool = True,
    key: bytes = PRIVATE_PEM,
) -> str:
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": "109876543210",
        "email": email,
        "email_verified": verified,
        "iat": now - 10,
        "exp": now + expires_in,
    }
    return jwt.encode(crypt.RSASigner.from_string(key, KID), claims).decode()


@pytest.fixture
def aggregate(env, monkeypatch, certs_url):
    monkeypatch.setattr(google_oidc, "GOOGLE_CERTS_URL", certs_url)
    monkeypatch.setenv("ANALYTICS_ADMIN_INVOKERS", f"someone@example.com, {SCHEDULER.upper()}")
    monkeypatch.setenv("ANALYTICS_AGGREGATE_LAG_SECONDS", "0")
    reset_settings()
    return function_client("aggregate")


def call(client, token: str):
    return client.post("/", headers={"Authorization": f"Bearer {token}", "Host": HOST}, json={})


def test_the_scheduler_token_runs_the_aggregation(aggregate):
    resp = call(aggregate, id_token())
    assert resp.status_code == 200, resp.json
    assert resp.json["status"] == "ok"


def test_the_operator_token_still_works_next_to_invokers(aggregate, admin):
    assert aggregate.post("/", headers=admin, json={}).status_code == 200


@pytest.mark.parametrize(
    ("token", "status", "code"),
    [
        (lambda: id_token(audience="https://someone-else.a.run.app"), 401, "invalid_credentials"),
        (lambda: id_token(expires_in=-600), 401, "invalid_credentials"),
        (lambda: id_token(key=OTHER_PRIVATE_PEM), 401, "invalid_credentials"),
        (lambda: id_token(issuer="https://evil.example"), 401, "invalid_credentials"),
        (lambda: id_token(email="intruder@demo-project.iam.gserviceaccount.com"), 403, "invoker_not_allowed"),
        (lambda: id_token(verified=False), 403, "invoker_not_allowed"),
    ],
    ids=[
        "other-audience",
        "expired",
        "forged-signature",
        "other-issuer",
        "not-an-invoker",
        "unverified-email",
    ],
)
def test_tokens_that_must_not_run_it(aggregate, token, status, code):
    resp = call(aggregate, token())
    assert resp.status_code == status, resp.json
    assert resp.json["error"]["code"] == code


def test_a_configured_audience_replaces_the_request_url(aggregate, monkeypatch):
    monkeypatch.setenv("ANALYTICS_ADMIN_AUDIENCES", "https://aggregate.example.com")
    reset_settings()
    assert call(aggregate, id_token()).status_code == 401
    assert call(aggregate, id_token(audience="https://aggregate.example.com")).status_code == 200


def test_without_invokers_an_id_token_is_just_a_wrong_token(env, certs_url, monkeypatch):
    monkeypatch.setattr(google_oidc, "GOOGLE_CERTS_URL", certs_url)
    monkeypatch.delenv("ANALYTICS_ADMIN_INVOKERS", raising=False)
    reset_settings()
    resp = call(function_client("aggregate"), id_token())
    assert resp.status_code == 401 and resp.json["error"]["code"] == "invalid_credentials"


def test_unreachable_signing_keys_are_a_503_to_retry(aggregate, monkeypatch):
    monkeypatch.setattr(google_oidc, "GOOGLE_CERTS_URL", "http://127.0.0.1:9/certs")
    resp = call(aggregate, id_token())
    assert resp.status_code == 503, resp.json
    assert resp.json["error"]["code"] == "admin_auth_unavailable" and resp.headers["Retry-After"]


def test_only_invokers_open_operator_routes_when_no_operator_token_is_set(env, certs_url, monkeypatch):
    monkeypatch.setattr(google_oidc, "GOOGLE_CERTS_URL", certs_url)
    monkeypatch.delenv("ANALYTICS_ADMIN_TOKEN", raising=False)
    monkeypatch.setenv("ANALYTICS_ADMIN_INVOKERS", SCHEDULER)
    monkeypatch.setenv("ANALYTICS_AGGREGATE_LAG_SECONDS", "0")
    reset_settings()
    client = function_client("aggregate")
    assert call(client, id_token()).status_code == 200
    resp = client.post("/", headers={"Authorization": "Bearer some-guess"}, json={})
    assert resp.status_code == 401
