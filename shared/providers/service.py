"""Registering providers, the analytics flag and the signature requirement with their audit trail,
and the rotation of API keys and request-signing secrets.

Key rotation: a new key is issued at once; the provider's other keys keep working for a grace
period (``ANALYTICS_KEY_ROTATION_GRACE_SECONDS``, default 24 h) so a fleet can switch over, unless
the operator asks ``revokeOthers`` (a leaked key), which ends them immediately. Signing secrets
rotate the same way, with the same grace period.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from shared.auth.api_keys import hash_secret, new_api_key
from shared.auth.sealing import seal
from shared.auth.signing import live_secrets, new_signing_secret
from shared.config import Settings
from shared.errors import ApiError, validate_request
from shared.schema.provider import (
    AuditOut,
    AuditPage,
    KeyCreated,
    KeyOut,
    KeyRotate,
    ProviderCreate,
    ProviderCreated,
    ProviderOut,
    ProviderPatch,
    SigningSecretCreated,
    SigningSecretOut,
)
from shared.store.errors import AlreadyExists, NotFound
from shared.store.port import Store
from shared.store.records import ApiKey, AuditEntry, Provider, SigningSecret


def provider_out(p: Provider, signing_secrets: list[SigningSecretOut] | None = None) -> ProviderOut:
    return ProviderOut(
        providerId=p.provider_id,
        name=p.name,
        enableAnalytics=p.enable_analytics,
        requireSignature=p.require_signature,
        signingSecrets=signing_secrets or [],
        createdAt=p.created_at,
        updatedAt=p.updated_at,
    )


def describe(store: Store, p: Provider, now: datetime) -> ProviderOut:
    """The provider as operators see it: its switches and its signing secrets' metadata."""
    secrets = [
        SigningSecretOut(
            secretId=s.secret_id,
            createdAt=s.created_at,
            expiresAt=s.expires_at,
            active=s.expires_at is None or s.expires_at > now,
        )
        for s in store.list_signing_secrets(p.provider_id)
    ]
    return provider_out(p, secrets)


def require_provider(store: Store, provider_id: str) -> Provider:
    provider = store.get_provider(provider_id)
    if provider is None:
        raise ApiError(404, "provider_not_found", f"no provider {provider_id[:100]!r}")
    return provider


def register(store: Store, cfg: Settings, body: dict, actor: str, now: datetime) -> ProviderCreated:
    req = validate_request(ProviderCreate, body)
    key_id, secret, full_key = new_api_key()
    provider = Provider(req.providerId, req.name, req.enableAnalytics, now, now)
    key = ApiKey(key_id, req.providerId, hash_secret(secret, cfg.key_pepper), now)
    audit = AuditEntry(
        audit_id=uuid.uuid4().hex,
        provider_id=req.providerId,
        at=now,
        actor=actor,
        action="provider.created",
        field="enableAnalytics",
        old=None,
        new=req.enableAnalytics,
    )
    try:
        store.create_provider(provider, key, audit)
    except AlreadyExists as exc:
        raise ApiError(409, "provider_exists", f"provider {req.providerId!r} already exists") from exc
    return ProviderCreated(**provider_out(provider).model_dump(), apiKey=full_key, keyId=key_id)


def set_flag(store: Store, provider_id: str, body: dict, actor: str, now: datetime) -> ProviderOut:
    """Apply the switches the body sends, each audited; everything is checked before either is written."""
    req = validate_request(ProviderPatch, body)
    provider = require_provider(store, provider_id)
    if req.requireSignature and not live_secrets(store, provider_id, now):
        raise ApiError(
            409,
            "signing_secret_required",
            "issue a signing secret (POST .../signing-secrets) and sign with it before requiring signatures",
        )
    try:
        if req.enableAnalytics is not None:
            provider, _ = store.set_analytics_flag(
                provider_id, req.enableAnalytics, actor, now, uuid.uuid4().hex
            )
        if req.requireSignature is not None:
            provider, _ = store.set_signature_required(
                provider_id, req.requireSignature, actor, now, uuid.uuid4().hex
            )
    except NotFound as exc:
        raise ApiError(404, "provider_not_found", f"no provider {provider_id[:100]!r}") from exc
    return describe(store, provider, now)


def rotate_key(
    store: Store, cfg: Settings, provider_id: str, body: dict | None, actor: str, now: datetime
) -> KeyCreated:
    req = validate_request(KeyRotate, body or {})
    require_provider(store, provider_id)
    key_id, secret, full_key = new_api_key()
    expire_at = now if req.revokeOthers else now + timedelta(seconds=cfg.key_rotation_grace_seconds)
    store.add_api_key(ApiKey(key_id, provider_id, hash_secret(secret, cfg.key_pepper), now), expire_at)
    return KeyCreated(providerId=provider_id, keyId=key_id, apiKey=full_key, otherKeysExpireAt=expire_at)


def rotate_signing_secret(
    store: Store, cfg: Settings, provider_id: str, body: dict | None, actor: str, now: datetime
) -> SigningSecretCreated:
    """A new signing secret, shown once and stored sealed; the others end after the grace period
    (or now, with ``revokeOthers``)."""
    req = validate_request(KeyRotate, body or {})
    require_provider(store, provider_id)
    secret_id, secret = new_signing_secret()
    expire_at = now if req.revokeOthers else now + timedelta(seconds=cfg.key_rotation_grace_seconds)
    record = SigningSecret(secret_id, provider_id, seal(secret, provider_id, secret_id, cfg.key_pepper), now)
    audit = AuditEntry(
        audit_id=uuid.uuid4().hex,
        provider_id=provider_id,
        at=now,
        actor=actor,
        action="provider.signing_secret_created",
        field="signingSecrets",
        old=None,
        new={"secretId": secret_id, "revokeOthers": req.revokeOthers},
    )
    store.add_signing_secret(record, expire_at, audit)
    return SigningSecretCreated(
        providerId=provider_id,
        secretId=secret_id,
        signingSecret=secret,
        createdAt=now,
        otherSecretsExpireAt=expire_at,
    )


def list_keys(store: Store, provider_id: str, now: datetime) -> list[KeyOut]:
    require_provider(store, provider_id)
    return [
        KeyOut(
            keyId=k.key_id,
            createdAt=k.created_at,
            expiresAt=k.expires_at,
            active=k.expires_at is None or k.expires_at > now,
        )
        for k in store.list_api_keys(provider_id)
    ]


def audit_page(store: Store, provider_id: str, limit: int, cursor: str | None) -> AuditPage:
    require_provider(store, provider_id)
    try:
        page = store.list_audit(provider_id, limit, cursor)
    except ValueError as exc:
        raise ApiError(400, "invalid_cursor", "the cursor is not one this API issued") from exc
    return AuditPage(
        items=[
            AuditOut(
                auditId=a.audit_id,
                at=a.at,
                actor=a.actor,
                action=a.action,
                field=a.field,
                old=a.old,
                new=a.new,
            )
            for a in page.items
        ],
        nextCursor=page.next_cursor,
    )
