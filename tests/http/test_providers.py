"""The operator function: registering providers, the audited analytics flag, key rotation, custom
event definitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.auth.api_keys import hash_secret
from tests.http.support import assert_error, batch, bearer, event


def _iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_register_returns_the_key_once_and_get_never_shows_it(world, env):
    before = datetime.now(UTC)
    resp = world.providers.post(
        "/v1/providers", json={"providerId": "acme", "name": "Acme Telephony"}, headers=world.admin
    )
    assert resp.status_code == 201
    created = resp.json
    key = created["apiKey"]
    assert set(created) == {
        "providerId",
        "name",
        "enableAnalytics",
        "requireSignature",
        "signingSecrets",
        "createdAt",
        "updatedAt",
        "apiKey",
        "keyId",
    }
    assert (created["providerId"], created["name"], created["enableAnalytics"]) == (
        "acme",
        "Acme Telephony",
        False,
    )
    assert key.startswith(f"cak_{created['keyId']}_") and len(key) > 40
    assert before <= _iso(created["createdAt"]) <= datetime.now(UTC)

    got = world.providers.get("/v1/providers/acme", headers=world.admin)
    assert got.status_code == 200
    assert got.json == {k: v for k, v in created.items() if k not in ("apiKey", "keyId")}
    secret = key.split("_", 2)[2]
    stored_hash = hash_secret(secret, env["ANALYTICS_KEY_PEPPER"])
    for resp in (
        got,
        world.providers.get("/v1/providers/acme/keys", headers=world.admin),
        world.providers.get("/v1/providers/acme/audit", headers=world.admin),
    ):
        text = resp.get_data(as_text=True)
        assert secret not in text and stored_hash not in text
    # The store keeps only the keyed hash.
    stored = world.store.get_api_key(created["keyId"])
    assert stored.secret_hash == stored_hash and secret not in stored.secret_hash


def test_new_provider_starts_with_analytics_off_unless_asked(world):
    _, key = world.provider("off-by-default", analytics=False)
    assert_error(world.ingest.post("/v1/events", json=batch(event()), headers=key), 403, "analytics_disabled")
    resp = world.providers.post(
        "/v1/providers",
        json={"providerId": "on-now", "name": "On", "enableAnalytics": True},
        headers=world.admin,
    )
    assert resp.json["enableAnalytics"] is True
    assert (
        world.ingest.post("/v1/events", json=batch(event()), headers=bearer(resp.json["apiKey"])).status_code
        == 200
    )


def test_patch_flag_is_audited_with_who_when_old_new(world):
    _, key = world.provider("acme", analytics=False)
    t0 = datetime.now(UTC)
    on = world.providers.patch(
        "/v1/providers/acme",
        json={"enableAnalytics": True},
        headers={**world.admin, "X-Analytics-Actor": "alice@example.com"},
    )
    assert on.status_code == 200 and on.json["enableAnalytics"] is True
    assert _iso(on.json["updatedAt"]) >= t0
    assert world.ingest.post("/v1/events", json=batch(event()), headers=key).status_code == 200

    # A no-op PATCH answers 200 and writes no audit entry.
    same = world.providers.patch("/v1/providers/acme", json={"enableAnalytics": True}, headers=world.admin)
    assert same.status_code == 200 and same.json == on.json

    off = world.providers.patch("/v1/providers/acme", json={"enableAnalytics": False}, headers=world.admin)
    assert off.json["enableAnalytics"] is False
    assert_error(world.ingest.post("/v1/events", json=batch(event()), headers=key), 403, "analytics_disabled")

    audit = world.providers.get("/v1/providers/acme/audit", headers=world.admin).json
    assert audit["nextCursor"] is None
    entries = [(a["action"], a["actor"], a["field"], a["old"], a["new"]) for a in audit["items"]]
    assert entries == [
        ("provider.created", "operator", "enableAnalytics", None, False),
        ("provider.analytics_flag_changed", "operator:alice@example.com", "enableAnalytics", False, True),
        ("provider.analytics_flag_changed", "operator", "enableAnalytics", True, False),
    ]
    times = [_iso(a["at"]) for a in audit["items"]]
    assert times == sorted(times) and times[1] >= t0
    assert len({a["auditId"] for a in audit["items"]}) == 3


def test_audit_trail_pages_with_a_cursor(world):
    world.provider("acme", analytics=False)
    for i in range(6):
        world.providers.patch("/v1/providers/acme", json={"enableAnalytics": i % 2 == 0}, headers=world.admin)
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = world.providers.get("/v1/providers/acme/audit", query_string=query, headers=world.admin).json
        assert len(page["items"]) <= 2
        seen.extend(page["items"])
        pages += 1
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert pages == 4 and len(seen) == 7
    assert len({a["auditId"] for a in seen}) == 7
    assert [a["new"] for a in seen] == [False, True, False, True, False, True, False]


def test_rotation_keeps_old_key_for_the_grace_period(world, acme):
    before = datetime.now(UTC)
    resp = world.providers.post("/v1/providers/acme/keys", headers=world.admin)
    assert resp.status_code == 201
    rotated = resp.json
    assert set(rotated) == {"providerId", "keyId", "apiKey", "otherKeysExpireAt"}
    grace = _iso(rotated["otherKeysExpireAt"]) - before
    assert timedelta(hours=23, minutes=59) < grace <= timedelta(hours=24, seconds=5)
    # Both keys work now.
    assert world.ingest.post("/v1/events", json=batch(event(offset_s=1)), headers=acme).status_code == 200
    new = bearer(rotated["apiKey"])
    assert world.ingest.post("/v1/events", json=batch(event(offset_s=2)), headers=new).status_code == 200
    keys = world.providers.get("/v1/providers/acme/keys", headers=world.admin).json["items"]
    by_id = {k["keyId"]: k for k in keys}
    assert by_id[rotated["keyId"]]["expiresAt"] is None and by_id[rotated["keyId"]]["active"] is True
    [old] = [k for k in keys if k["keyId"] != rotated["keyId"]]
    assert old["active"] is True and old["expiresAt"] == rotated["otherKeysExpireAt"]
    assert "apiKey" not in old and "secretHash" not in old


def test_rotation_with_revoke_others_ends_every_old_key_now(world, acme):
    second = world.providers.post("/v1/providers/acme/keys", headers=world.admin).json
    third = world.providers.post(
        "/v1/providers/acme/keys", json={"revokeOthers": True}, headers=world.admin
    ).json
    for old in (acme, bearer(second["apiKey"])):
        assert_error(
            world.ingest.post("/v1/events", json=batch(event()), headers=old), 401, "invalid_credentials"
        )
    assert (
        world.ingest.post("/v1/events", json=batch(event()), headers=bearer(third["apiKey"])).status_code
        == 200
    )
    keys = world.providers.get("/v1/providers/acme/keys", headers=world.admin).json["items"]
    assert sorted(k["active"] for k in keys) == [False, False, True]


def test_rotation_of_one_provider_never_touches_another(world, acme):
    _, other = world.provider("other")
    world.providers.post("/v1/providers/acme/keys", json={"revokeOthers": True}, headers=world.admin)
    assert world.ingest.post("/v1/events", json=batch(event()), headers=other).status_code == 200


def test_custom_event_definitions(world, acme):
    created = world.providers.put(
        "/v1/providers/acme/event-definitions/LoyaltyPointsRedeemed",
        json={"description": "points redeemed in chat"},
        headers=world.admin,
    )
    assert created.status_code == 201
    assert created.json == {
        "name": "LoyaltyPointsRedeemed",
        "kind": "Custom",
        "version": "1-0-0",
        "active": True,
        "description": "points redeemed in chat",
        "schema": "iglu:provider.acme/LoyaltyPointsRedeemed/jsonschema/1-0-0",
    }
    updated = world.providers.put(
        "/v1/providers/acme/event-definitions/LoyaltyPointsRedeemed",
        json={"version": "1-1-0", "active": False},
        headers=world.admin,
    )
    assert updated.status_code == 200
    assert (updated.json["version"], updated.json["active"]) == ("1-1-0", False)

    listed = world.providers.get("/v1/providers/acme/event-definitions", headers=world.admin).json["items"]
    system = [d for d in listed if d["kind"] == "System"]
    assert {d["name"] for d in system} >= {"SurveyAnswered", "NotificationResponse", "PinVerified"}
    assert all(d["schema"].startswith("iglu:io.channelanalytics/") for d in system)
    assert [d for d in listed if d["kind"] == "Custom"] == [updated.json]
    # The provider sees the same list through its own function.
    assert world.ingest.get("/v1/event-definitions", headers=acme).json["items"] == listed


def test_healthz_and_openapi_need_no_credentials(world):
    for client, name in ((world.ingest, "ingest"), (world.providers, "providers")):
        health = client.get("/healthz")
        assert health.status_code == 200 and health.json == {"status": "ok", "function": name}
        assert client.head("/healthz").status_code == 200
        doc = client.get("/openapi.json")
        assert doc.status_code == 200 and doc.json["openapi"] == "3.1.0"
