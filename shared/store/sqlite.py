"""SQLite adapter: the embedded default store.

WAL mode and a busy timeout make it safe for the three local function processes and the
aggregator to share one file; every write runs in ``BEGIN IMMEDIATE`` so read-modify-write
operations are serialised. A lock that outlasts the timeout surfaces as ``StoreUnavailable`` (503).

Durability: with WAL, ``synchronous=NORMAL`` syncs at checkpoints, not at every commit. A crash of
a process loses nothing committed; a power loss or an OS crash may roll back the last transactions
since the previous checkpoint (never corrupting the file). Ingest answers after its commit, so a
provider could have been told "accepted" for such an event: acceptable for the embedded store of a
laptop and tests; the cloud store is Firestore. Checkpoints run every ``_WAL_CHECKPOINT_PAGES``
pages (16 MiB of WAL at 4 KiB pages) instead of SQLite's 1,000: each event dirties about one random
index page (hash ids), so the default checkpointed — copied back and synced — every few requests.
The price: the window a power loss can roll back grows from 4 to 16 MiB of WAL.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from shared.private_files import create_private, make_private, private_parent
from shared.store.codec import decode_cursor, encode_cursor, from_iso, to_iso
from shared.store.erasure import PERSON_RECORD_TYPES, Erasure
from shared.store.errors import AlreadyExists, NotFound, StoreUnavailable
from shared.store.port import ConversationMerge
from shared.store.records import (
    ANALYTICS_FLAG,
    DELIVERY_DUE,
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

SCHEMA = """
CREATE TABLE IF NOT EXISTS providers (
    provider_id TEXT PRIMARY KEY, name TEXT NOT NULL, enable_analytics INTEGER NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, require_signature INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS signing_secrets (
    provider_id TEXT NOT NULL, secret_id TEXT NOT NULL, sealed TEXT NOT NULL,
    created_at TEXT NOT NULL, expires_at TEXT, PRIMARY KEY (provider_id, secret_id));
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY, provider_id TEXT NOT NULL, secret_hash TEXT NOT NULL,
    created_at TEXT NOT NULL, expires_at TEXT);
CREATE INDEX IF NOT EXISTS api_keys_provider ON api_keys (provider_id);
CREATE TABLE IF NOT EXISTS audit (
    audit_id TEXT PRIMARY KEY, provider_id TEXT NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL,
    action TEXT NOT NULL, field TEXT NOT NULL, old TEXT, new TEXT);
CREATE INDEX IF NOT EXISTS audit_provider ON audit (provider_id, at, audit_id);
CREATE TABLE IF NOT EXISTS event_definitions (
    provider_id TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL, active INTEGER NOT NULL,
    description TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (provider_id, name));
CREATE TABLE IF NOT EXISTS conversations (
    doc_id TEXT PRIMARY KEY, provider_id TEXT NOT NULL, conversation_id TEXT NOT NULL,
    data TEXT NOT NULL, updated_at TEXT NOT NULL, shard INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS conversations_scan ON conversations (updated_at, doc_id);
CREATE TABLE IF NOT EXISTS events (
    doc_id TEXT PRIMARY KEY, provider_id TEXT NOT NULL, event_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL, provider_session_id TEXT NOT NULL, participant_id TEXT,
    name TEXT NOT NULL, reason TEXT, event_ts TEXT NOT NULL, response_action TEXT,
    additional_data TEXT, custom_data TEXT NOT NULL, schema TEXT NOT NULL,
    ingested_at TEXT NOT NULL, shard INTEGER NOT NULL, client_session_id TEXT,
    external_correlation_id TEXT, digest TEXT);
CREATE INDEX IF NOT EXISTS events_scan ON events (ingested_at, doc_id);
CREATE TABLE IF NOT EXISTS activities (
    doc_id TEXT PRIMARY KEY, provider_id TEXT NOT NULL, activity_id TEXT NOT NULL,
    data TEXT NOT NULL, ingested_at TEXT NOT NULL, shard INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS activities_scan ON activities (ingested_at, doc_id);
CREATE TABLE IF NOT EXISTS failed_events (
    provider_id TEXT NOT NULL, failed_id TEXT NOT NULL, received_at TEXT NOT NULL,
    code TEXT NOT NULL, message TEXT NOT NULL, details TEXT NOT NULL, payload TEXT NOT NULL,
    envelope TEXT NOT NULL, status TEXT NOT NULL, replayed_at TEXT, replayed_event_id TEXT,
    changed_at TEXT NOT NULL, payload_bytes INTEGER, payload_digest TEXT,
    PRIMARY KEY (provider_id, failed_id));
CREATE INDEX IF NOT EXISTS failed_list ON failed_events (provider_id, received_at, failed_id);
CREATE INDEX IF NOT EXISTS failed_scan ON failed_events (changed_at, provider_id, failed_id);
CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS watermarks (name TEXT PRIMARY KEY, value TEXT, extra TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS erasures (
    provider_id TEXT NOT NULL, erasure_id TEXT NOT NULL, pseudonym TEXT NOT NULL,
    requested_at TEXT NOT NULL, counts TEXT NOT NULL, status TEXT NOT NULL, applied_at TEXT,
    participant_pseudonyms TEXT NOT NULL, PRIMARY KEY (provider_id, erasure_id));
CREATE INDEX IF NOT EXISTS erasures_pending ON erasures (status, requested_at);
CREATE TABLE IF NOT EXISTS provider_settings (
    provider_id TEXT PRIMARY KEY, updated_at TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS report_subscriptions (
    provider_id TEXT NOT NULL, subscription_id TEXT NOT NULL, email TEXT NOT NULL, experience_id TEXT,
    created_at TEXT NOT NULL, created_by TEXT NOT NULL, PRIMARY KEY (provider_id, subscription_id));
CREATE TABLE IF NOT EXISTS alert_thresholds (
    provider_id TEXT NOT NULL, threshold_id TEXT NOT NULL, kpi TEXT NOT NULL, operator TEXT NOT NULL,
    value REAL NOT NULL, slice TEXT NOT NULL, min_denominator REAL, created_at TEXT NOT NULL,
    created_by TEXT NOT NULL, PRIMARY KEY (provider_id, threshold_id));
CREATE TABLE IF NOT EXISTS deliveries (
    kind TEXT NOT NULL, provider_id TEXT NOT NULL, delivery_id TEXT NOT NULL, created_at TEXT NOT NULL,
    payload TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL, last_attempt_at TEXT,
    last_error TEXT, message_id TEXT, sent_at TEXT, PRIMARY KEY (kind, provider_id, delivery_id));
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (kind, status, created_at);
CREATE TABLE IF NOT EXISTS orphan_summaries (
    provider_id TEXT PRIMARY KEY, events INTEGER NOT NULL, conversations INTEGER NOT NULL,
    oldest_event_ts TEXT NOT NULL, oldest_ingested_at TEXT NOT NULL, computed_at TEXT NOT NULL,
    examples TEXT NOT NULL);
"""

_BUSY_TIMEOUT_MS = 5000
_WAL_CHECKPOINT_PAGES = 4000


# One encoder for the process: ``json.dumps`` with options builds a new ``JSONEncoder`` on every call,
# which costs more than encoding a small ``customData`` (profiled on POST /v1/events). Same text.
_ENCODER = json.JSONEncoder(separators=(",", ":"), sort_keys=True)


def _dumps(value: Any) -> str:
    return _ENCODER.encode(value)


class SqliteStore:
    """The store port on one SQLite file (``sqlite:///path`` or ``sqlite:///:memory:``).

    ``busy_timeout_ms`` is how long a write waits for another writer's lock before the store reports
    itself unavailable (``sqlite:///path?busy_timeout_ms=50``).
    """

    def __init__(self, path: str, busy_timeout_ms: int = _BUSY_TIMEOUT_MS):
        self._path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._memory = path == ":memory:"
        if not self._memory:
            private_parent(path)
            create_private(path)
            make_private(path, "-wal", "-shm")  # a store created by an older version
        self._local = threading.local()
        # An in-memory database exists per connection: share one, guarded by a lock.
        self._shared: sqlite3.Connection | None = None
        self._shared_lock = threading.RLock()
        # A file store writes through one connection per process, one write at a time. SQLite allows
        # one writer anyway; per-thread writers would instead poll for its lock (sleeping 1, 2, 5 ms
        # ... between tries) and each start with a cold page cache, since another connection's
        # commit invalidates it. Measured on POST /v1/events with 4 concurrent requests: ~25 µs more
        # server CPU per event. Reads keep one connection per thread.
        self._writer: sqlite3.Connection | None = None
        self._writer_lock = threading.Lock()
        with self._read() as db:
            try:
                db.executescript(SCHEMA)
                _add_missing_columns(db)
            except sqlite3.OperationalError as exc:
                raise StoreUnavailable(f"sqlite: {exc}") from exc

    # -- connections ------------------------------------------------------------------------------
    def _connect(self, any_thread: bool = False) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self._path,
                timeout=self._busy_timeout_ms / 1000,
                isolation_level=None,
                check_same_thread=not (self._memory or any_thread),
            )
            conn.row_factory = sqlite3.Row
            if not self._memory:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute(f"PRAGMA wal_autocheckpoint={_WAL_CHECKPOINT_PAGES}")
            conn.execute(f"PRAGMA busy_timeout={int(self._busy_timeout_ms)}")
            return conn
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(f"sqlite: {exc}") from exc

    def _conn(self) -> sqlite3.Connection:
        if self._memory:
            if self._shared is None:
                self._shared = self._connect()
            return self._shared
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._shared_lock if self._memory else _nullcontext():
            try:
                yield self._conn()
            except sqlite3.OperationalError as exc:
                raise StoreUnavailable(f"sqlite: {exc}") from exc

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        if self._memory:
            with self._shared_lock, self._transaction(self._conn()) as conn:
                yield conn
            return
        # Waiting for this process's other writes is bounded like waiting for another process's.
        if not self._writer_lock.acquire(timeout=self._busy_timeout_ms / 1000):
            raise StoreUnavailable("sqlite: timed out waiting for this process's other writes")
        try:
            if self._writer is None:
                self._writer = self._connect(any_thread=True)
            with self._transaction(self._writer) as conn:
                yield conn
        finally:
            self._writer_lock.release()

    @staticmethod
    @contextmanager
    def _transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` on any error."""
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(f"sqlite: {exc}") from exc
        try:
            yield conn
            conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            conn.execute("ROLLBACK")
            raise StoreUnavailable(f"sqlite: {exc}") from exc
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        if self._shared is not None:
            self._shared.close()
            self._shared = None
        with self._writer_lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None

    # -- providers, keys, audit -------------------------------------------------------------------
    def create_provider(self, provider: Provider, key: ApiKey, audit: AuditEntry) -> None:
        with self._write() as db:
            try:
                db.execute(
                    "INSERT INTO providers (provider_id, name, enable_analytics, created_at, updated_at, "
                    "require_signature) VALUES (?,?,?,?,?,?)",
                    (
                        provider.provider_id,
                        provider.name,
                        int(provider.enable_analytics),
                        to_iso(provider.created_at),
                        to_iso(provider.updated_at),
                        int(provider.require_signature),
                    ),
                )
            except sqlite3.IntegrityError as exc:
                raise AlreadyExists(provider.provider_id) from exc
            self._insert_key(db, key)
            self._insert_audit(db, audit)

    def get_provider(self, provider_id: str) -> Provider | None:
        with self._read() as db:
            row = db.execute("SELECT * FROM providers WHERE provider_id = ?", (provider_id,)).fetchone()
        return _provider(row) if row else None

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
        """One audited boolean of the provider: changed and audited in one transaction, or untouched."""
        with self._write() as db:
            row = db.execute("SELECT * FROM providers WHERE provider_id = ?", (provider_id,)).fetchone()
            if row is None:
                raise NotFound(provider_id)
            old = _provider(row)
            if getattr(old, flag.column) == value:
                return old, None
            # flag.column is a fixed name from records (ANALYTICS_FLAG, SIGNATURE_FLAG), never caller text.
            db.execute(
                f"UPDATE providers SET {flag.column} = ?, updated_at = ? WHERE provider_id = ?",
                (int(value), to_iso(at), provider_id),
            )
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
            self._insert_audit(db, audit)
        return replace(old, **{flag.column: value, "updated_at": at}), audit

    def list_audit(self, provider_id: str, limit: int, cursor: str | None = None) -> Page:
        after = decode_cursor(cursor, 2) if cursor else ["", ""]
        with self._read() as db:
            rows = db.execute(
                "SELECT * FROM audit WHERE provider_id = ? AND (at, audit_id) > (?, ?) "
                "ORDER BY at, audit_id LIMIT ?",
                (provider_id, after[0], after[1], limit + 1),
            ).fetchall()
        items = [
            AuditEntry(
                r["audit_id"],
                r["provider_id"],
                from_iso(r["at"]),
                r["actor"],
                r["action"],
                r["field"],
                json.loads(r["old"]),
                json.loads(r["new"]),
            )
            for r in rows[:limit]
        ]
        nxt = encode_cursor(rows[limit - 1]["at"], rows[limit - 1]["audit_id"]) if len(rows) > limit else None
        return Page(items, nxt)

    def add_api_key(self, key: ApiKey, expire_others_at: datetime | None) -> None:
        with self._write() as db:
            if expire_others_at is not None:
                limit = to_iso(expire_others_at)
                db.execute(
                    "UPDATE api_keys SET expires_at = ? WHERE provider_id = ? "
                    "AND (expires_at IS NULL OR expires_at > ?)",
                    (limit, key.provider_id, limit),
                )
            self._insert_key(db, key)

    def get_api_key(self, key_id: str) -> ApiKey | None:
        with self._read() as db:
            row = db.execute("SELECT * FROM api_keys WHERE key_id = ?", (key_id,)).fetchone()
        return _api_key(row) if row else None

    def list_api_keys(self, provider_id: str) -> list[ApiKey]:
        with self._read() as db:
            rows = db.execute(
                "SELECT * FROM api_keys WHERE provider_id = ? ORDER BY created_at, key_id",
                (provider_id,),
            ).fetchall()
        return [_api_key(r) for r in rows]

    def add_signing_secret(
        self, secret: SigningSecret, expire_others_at: datetime | None, audit: AuditEntry
    ) -> None:
        with self._write() as db:
            if expire_others_at is not None:
                limit = to_iso(expire_others_at)
                db.execute(
                    "UPDATE signing_secrets SET expires_at = ? WHERE provider_id = ? "
                    "AND (expires_at IS NULL OR expires_at > ?)",
                    (limit, secret.provider_id, limit),
                )
            db.execute(
                "INSERT INTO signing_secrets (provider_id, secret_id, sealed, created_at, expires_at) "
                "VALUES (?,?,?,?,?)",
                (
                    secret.provider_id,
                    secret.secret_id,
                    secret.sealed,
                    to_iso(secret.created_at),
                    to_iso(secret.expires_at),
                ),
            )
            self._insert_audit(db, audit)

    def list_signing_secrets(self, provider_id: str) -> list[SigningSecret]:
        with self._read() as db:
            rows = db.execute(
                "SELECT * FROM signing_secrets WHERE provider_id = ? ORDER BY created_at, secret_id",
                (provider_id,),
            ).fetchall()
        return [
            SigningSecret(
                r["secret_id"],
                r["provider_id"],
                r["sealed"],
                from_iso(r["created_at"]),
                from_iso(r["expires_at"]),
            )
            for r in rows
        ]

    @staticmethod
    def _insert_key(db: sqlite3.Connection, key: ApiKey) -> None:
        db.execute(
            "INSERT INTO api_keys VALUES (?,?,?,?,?)",
            (key.key_id, key.provider_id, key.secret_hash, to_iso(key.created_at), to_iso(key.expires_at)),
        )

    @staticmethod
    def _insert_audit(db: sqlite3.Connection, audit: AuditEntry) -> None:
        db.execute(
            "INSERT INTO audit VALUES (?,?,?,?,?,?,?,?)",
            (
                audit.audit_id,
                audit.provider_id,
                to_iso(audit.at),
                audit.actor,
                audit.action,
                audit.field,
                _dumps(audit.old),
                _dumps(audit.new),
            ),
        )

    # -- custom event definitions -----------------------------------------------------------------
    def put_event_definition(self, definition: EventDefinition) -> None:
        d = definition
        with self._write() as db:
            db.execute(
                "INSERT INTO event_definitions VALUES (?,?,?,?,?,?,?) "
                "ON CONFLICT (provider_id, name) DO UPDATE SET version = excluded.version, "
                "active = excluded.active, description = excluded.description, "
                "updated_at = excluded.updated_at",
                (
                    d.provider_id,
                    d.name,
                    d.version,
                    int(d.active),
                    d.description,
                    to_iso(d.created_at),
                    to_iso(d.updated_at),
                ),
            )

    def get_event_definition(self, provider_id: str, name: str) -> EventDefinition | None:
        with self._read() as db:
            row = db.execute(
                "SELECT * FROM event_definitions WHERE provider_id = ? AND name = ?",
                (provider_id, name),
            ).fetchone()
        return _definition(row) if row else None

    def list_event_definitions(self, provider_id: str) -> list[EventDefinition]:
        with self._read() as db:
            rows = db.execute(
                "SELECT * FROM event_definitions WHERE provider_id = ? ORDER BY name", (provider_id,)
            ).fetchall()
        return [_definition(r) for r in rows]

    # -- conversations ----------------------------------------------------------------------------
    def upsert_conversation(
        self, provider_id: str, conversation_id: str, merge: ConversationMerge, at: datetime
    ) -> tuple[Conversation, bool]:
        probe = Conversation(provider_id, conversation_id, {}, at)
        with self._write() as db:
            row = db.execute(
                "SELECT data, updated_at FROM conversations WHERE doc_id = ?", (probe.doc_id,)
            ).fetchone()
            old = json.loads(row["data"]) if row else None
            data = merge(old)
            if row is not None and data == old:
                # Nothing changed: keep updated_at so the aggregator has nothing to restate.
                return Conversation(provider_id, conversation_id, old, from_iso(row["updated_at"])), False
            record = Conversation(provider_id, conversation_id, data, at)
            db.execute(
                "INSERT INTO conversations VALUES (?,?,?,?,?,?) ON CONFLICT (doc_id) DO UPDATE SET "
                "data = excluded.data, updated_at = excluded.updated_at",
                (
                    record.doc_id,
                    provider_id,
                    conversation_id,
                    _dumps(record.data),
                    to_iso(at),
                    record.shard,
                ),
            )
        return record, row is None

    def get_conversation(self, provider_id: str, conversation_id: str) -> Conversation | None:
        doc_id = scoped_id(provider_id, "conversation", conversation_id)
        with self._read() as db:
            row = db.execute("SELECT * FROM conversations WHERE doc_id = ?", (doc_id,)).fetchone()
        return _conversation(row) if row else None

    # -- events -----------------------------------------------------------------------------------
    def insert_events(self, events: Sequence[Event]) -> list[bool]:
        if not events:
            return []
        # The doc id is a sha256 property: compute it once per event (the shard derives from it).
        ids = [e.doc_id for e in events]
        # A request's events share one ``ingested_at``: format each distinct time once.
        iso: dict[datetime, str | None] = {}
        with self._write() as db:
            existing = self._existing(db, "events", ids)
            stored: list[bool] = []
            rows = []
            for doc_id, e in zip(ids, events, strict=True):
                if doc_id in existing:
                    stored.append(False)
                    continue
                existing.add(doc_id)
                stored.append(True)
                ingested = iso.get(e.ingested_at)
                if ingested is None:
                    ingested = iso[e.ingested_at] = to_iso(e.ingested_at)
                rows.append(
                    (
                        doc_id,
                        e.provider_id,
                        e.event_id,
                        e.conversation_id,
                        e.provider_session_id,
                        e.participant_id,
                        e.name,
                        e.reason,
                        to_iso(e.event_ts),
                        e.response_action,
                        e.additional_data,
                        "{}" if e.custom_data == {} else _ENCODER.encode(e.custom_data),
                        e.schema,
                        ingested,
                        shard_of(doc_id),
                        e.client_session_id,
                        e.external_correlation_id,
                        e.digest,
                    )
                )
            db.executemany("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        return stored

    def get_event(self, provider_id: str, event_id: str) -> Event | None:
        with self._read() as db:
            row = db.execute(
                "SELECT * FROM events WHERE doc_id = ?", (scoped_id(provider_id, "event", event_id),)
            ).fetchone()
        return _event(row) if row else None

    def get_events(self, provider_id: str, event_ids: Sequence[str]) -> dict[str, Event]:
        ids = [scoped_id(provider_id, "event", e) for e in dict.fromkeys(event_ids)]
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        with self._read() as db:
            rows = db.execute(f"SELECT * FROM events WHERE doc_id IN ({marks})", ids).fetchall()
        return {r["event_id"]: _event(r) for r in rows}

    @staticmethod
    def _existing(db: sqlite3.Connection, table: str, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(
                r[0] for r in db.execute(f"SELECT doc_id FROM {table} WHERE doc_id IN ({marks})", chunk)
            )
        return found

    # -- activities -------------------------------------------------------------------------------
    def upsert_activities(self, activities: Sequence[Activity]) -> list[bool]:
        if not activities:
            return []
        with self._write() as db:
            existing = self._existing(db, "activities", [a.doc_id for a in activities])
            created = []
            for a in activities:
                created.append(a.doc_id not in existing)
                existing.add(a.doc_id)
            db.executemany(
                "INSERT INTO activities VALUES (?,?,?,?,?,?) ON CONFLICT (doc_id) DO UPDATE SET "
                "data = excluded.data, ingested_at = excluded.ingested_at",
                [
                    (a.doc_id, a.provider_id, a.activity_id, _dumps(a.data), to_iso(a.ingested_at), a.shard)
                    for a in activities
                ],
            )
        return created

    # -- failed events ----------------------------------------------------------------------------
    def add_failed_events(self, failed: Sequence[FailedEvent]) -> list[bool]:
        if not failed:
            return []
        stored = []
        with self._write() as db:
            for f in failed:
                cur = db.execute(
                    "INSERT OR IGNORE INTO failed_events VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        f.provider_id,
                        f.failed_id,
                        to_iso(f.received_at),
                        f.code,
                        f.message,
                        _dumps(f.details),
                        f.payload,
                        _dumps(f.envelope),
                        f.status,
                        to_iso(f.replayed_at),
                        f.replayed_event_id,
                        to_iso(f.replayed_at or f.received_at),
                        f.payload_bytes,
                        f.payload_digest,
                    ),
                )
                stored.append(cur.rowcount == 1)
        return stored

    def list_failed_events(
        self, provider_id: str, status: str | None, limit: int, cursor: str | None = None
    ) -> Page:
        after = decode_cursor(cursor, 2) if cursor else ["", ""]
        sql = "SELECT * FROM failed_events WHERE provider_id = ? AND (received_at, failed_id) > (?, ?)"
        args: list[Any] = [provider_id, after[0], after[1]]
        if status is not None:
            sql += " AND status = ?"
            args.append(status)
        sql += " ORDER BY received_at, failed_id LIMIT ?"
        args.append(limit + 1)
        with self._read() as db:
            rows = db.execute(sql, args).fetchall()
        items = [_failed(r) for r in rows[:limit]]
        nxt = (
            encode_cursor(rows[limit - 1]["received_at"], rows[limit - 1]["failed_id"])
            if len(rows) > limit
            else None
        )
        return Page(items, nxt)

    def get_failed_event(self, provider_id: str, failed_id: str) -> FailedEvent | None:
        with self._read() as db:
            row = db.execute(
                "SELECT * FROM failed_events WHERE provider_id = ? AND failed_id = ?",
                (provider_id, failed_id),
            ).fetchone()
        return _failed(row) if row else None

    def mark_failed_replayed(self, provider_id: str, failed_id: str, event_id: str, at: datetime) -> None:
        with self._write() as db:
            cur = db.execute(
                "UPDATE failed_events SET status = 'replayed', replayed_at = ?, "
                "replayed_event_id = ?, changed_at = ? WHERE provider_id = ? AND failed_id = ?",
                (to_iso(at), event_id, to_iso(at), provider_id, failed_id),
            )
            if cur.rowcount == 0:
                raise NotFound(failed_id)

    # -- aggregator extraction --------------------------------------------------------------------
    def _scan(
        self, table: str, time_col: str, since: datetime | None, until: datetime, page_size: int
    ) -> Iterator[list[sqlite3.Row]]:
        key_col = "doc_id" if table != "failed_events" else "provider_id || ':' || failed_id"
        # ``since`` is exclusive: a record stamped exactly at the watermark was read by the last run.
        lower = to_iso(since) if since else ""
        last = (lower, "")
        while True:
            with self._read() as db:
                rows = db.execute(
                    f"SELECT *, {key_col} AS _key FROM {table} "
                    f"WHERE ({time_col}, {key_col}) > (?, ?) AND {time_col} > ? AND {time_col} <= ? "
                    f"ORDER BY {time_col}, {key_col} LIMIT ?",
                    (last[0], last[1], lower, to_iso(until), page_size),
                ).fetchall()
            if not rows:
                return
            yield rows
            if len(rows) < page_size:
                return
            last = (rows[-1][time_col], rows[-1]["_key"])

    def scan_events(self, since: datetime | None, until: datetime, page_size: int) -> Iterator[list[Event]]:
        for rows in self._scan("events", "ingested_at", since, until, page_size):
            yield [_event(r) for r in rows]

    def scan_conversations(
        self, since: datetime | None, until: datetime, page_size: int
    ) -> Iterator[list[Conversation]]:
        for rows in self._scan("conversations", "updated_at", since, until, page_size):
            yield [_conversation(r) for r in rows]

    def scan_activities(
        self, since: datetime | None, until: datetime, page_size: int
    ) -> Iterator[list[Activity]]:
        for rows in self._scan("activities", "ingested_at", since, until, page_size):
            yield [
                Activity(
                    r["provider_id"], r["activity_id"], json.loads(r["data"]), from_iso(r["ingested_at"])
                )
                for r in rows
            ]

    def scan_failed_events(
        self, since: datetime | None, until: datetime, page_size: int
    ) -> Iterator[list[FailedEvent]]:
        for rows in self._scan("failed_events", "changed_at", since, until, page_size):
            yield [_failed(r) for r in rows]

    # -- privacy: customer erasure and event retention --------------------------------------------
    # Conversation and activity data is JSON text: SQLite finds a customer with json_extract over the
    # provider's rows (erasures are rare; the embedded store is small).
    def customer_conversations(self, provider_id: str, customer_id: str) -> list[Conversation]:
        with self._read() as db:
            rows = db.execute(
                "SELECT * FROM conversations WHERE provider_id = ? "
                "AND json_extract(data, '$.customerId') = ? ORDER BY conversation_id",
                (provider_id, customer_id),
            ).fetchall()
        return [_conversation(r) for r in rows]

    def customer_activities(self, provider_id: str, customer_id: str) -> list[Activity]:
        persons = ",".join(f"'{t}'" for t in PERSON_RECORD_TYPES)  # constants, not caller text
        with self._read() as db:
            rows = db.execute(
                "SELECT * FROM activities AS a WHERE provider_id = ? AND ("
                f"(json_extract(data, '$.regardingType') IN ({persons}) "
                "AND json_extract(data, '$.regardingId') = ?) OR EXISTS ("
                "SELECT 1 FROM json_each(a.data, '$.parties') AS p "
                "WHERE json_extract(p.value, '$.side') = 'customer' "
                "AND json_extract(p.value, '$.partyId') = ?)) ORDER BY activity_id",
                (provider_id, customer_id, customer_id),
            ).fetchall()
        return [
            Activity(r["provider_id"], r["activity_id"], json.loads(r["data"]), from_iso(r["ingested_at"]))
            for r in rows
        ]

    def rewrite_events(
        self, provider_id: str, conversation_id: str, rewrite: Callable[[Event], Event]
    ) -> int:
        changed = 0
        with self._write() as db:
            rows = db.execute(
                "SELECT * FROM events WHERE provider_id = ? AND conversation_id = ?",
                (provider_id, conversation_id),
            ).fetchall()
            for row in rows:
                old = _event(row)
                new = rewrite(old)
                if new == old:
                    continue
                db.execute(
                    "UPDATE events SET participant_id = ?, reason = ?, additional_data = ?, "
                    "custom_data = ? WHERE doc_id = ?",
                    (
                        new.participant_id,
                        new.reason,
                        new.additional_data,
                        _dumps(new.custom_data),
                        row["doc_id"],
                    ),
                )
                changed += 1
        return changed

    def erase_failed_events(
        self, provider_id: str, matches: Callable[[FailedEvent], bool], at: datetime
    ) -> int:
        with self._write() as db:
            rows = db.execute(
                "SELECT * FROM failed_events WHERE provider_id = ? AND status <> 'erased'", (provider_id,)
            ).fetchall()
            hits = [r["failed_id"] for r in rows if matches(_failed(r))]
            db.executemany(
                "UPDATE failed_events SET payload = 'null', envelope = '{}', details = '[]', "
                "payload_bytes = NULL, payload_digest = NULL, "
                "status = 'erased', changed_at = ? WHERE provider_id = ? AND failed_id = ?",
                [(to_iso(at), provider_id, failed_id) for failed_id in hits],
            )
        return len(hits)

    def record_erasure(self, erasure: Erasure) -> Erasure:
        e = erasure
        with self._write() as db:
            row = db.execute(
                "SELECT * FROM erasures WHERE provider_id = ? AND erasure_id = ?",
                (e.provider_id, e.erasure_id),
            ).fetchone()
            if row is not None:
                old = _erasure(row)
                counts = {k: old.counts.get(k, 0) + e.counts.get(k, 0) for k in {*old.counts, *e.counts}}
                linked = tuple(sorted({*old.participant_pseudonyms, *e.participant_pseudonyms}))
                e = Erasure(old.provider_id, old.erasure_id, old.pseudonym, old.requested_at, counts)
                e = replace(e, participant_pseudonyms=linked)
            db.execute(
                "INSERT INTO erasures VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (provider_id, erasure_id) "
                "DO UPDATE SET counts = excluded.counts, status = excluded.status, applied_at = NULL, "
                "participant_pseudonyms = excluded.participant_pseudonyms",
                (
                    e.provider_id,
                    e.erasure_id,
                    e.pseudonym,
                    to_iso(e.requested_at),
                    _dumps(e.counts),
                    e.status,
                    to_iso(e.applied_at),
                    _dumps(list(e.participant_pseudonyms)),
                ),
            )
        return e

    def get_erasure(self, provider_id: str, erasure_id: str) -> Erasure | None:
        with self._read() as db:
            row = db.execute(
                "SELECT * FROM erasures WHERE provider_id = ? AND erasure_id = ?", (provider_id, erasure_id)
            ).fetchone()
        return _erasure(row) if row else None

    def pending_erasures(self, until: datetime, limit: int) -> list[Erasure]:
        with self._read() as db:
            rows = db.execute(
                "SELECT * FROM erasures WHERE status = 'pending' AND requested_at <= ? "
                "ORDER BY requested_at, provider_id, erasure_id LIMIT ?",
                (to_iso(until), limit),
            ).fetchall()
        return [_erasure(r) for r in rows]

    def mark_erasures_applied(self, erasures: Sequence[Erasure], at: datetime) -> None:
        with self._write() as db:
            db.executemany(
                "UPDATE erasures SET status = 'applied', applied_at = ? "
                "WHERE provider_id = ? AND erasure_id = ? AND status = 'pending'",
                [(to_iso(at), e.provider_id, e.erasure_id) for e in erasures],
            )

    def purge_failed_events(self, changed_before: datetime, limit: int) -> int:
        with self._write() as db:
            cur = db.execute(
                "DELETE FROM failed_events WHERE rowid IN ("
                "SELECT rowid FROM failed_events WHERE changed_at < ? ORDER BY changed_at LIMIT ?)",
                (to_iso(changed_before), limit),
            )
        return cur.rowcount

    def purge_events(self, ingested_before: datetime, limit: int) -> int:
        with self._write() as db:
            cur = db.execute(
                "DELETE FROM events WHERE doc_id IN ("
                "SELECT doc_id FROM events WHERE ingested_at < ? ORDER BY ingested_at LIMIT ?)",
                (to_iso(ingested_before), limit),
            )
        return cur.rowcount

    # -- events waiting for their conversation -----------------------------------------------------
    def put_orphan_summaries(self, summaries: Sequence[OrphanSummary]) -> None:
        with self._write() as db:
            db.execute("DELETE FROM orphan_summaries")
            db.executemany(
                "INSERT INTO orphan_summaries VALUES (?,?,?,?,?,?,?)",
                [
                    (
                        o.provider_id,
                        o.events,
                        o.conversations,
                        to_iso(o.oldest_event_ts),
                        to_iso(o.oldest_ingested_at),
                        to_iso(o.computed_at),
                        _dumps(list(o.examples)),
                    )
                    for o in summaries
                ],
            )

    def get_orphan_summary(self, provider_id: str) -> OrphanSummary | None:
        with self._read() as db:
            row = db.execute(
                "SELECT * FROM orphan_summaries WHERE provider_id = ?", (provider_id,)
            ).fetchone()
        if row is None:
            return None
        return OrphanSummary(
            provider_id=row["provider_id"],
            events=row["events"],
            conversations=row["conversations"],
            oldest_event_ts=from_iso(row["oldest_event_ts"]),
            oldest_ingested_at=from_iso(row["oldest_ingested_at"]),
            computed_at=from_iso(row["computed_at"]),
            examples=tuple(json.loads(row["examples"])),
        )

    # -- aggregator coordination ------------------------------------------------------------------
    def acquire_lease(self, name: str, owner: str, now: datetime, ttl_seconds: float) -> bool:
        expires = to_iso(now + timedelta(seconds=ttl_seconds))
        with self._write() as db:
            row = db.execute("SELECT owner, expires_at FROM leases WHERE name = ?", (name,)).fetchone()
            if row and row["owner"] != owner and row["expires_at"] > to_iso(now):
                return False
            db.execute(
                "INSERT INTO leases VALUES (?,?,?) ON CONFLICT (name) DO UPDATE SET "
                "owner = excluded.owner, expires_at = excluded.expires_at",
                (name, owner, expires),
            )
        return True

    def release_lease(self, name: str, owner: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM leases WHERE name = ? AND owner = ?", (name, owner))

    def get_watermark(self, name: str) -> Watermark:
        with self._read() as db:
            row = db.execute("SELECT * FROM watermarks WHERE name = ?", (name,)).fetchone()
        if row is None:
            return Watermark(name, None, {})
        return Watermark(name, from_iso(row["value"]), json.loads(row["extra"]))

    def set_watermark(self, watermark: Watermark) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO watermarks VALUES (?,?,?) ON CONFLICT (name) DO UPDATE SET "
                "value = excluded.value, extra = excluded.extra",
                (watermark.name, to_iso(watermark.value), _dumps(watermark.extra)),
            )

    # -- supervisor outputs: subscriptions, thresholds, the delivery outbox ------------------------
    # -- analytics settings -----------------------------------------------------------------------
    def put_provider_settings(self, settings: ProviderSettings, audit: AuditEntry) -> None:
        with self._write() as db:
            if db.execute("SELECT 1 FROM audit WHERE audit_id = ?", (audit.audit_id,)).fetchone():
                return  # this very write, retried
            db.execute(
                "INSERT INTO provider_settings VALUES (?,?,?) ON CONFLICT(provider_id) DO UPDATE "
                "SET updated_at = excluded.updated_at, data = excluded.data",
                (settings.provider_id, to_iso(settings.updated_at), _dumps(settings_values(settings))),
            )
            self._insert_audit(db, audit)

    def get_provider_settings(self, provider_id: str) -> ProviderSettings | None:
        with self._read() as db:
            row = db.execute(
                "SELECT * FROM provider_settings WHERE provider_id = ?", (provider_id,)
            ).fetchone()
        return None if row is None else _settings(row)

    def list_provider_settings(self) -> list[ProviderSettings]:
        with self._read() as db:
            rows = db.execute("SELECT * FROM provider_settings ORDER BY provider_id").fetchall()
        return [_settings(r) for r in rows]

    def add_subscription(self, subscription: ReportSubscription, audit: AuditEntry) -> None:
        s = subscription
        with self._write() as db:
            try:
                db.execute(
                    "INSERT INTO report_subscriptions VALUES (?,?,?,?,?,?)",
                    (
                        s.provider_id,
                        s.subscription_id,
                        s.email,
                        s.experience_id,
                        to_iso(s.created_at),
                        s.created_by,
                    ),
                )
            except sqlite3.IntegrityError as exc:
                raise AlreadyExists(s.subscription_id) from exc
            self._insert_audit(db, audit)

    def remove_subscription(
        self, provider_id: str, subscription_id: str, audit: AuditEntry
    ) -> ReportSubscription:
        with self._write() as db:
            row = db.execute(
                "SELECT * FROM report_subscriptions WHERE provider_id = ? AND subscription_id = ?",
                (provider_id, subscription_id),
            ).fetchone()
            if row is None:
                raise NotFound(subscription_id)
            db.execute(
                "DELETE FROM report_subscriptions WHERE provider_id = ? AND subscription_id = ?",
                (provider_id, subscription_id),
            )
            self._insert_audit(db, audit)
        return _subscription(row)

    def list_subscriptions(self, provider_id: str | None) -> list[ReportSubscription]:
        where, args = ("WHERE provider_id = ?", (provider_id,)) if provider_id is not None else ("", ())
        with self._read() as db:
            rows = db.execute(
                f"SELECT * FROM report_subscriptions {where} ORDER BY provider_id, created_at, subscription_id",
                args,
            ).fetchall()
        return [_subscription(r) for r in rows]

    def add_threshold(self, threshold: AlertThreshold, audit: AuditEntry) -> None:
        t = threshold
        with self._write() as db:
            try:
                db.execute(
                    "INSERT INTO alert_thresholds VALUES (?,?,?,?,?,?,?,?,?)",
                    (
                        t.provider_id,
                        t.threshold_id,
                        t.kpi,
                        t.operator,
                        t.value,
                        _dumps(t.slice),
                        t.min_denominator,
                        to_iso(t.created_at),
                        t.created_by,
                    ),
                )
            except sqlite3.IntegrityError as exc:
                raise AlreadyExists(t.threshold_id) from exc
            self._insert_audit(db, audit)

    def remove_threshold(self, provider_id: str, threshold_id: str, audit: AuditEntry) -> AlertThreshold:
        with self._write() as db:
            row = db.execute(
                "SELECT * FROM alert_thresholds WHERE provider_id = ? AND threshold_id = ?",
                (provider_id, threshold_id),
            ).fetchone()
            if row is None:
                raise NotFound(threshold_id)
            db.execute(
                "DELETE FROM alert_thresholds WHERE provider_id = ? AND threshold_id = ?",
                (provider_id, threshold_id),
            )
            self._insert_audit(db, audit)
        return _threshold(row)

    def list_thresholds(self, provider_id: str | None) -> list[AlertThreshold]:
        where, args = ("WHERE provider_id = ?", (provider_id,)) if provider_id is not None else ("", ())
        with self._read() as db:
            rows = db.execute(
                f"SELECT * FROM alert_thresholds {where} ORDER BY provider_id, created_at, threshold_id", args
            ).fetchall()
        return [_threshold(r) for r in rows]

    def add_deliveries(self, deliveries: Sequence[Delivery]) -> list[bool]:
        created = []
        with self._write() as db:
            for d in deliveries:
                cur = db.execute(
                    "INSERT INTO deliveries VALUES (?,?,?,?,?,?,?,?,?,?,?) "
                    "ON CONFLICT (kind, provider_id, delivery_id) DO NOTHING",
                    (
                        d.kind,
                        d.provider_id,
                        d.delivery_id,
                        to_iso(d.created_at),
                        _dumps(d.payload),
                        d.status,
                        d.attempts,
                        to_iso(d.last_attempt_at),
                        d.last_error,
                        d.message_id,
                        to_iso(d.sent_at),
                    ),
                )
                created.append(cur.rowcount == 1)
        return created

    def save_delivery(self, delivery: Delivery) -> None:
        d = delivery
        with self._write() as db:
            db.execute(
                "UPDATE deliveries SET status = ?, attempts = ?, last_attempt_at = ?, last_error = ?, "
                "message_id = ?, sent_at = ? WHERE kind = ? AND provider_id = ? AND delivery_id = ?",
                (
                    d.status,
                    d.attempts,
                    to_iso(d.last_attempt_at),
                    d.last_error,
                    d.message_id,
                    to_iso(d.sent_at),
                    d.kind,
                    d.provider_id,
                    d.delivery_id,
                ),
            )

    def get_delivery(self, kind: str, provider_id: str, delivery_id: str) -> Delivery | None:
        with self._read() as db:
            row = db.execute(
                "SELECT * FROM deliveries WHERE kind = ? AND provider_id = ? AND delivery_id = ?",
                (kind, provider_id, delivery_id),
            ).fetchone()
        return _delivery(row) if row else None

    def due_deliveries(self, kind: str, limit: int) -> list[Delivery]:
        marks = ",".join("?" for _ in DELIVERY_DUE)
        with self._read() as db:
            rows = db.execute(
                f"SELECT * FROM deliveries WHERE kind = ? AND status IN ({marks}) "
                "ORDER BY created_at, provider_id, delivery_id LIMIT ?",
                (kind, *DELIVERY_DUE, limit),
            ).fetchall()
        return [_delivery(r) for r in rows]


@contextmanager
def _nullcontext() -> Iterator[None]:
    yield


def _settings(r: sqlite3.Row) -> ProviderSettings:
    return settings_from(r["provider_id"], from_iso(r["updated_at"]), json.loads(r["data"]))


def _provider(r: sqlite3.Row) -> Provider:
    return Provider(
        r["provider_id"],
        r["name"],
        bool(r["enable_analytics"]),
        from_iso(r["created_at"]),
        from_iso(r["updated_at"]),
        bool(r["require_signature"]),
    )


def _add_missing_columns(db: sqlite3.Connection) -> None:
    """Bring a store file created by an older version up to ``SCHEMA`` (columns added since)."""
    columns = {r["name"] for r in db.execute("PRAGMA table_info(providers)")}
    if "require_signature" not in columns:
        db.execute("ALTER TABLE providers ADD COLUMN require_signature INTEGER NOT NULL DEFAULT 0")
    # Event fields added since, appended in SCHEMA's order (events are inserted by position).
    columns = {r["name"] for r in db.execute("PRAGMA table_info(events)")}
    for column in ("client_session_id", "external_correlation_id", "digest"):
        if column not in columns:
            db.execute(f"ALTER TABLE events ADD COLUMN {column} TEXT")
    if "payload_digest" not in {r["name"] for r in db.execute("PRAGMA table_info(failed_events)")}:
        db.execute("ALTER TABLE failed_events ADD COLUMN payload_bytes INTEGER")
        db.execute("ALTER TABLE failed_events ADD COLUMN payload_digest TEXT")


def _api_key(r: sqlite3.Row) -> ApiKey:
    return ApiKey(
        r["key_id"], r["provider_id"], r["secret_hash"], from_iso(r["created_at"]), from_iso(r["expires_at"])
    )


def _definition(r: sqlite3.Row) -> EventDefinition:
    return EventDefinition(
        r["provider_id"],
        r["name"],
        r["version"],
        bool(r["active"]),
        r["description"],
        from_iso(r["created_at"]),
        from_iso(r["updated_at"]),
    )


def _conversation(r: sqlite3.Row) -> Conversation:
    return Conversation(
        r["provider_id"], r["conversation_id"], json.loads(r["data"]), from_iso(r["updated_at"])
    )


def _event(r: sqlite3.Row) -> Event:
    return Event(
        provider_id=r["provider_id"],
        event_id=r["event_id"],
        conversation_id=r["conversation_id"],
        provider_session_id=r["provider_session_id"],
        participant_id=r["participant_id"],
        name=r["name"],
        reason=r["reason"],
        event_ts=from_iso(r["event_ts"]),
        response_action=r["response_action"],
        additional_data=r["additional_data"],
        custom_data=json.loads(r["custom_data"]),
        schema=r["schema"],
        ingested_at=from_iso(r["ingested_at"]),
        client_session_id=r["client_session_id"],
        external_correlation_id=r["external_correlation_id"],
        digest=r["digest"],
    )


def _erasure(r: sqlite3.Row) -> Erasure:
    return Erasure(
        provider_id=r["provider_id"],
        erasure_id=r["erasure_id"],
        pseudonym=r["pseudonym"],
        requested_at=from_iso(r["requested_at"]),
        counts=json.loads(r["counts"]),
        status=r["status"],
        applied_at=from_iso(r["applied_at"]),
        participant_pseudonyms=tuple(json.loads(r["participant_pseudonyms"])),
    )


def _failed(r: sqlite3.Row) -> FailedEvent:
    return FailedEvent(
        provider_id=r["provider_id"],
        failed_id=r["failed_id"],
        received_at=from_iso(r["received_at"]),
        code=r["code"],
        message=r["message"],
        details=json.loads(r["details"]),
        payload=r["payload"],
        envelope=json.loads(r["envelope"]),
        status=r["status"],
        replayed_at=from_iso(r["replayed_at"]),
        replayed_event_id=r["replayed_event_id"],
        payload_bytes=r["payload_bytes"],
        payload_digest=r["payload_digest"],
    )


def _subscription(r: sqlite3.Row) -> ReportSubscription:
    return ReportSubscription(
        r["provider_id"],
        r["subscription_id"],
        r["email"],
        r["experience_id"],
        from_iso(r["created_at"]),
        r["created_by"],
    )


def _threshold(r: sqlite3.Row) -> AlertThreshold:
    return AlertThreshold(
        provider_id=r["provider_id"],
        threshold_id=r["threshold_id"],
        kpi=r["kpi"],
        operator=r["operator"],
        value=r["value"],
        slice=json.loads(r["slice"]),
        min_denominator=r["min_denominator"],
        created_at=from_iso(r["created_at"]),
        created_by=r["created_by"],
    )


def _delivery(r: sqlite3.Row) -> Delivery:
    return Delivery(
        kind=r["kind"],
        provider_id=r["provider_id"],
        delivery_id=r["delivery_id"],
        created_at=from_iso(r["created_at"]),
        payload=json.loads(r["payload"]),
        status=r["status"],
        attempts=r["attempts"],
        last_attempt_at=from_iso(r["last_attempt_at"]),
        last_error=r["last_error"],
        message_id=r["message_id"],
        sent_at=from_iso(r["sent_at"]),
    )
