"""Request signing: operators issue signing secrets and require signatures; ingest checks
``X-Analytics-Signature`` on the raw body (missing, malformed, stale, forged); secrets are shown once,
stored sealed, rotate with a grace period, and never reach a response or a log.

The authorization matrix (``test_authorization_matrix.py``) holds the same cells for every route.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from shared.auth.sealing import SecretUnreadable, seal, unseal
from shared.auth.signing import HEADER, new_signing_secret, sign
from shared.config import reset_settings
from shared.store import store_for
from tests.http.support import Checked, World, assert_error, batch, conversation, event
from tests.support.functions import function_client

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def world(env: dict[str, str], admin: dict[str, str]) -> World:
    return World(
        ingest=Checked(function_client("ingest")),
        providers=Checked(function_client("providers")),
        admin=admin,
        store=store_for(env["ANALYTICS_STORE"]),
        path=env["ANALYTICS_STORE"].removeprefix("sqlite:///"),
    )


def issue(world: World, provider_id: str, **body: Any) -> dict[str, Any]:
    resp = world.providers.post(
        f"/v1/providers/{provider_id}/signing-secrets", json=body or None, headers=world.admin
    )
    assert resp.status_code == 201, resp.json
    return resp.json


def require(world: World, provider_id: str, on: bool = True) -> Any:
    return world.providers.patch(
        f"/v1/providers/{provider_id}", json={"requireSignature": on}, headers=world.admin
    )


def send(
    world: World, key: dict[str, str], body: Any, signature: str | None, path: str = "/v1/events"
) -> Any:
    """POST ``body`` as exact bytes, with ``signature`` as the X-Analytics-Signature (if any)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {**key, **JSON, **({HEADER: signature} if signature is not None else {})}
    return world.ingest.post(path, data=raw, headers=headers)


def raw_of(body: Any) -> bytes:
    return json.dumps(body).encode()


@pytest.fixture
def signer(world: World) -> tuple[str, dict[str, str], str]:
    """Provider ``signer`` (analytics on, signatures required) with its key and its signing secret."""
    provider_id, key = world.provider("signer")
    secret = issue(world, provider_id)["signingSecret"]
    assert require(world, provider_id).status_code == 200
    return provider_id, key, secret


# -- the signature itself ---------------------------------------------------------------------------


def test_sign_follows_the_documented_recipe() -> None:
    """v1 = hex HMAC-SHA256 keyed by the whole secret over "<t>.<raw body>", one v1 per secret."""
    body = b'{"conversationId":"c-1"}'
    expected = hmac.new(b"cas_example", b"1767225600." + body, hashlib.sha256).hexdigest()
    assert sign("cas_example", body, timestamp=1767225600) == f"t=1767225600,v1={expected}"
    two = sign(["cas_a", "cas_b"], body, timestamp=5).split(",")
    assert two[0] == "t=5" and len(two) == 3 and two[1] != two[2]
    now = int(sign("cas_x", body).split(",")[0].removeprefix("t="))
    assert abs(now - time.time()) < 5
    secret_id, secret = new_signing_secret()
    assert len(secret_id) == 16 and secret.startswith("cas_") and len(secret) > 40


# -- a provider that requires signatures --------------------------------------------------------------


def test_signed_requests_pass_and_every_other_kind_is_refused_without_a_trace(world, signer):
    provider_id, key, secret = signer
    body = batch(event(eventId="e-1"))
    raw = raw_of(body)
    # Well outside and well inside the 300 s tolerance: a slow test run must not move them across it
    # (the exact edges, at a fixed clock: test_the_tolerance_edge_is_exact).
    stale = int(time.time()) - 330
    refused = [
        (None, 401, "signature_missing"),
        (sign(secret, raw, timestamp=stale), 401, "signature_expired"),
        (sign(secret, raw, timestamp=int(time.time()) + 330), 401, "signature_expired"),  # from the future
        (sign(new_signing_secret()[1], raw), 401, "signature_invalid"),
        (sign(secret, raw_of(batch(event(eventId="e-2")))), 401, "signature_invalid"),  # another body
        (sign(secret, raw + b" "), 401, "signature_invalid"),  # one byte more
        (sign(secret, raw, timestamp=stale).replace(f"t={stale}", f"t={int(time.time())}"), 401, "signature_invalid"),
    ]  # fmt: skip
    for signature, status, code in refused:
        assert_error(send(world, key, body, signature), status, code)
    resp = send(world, key, body, None)
    assert resp.headers["WWW-Authenticate"].startswith("AnalyticsSignature")
    assert world.providers.get(f"/v1/providers/{provider_id}/failed-events", headers=world.admin).json == {
        "items": [],
        "nextCursor": None,
    }
    assert world.store.get_event(provider_id, "e-1") is None, "a refused request stored its event"

    ok = send(world, key, body, sign(secret, raw, timestamp=int(time.time()) - 270))
    assert ok.status_code == 200 and ok.json["accepted"] == 1
    # A replay inside the tolerance changes nothing: the event id is the idempotency key.
    again = send(world, key, body, sign(secret, raw, timestamp=int(time.time()) - 270))
    assert again.status_code == 200 and (again.json["accepted"], again.json["duplicates"]) == (0, 1)
    for path, payload in (
        ("/v1/conversations", conversation()),
        ("/v1/activities", {"activities": []}),
    ):
        assert_error(send(world, key, payload, None, path), 401, "signature_missing")
    registered = conversation()
    created = send(world, key, registered, sign(secret, raw_of(registered)), "/v1/conversations")
    assert created.status_code == 201


@pytest.mark.parametrize(
    "header",
    [
        "",
        "t=",
        "v1=" + "a" * 64,
        "t=1700000000",
        "t=17e8,v1=" + "a" * 64,
        "t=-1,v1=" + "a" * 64,
        "t=1,t=2,v1=" + "a" * 64,
        "t=1700000000,v1=" + "a" * 63,
        "t=1700000000,v1=" + "g" * 64,
        "t=1700000000;v1=" + "a" * 64,
        "T=1700000000,v1=" + "a" * 64,
        "t=1700000000,v1=" + ",v1=".join(["a" * 64] * 9),
        "t=1700000000,v1=" + "a" * 64 + ",x" * 600,
        "t=١٧٠٠٠٠٠٠٠٠,v1=" + "a" * 64,  # other scripts' digits
    ],
)
def test_a_malformed_signature_header_is_400_before_anything_is_parsed(world, signer, header):
    _, key, _ = signer
    # Sent as UTF-8 bytes, as a client would (header values travel as latin-1 in WSGI).
    wire = header.encode("utf-8").decode("latin-1")
    resp = world.ingest.post("/v1/events", data=b"{not json", headers={**key, **JSON, HEADER: wire})
    assert_error(resp, 400, "signature_malformed")


def test_the_signature_is_checked_on_the_raw_bytes_before_json_parsing(world, signer):
    _, key, secret = signer
    broken = b'{"conversationId": "c", '
    assert_error(send(world, key, broken, None), 401, "signature_missing")
    # Signed garbage is the provider's own garbage: only now is it parsed and refused as JSON.
    assert_error(send(world, key, broken, sign(secret, broken)), 400, "malformed_json")
    # Unknown schemes are ignored (room for a later v2); two headers are one too many.
    body = batch(event(eventId="e-9"))
    future_proof = sign(secret, raw_of(body)) + ",v2=" + "0" * 64
    assert send(world, key, body, future_proof).status_code == 200
    twice = world.ingest.open(
        "/v1/events",
        method="POST",
        data=raw_of(body),
        headers=[
            *key.items(),
            *JSON.items(),
            (HEADER, sign(secret, raw_of(body))),
            (HEADER, "t=1,v1=" + "a" * 64),
        ],
    )
    assert_error(twice, 400, "signature_malformed")


def test_the_tolerance_is_configurable(world, signer, monkeypatch):
    _, key, secret = signer
    monkeypatch.setenv("ANALYTICS_SIGNATURE_TOLERANCE_SECONDS", "10")
    reset_settings()
    body = batch(event(eventId="e-t"))
    assert_error(
        send(world, key, body, sign(secret, raw_of(body), timestamp=int(time.time()) - 30)),
        401,
        "signature_expired",
    )
    assert (
        send(world, key, body, sign(secret, raw_of(body), timestamp=int(time.time()) - 5)).status_code == 200
    )


# -- a provider that does not (yet) require signatures -------------------------------------------------


def test_signing_can_be_tried_before_it_is_required_and_switched_off_again(world):
    provider_id, key = world.provider("trial")
    body = batch(event(eventId="e-1"))
    assert send(world, key, body, None).status_code == 200  # the default: no signature needed
    # A signature without any secret issued cannot hold.
    assert_error(send(world, key, body, sign("cas_guess", raw_of(body))), 401, "signature_invalid")
    secret = issue(world, provider_id)["signingSecret"]
    second = batch(event(eventId="e-2"))
    assert send(world, key, second, sign(secret, raw_of(second))).status_code == 200
    # A present signature is checked even while signing is optional: a provider can test its signer.
    assert_error(send(world, key, body, sign("cas_wrong", raw_of(body))), 401, "signature_invalid")
    assert_error(send(world, key, body, "t=1"), 400, "signature_malformed")
    assert require(world, provider_id).json["requireSignature"] is True
    assert_error(send(world, key, body, None), 401, "signature_missing")
    off = require(world, provider_id, on=False)
    assert off.status_code == 200 and off.json["requireSignature"] is False
    assert send(world, key, batch(event(eventId="e-3")), None).status_code == 200


def test_requiring_signatures_needs_a_live_secret_and_is_audited(world):
    provider_id, _ = world.provider("strict", analytics=False)
    before = world.providers.get(f"/v1/providers/{provider_id}", headers=world.admin).json
    assert_error(require(world, provider_id), 409, "signing_secret_required")
    # Both switches at once are checked together: the refused one does not let the other through.
    both = world.providers.patch(
        f"/v1/providers/{provider_id}",
        json={"enableAnalytics": True, "requireSignature": True},
        headers=world.admin,
    )
    assert_error(both, 409, "signing_secret_required")
    assert world.providers.get(f"/v1/providers/{provider_id}", headers=world.admin).json == before
    assert_error(require(world, "nobody"), 404, "provider_not_found")
    issued = issue(world, provider_id)
    changed = world.providers.patch(
        f"/v1/providers/{provider_id}",
        json={"enableAnalytics": True, "requireSignature": True},
        headers={**world.admin, "X-Analytics-Actor": "alice"},
    )
    assert changed.status_code == 200
    assert (changed.json["enableAnalytics"], changed.json["requireSignature"]) == (True, True)
    audit = world.providers.get(f"/v1/providers/{provider_id}/audit", headers=world.admin).json["items"]
    entries = [(a["action"], a["field"], a["old"], a["new"], a["actor"]) for a in audit]
    assert entries[:2] == [
        ("provider.created", "enableAnalytics", None, False, "operator"),
        ("provider.signing_secret_created", "signingSecrets", None, {"secretId": issued["secretId"], "revokeOthers": False}, "operator"),
    ]  # fmt: skip
    # One PATCH, two switches: two entries of the same instant.
    assert sorted(entries[2:]) == [
        ("provider.analytics_flag_changed", "enableAnalytics", False, True, "operator:alice"),
        ("provider.signature_requirement_changed", "requireSignature", False, True, "operator:alice"),
    ]
    for body in (
        {"requireSignature": None},
        {"requireSignature": "true"},
        {},
        {"requireSignature": True, "secret": "x"},
    ):
        patched = world.providers.patch(f"/v1/providers/{provider_id}", json=body, headers=world.admin)
        assert_error(patched, 422, "validation_failed")


# -- rotation ---------------------------------------------------------------------------------------


def test_rotation_keeps_the_previous_secret_for_the_grace_period_and_revocation_ends_it(world, signer):
    provider_id, key, first = signer
    second = issue(world, provider_id)
    assert second["signingSecret"] != first
    grace_end = second["otherSecretsExpireAt"]

    def signed_with(secrets: str | list[str], event_id: str) -> int:
        body = batch(event(eventId=event_id))
        return send(world, key, body, sign(secrets, raw_of(body))).status_code

    # During the grace period either secret works, and a fleet may send both signatures.
    assert [signed_with(first, "r-1"), signed_with(second["signingSecret"], "r-2")] == [200, 200]
    assert signed_with([first, second["signingSecret"]], "r-3") == 200
    shown = world.providers.get(f"/v1/providers/{provider_id}", headers=world.admin).json
    assert [(s["active"], s["expiresAt"]) for s in shown["signingSecrets"]] == [
        (True, grace_end),
        (True, None),
    ]
    assert shown["signingSecrets"][1]["secretId"] == second["secretId"]

    third = issue(world, provider_id, revokeOthers=True)["signingSecret"]
    assert signed_with(first, "r-4") == 401 and signed_with(second["signingSecret"], "r-5") == 401
    assert signed_with([first, third], "r-6") == 200  # one live signature among dead ones is enough
    states = world.providers.get(f"/v1/providers/{provider_id}", headers=world.admin).json["signingSecrets"]
    assert [s["active"] for s in states] == [False, False, True]


def test_signing_secret_routes_refuse_bad_bodies_and_unknown_providers(world):
    provider_id, _ = world.provider("rotor")
    unknown = world.providers.post("/v1/providers/nobody/signing-secrets", headers=world.admin)
    assert_error(unknown, 404, "provider_not_found")
    for body in ({"revokeOthers": "yes"}, {"signingSecret": "cas_chosen-by-the-caller"}):
        resp = world.providers.post(
            f"/v1/providers/{provider_id}/signing-secrets", json=body, headers=world.admin
        )
        assert_error(resp, 422, "validation_failed")
    assert (
        world.providers.get(f"/v1/providers/{provider_id}", headers=world.admin).json["signingSecrets"] == []
    )


# -- at rest, in responses, in logs -------------------------------------------------------------------


def test_secrets_are_shown_once_stored_sealed_and_never_logged(world, env, caplog):
    caplog.set_level(logging.DEBUG)
    provider_id, key = world.provider("sealed")
    issued = issue(world, provider_id)
    secret = issued["signingSecret"]
    assert set(issued) == {"providerId", "secretId", "signingSecret", "createdAt", "otherSecretsExpireAt"}
    assert require(world, provider_id).status_code == 200
    body = batch(event(eventId="e-1"))
    send(world, key, body, sign(secret, raw_of(body)))
    send(world, key, body, sign("cas_wrong", raw_of(body)))
    reads = [
        world.providers.get(f"/v1/providers/{provider_id}", headers=world.admin),
        world.providers.get(f"/v1/providers/{provider_id}/audit", headers=world.admin),
        world.providers.patch(
            f"/v1/providers/{provider_id}", json={"enableAnalytics": True}, headers=world.admin
        ),
    ]
    for resp in reads:
        assert secret not in resp.get_data(as_text=True)
    store_file = Path(world.path)
    for path in store_file.parent.glob(store_file.name + "*"):
        assert secret.encode() not in path.read_bytes(), f"the signing secret is in {path.name} in plain text"
    (stored,) = world.store.list_signing_secrets(provider_id)
    assert stored.sealed.startswith("v1:") and secret not in stored.sealed
    assert unseal(stored.sealed, provider_id, stored.secret_id, env["ANALYTICS_KEY_PEPPER"]) == secret
    assert secret not in caplog.text


def test_a_sealed_secret_opens_only_for_its_provider_id_and_pepper():
    sealed = seal("cas_secret", "acme", "s1", "pepper")
    assert unseal(sealed, "acme", "s1", "pepper") == "cas_secret"
    assert sealed != seal("cas_secret", "acme", "s1", "pepper")  # a fresh nonce every time
    for provider_id, secret_id, pepper, text in [
        ("globex", "s1", "pepper", sealed),
        ("acme", "s2", "pepper", sealed),
        ("acme", "s1", "other-pepper", sealed),
        ("acme", "s1", "pepper", sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")),
        ("acme", "s1", "pepper", "v2:" + sealed[3:]),
        ("acme", "s1", "pepper", "v1:not base64!"),
    ]:
        with pytest.raises(SecretUnreadable):
            unseal(text, provider_id, secret_id, pepper)


def test_a_secret_copied_from_another_provider_does_not_open(world, signer, caplog):
    """Whoever can write the store but lacks the pepper cannot give a provider a secret they know:
    a sealed value is bound to its provider. The server answers 503 (an operator must issue a new
    secret), logs which secret is unreadable, and stores nothing."""
    provider_id, key, secret = signer
    other_id, _ = world.provider("other")
    other_secret = issue(world, other_id)["signingSecret"]
    (other,) = world.store.list_signing_secrets(other_id)
    db = sqlite3.connect(world.path)
    with db:
        db.execute("UPDATE signing_secrets SET sealed = ? WHERE provider_id = ?", (other.sealed, provider_id))
    db.close()
    body = batch(event(eventId="e-1"))
    for candidate in (secret, other_secret):
        resp = send(world, key, body, sign(candidate, raw_of(body)))
        assert_error(resp, 503, "signature_unverifiable")
        assert resp.headers["Retry-After"]
    assert world.store.get_event(provider_id, "e-1") is None
    assert "unreadable" in caplog.text and other_secret not in caplog.text and secret not in caplog.text
    # A new secret repairs it.
    fresh = issue(world, provider_id, revokeOthers=True)["signingSecret"]
    assert send(world, key, body, sign(fresh, raw_of(body))).status_code == 200


def test_the_tolerance_edge_is_exact(world, signer):
    """At a fixed server clock: a signature 300 s old or ahead passes, 301 s is refused (no wall clock)."""
    from datetime import UTC, datetime

    from shared.auth.signing import verify_request
    from shared.config import settings
    from shared.errors import ApiError

    provider_id, _, secret = signer
    provider = world.store.get_provider(provider_id)
    body = raw_of(batch(event(eventId="e-edge")))
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    t = int(now.timestamp())
    for offset in (-300, 300):
        verify_request(
            [sign(secret, body, timestamp=t + offset)], body, provider, world.store, settings(), now
        )
    for offset in (-301, 301):
        with pytest.raises(ApiError) as refused:
            verify_request(
                [sign(secret, body, timestamp=t + offset)], body, provider, world.store, settings(), now
            )
        assert refused.value.code == "signature_expired"
