"""Millions of realistic store records, fast: one generated day ingested for real, then replicated.

1. A template day (``tools.traffic``: contact-center and chatbot conversations with their events,
   retries, out-of-order sends) goes through the product's own ingest services
   (``register_conversation``, ``log_events``) into a scratch SQLite store, so every record has exactly
   the shape, ids and JSON the ingest function writes.
2. That template is replicated into the bench store (the SQLite adapter's own schema) over several
   providers and consecutive days: ids, timestamps and day-bearing text are rewritten per copy, and
   document ids and shards are recomputed with the store's ``scoped_id``/``shard_of``. This bulk path
   writes rows with ``executemany`` in large transactions instead of ``insert_events`` per request:
   setting up ten million events through HTTP would take longer than the benchmark itself.

Relationship activities and failed events are left out: the aggregation reads them through the same
paged path, and the KPI work is in conversations and events.
"""

from __future__ import annotations

import re
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from shared.ingest.conversations import register_conversation
from shared.ingest.events import log_events
from shared.store.codec import to_iso
from shared.store.records import Provider, scoped_id, shard_of
from shared.store.sqlite import SqliteStore
from tools.traffic import generate_day

TEMPLATE_DAY = date(2020, 2, 3)
TEMPLATE_PROVIDER = "bench-template"
PROVIDERS = 4
_CHUNK = 50_000


@dataclass(frozen=True)
class Template:
    """The template day's rows, as the store holds them, keyed by column name."""

    conversations: list[dict[str, Any]]
    events: list[dict[str, Any]]

    def events_of(self) -> dict[str, list[dict[str, Any]]]:
        grouped: dict[str, list[dict[str, Any]]] = {}
        for e in self.events:
            grouped.setdefault(e["conversation_id"], []).append(e)
        return grouped


def build_template(conversations: int, seed: int = 5) -> Template:
    """Ingest one generated day through the product's services; read back its rows."""
    traffic = generate_day(conversations, seed, day=TEMPLATE_DAY, provider_id=TEMPLATE_PROVIDER)
    start = datetime.combine(TEMPLATE_DAY, datetime.min.time(), tzinfo=UTC)
    provider = Provider(TEMPLATE_PROVIDER, "Template", True, start, start)
    with tempfile.TemporaryDirectory(prefix="bench-template-") as tmp:
        path = Path(tmp) / "template.sqlite3"
        store = SqliteStore(str(path))
        try:
            for n, request in enumerate(traffic.requests):
                # Stamped as if it arrived through the day (ingested_at/updated_at on the template day).
                now = start + timedelta(seconds=n * 86_000 / max(1, len(traffic.requests)))
                if request.kind == "conversation":
                    register_conversation(store, provider, request.body, now)
                elif request.kind == "events":
                    log_events(store, provider, request.body, now)
        finally:
            store.close()
        db = sqlite3.connect(path)
        db.row_factory = sqlite3.Row
        try:
            return Template(
                [dict(r) for r in db.execute("SELECT * FROM conversations ORDER BY updated_at")],
                [dict(r) for r in db.execute("SELECT * FROM events ORDER BY ingested_at")],
            )
        finally:
            db.close()


def _rewriter(provider_id: str, day: date, tag: str = "") -> Callable[[str], str]:
    """Text of the template moved to ``provider_id`` and ``day`` (ids get ``tag`` to stay unique)."""
    nxt, tnext = day + timedelta(days=1), TEMPLATE_DAY + timedelta(days=1)
    table = {
        TEMPLATE_DAY.isoformat(): day.isoformat(),
        tnext.isoformat(): nxt.isoformat(),
        TEMPLATE_DAY.strftime("%Y%m%d"): day.strftime("%Y%m%d") + tag,
        tnext.strftime("%Y%m%d"): nxt.strftime("%Y%m%d") + tag,
        TEMPLATE_PROVIDER: provider_id,
    }
    pattern = re.compile("|".join(re.escape(k) for k in table))
    return lambda text: pattern.sub(lambda m: table[m.group()], text)


def _copy_conversation(row: dict[str, Any], provider_id: str, move: Callable[[str], str]) -> dict[str, Any]:
    conversation_id = move(row["conversation_id"])
    doc_id = scoped_id(provider_id, "conversation", conversation_id)
    return {
        **row,
        "doc_id": doc_id,
        "provider_id": provider_id,
        "conversation_id": conversation_id,
        "data": move(row["data"]),
        "updated_at": move(row["updated_at"]),
        "shard": shard_of(doc_id),
    }


def _copy_event(row: dict[str, Any], provider_id: str, move: Callable[[str], str]) -> dict[str, Any]:
    event_id = move(row["event_id"])
    if event_id == row["event_id"]:
        # A derived id (a hash of the content, sent without eventId) names no day: the content of
        # the copy differs (its timestamps moved), so its derived id would differ too.
        event_id = f"{event_id}-{move(row['event_ts'])[:10]}-{move(row['conversation_id'])}"
    doc_id = scoped_id(provider_id, "event", event_id)
    return {
        **row,
        "doc_id": doc_id,
        "provider_id": provider_id,
        "event_id": event_id,
        "conversation_id": move(row["conversation_id"]),
        "provider_session_id": move(row["provider_session_id"]),
        "event_ts": move(row["event_ts"]),
        "ingested_at": move(row["ingested_at"]),
        "shard": shard_of(doc_id),
    }


def _insert(db: sqlite3.Connection, table: str, rows: Iterable[dict[str, Any]]) -> int:
    written = 0
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        if batch:
            columns = list(batch[0])
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            db.execute("BEGIN")
            db.executemany(sql, [tuple(r[c] for c in columns) for r in batch])
            db.execute("COMMIT")
            batch.clear()

    for row in rows:
        batch.append(row)
        written += 1
        if len(batch) >= _CHUNK:
            flush()
    flush()
    return written


def _open(path: Path) -> sqlite3.Connection:
    SqliteStore(str(path)).close()  # the adapter's own schema
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


@dataclass(frozen=True)
class Seeded:
    events: int
    conversations: int
    providers: int
    days: int
    newest_day: date


def seed(path: Path, template: Template, events: int, today: date) -> Seeded:
    """At least ``events`` events: copies of the template, provider by provider, for consecutive
    days ending yesterday (so every record is older than a run's ``now - lag``)."""
    copies = max(1, -(-events // len(template.events)))
    days = max(1, -(-copies // PROVIDERS))
    providers = min(PROVIDERS, copies)
    plan = [
        (f"bench-p{p:02d}", today - timedelta(days=1 + d)) for d in range(days) for p in range(providers)
    ][:copies]

    def conversations() -> Iterator[dict[str, Any]]:
        for provider_id, day in plan:
            move = _rewriter(provider_id, day)
            for row in template.conversations:
                yield _copy_conversation(row, provider_id, move)

    def event_rows() -> Iterator[dict[str, Any]]:
        for provider_id, day in plan:
            move = _rewriter(provider_id, day)
            for row in template.events:
                yield _copy_event(row, provider_id, move)

    db = _open(path)
    try:
        n_conversations = _insert(db, "conversations", conversations())
        n_events = _insert(db, "events", event_rows())
    finally:
        db.close()
    return Seeded(n_events, n_conversations, providers, days, today - timedelta(days=1))


def add_late(path: Path, template: Template, events: int, seeded: Seeded, now: datetime) -> int:
    """About ``events`` new events (whole new conversations) on the newest day of every provider,
    stamped ``now``: what arrives between two scheduled runs. Returns how many were added."""
    by_conversation = template.events_of()
    per_provider = max(1, events // seeded.providers)
    chosen: list[dict[str, Any]] = []
    count = 0
    for row in template.conversations:
        if count >= per_provider:
            break
        chosen.append(row)
        count += len(by_conversation.get(row["conversation_id"], []))
    stamp = to_iso(now)
    db = _open(path)
    try:
        added = 0
        for p in range(seeded.providers):
            provider_id = f"bench-p{p:02d}"
            move = _rewriter(provider_id, seeded.newest_day, tag="L")
            _insert(
                db,
                "conversations",
                ({**_copy_conversation(r, provider_id, move), "updated_at": stamp} for r in chosen),
            )
            added += _insert(
                db,
                "events",
                (
                    {**_copy_event(e, provider_id, move), "ingested_at": stamp}
                    for r in chosen
                    for e in by_conversation.get(r["conversation_id"], [])
                ),
            )
    finally:
        db.close()
    return added
