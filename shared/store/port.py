"""The operational store port: what the functions need from Firestore or SQLite, and nothing more.

Every method that takes a ``provider_id`` only ever reads or writes that provider's objects; ids are
scoped by provider (see ``records.scoped_id``), which is the object-level authorization boundary.
One contract suite (``tests/store/test_contract.py``) runs against every adapter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, Protocol

from shared.store.erasure import Erasure
from shared.store.records import (
    Activity,
    AlertThreshold,
    ApiKey,
    AuditEntry,
    Conversation,
    Delivery,
    Event,
    EventDefinition,
    FailedEvent,
    OrphanSummary,
    Page,
    Provider,
    ProviderSettings,
    ReportSubscription,
    SigningSecret,
    Watermark,
)

ConversationMerge = Callable[[dict[str, Any] | None], dict[str, Any]]


class Store(Protocol):
    # -- providers, keys, audit -------------------------------------------------------------------
    def create_provider(self, provider: Provider, key: ApiKey, audit: AuditEntry) -> None:
        """Create provider, first key and audit entry atomically; ``AlreadyExists`` if taken."""

    def get_provider(self, provider_id: str) -> Provider | None: ...

    def set_analytics_flag(
        self, provider_id: str, enabled: bool, actor: str, at: datetime, audit_id: str
    ) -> tuple[Provider, AuditEntry | None]:
        """Flip the flag in one transaction with its audit entry (``None`` when unchanged).

        Raises ``NotFound`` for an unknown provider.
        """

    def list_audit(self, provider_id: str, limit: int, cursor: str | None = None) -> Page: ...

    def add_api_key(self, key: ApiKey, expire_others_at: datetime | None) -> None:
        """Store a new key; other keys of the provider expire at ``expire_others_at`` at the latest."""

    def get_api_key(self, key_id: str) -> ApiKey | None: ...

    def list_api_keys(self, provider_id: str) -> list[ApiKey]: ...

    # -- request signing --------------------------------------------------------------------------
    def set_signature_required(
        self, provider_id: str, required: bool, actor: str, at: datetime, audit_id: str
    ) -> tuple[Provider, AuditEntry | None]:
        """Like ``set_analytics_flag``, for ``require_signature`` (audit field ``requireSignature``)."""

    def add_signing_secret(
        self, secret: SigningSecret, expire_others_at: datetime | None, audit: AuditEntry
    ) -> None:
        """Store a new signing secret with its audit entry, atomically; the provider's other secrets
        expire at ``expire_others_at`` at the latest (as ``add_api_key``)."""

    def list_signing_secrets(self, provider_id: str) -> list[SigningSecret]:
        """The provider's signing secrets, oldest first."""

    # -- custom event definitions -----------------------------------------------------------------
    def put_event_definition(self, definition: EventDefinition) -> None: ...

    def get_event_definition(self, provider_id: str, name: str) -> EventDefinition | None: ...

    def list_event_definitions(self, provider_id: str) -> list[EventDefinition]: ...

    # -- conversations ----------------------------------------------------------------------------
    def upsert_conversation(
        self, provider_id: str, conversation_id: str, merge: ConversationMerge, at: datetime
    ) -> tuple[Conversation, bool]:
        """Read, ``merge(old_data_or_None)``, write, atomically. Returns the record and created.

        ``merge`` must be pure: a transactional backend may call it more than once. When the merged
        data equals what is stored nothing is written and ``updated_at`` stays as it was.
        """

    def get_conversation(self, provider_id: str, conversation_id: str) -> Conversation | None: ...

    # -- events -----------------------------------------------------------------------------------
    def insert_events(self, events: Sequence[Event]) -> list[bool]:
        """Create-if-absent by ``doc_id``; ``True`` where this call stored the event.

        Either every event is decided (stored or found to exist) or ``StoreUnavailable`` is raised;
        a retry after a partial failure reports the already-stored ones as duplicates.
        """

    def get_event(self, provider_id: str, event_id: str) -> Event | None: ...

    def get_events(self, provider_id: str, event_ids: Sequence[str]) -> dict[str, Event]:
        """The provider's stored events among ``event_ids``, by event id (absent ones left out); at
        most 500 ids a call. Ingest reads the events a request found already stored, to tell a
        retry (same content) from a reused id (other content)."""

    # -- activities (relationship analytics) ------------------------------------------------------
    def upsert_activities(self, activities: Sequence[Activity]) -> list[bool]:
        """Insert or replace by ``doc_id``; ``True`` where the activity was new."""

    # -- failed events ----------------------------------------------------------------------------
    def add_failed_events(self, failed: Sequence[FailedEvent]) -> list[bool]:
        """Create-if-absent by ``failed_id`` (a retried bad request is kept once)."""

    def list_failed_events(
        self, provider_id: str, status: str | None, limit: int, cursor: str | None = None
    ) -> Page: ...

    def get_failed_event(self, provider_id: str, failed_id: str) -> FailedEvent | None: ...

    def mark_failed_replayed(self, provider_id: str, failed_id: str, event_id: str, at: datetime) -> None: ...

    # -- aggregator extraction (all providers, one shard at a time, bounded pages) ----------------
    def scan_events(self, since: datetime | None, until: datetime, page_size: int) -> Iterator[list[Event]]:
        """Events with ``since < ingested_at <= until``, in pages of at most ``page_size``."""

    def scan_conversations(
        self, since: datetime | None, until: datetime, page_size: int
    ) -> Iterator[list[Conversation]]:
        """Conversations with ``since < updated_at <= until``."""

    def scan_activities(
        self, since: datetime | None, until: datetime, page_size: int
    ) -> Iterator[list[Activity]]: ...

    def scan_failed_events(
        self, since: datetime | None, until: datetime, page_size: int
    ) -> Iterator[list[FailedEvent]]:
        """Failed events whose ``received_at`` or ``replayed_at`` falls in ``(since, until]``."""

    # -- privacy: customer erasure and event retention (docs/privacy.md) ---------------------------
    def customer_conversations(self, provider_id: str, customer_id: str) -> list[Conversation]:
        """The provider's conversations whose ``customerId`` is ``customer_id``."""

    def customer_activities(self, provider_id: str, customer_id: str) -> list[Activity]:
        """The provider's activities with ``customer_id`` as a customer-side party or as the
        contact or lead they are about."""

    def rewrite_events(
        self, provider_id: str, conversation_id: str, rewrite: Callable[[Event], Event]
    ) -> int:
        """Replace each stored event of the conversation by ``rewrite(event)`` (same id and
        ``ingested_at``); returns how many changed."""

    def erase_failed_events(
        self, provider_id: str, matches: Callable[[FailedEvent], bool], at: datetime
    ) -> int:
        """Redact the payload, envelope and details of the provider's failed events that ``matches``
        and mark them ``erased`` (``changed_at = at``); returns how many."""

    def record_erasure(self, erasure: Erasure) -> Erasure:
        """Store the receipt; when one exists already it goes back to ``pending`` with the counts
        added (its ``requested_at`` stays: a customer is counted once). Returns what is stored."""

    def get_erasure(self, provider_id: str, erasure_id: str) -> Erasure | None: ...

    def pending_erasures(self, until: datetime, limit: int) -> list[Erasure]:
        """Pending erasures requested at or before ``until``, oldest first, at most ``limit``."""

    def mark_erasures_applied(self, erasures: Sequence[Erasure], at: datetime) -> None: ...

    def purge_events(self, ingested_before: datetime, limit: int) -> int:
        """Delete up to ``limit`` events ingested before ``ingested_before``; returns how many."""

    def purge_failed_events(self, changed_before: datetime, limit: int) -> int:
        """Delete up to ``limit`` failed events last changed (received, replayed or erased) before
        ``changed_before``, oldest first; returns how many."""

    # -- events waiting for their conversation (written by the aggregation) -------------------------
    def put_orphan_summaries(self, summaries: Sequence[OrphanSummary]) -> None:
        """Replace every provider's summary by ``summaries`` (one per provider): a provider left out
        has none any more (its conversations arrived)."""

    def get_orphan_summary(self, provider_id: str) -> OrphanSummary | None: ...

    # -- aggregator coordination ------------------------------------------------------------------
    def acquire_lease(self, name: str, owner: str, now: datetime, ttl_seconds: float) -> bool:
        """Take the named lease if it is free, expired or already ours; ``False`` otherwise."""

    def release_lease(self, name: str, owner: str) -> None: ...

    def get_watermark(self, name: str) -> Watermark: ...

    def set_watermark(self, watermark: Watermark) -> None: ...

    # -- analytics settings -----------------------------------------------------------------------
    def put_provider_settings(self, settings: ProviderSettings, audit: AuditEntry) -> None:
        """Replace the provider's settings and store their audit entry, atomically (a retry with the
        same audit id is the same write)."""

    def get_provider_settings(self, provider_id: str) -> ProviderSettings | None: ...

    def list_provider_settings(self) -> list[ProviderSettings]:
        """Every provider's settings (few: one per provider that set any), by provider."""

    # -- supervisor outputs (docs/outputs.md) -----------------------------------------------------
    def add_subscription(self, subscription: ReportSubscription, audit: AuditEntry) -> None:
        """Store the subscription with its audit entry, atomically; ``AlreadyExists`` when the
        provider already has one with that id (same e-mail and experience)."""

    def remove_subscription(
        self, provider_id: str, subscription_id: str, audit: AuditEntry
    ) -> ReportSubscription:
        """Delete it with its audit entry, atomically; returns what was deleted, ``NotFound``."""

    def list_subscriptions(self, provider_id: str | None) -> list[ReportSubscription]:
        """The provider's subscriptions (``None``: every provider's), by provider, then creation."""

    def add_threshold(self, threshold: AlertThreshold, audit: AuditEntry) -> None:
        """Like ``add_subscription``, for alert thresholds."""

    def remove_threshold(self, provider_id: str, threshold_id: str, audit: AuditEntry) -> AlertThreshold:
        """Like ``remove_subscription``, for alert thresholds."""

    def list_thresholds(self, provider_id: str | None) -> list[AlertThreshold]:
        """Like ``list_subscriptions``, for alert thresholds."""

    def add_deliveries(self, deliveries: Sequence[Delivery]) -> list[bool]:
        """Create-if-absent by (kind, provider, delivery id); ``True`` where this call created it.
        A delivery that exists keeps its status: a re-run never sends it again."""

    def save_delivery(self, delivery: Delivery) -> None:
        """Write the delivery's status fields (status, attempts, error, message id, times)."""

    def get_delivery(self, kind: str, provider_id: str, delivery_id: str) -> Delivery | None: ...

    def due_deliveries(self, kind: str, limit: int) -> list[Delivery]:
        """Deliveries of ``kind`` not sent yet (pending, sending, failed), oldest first."""

    def close(self) -> None: ...
