"""Report subscriptions, as the seed's bell icon: subscribe or unsubscribe a recipient to a provider's
daily report (or to one chatbot experience's), each change kept in the provider's audit trail."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any

from shared.errors import ApiError, validate_request
from shared.outputs.wire import SubscriptionIn, SubscriptionOut
from shared.providers.service import require_provider
from shared.store.errors import AlreadyExists, NotFound
from shared.store.port import Store
from shared.store.records import AuditEntry, ReportSubscription


def subscription_id(provider_id: str, email: str, experience_id: str | None) -> str:
    """One subscription per provider, recipient and experience: the id follows from them."""
    key = "\x1f".join((provider_id, email.lower(), experience_id or ""))
    return hashlib.sha256(key.encode()).hexdigest()[:20]


def subscription_out(s: ReportSubscription) -> SubscriptionOut:
    return SubscriptionOut(
        subscriptionId=s.subscription_id,
        email=s.email,
        experienceId=s.experience_id,
        createdAt=s.created_at,
        createdBy=s.created_by,
    )


def _audit(provider_id: str, actor: str, at: datetime, action: str, old: Any, new: Any) -> AuditEntry:
    return AuditEntry(uuid.uuid4().hex, provider_id, at, actor, action, "reportSubscriptions", old, new)


def subscribe(
    store: Store, provider_id: str, body: dict[str, Any], actor: str, now: datetime
) -> SubscriptionOut:
    req = validate_request(SubscriptionIn, body)
    require_provider(store, provider_id)
    sub = ReportSubscription(
        provider_id,
        subscription_id(provider_id, req.email, req.experienceId),
        req.email,
        req.experienceId,
        now,
        actor,
    )
    out = subscription_out(sub)
    try:
        store.add_subscription(
            sub, _audit(provider_id, actor, now, "report.subscribed", None, out.model_dump(mode="json"))
        )
    except AlreadyExists as exc:
        raise ApiError(
            409, "subscription_exists", f"{req.email} is subscribed already ({sub.subscription_id})"
        ) from exc
    return out


def subscriptions(store: Store, provider_id: str, experience_id: str | None) -> list[SubscriptionOut]:
    require_provider(store, provider_id)
    return [
        subscription_out(s)
        for s in store.list_subscriptions(provider_id)
        if experience_id is None or s.experience_id == experience_id
    ]


def unsubscribe(store: Store, provider_id: str, sub_id: str, actor: str, now: datetime) -> SubscriptionOut:
    require_provider(store, provider_id)
    audit = _audit(provider_id, actor, now, "report.unsubscribed", {"subscriptionId": sub_id}, None)
    try:
        removed = store.remove_subscription(provider_id, sub_id, audit)
    except NotFound as exc:
        raise ApiError(404, "subscription_not_found", f"no subscription {sub_id[:100]!r}") from exc
    return subscription_out(removed)
