"""A provider's analytics settings: the chat-session gap and the relationship-analytics window,
contact frequency and weights (``GET``/``PUT /v1/providers/{id}/settings``), audited like the flags.

The store keeps only what differs from the defaults, under the warehouse's column names; every
aggregation run copies them to the warehouse's ``provider_settings``, where the family SQL reads them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from shared.errors import validate_request
from shared.providers.service import require_provider
from shared.schema.provider import AnalyticsSettings, AnalyticsSettingsOut, RelationshipWeights
from shared.store.port import Store
from shared.store.records import AuditEntry, ProviderSettings, settings_values

DEFAULTS = AnalyticsSettings()


def _record(provider_id: str, wanted: AnalyticsSettings, at: datetime) -> ProviderSettings:
    """Only what differs from the defaults is stored (a default stays the code's to change)."""

    def unless_default(value: Any, default: Any) -> Any:
        return None if value == default else value

    w, d = wanted.relationshipWeights, DEFAULTS.relationshipWeights
    return ProviderSettings(
        provider_id,
        at,
        chat_session_gap_s=unless_default(
            wanted.chatSessionGapMinutes * 60, DEFAULTS.chatSessionGapMinutes * 60
        ),
        relationship_window_days=unless_default(
            wanted.relationshipWindowDays, DEFAULTS.relationshipWindowDays
        ),
        relationship_contact_days=unless_default(
            wanted.relationshipContactDays, DEFAULTS.relationshipContactDays
        ),
        relationship_weight_email=unless_default(w.email, d.email),
        relationship_weight_meeting=unless_default(w.meeting, d.meeting),
        relationship_weight_phonecall=unless_default(w.phonecall, d.phonecall),
    )


def settings_out(provider_id: str, stored: ProviderSettings | None) -> AnalyticsSettingsOut:
    if stored is None:
        return AnalyticsSettingsOut(**DEFAULTS.model_dump(), providerId=provider_id, updatedAt=None)

    def pick(value: Any, default: Any) -> Any:
        return default if value is None else value

    d = DEFAULTS
    return AnalyticsSettingsOut(
        providerId=provider_id,
        updatedAt=stored.updated_at,
        chatSessionGapMinutes=pick(stored.chat_session_gap_s, d.chatSessionGapMinutes * 60) // 60,
        relationshipWindowDays=pick(stored.relationship_window_days, d.relationshipWindowDays),
        relationshipContactDays=pick(stored.relationship_contact_days, d.relationshipContactDays),
        relationshipWeights=RelationshipWeights(
            email=pick(stored.relationship_weight_email, d.relationshipWeights.email),
            meeting=pick(stored.relationship_weight_meeting, d.relationshipWeights.meeting),
            phonecall=pick(stored.relationship_weight_phonecall, d.relationshipWeights.phonecall),
        ),
    )


def get_settings(store: Store, provider_id: str) -> AnalyticsSettingsOut:
    require_provider(store, provider_id)
    return settings_out(provider_id, store.get_provider_settings(provider_id))


def put_settings(
    store: Store, provider_id: str, body: dict[str, Any], actor: str, now: datetime
) -> AnalyticsSettingsOut:
    wanted = validate_request(AnalyticsSettings, body)
    require_provider(store, provider_id)
    old = store.get_provider_settings(provider_id)
    record = _record(provider_id, wanted, now)
    audit = AuditEntry(
        uuid.uuid4().hex,
        provider_id,
        now,
        actor,
        "provider.settings_changed",
        "settings",
        None if old is None else settings_values(old),
        settings_values(record),
    )
    store.put_provider_settings(record, audit)
    return settings_out(provider_id, record)
