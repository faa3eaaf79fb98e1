"""Firestore adapter: the cloud store (``firestore://PROJECT[/DATABASE]``).

Same semantics as ``SqliteStore`` (the contract suite in ``tests/store`` runs both). Design, in short
(docs/store.md has the long form):

- one document per object; ids are hashes (``records.scoped_id``): never sequential, never a path,
  and a provider can only ever address its own documents;
- events, activities and failed events are created with ``create`` (exists = false precondition) in
  non-atomic ``BatchWrite`` requests of at most 500 writes, each write with its own status: the
  store itself decides "new or duplicate", exactly once, even when retries of one request race;
- the aggregator's scan timestamp sits next to a small ``shard`` and is read shard by shard
  (``shard == s AND since < ts <= until ORDER BY ts, __name__``), merged into one ordered stream;
- read-modify-write (conversations, the analytics flag, keys, leases) is optimistic: read, decide,
  then write with an ``update_time`` precondition (or ``create``), redone when another writer won.
  Unlike the client's transaction helper, every one of these calls takes a bounded retry and
  timeout, so an unreachable Firestore answers ``StoreUnavailable`` within ``deadline_s``;
- every transient Google API error surfaces as ``StoreUnavailable`` (HTTP 503 + Retry-After).
"""

from __future__ import annotations

import heapq
import itertools
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import google.auth.exceptions
from google.api_core import exceptions as gexc
from google.api_core.retry import Retry, if_exception_type
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.bulk_batch import BulkWriteBatch
from google.rpc import code_pb2

from shared.config import settings
from shared.store.codec import decode_cursor, encode_cursor, from_iso, to_iso, utc
from shared.store.erasure import Erasure, activity_customer_keys, customer_key
from shared.store.errors import AlreadyExists, NotFound, StoreError, StoreUnavailable
from shared.store.firestore_indexes import AUDIT_ORDER, FAILED_ORDER, SCAN_FIELDS, TTL_FIELD
from shared.store.port import ConversationMerge
from shared.store.records import (
    ANALYTICS_FLAG,
    DELIVERY_DUE,
    INGEST_SHARDS,
    SIGNATURE_FLAG,
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
    ProviderFlag,
    ProviderSettings,
    ReportSubscription,
    SigningSecret,
    Watermark,
    scoped_id,
    settings_from,
    settings_values,
    shard_of,
)

T = TypeVar("T")
Doc = dict[str, Any]

# Firestore limits: 500 writes per request, 10 MiB per request (we stay well under the latter).
MAX_WRITES_PER_REQUEST = 500
MAX_REQUEST_BYTES = 8 * 1024 * 1024
# How often a read-decide-write is redone when another writer changed the document in between.
CONFLICT_ATTEMPTS = 8
DEFAULT_DEADLINE_S = 10.0

# Errors that mean "not now": the client retries them within the deadline, then we answer 503.
_RETRYABLE = (
    gexc.ServiceUnavailable,
    gexc.DeadlineExceeded,
    gexc.InternalServerError,
    gexc.ResourceExhausted,
    gexc.Aborted,
)
_TRANSIENT = (
    *_RETRYABLE,
    gexc.RetryError,
    gexc.Unknown,
    gexc.Cancelled,
    google.auth.exceptions.TransportError,
)
_TRANSIENT_CODES = {
    code_pb2.UNAVAILABLE,
    code_pb2.DEADLINE_EXCEEDED,
    code_pb2.INTERNAL,
    code_pb2.RESOURCE_EXHAUSTED,
    code_pb2.ABORTED,
    code_pb2.UNKNOWN,
    code_pb2.CANCELLED,
}


class _Conflict(Exception):
    """A precondition failed: someone else wrote the document since we read it."""


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _named_id(kind: str, name: str) -> str:
    """A document id for an object that belongs to no provider (api key, lease, watermark)."""
    return scoped_id("", kind, name)


def _dt(value: Any) -> datetime | None:
    """A Firestore timestamp as a plain aware UTC datetime (microseconds, as we wrote it)."""
    if value is None:
        return None
    v = utc(value)
    return datetime(v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond, tzinfo=UTC)


@contextmanager
def _available() -> Iterator[None]:
    """Translate transient Google API failures into ``StoreUnavailable``."""
    try:
        yield
    except _TRANSIENT as exc:
        raise StoreUnavailable(f"firestore: {type(exc).__name__}: {exc}") from exc


class FirestoreStore:
    """The store port on Firestore (Native mode).

    ``deadline_s`` bounds every call, retries included: past it the store is reported unavailable.
    ``retention_days`` sets each event's TTL field (default ``ANALYTICS_EVENT_RETENTION_DAYS``),
    ``failed_retention_days`` each failed event's (default ``ANALYTICS_FAILED_EVENT_RETENTION_DAYS``).
    The client is created on first use and shared by all threads of the process.
    """

    def __init__(
        self,
        project: str,
        database: str = "(default)",
        *,
        deadline_s: float = DEFAULT_DEADLINE_S,
        retention_days: int | None = None,
        failed_retention_days: int | None = None,
    ):
        if retention_days is None:
            retention_days = settings().event_retention_days
        if failed_retention_days is None:
            failed_retention_days = settings().failed_event_retention_days
        self._project = project
        self._database = database
        self._retention = timedelta(days=retention_days)
        self._failed_retention = timedelta(days=failed_retention_days)
        self._rpc: dict[str, Any] = {
            "retry": Retry(
                predicate=if_exception_type(*_RETRYABLE),
                initial=0.05,
                maximum=1.0,
                multiplier=2.0,
                timeout=deadline_s,
            ),
            "timeout": deadline_s,
        }
        self._client_lock = threading.Lock()
        self._client_instance: firestore.Client | None = None

    # -- client -----------------------------------------------------------------------------------
    @property
    def _client(self) -> firestore.Client:
        client = self._client_instance
        if client is not None:
            return client
        with self._client_lock:
            if self._client_instance is None:
                with _available():
                    self._client_instance = firestore.Client(project=self._project, database=self._database)
            return self._client_instance

    def _ref(self, collection: str, doc_id: str) -> firestore.DocumentReference:
        return self._client.collection(collection).document(doc_id)

    def _precondition(self, snapshot: Any) -> Any:
        return self._client.write_option(last_update_time=snapshot.update_time)

    def close(self) -> None:
        with self._client_lock:
            if self._client_instance is not None:
                self._client_instance.close()
                self._client_instance = None

    @contextmanager
    def _write_conflicts(self) -> Iterator[None]:
        """A failed precondition or an existing document on create means: read again and redo."""
        try:
            yield
        except (gexc.FailedPrecondition, gexc.AlreadyExists) as exc:
            raise _Conflict(str(exc)) from exc

    def _optimistic(self, attempt: Callable[[], T]) -> T:
        """Run read-decide-write ``attempt`` until it wins; a lost race reads the new state."""
        with _available():
            for _ in range(CONFLICT_ATTEMPTS):
                try:
                    return attempt()
                except _Conflict:
                    continue
        raise StoreUnavailable("firestore: the document keeps changing under us; retry later")

    # -- providers, keys, audit -------------------------------------------------------------------
    def _provider_ref(self, provider_id: str) -> firestore.DocumentReference:
        return self._ref("providers", scoped_id(provider_id, "provider"))

    def _key_ref(self, key_id: str) -> firestore.DocumentReference:
        return self._ref("api_keys", _named_id("api_key", key_id))

    def _audit_ref(self, audit: AuditEntry) -> firestore.DocumentReference:
        return self._ref("audit", scoped_id(audit.provider_id, "audit", audit.audit_id))

    def create_provider(self, provider: Provider, key: ApiKey, audit: AuditEntry) -> None:
        batch = self._client.batch()
        batch.create(self._provider_ref(provider.provider_id), _provider_doc(provider))
        batch.create(self._key_ref(key.key_id), _key_doc(key))
        batch.create(self._audit_ref(audit), _audit_doc(audit))
        with _available():
            try:
                batch.commit(**self._rpc)
            except gexc.AlreadyExists as exc:
                # A commit retried after a lost answer finds its own documents: that is success.
                mine = self._key_ref(key.key_id).get(**self._rpc)
                if mine.exists and mine.get("secret_hash") == key.secret_hash:
                    return
                raise AlreadyExists(provider.provider_id) from exc

    def get_provider(self, provider_id: str) -> Provider | None:
        with _available():
            snap = self._provider_ref(provider_id).get(**self._rpc)
        return _provider(snap.to_dict()) if snap.exists else None

    def set_analytics_flag(
        self, provider_id: str, enabled: bool, actor: str, at: datetime, audit_id: str
    ) -> tuple[Provider, AuditEntry | None]:
        return self._set_flag(ANALYTICS_FLAG, provider_id, enabled, actor, at, audit_id)

    def set_signature_required(
        self, provider_id: str, required: bool, actor: str, at: datetime, audit_id: str
    ) -> tuple[Provider, AuditEntry | None]:
        return self._set_flag(SIGNATURE_FLAG, provider_id, required, actor, at, audit_id)

    def _set_flag(
        self, flag: ProviderFlag, provider_id: str, value: bool, actor: str, at: datetime, audit_id: str
    ) -> tuple[Provider, AuditEntry | None]:
        """One audited boolean of the provider, committed in one batch with its audit entry."""
        ref = self._provider_ref(provider_id)

        def attempt() -> tuple[Provider, AuditEntry | None]:
            snap = ref.get(**self._rpc)
            if not snap.exists:
                raise NotFound(provider_id)
            old = _provider(snap.to_dict())
            if getattr(old, flag.column) == value:
                return old, None
            audit = AuditEntry(
                audit_id=audit_id,
                provider_id=provider_id,
                at=at,
                actor=actor,
                action=flag.action,
                field=flag.field,
                old=getattr(old, flag.column),
                new=value,
            )
            batch = self._client.batch()
            batch.update(ref, {flag.column: value, "updated_at": utc(at)}, option=self._precondition(snap))
            batch.create(self._audit_ref(audit), _audit_doc(audit))
            with self._write_conflicts():
                batch.commit(**self._rpc)
            return replace(old, **{flag.column: value, "updated_at": at}), audit

        return self._optimistic(attempt)

    def list_audit(self, provider_id: str, limit: int, cursor: str | None = None) -> Page:
        query = self._client.collection("audit").where(filter=FieldFilter("provider_id", "==", provider_id))
        for field in AUDIT_ORDER:
            query = query.order_by(field)
        if cursor:
            at, audit_id = decode_cursor(cursor, 2)
            query = query.start_after({"at": from_iso(at), "audit_id": audit_id})
        with _available():
            docs = [d.to_dict() for d in query.limit(limit + 1).get(**self._rpc)]
        items = [_audit(d) for d in docs[:limit]]
        last = items[-1] if len(docs) > limit else None
        return Page(items, encode_cursor(to_iso(last.at), last.audit_id) if last else None)

    def add_api_key(self, key: ApiKey, expire_others_at: datetime | None) -> None:
        self._add_credential(
            "api_keys",
            key.provider_id,
            self._key_ref(key.key_id),
            _key_doc(key),
            same_as_earlier_attempt=("secret_hash", key.secret_hash),
            changed_field="keys_changed_at",
            changed_at=key.created_at,
            expire_others_at=expire_others_at,
        )

    def _add_credential(
        self,
        collection: str,
        provider_id: str,
        ref: firestore.DocumentReference,
        doc: Doc,
        *,
        same_as_earlier_attempt: tuple[str, Any],
        changed_field: str,
        changed_at: datetime,
        expire_others_at: datetime | None,
        also_create: tuple[tuple[firestore.DocumentReference, Doc], ...] = (),
    ) -> None:
        """A new API key or signing secret, optionally cutting the provider's others short, in one
        batch. Touching the provider serialises concurrent rotations: the loser re-reads the others."""
        provider_ref = self._provider_ref(provider_id)
        limit = utc(expire_others_at) if expire_others_at is not None else None
        field, value = same_as_earlier_attempt

        def attempt() -> None:
            provider, mine = self._client.get_all([provider_ref, ref], **self._rpc)
            if mine.reference.path != ref.path:
                provider, mine = mine, provider
            if mine.exists and mine.get(field) == value:
                return  # stored by an earlier attempt whose answer was lost
            batch = self._client.batch()
            if provider.exists:
                batch.update(
                    provider_ref, {changed_field: utc(changed_at)}, option=self._precondition(provider)
                )
            if limit is not None:
                others = (
                    self._client.collection(collection)
                    .where(filter=FieldFilter("provider_id", "==", provider_id))
                    .get(**self._rpc)
                )
                for other in others:
                    expires = _dt(other.get("expires_at"))
                    if expires is None or expires > limit:
                        batch.update(other.reference, {"expires_at": limit}, option=self._precondition(other))
            batch.create(ref, doc)
            for extra_ref, extra_doc in also_create:
                batch.create(extra_ref, extra_doc)
            with self._write_conflicts():
                batch.commit(**self._rpc)

        self._optimistic(attempt)

    def get_api_key(self, key_id: str) -> ApiKey | None:
        with _available():
            snap = self._key_ref(key_id).get(**self._rpc)
        return _api_key(snap.to_dict()) if snap.exists else None

    def list_api_keys(self, provider_id: str) -> list[ApiKey]:
        # A provider has a handful of keys: sort here instead of keeping another composite index.
        query = self._client.collection("api_keys").where(
            filter=FieldFilter("provider_id", "==", provider_id)
        )
        with _available():
            keys = [_api_key(d.to_dict()) for d in query.get(**self._rpc)]
        return sorted(keys, key=lambda k: (k.created_at, k.key_id))

    # -- request signing --------------------------------------------------------------------------
    def _signing_ref(self, provider_id: str, secret_id: str) -> firestore.DocumentReference:
        return self._ref("signing_secrets", scoped_id(provider_id, "signing_secret", secret_id))

    def add_signing_secret(
        self, secret: SigningSecret, expire_others_at: datetime | None, audit: AuditEntry
    ) -> None:
        self._add_credential(
            "signing_secrets",
            secret.provider_id,
            self._signing_ref(secret.provider_id, secret.secret_id),
            _signing_doc(secret),
            same_as_earlier_attempt=("sealed", secret.sealed),
            changed_field="signing_secrets_changed_at",
            changed_at=secret.created_at,
            expire_others_at=expire_others_at,
            also_create=((self._audit_ref(audit), _audit_doc(audit)),),
        )

    def _signing_docs(self, provider_id: str) -> list[Any]:
        query = self._client.collection("signing_secrets").where(
            filter=FieldFilter("provider_id", "==", provider_id)
        )
        return list(query.get(**self._rpc))

    def list_signing_secrets(self, provider_id: str) -> list[SigningSecret]:
        # A handful per provider: sorted here rather than by another composite index.
        with _available():
            found = [_signing(d.to_dict()) for d in self._signing_docs(provider_id)]
        return sorted(found, key=lambda s: (s.created_at, s.secret_id))

    # -- custom event definitions -----------------------------------------------------------------
    def _definition_ref(self, provider_id: str, name: str) -> firestore.DocumentReference:
        return self._ref("event_definitions", scoped_id(provider_id, "event_definition", name))

    def put_event_definition(self, definition: EventDefinition) -> None:
        ref = self._definition_ref(definition.provider_id, definition.name)
        doc = _definition_doc(definition)

        def attempt() -> None:
            snap = ref.get(**self._rpc)
            with self._write_conflicts():
                if not snap.exists:
                    ref.create(doc, **self._rpc)
                    return
                # An update keeps the original created_at, as the SQLite upsert does.
                changes = {k: doc[k] for k in ("version", "active", "description", "updated_at")}
                ref.update(changes, option=self._precondition(snap), **self._rpc)

        self._optimistic(attempt)

    def get_event_definition(self, provider_id: str, name: str) -> EventDefinition | None:
        with _available():
            snap = self._definition_ref(provider_id, name).get(**self._rpc)
        return _definition(snap.to_dict()) if snap.exists else None

    def list_event_definitions(self, provider_id: str) -> list[EventDefinition]:
        query = self._client.collection("event_definitions").where(
            filter=FieldFilter("provider_id", "==", provider_id)
        )
        with _available():
            definitions = [_definition(d.to_dict()) for d in query.get(**self._rpc)]
        return sorted(definitions, key=lambda d: d.name)

    # -- conversations ----------------------------------------------------------------------------
    def upsert_conversation(
        self, provider_id: str, conversation_id: str, merge: ConversationMerge, at: datetime
    ) -> tuple[Conversation, bool]:
        probe = Conversation(provider_id, conversation_id, {}, at)
        ref = self._ref("conversations", probe.doc_id)

        def attempt() -> tuple[Conversation, bool]:
            snap = ref.get(**self._rpc)
            old = json.loads(snap.get("data")) if snap.exists else None
            data = merge(old)
            if snap.exists and data == old:
                # Nothing changed: keep updated_at so the aggregator has nothing to restate.
                return Conversation(provider_id, conversation_id, old, _dt(snap.get("updated_at"))), False
            record = Conversation(provider_id, conversation_id, data, at)
            with self._write_conflicts():
                if snap.exists:
                    ref.update(
                        {
                            "data": _dumps(data),
                            "updated_at": utc(at),
                            "customer_key": customer_key(provider_id, data.get("customerId")),
                        },
                        option=self._precondition(snap),
                        **self._rpc,
                    )
                else:
                    ref.create(_conversation_doc(record), **self._rpc)
            return record, not snap.exists

        return self._optimistic(attempt)

    def get_conversation(self, provider_id: str, conversation_id: str) -> Conversation | None:
        doc_id = scoped_id(provider_id, "conversation", conversation_id)
        with _available():
            snap = self._ref("conversations", doc_id).get(**self._rpc)
        return _conversation(snap.to_dict()) if snap.exists else None

    # -- create-if-absent in bulk -----------------------------------------------------------------
    def _bulk(self, collection: str, writes: list[tuple[str, Doc]], mode: str) -> list[bool]:
        """``create`` (or ``set``) each ``(doc_id, doc)``; per write, whether it was applied.

        Non-atomic BatchWrite requests (≤ 500 writes, a few MiB): each write gets its own status, so
        ``ALREADY_EXISTS`` on a create is an answer ("duplicate"), not a failure. A write that failed
        for any other reason leaves the call undecided: transient ones raise ``StoreUnavailable`` so
        the caller retries the whole call (already created documents then report as duplicates).
        """
        applied: list[bool] = []
        for chunk in _chunks(writes):
            batch = BulkWriteBatch(self._client)
            col = self._client.collection(collection)
            for doc_id, doc in chunk:
                getattr(batch, mode)(col.document(doc_id), doc)
            with _available():
                response = batch.commit(**self._rpc)
            for status in response.status:
                if status.code == code_pb2.OK:
                    applied.append(True)
                elif status.code == code_pb2.ALREADY_EXISTS and mode == "create":
                    applied.append(False)
                elif status.code in _TRANSIENT_CODES:
                    raise StoreUnavailable(f"firestore: write to {collection} failed: {status.message}")
                else:
                    raise StoreError(f"firestore: write to {collection} rejected: {status.message}")
        return applied

    def _create_once(self, collection: str, items: Sequence[tuple[str, Doc]]) -> list[bool]:
        """Create-if-absent by id, first occurrence wins (one request cannot write a document twice)."""
        first: dict[str, int] = {}
        for index, (doc_id, _) in enumerate(items):
            first.setdefault(doc_id, index)
        created = self._bulk(collection, [items[i] for i in first.values()], "create")
        result = [False] * len(items)
        for index, was_created in zip(first.values(), created, strict=True):
            result[index] = was_created
        return result

    # -- events -----------------------------------------------------------------------------------
    def insert_events(self, events: Sequence[Event]) -> list[bool]:
        if not events:
            return []
        return self._create_once("events", [(e.doc_id, self._event_doc(e)) for e in events])

    def _event_doc(self, e: Event) -> Doc:
        doc = {
            "provider_id": e.provider_id,
            "event_id": e.event_id,
            "conversation_id": e.conversation_id,
            "provider_session_id": e.provider_session_id,
            "participant_id": e.participant_id,
            "name": e.name,
            "reason": e.reason,
            "event_ts": utc(e.event_ts),
            "response_action": e.response_action,
            "additional_data": e.additional_data,
            "custom_data": _dumps(e.custom_data),
            "schema": e.schema,
            "ingested_at": utc(e.ingested_at),
            "shard": e.shard,
            "digest": e.digest,
            TTL_FIELD: utc(e.ingested_at) + self._retention,
        }
        # The CIF extras only when sent (most events carry neither); no query filters on them.
        if e.client_session_id is not None:
            doc["client_session_id"] = e.client_session_id
        if e.external_correlation_id is not None:
            doc["external_correlation_id"] = e.external_correlation_id
        return doc

    def get_event(self, provider_id: str, event_id: str) -> Event | None:
        with _available():
            snap = self._ref("events", scoped_id(provider_id, "event", event_id)).get(**self._rpc)
        return _event(snap.to_dict()) if snap.exists else None

    def get_events(self, provider_id: str, event_ids: Sequence[str]) -> dict[str, Event]:
        refs = [self._ref("events", scoped_id(provider_id, "event", e)) for e in dict.fromkeys(event_ids)]
        if not refs:
            return {}
        with _available():
            snaps = list(self._client.get_all(refs, **self._rpc))
        found = [_event(s.to_dict()) for s in snaps if s.exists]
        return {e.event_id: e for e in found}

    # -- activities -------------------------------------------------------------------------------
    def upsert_activities(self, activities: Sequence[Activity]) -> list[bool]:
        if not activities:
            return []
        # Within one call the last occurrence of an id is what ends up stored (as in SQLite).
        latest = {a.doc_id: a for a in activities}
        first: dict[str, int] = {}
        for index, a in enumerate(activities):
            first.setdefault(a.doc_id, index)
        writes = [(doc_id, _activity_doc(latest[doc_id])) for doc_id in first]
        created = self._bulk("activities", writes, "create")
        # The ones that existed are replaced; a create that lost a race is replaced the same way.
        self._bulk("activities", [w for w, new in zip(writes, created, strict=True) if not new], "set")
        result = [False] * len(activities)
        for index, was_created in zip(first.values(), created, strict=True):
            result[index] = was_created
        return result

    # -- failed events ----------------------------------------------------------------------------
    def _failed_ref(self, provider_id: str, failed_id: str) -> firestore.DocumentReference:
        return self._ref("failed_events", _failed_doc_id(provider_id, failed_id))

    def add_failed_events(self, failed: Sequence[FailedEvent]) -> list[bool]:
        if not failed:
            return []
        return self._create_once(
            "failed_events",
            [
                (
                    _failed_doc_id(f.provider_id, f.failed_id),
                    {
                        **_failed_doc(f),
                        TTL_FIELD: utc(f.replayed_at or f.received_at) + self._failed_retention,
                    },
                )
                for f in failed
            ],
        )

    def list_failed_events(
        self, provider_id: str, status: str | None, limit: int, cursor: str | None = None
    ) -> Page:
        query = self._client.collection("failed_events").where(
            filter=FieldFilter("provider_id", "==", provider_id)
        )
        if status is not None:
            query = query.where(filter=FieldFilter("status", "==", status))
        for field in FAILED_ORDER:
            query = query.order_by(field)
        if cursor:
            received_at, failed_id = decode_cursor(cursor, 2)
            query = query.start_after({"received_at": from_iso(received_at), "failed_id": failed_id})
        with _available():
            docs = [d.to_dict() for d in query.limit(limit + 1).get(**self._rpc)]
        items = [_failed(d) for d in docs[:limit]]
        last = items[-1] if len(docs) > limit else None
        return Page(items, encode_cursor(to_iso(last.received_at), last.failed_id) if last else None)

    def get_failed_event(self, provider_id: str, failed_id: str) -> FailedEvent | None:
        with _available():
            snap = self._failed_ref(provider_id, failed_id).get(**self._rpc)
        return _failed(snap.to_dict()) if snap.exists else None

    def mark_failed_replayed(self, provider_id: str, failed_id: str, event_id: str, at: datetime) -> None:
        changes = {
            "status": "replayed",
            "replayed_at": utc(at),
            "replayed_event_id": event_id,
            "changed_at": utc(at),
            TTL_FIELD: utc(at) + self._failed_retention,
        }
        with _available():
            try:
                self._failed_ref(provider_id, failed_id).update(changes, **self._rpc)
            except gexc.NotFound as exc:
                raise NotFound(failed_id) from exc

    # -- aggregator extraction --------------------------------------------------------------------
    def _scan(
        self, collection: str, since: datetime | None, until: datetime, page_size: int
    ) -> Iterator[list[Doc]]:
        """Documents with ``since < ts <= until``, every shard merged into one ``(ts, id)`` order."""
        if page_size < 1:
            return  # as SQLite's LIMIT 0: nothing
        field = SCAN_FIELDS[collection]
        # Each shard is read in pages of twice its share of a page (shards fill unevenly), so about two
        # pages are held in memory however many shards there are, and small pages stay cheap.
        fetch = max(8, 2 * -(-page_size // INGEST_SHARDS))
        streams = [
            self._scan_shard(collection, field, shard, since, until, fetch) for shard in range(INGEST_SHARDS)
        ]
        merged = heapq.merge(*streams, key=lambda item: item[0])
        while page := [doc for _, doc in itertools.islice(merged, page_size)]:
            yield page

    def _scan_shard(
        self,
        collection: str,
        field: str,
        shard: int,
        since: datetime | None,
        until: datetime,
        fetch: int,
    ) -> Iterator[tuple[tuple[datetime, str], Doc]]:
        query = self._client.collection(collection).where(filter=FieldFilter("shard", "==", shard))
        if since is not None:
            query = query.where(filter=FieldFilter(field, ">", utc(since)))
        query = query.where(filter=FieldFilter(field, "<=", utc(until)))
        query = query.order_by(field).order_by("__name__").limit(fetch)
        last = None
        while True:
            page = query.start_after(last) if last is not None else query
            with _available():
                snaps = page.get(**self._rpc)
            for snap in snaps:
                doc = snap.to_dict()
                yield (_dt(doc[field]), snap.id), doc
            if len(snaps) < fetch:
                return
            last = snaps[-1]

    def scan_events(self, since: datetime | None, until: datetime, page_size: int) -> Iterator[list[Event]]:
        for docs in self._scan("events", since, until, page_size):
            yield [_event(d) for d in docs]

    def scan_conversations(
        self, since: datetime | None, until: datetime, page_size: int
    ) -> Iterator[list[Conversation]]:
        for docs in self._scan("conversations", since, until, page_size):
            yield [_conversation(d) for d in docs]

    def scan_activities(
        self, since: datetime | None, until: datetime, page_size: int
    ) -> Iterator[list[Activity]]:
        for docs in self._scan("activities", since, until, page_size):
            yield [_activity(d) for d in docs]

    def scan_failed_events(
        self, since: datetime | None, until: datetime, page_size: int
    ) -> Iterator[list[FailedEvent]]:
        for docs in self._scan("failed_events", since, until, page_size):
            yield [_failed(d) for d in docs]

    # -- privacy: customer erasure and event retention --------------------------------------------
    # Conversation and activity data is opaque JSON: indexed lookup keys (``customer_key``,
    # ``customer_keys``, see shared.store.erasure) find a customer's documents without a scan.
    def customer_conversations(self, provider_id: str, customer_id: str) -> list[Conversation]:
        query = self._client.collection("conversations").where(
            filter=FieldFilter("customer_key", "==", customer_key(provider_id, customer_id))
        )
        with _available():
            found = [_conversation(d.to_dict()) for d in query.get(**self._rpc)]
        return sorted(found, key=lambda c: c.conversation_id)

    def customer_activities(self, provider_id: str, customer_id: str) -> list[Activity]:
        key = customer_key(provider_id, customer_id)
        query = self._client.collection("activities").where(
            filter=FieldFilter("customer_keys", "array_contains", key)
        )
        with _available():
            found = [_activity(d.to_dict()) for d in query.get(**self._rpc)]
        return sorted(found, key=lambda a: a.activity_id)

    def _update_all(self, updates: list[tuple[Any, Doc]]) -> None:
        """Field updates of existing documents, in batches of at most 500 writes."""
        for start in range(0, len(updates), MAX_WRITES_PER_REQUEST):
            batch = self._client.batch()
            for ref, changes in updates[start : start + MAX_WRITES_PER_REQUEST]:
                batch.update(ref, changes)
            batch.commit(**self._rpc)

    def rewrite_events(
        self, provider_id: str, conversation_id: str, rewrite: Callable[[Event], Event]
    ) -> int:
        query = (
            self._client.collection("events")
            .where(filter=FieldFilter("provider_id", "==", provider_id))
            .where(filter=FieldFilter("conversation_id", "==", conversation_id))
        )
        updates: list[tuple[Any, Doc]] = []
        with _available():
            for snap in query.get(**self._rpc):
                old = _event(snap.to_dict())
                new = rewrite(old)
                if new != old:
                    changes = {
                        "participant_id": new.participant_id,
                        "reason": new.reason,
                        "additional_data": new.additional_data,
                        "custom_data": _dumps(new.custom_data),
                    }
                    updates.append((snap.reference, changes))
            self._update_all(updates)
        return len(updates)

    def erase_failed_events(
        self, provider_id: str, matches: Callable[[FailedEvent], bool], at: datetime
    ) -> int:
        query = self._client.collection("failed_events").where(
            filter=FieldFilter("provider_id", "==", provider_id)
        )
        redacted = {
            "payload": "null",
            "envelope": "{}",
            "details": "[]",
            "status": "erased",
            "payload_bytes": None,
            "payload_digest": None,
            "changed_at": utc(at),
            TTL_FIELD: utc(at) + self._failed_retention,
        }
        with _available():
            hits = [
                (snap.reference, redacted)
                for snap in query.get(**self._rpc)
                if snap.get("status") != "erased" and matches(_failed(snap.to_dict()))
            ]
            self._update_all(hits)
        return len(hits)

    def _erasure_ref(self, provider_id: str, erasure_id: str) -> firestore.DocumentReference:
        return self._ref("erasures", scoped_id(provider_id, "erasure", erasure_id))

    def record_erasure(self, erasure: Erasure) -> Erasure:
        ref = self._erasure_ref(erasure.provider_id, erasure.erasure_id)

        def attempt() -> Erasure:
            snap = ref.get(**self._rpc)
            e = erasure
            if snap.exists:
                old = _erasure(snap.to_dict())
                counts = {k: old.counts.get(k, 0) + e.counts.get(k, 0) for k in {*old.counts, *e.counts}}
                linked = tuple(sorted({*old.participant_pseudonyms, *e.participant_pseudonyms}))
                e = Erasure(old.provider_id, old.erasure_id, old.pseudonym, old.requested_at, counts)
                e = replace(e, participant_pseudonyms=linked)
            with self._write_conflicts():
                if snap.exists:
                    ref.update(_erasure_doc(e), option=self._precondition(snap), **self._rpc)
                else:
                    ref.create(_erasure_doc(e), **self._rpc)
            return e

        return self._optimistic(attempt)

    def get_erasure(self, provider_id: str, erasure_id: str) -> Erasure | None:
        with _available():
            snap = self._erasure_ref(provider_id, erasure_id).get(**self._rpc)
        return _erasure(snap.to_dict()) if snap.exists else None

    def pending_erasures(self, until: datetime, limit: int) -> list[Erasure]:
        # Pending erasures are few (applied within minutes): filtered and ordered here, no index.
        query = self._client.collection("erasures").where(filter=FieldFilter("status", "==", "pending"))
        with _available():
            found = [_erasure(d.to_dict()) for d in query.get(**self._rpc)]
        due = [e for e in found if e.requested_at <= utc(until)]
        return sorted(due, key=lambda e: (e.requested_at, e.provider_id, e.erasure_id))[:limit]

    def mark_erasures_applied(self, erasures: Sequence[Erasure], at: datetime) -> None:
        changes = {"status": "applied", "applied_at": utc(at)}
        with _available():
            self._update_all([(self._erasure_ref(e.provider_id, e.erasure_id), changes) for e in erasures])

    def purge_events(self, ingested_before: datetime, limit: int) -> int:
        """Shard by shard on the scan index; the TTL policy on ``expire_at`` is the backstop."""
        return self._purge("events", ingested_before, limit)

    def purge_failed_events(self, changed_before: datetime, limit: int) -> int:
        return self._purge("failed_events", changed_before, limit)

    def _purge(self, collection: str, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` documents whose scan timestamp is before ``before``, shard by shard."""
        field = SCAN_FIELDS[collection]
        purged = 0
        with _available():
            for shard in range(INGEST_SHARDS):
                while purged < limit:
                    query = (
                        self._client.collection(collection)
                        .where(filter=FieldFilter("shard", "==", shard))
                        .where(filter=FieldFilter(field, "<", utc(before)))
                        .order_by(field)
                        .order_by("__name__")
                        .limit(min(MAX_WRITES_PER_REQUEST, limit - purged))
                    )
                    snaps = list(query.get(**self._rpc))
                    if not snaps:
                        break
                    batch = self._client.batch()
                    for snap in snaps:
                        batch.delete(snap.reference)
                    batch.commit(**self._rpc)
                    purged += len(snaps)
        return purged

    # -- events waiting for their conversation -----------------------------------------------------
    # One small document per provider with orphans, written by the aggregation after its commit (once
    # per run, not per event: no hot document).
    def put_orphan_summaries(self, summaries: Sequence[OrphanSummary]) -> None:
        collection = self._client.collection("orphan_summaries")
        wanted = {scoped_id(o.provider_id, "orphans"): _orphan_doc(o) for o in summaries}
        with _available():
            stale = [
                snap.reference for snap in collection.select([]).get(**self._rpc) if snap.id not in wanted
            ]
            writes = [("set", collection.document(i), doc) for i, doc in wanted.items()]
            writes += [("delete", ref, None) for ref in stale]
            for start in range(0, len(writes), MAX_WRITES_PER_REQUEST):
                batch = self._client.batch()
                for kind, ref, doc in writes[start : start + MAX_WRITES_PER_REQUEST]:
                    if kind == "set":
                        batch.set(ref, doc)
                    else:
                        batch.delete(ref)
                batch.commit(**self._rpc)

    def get_orphan_summary(self, provider_id: str) -> OrphanSummary | None:
        with _available():
            snap = self._ref("orphan_summaries", scoped_id(provider_id, "orphans")).get(**self._rpc)
        if not snap.exists:
            return None
        d = snap.to_dict()
        return OrphanSummary(
            provider_id=d["provider_id"],
            events=d["events"],
            conversations=d["conversations"],
            oldest_event_ts=_dt(d["oldest_event_ts"]),
            oldest_ingested_at=_dt(d["oldest_ingested_at"]),
            computed_at=_dt(d["computed_at"]),
            examples=tuple(json.loads(d["examples"])),
        )

    # -- aggregator coordination ------------------------------------------------------------------
    def acquire_lease(self, name: str, owner: str, now: datetime, ttl_seconds: float) -> bool:
        ref = self._ref("leases", _named_id("lease", name))
        doc = {"name": name, "owner": owner, "expires_at": utc(now) + timedelta(seconds=ttl_seconds)}

        def attempt() -> bool:
            snap = ref.get(**self._rpc)
            if snap.exists and snap.get("owner") != owner and _dt(snap.get("expires_at")) > utc(now):
                return False
            with self._write_conflicts():
                if snap.exists:
                    ref.update(doc, option=self._precondition(snap), **self._rpc)
                else:
                    ref.create(doc, **self._rpc)
            return True

        return self._optimistic(attempt)

    def release_lease(self, name: str, owner: str) -> None:
        ref = self._ref("leases", _named_id("lease", name))

        def attempt() -> None:
            snap = ref.get(**self._rpc)
            if snap.exists and snap.get("owner") == owner:
                with self._write_conflicts():
                    ref.delete(option=self._precondition(snap), **self._rpc)

        self._optimistic(attempt)

    def get_watermark(self, name: str) -> Watermark:
        with _available():
            snap = self._ref("watermarks", _named_id("watermark", name)).get(**self._rpc)
        if not snap.exists:
            return Watermark(name, None, {})
        return Watermark(name, _dt(snap.get("value")), json.loads(snap.get("extra")))

    def set_watermark(self, watermark: Watermark) -> None:
        doc = {
            "name": watermark.name,
            "value": utc(watermark.value) if watermark.value is not None else None,
            "extra": _dumps(watermark.extra),
        }
        with _available():
            self._ref("watermarks", _named_id("watermark", watermark.name)).set(doc, **self._rpc)

    # -- supervisor outputs: subscriptions, thresholds, the delivery outbox ------------------------
    # A provider has a handful of subscriptions and thresholds: listed by provider and sorted here
    # (no composite index); the report and the alert evaluation read them all, once per run.
    def _create_with_audit(self, collection: str, doc_id: str, doc: Doc, audit: AuditEntry) -> None:
        """Create ``doc`` and its audit entry in one batch; ``AlreadyExists`` when the id is taken
        (by something else than an earlier attempt of this very call)."""
        ref = self._ref(collection, doc_id)
        batch = self._client.batch()
        batch.create(ref, doc)
        batch.create(self._audit_ref(audit), _audit_doc(audit))
        with _available():
            try:
                batch.commit(**self._rpc)
            except gexc.AlreadyExists as exc:
                audit_snap = self._audit_ref(audit).get(**self._rpc)
                if audit_snap.exists:  # our own commit, retried after a lost answer
                    return
                raise AlreadyExists(doc_id) from exc

    def _delete_with_audit(self, collection: str, doc_id: str, audit: AuditEntry) -> Doc:
        ref = self._ref(collection, doc_id)

        def attempt() -> Doc:
            snap = ref.get(**self._rpc)
            if not snap.exists:
                raise NotFound(doc_id)
            batch = self._client.batch()
            batch.delete(ref, option=self._precondition(snap))
            batch.create(self._audit_ref(audit), _audit_doc(audit))
            with self._write_conflicts():
                batch.commit(**self._rpc)
            return snap.to_dict()

        return self._optimistic(attempt)

    def _by_provider(self, collection: str, provider_id: str | None) -> list[Doc]:
        query: Any = self._client.collection(collection)
        if provider_id is not None:
            query = query.where(filter=FieldFilter("provider_id", "==", provider_id))
        with _available():
            return [d.to_dict() for d in query.get(**self._rpc)]

    # -- analytics settings -----------------------------------------------------------------------
    def put_provider_settings(self, settings: ProviderSettings, audit: AuditEntry) -> None:
        """The document and its audit entry in one batch; a retry after a lost answer finds its own
        audit entry and is done."""
        ref = self._ref("provider_settings", scoped_id(settings.provider_id, "settings"))
        doc = {
            "provider_id": settings.provider_id,
            "updated_at": settings.updated_at,
            "values": settings_values(settings),
        }
        batch = self._client.batch()
        batch.set(ref, doc)
        batch.create(self._audit_ref(audit), _audit_doc(audit))
        with _available():
            try:
                batch.commit(**self._rpc)
            except gexc.AlreadyExists:
                if not self._audit_ref(audit).get(**self._rpc).exists:
                    raise

    def get_provider_settings(self, provider_id: str) -> ProviderSettings | None:
        with _available():
            snap = self._ref("provider_settings", scoped_id(provider_id, "settings")).get(**self._rpc)
        return _provider_settings(snap.to_dict()) if snap.exists else None

    def list_provider_settings(self) -> list[ProviderSettings]:
        found = [_provider_settings(d) for d in self._by_provider("provider_settings", None)]
        return sorted(found, key=lambda s: s.provider_id)

    def add_subscription(self, subscription: ReportSubscription, audit: AuditEntry) -> None:
        s = subscription
        doc_id = scoped_id(s.provider_id, "report_subscription", s.subscription_id)
        self._create_with_audit("report_subscriptions", doc_id, _subscription_doc(s), audit)

    def remove_subscription(
        self, provider_id: str, subscription_id: str, audit: AuditEntry
    ) -> ReportSubscription:
        doc_id = scoped_id(provider_id, "report_subscription", subscription_id)
        return _subscription(self._delete_with_audit("report_subscriptions", doc_id, audit))

    def list_subscriptions(self, provider_id: str | None) -> list[ReportSubscription]:
        found = [_subscription(d) for d in self._by_provider("report_subscriptions", provider_id)]
        return sorted(found, key=lambda s: (s.provider_id, s.created_at, s.subscription_id))

    def add_threshold(self, threshold: AlertThreshold, audit: AuditEntry) -> None:
        t = threshold
        doc_id = scoped_id(t.provider_id, "alert_threshold", t.threshold_id)
        self._create_with_audit("alert_thresholds", doc_id, _threshold_doc(t), audit)

    def remove_threshold(self, provider_id: str, threshold_id: str, audit: AuditEntry) -> AlertThreshold:
        doc_id = scoped_id(provider_id, "alert_threshold", threshold_id)
        return _threshold(self._delete_with_audit("alert_thresholds", doc_id, audit))

    def list_thresholds(self, provider_id: str | None) -> list[AlertThreshold]:
        found = [_threshold(d) for d in self._by_provider("alert_thresholds", provider_id)]
        return sorted(found, key=lambda t: (t.provider_id, t.created_at, t.threshold_id))

    def _delivery_ref(self, kind: str, provider_id: str, delivery_id: str) -> firestore.DocumentReference:
        return self._ref("deliveries", scoped_id(provider_id, "delivery", kind, delivery_id))

    def add_deliveries(self, deliveries: Sequence[Delivery]) -> list[bool]:
        if not deliveries:
            return []
        items = [
            (scoped_id(d.provider_id, "delivery", d.kind, d.delivery_id), _delivery_doc(d))
            for d in deliveries
        ]
        return self._create_once("deliveries", items)

    def save_delivery(self, delivery: Delivery) -> None:
        d = delivery
        changes = {k: v for k, v in _delivery_doc(d).items() if k not in ("payload", "created_at")}
        with _available():
            self._delivery_ref(d.kind, d.provider_id, d.delivery_id).update(changes, **self._rpc)

    def get_delivery(self, kind: str, provider_id: str, delivery_id: str) -> Delivery | None:
        with _available():
            snap = self._delivery_ref(kind, provider_id, delivery_id).get(**self._rpc)
        return _delivery(snap.to_dict()) if snap.exists else None

    def due_deliveries(self, kind: str, limit: int) -> list[Delivery]:
        # Equality filters only (served by merging single-field indexes); unsent deliveries are few.
        query = (
            self._client.collection("deliveries")
            .where(filter=FieldFilter("kind", "==", kind))
            .where(filter=FieldFilter("status", "in", list(DELIVERY_DUE)))
        )
        with _available():
            found = [_delivery(d.to_dict()) for d in query.get(**self._rpc)]
        return sorted(found, key=lambda d: (d.created_at, d.provider_id, d.delivery_id))[:limit]


# -- request sizing ---------------------------------------------------------------------------------
def _approx_bytes(doc: Doc) -> int:
    return 200 + sum(len(k) + len(v if isinstance(v, str) else str(v)) for k, v in doc.items())


def _chunks(writes: list[tuple[str, Doc]]) -> Iterator[list[tuple[str, Doc]]]:
    """Requests of at most 500 writes and a few MiB."""
    chunk: list[tuple[str, Doc]] = []
    size = 0
    for write in writes:
        cost = _approx_bytes(write[1])
        if chunk and (len(chunk) == MAX_WRITES_PER_REQUEST or size + cost > MAX_REQUEST_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(write)
        size += cost
    if chunk:
        yield chunk


# -- documents <-> records ------------------------------------------------------------------------
# Free-form values (conversation data, custom data, details, envelopes, audit values) are stored as
# JSON text: any provider attribute name round-trips (Firestore reserves some map keys and forbids
# arrays in arrays), the value reads back exactly as written, and nothing in it is indexed.


def _failed_doc_id(provider_id: str, failed_id: str) -> str:
    return scoped_id(provider_id, "failed_event", failed_id)


def _provider_doc(p: Provider) -> Doc:
    return {
        "provider_id": p.provider_id,
        "name": p.name,
        "enable_analytics": p.enable_analytics,
        "created_at": utc(p.created_at),
        "updated_at": utc(p.updated_at),
        "require_signature": p.require_signature,
    }


def _provider(d: Doc) -> Provider:
    return Provider(
        d["provider_id"],
        d["name"],
        bool(d["enable_analytics"]),
        _dt(d["created_at"]),
        _dt(d["updated_at"]),
        # Providers stored before request signing existed have no field: they do not require it.
        bool(d.get("require_signature", False)),
    )


def _signing_doc(s: SigningSecret) -> Doc:
    return {
        "secret_id": s.secret_id,
        "provider_id": s.provider_id,
        "sealed": s.sealed,
        "created_at": utc(s.created_at),
        "expires_at": utc(s.expires_at) if s.expires_at is not None else None,
    }


def _signing(d: Doc) -> SigningSecret:
    return SigningSecret(
        d["secret_id"], d["provider_id"], d["sealed"], _dt(d["created_at"]), _dt(d["expires_at"])
    )


def _key_doc(k: ApiKey) -> Doc:
    return {
        "key_id": k.key_id,
        "provider_id": k.provider_id,
        "secret_hash": k.secret_hash,
        "created_at": utc(k.created_at),
        "expires_at": utc(k.expires_at) if k.expires_at is not None else None,
    }


def _api_key(d: Doc) -> ApiKey:
    return ApiKey(d["key_id"], d["provider_id"], d["secret_hash"], _dt(d["created_at"]), _dt(d["expires_at"]))


def _audit_doc(a: AuditEntry) -> Doc:
    return {
        "audit_id": a.audit_id,
        "provider_id": a.provider_id,
        "at": utc(a.at),
        "actor": a.actor,
        "action": a.action,
        "field": a.field,
        "old": _dumps(a.old),
        "new": _dumps(a.new),
    }


def _audit(d: Doc) -> AuditEntry:
    return AuditEntry(
        d["audit_id"],
        d["provider_id"],
        _dt(d["at"]),
        d["actor"],
        d["action"],
        d["field"],
        json.loads(d["old"]),
        json.loads(d["new"]),
    )


def _definition_doc(e: EventDefinition) -> Doc:
    return {
        "provider_id": e.provider_id,
        "name": e.name,
        "version": e.version,
        "active": e.active,
        "description": e.description,
        "created_at": utc(e.created_at),
        "updated_at": utc(e.updated_at),
    }


def _definition(d: Doc) -> EventDefinition:
    return EventDefinition(
        d["provider_id"],
        d["name"],
        d["version"],
        bool(d["active"]),
        d["description"],
        _dt(d["created_at"]),
        _dt(d["updated_at"]),
    )


def _conversation_doc(c: Conversation) -> Doc:
    return {
        "provider_id": c.provider_id,
        "conversation_id": c.conversation_id,
        "data": _dumps(c.data),
        "updated_at": utc(c.updated_at),
        "shard": c.shard,
        "customer_key": customer_key(c.provider_id, c.data.get("customerId")),
    }


def _conversation(d: Doc) -> Conversation:
    return Conversation(d["provider_id"], d["conversation_id"], json.loads(d["data"]), _dt(d["updated_at"]))


def _event(d: Doc) -> Event:
    return Event(
        provider_id=d["provider_id"],
        event_id=d["event_id"],
        conversation_id=d["conversation_id"],
        provider_session_id=d["provider_session_id"],
        participant_id=d["participant_id"],
        name=d["name"],
        reason=d["reason"],
        event_ts=_dt(d["event_ts"]),
        response_action=d["response_action"],
        additional_data=d["additional_data"],
        custom_data=json.loads(d["custom_data"]),
        schema=d["schema"],
        ingested_at=_dt(d["ingested_at"]),
        client_session_id=d.get("client_session_id"),
        external_correlation_id=d.get("external_correlation_id"),
        digest=d.get("digest"),
    )


def _activity_doc(a: Activity) -> Doc:
    return {
        "provider_id": a.provider_id,
        "activity_id": a.activity_id,
        "data": _dumps(a.data),
        "ingested_at": utc(a.ingested_at),
        "shard": a.shard,
        "customer_keys": activity_customer_keys(a.provider_id, a.data),
    }


def _activity(d: Doc) -> Activity:
    return Activity(d["provider_id"], d["activity_id"], json.loads(d["data"]), _dt(d["ingested_at"]))


def _failed_doc(f: FailedEvent) -> Doc:
    doc_id = _failed_doc_id(f.provider_id, f.failed_id)
    return {
        "provider_id": f.provider_id,
        "failed_id": f.failed_id,
        "received_at": utc(f.received_at),
        "code": f.code,
        "message": f.message,
        "details": _dumps(f.details),
        "payload": f.payload,
        "envelope": _dumps(f.envelope),
        "status": f.status,
        "replayed_at": utc(f.replayed_at) if f.replayed_at is not None else None,
        "replayed_event_id": f.replayed_event_id,
        # The scan field: the latest change (received, then replayed), as in the SQLite adapter.
        "changed_at": utc(f.replayed_at or f.received_at),
        "shard": shard_of(doc_id),
        "payload_bytes": f.payload_bytes,
        "payload_digest": f.payload_digest,
    }


def _orphan_doc(o: OrphanSummary) -> Doc:
    return {
        "provider_id": o.provider_id,
        "events": o.events,
        "conversations": o.conversations,
        "oldest_event_ts": utc(o.oldest_event_ts),
        "oldest_ingested_at": utc(o.oldest_ingested_at),
        "computed_at": utc(o.computed_at),
        "examples": _dumps(list(o.examples)),
    }


def _erasure_doc(e: Erasure) -> Doc:
    return {
        "provider_id": e.provider_id,
        "erasure_id": e.erasure_id,
        "pseudonym": e.pseudonym,
        "requested_at": utc(e.requested_at),
        "counts": _dumps(e.counts),
        "status": e.status,
        "applied_at": utc(e.applied_at) if e.applied_at is not None else None,
        "participant_pseudonyms": list(e.participant_pseudonyms),
    }


def _erasure(d: Doc) -> Erasure:
    return Erasure(
        provider_id=d["provider_id"],
        erasure_id=d["erasure_id"],
        pseudonym=d["pseudonym"],
        requested_at=_dt(d["requested_at"]),
        counts=json.loads(d["counts"]),
        status=d["status"],
        applied_at=_dt(d["applied_at"]),
        participant_pseudonyms=tuple(d.get("participant_pseudonyms") or ()),
    )


def _failed(d: Doc) -> FailedEvent:
    return FailedEvent(
        provider_id=d["provider_id"],
        failed_id=d["failed_id"],
        received_at=_dt(d["received_at"]),
        code=d["code"],
        message=d["message"],
        details=json.loads(d["details"]),
        payload=d["payload"],
        envelope=json.loads(d["envelope"]),
        status=d["status"],
        replayed_at=_dt(d["replayed_at"]),
        replayed_event_id=d["replayed_event_id"],
        payload_bytes=d.get("payload_bytes"),
        payload_digest=d.get("payload_digest"),
    )


def _provider_settings(d: Doc) -> ProviderSettings:
    return settings_from(d["provider_id"], _dt(d["updated_at"]), d.get("values") or {})


def _subscription_doc(s: ReportSubscription) -> Doc:
    return {
        "provider_id": s.provider_id,
        "subscription_id": s.subscription_id,
        "email": s.email,
        "experience_id": s.experience_id,
        "created_at": utc(s.created_at),
        "created_by": s.created_by,
    }


def _subscription(d: Doc) -> ReportSubscription:
    return ReportSubscription(
        d["provider_id"],
        d["subscription_id"],
        d["email"],
        d["experience_id"],
        _dt(d["created_at"]),
        d["created_by"],
    )


def _threshold_doc(t: AlertThreshold) -> Doc:
    return {
        "provider_id": t.provider_id,
        "threshold_id": t.threshold_id,
        "kpi": t.kpi,
        "operator": t.operator,
        "value": float(t.value),
        "slice": _dumps(t.slice),
        "min_denominator": t.min_denominator,
        "created_at": utc(t.created_at),
        "created_by": t.created_by,
    }


def _threshold(d: Doc) -> AlertThreshold:
    return AlertThreshold(
        provider_id=d["provider_id"],
        threshold_id=d["threshold_id"],
        kpi=d["kpi"],
        operator=d["operator"],
        value=d["value"],
        slice=json.loads(d["slice"]),
        min_denominator=d["min_denominator"],
        created_at=_dt(d["created_at"]),
        created_by=d["created_by"],
    )


def _delivery_doc(d: Delivery) -> Doc:
    return {
        "kind": d.kind,
        "provider_id": d.provider_id,
        "delivery_id": d.delivery_id,
        "created_at": utc(d.created_at),
        "payload": _dumps(d.payload),
        "status": d.status,
        "attempts": d.attempts,
        "last_attempt_at": utc(d.last_attempt_at) if d.last_attempt_at is not None else None,
        "last_error": d.last_error,
        "message_id": d.message_id,
        "sent_at": utc(d.sent_at) if d.sent_at is not None else None,
    }


def _delivery(d: Doc) -> Delivery:
    return Delivery(
        kind=d["kind"],
        provider_id=d["provider_id"],
        delivery_id=d["delivery_id"],
        created_at=_dt(d["created_at"]),
        payload=json.loads(d["payload"]),
        status=d["status"],
        attempts=d["attempts"],
        last_attempt_at=_dt(d["last_attempt_at"]),
        last_error=d["last_error"],
        message_id=d["message_id"],
        sent_at=_dt(d["sent_at"]),
    )
