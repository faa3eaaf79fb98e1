"""One aggregation run: lease, extract, stage, ONE warehouse transaction, then the watermarks.

Exactly once (docs/aggregation.md has the whole argument):

- the watermark of each collection moves only after the warehouse commit, so a run that fails
  anywhere before it is simply read again by the next run (at-least-once reading);
- the transaction replaces rows by key and recomputes facts and KPIs from the complete raw tables,
  so reading the same records twice gives the same tables (idempotent applying);
- a lease in the store keeps two runs from overlapping; a second run reports ``busy`` and does nothing.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from shared.aggregate.extract import COLLECTIONS, extract
from shared.aggregate.landing import LandingStage, stage_landing, with_landing
from shared.aggregate.orphans import orphan_totals
from shared.aggregate.rows import provider_settings_rows
from shared.aggregate.settings import AggregateSettings, aggregate_settings
from shared.aggregate.staging import staging_table
from shared.aggregate.transaction import build_transaction
from shared.aggregate.wire import AggregateReport
from shared.config import settings
from shared.kpi.bi import prepare_warehouse
from shared.kpi.families import FAMILIES
from shared.outputs.alerts import after_aggregation
from shared.outputs.channels import Publisher, open_publisher
from shared.privacy.pseudonym import Pseudonymizer, pseudonymizer
from shared.privacy.warehouse import ERASURE_STAGING, MAX_ERASURES_PER_RUN, erasure_rows, retention_cutoff
from shared.sink import sink_scheme
from shared.store.codec import to_iso
from shared.store.port import Store
from shared.store.records import OrphanSummary, Watermark
from shared.warehouse.arrow import to_arrow
from shared.warehouse.port import Warehouse
from shared.warehouse.tables import PROVIDER_SETTINGS, RAW_EVENTS

log = logging.getLogger("channel_analytics.aggregate")
AGING = any(f.snapshots for f in FAMILIES.values())

LEASE = "aggregate"
# The lease is renewed at most this often while pages are read (a Firestore document takes about
# one write per second, and a renewal per page would be pointless work).
RENEW_EVERY_S = 30.0
# Expired raw events deleted from the store per run at most (the rest go in the next runs).
PURGE_PER_RUN = 5000

Step = Literal["extracted", "staged", "before_commit", "committed"]
Hook = Callable[[Step], None]


class LeaseLost(RuntimeError):
    """Another run took the lease (ours expired mid-run): this run stops before committing anything."""


@dataclass
class RunReport:
    """What a run did, as the aggregate function answers it."""

    status: Literal["ok", "busy"]
    run_id: str
    started_at: str
    read: dict[str, int] = field(default_factory=dict)
    staged_rows: int = 0
    conversations_touched: int = 0
    provider_days: int = 0
    days: list[str] = field(default_factory=list)
    days_restated: list[str] = field(default_factory=list)
    kpi_rows_written: int = 0
    watermark: str | None = None
    more: bool = False
    erasures_applied: int = 0
    events_purged: int = 0
    alerts: dict[str, int] = field(default_factory=dict)
    failed_events_purged: int = 0
    # Events whose conversation never arrived (all providers), as of this run: counted in no KPI yet.
    orphan_events: int = 0
    orphan_conversations: int = 0
    duration_ms: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def wire(self) -> AggregateReport:
        """The HTTP body (camelCase, like every body of the API)."""
        return AggregateReport(
            status=self.status,
            runId=self.run_id,
            startedAt=self.started_at,
            read=self.read,
            stagedRows=self.staged_rows,
            conversationsTouched=self.conversations_touched,
            providerDays=self.provider_days,
            days=self.days,
            daysRestated=self.days_restated,
            kpiRowsWritten=self.kpi_rows_written,
            watermark=self.watermark,
            more=self.more,
            alerts=self.alerts,
            orphanEvents=self.orphan_events,
            orphanConversations=self.orphan_conversations,
            durationMs=self.duration_ms,
        )


class _Lease:
    def __init__(self, store: Store, owner: str, ttl: float, clock: Callable[[], datetime]):
        self._store, self._owner, self._ttl, self._clock = store, owner, ttl, clock
        self._renewed = time.monotonic()

    def acquire(self) -> bool:
        return self._store.acquire_lease(LEASE, self._owner, self._clock(), self._ttl)

    def renew(self, force: bool = False) -> None:
        if not force and time.monotonic() - self._renewed < RENEW_EVERY_S:
            return
        if not self.acquire():
            raise LeaseLost("the aggregation lease expired and another run took it")
        self._renewed = time.monotonic()

    def release(self) -> None:
        self._store.release_lease(LEASE, self._owner)


def run_aggregation(
    store: Store,
    warehouse: Warehouse,
    now: datetime,
    days: Sequence[date] | None = None,
    *,
    config: AggregateSettings | None = None,
    hook: Hook | None = None,
    pseudonyms: Pseudonymizer | None = None,
    publisher: Callable[[], Publisher] | None = None,
) -> RunReport:
    """Aggregate everything stamped up to ``now - lag`` that earlier runs have not committed, and
    restate ``days`` (every provider) on top. Returns ``status="busy"`` if another run holds the lease.
    Without ``pseudonyms`` the deployment's are used (``PseudonymSaltMissing`` when it has none);
    without ``publisher``, KPI breach alerts go where ``ANALYTICS_ALERTS`` says.
    """
    config = config or aggregate_settings()
    pseudonyms = pseudonyms or pseudonymizer()
    started = time.monotonic()
    run_id = uuid.uuid4().hex
    report = RunReport(status="ok", run_id=run_id, started_at=to_iso(now) or "")
    restated = sorted(set(days or ()))
    # The lease clock moves with wall time from ``now`` (tests pass a fixed ``now``).
    lease = _Lease(
        store, run_id, config.lease_seconds, lambda: now + timedelta(seconds=time.monotonic() - started)
    )
    if not lease.acquire():
        report.status = "busy"
        report.duration_ms = int((time.monotonic() - started) * 1000)
        log.info("aggregation %s: another run holds the lease", run_id)
        return report
    try:
        alerts = publisher or (lambda: open_publisher(settings().alerts_url, settings().aws_role_arn))
        _run(
            store,
            warehouse,
            now,
            restated,
            config,
            hook or (lambda step: None),
            lease,
            report,
            pseudonyms,
            alerts,
        )
    finally:
        lease.release()
    report.duration_ms = int((time.monotonic() - started) * 1000)
    log.info("aggregation %s: %s", run_id, report.as_dict())
    return report


def _record_orphans(
    store: Store, warehouse: Warehouse, now: datetime, report: RunReport, *, write: bool
) -> None:
    """The events waiting for their conversation, per provider, into the report and the store (where
    operators read them), after every run that committed (the table is small: one row per missing
    conversation)."""
    totals = orphan_totals(warehouse)
    report.orphan_events = sum(t.events for t in totals)
    report.orphan_conversations = sum(t.conversations for t in totals)
    if not write:
        return
    store.put_orphan_summaries(
        [
            OrphanSummary(
                provider_id=t.provider_id,
                events=t.events,
                conversations=t.conversations,
                oldest_event_ts=t.oldest_event_ts,
                oldest_ingested_at=t.oldest_ingested_at,
                computed_at=now,
                examples=tuple(
                    {**e, "firstEventTimestamp": to_iso(e["firstEventTimestamp"])} for e in t.examples
                ),
            )
            for t in totals
        ]
    )


def _run(
    store: Store,
    warehouse: Warehouse,
    now: datetime,
    restated: list[date],
    config: AggregateSettings,
    hook: Hook,
    lease: _Lease,
    report: RunReport,
    pseudonyms: Pseudonymizer,
    publisher: Callable[[], Publisher],
) -> None:
    marks = {c.name: store.get_watermark(c.watermark) for c in COLLECTIONS}
    until = now - timedelta(seconds=config.lag_seconds)
    prepare_warehouse(warehouse)  # tables, the catalog's BI views, kpi_catalog
    # Where each watermark moves after the commit: ``until``, or where a bounded read stopped.
    reached: dict[str, datetime | None] = {}
    budget = config.max_records
    # Event sink mode: events are in the warehouse's landing table, not in the store (landing.py).
    sink_mode = sink_scheme(settings().event_sink_url) is not None
    for collection in COLLECTIONS:
        since = marks[collection.name].value
        if sink_mode and collection.name == "events":
            reached[collection.name] = until
            continue
        done = extract(
            store,
            warehouse,
            collection,
            since,
            until,
            config.page_size,
            lease.renew,
            pseudonyms=pseudonyms,
            limit=budget,
        )
        report.read[collection.name] = done.read
        reached[collection.name] = until if done.complete else done.reached
        report.more = report.more or not done.complete
        budget -= done.read
    erasures = store.pending_erasures(until, MAX_ERASURES_PER_RUN)
    if erasures:
        warehouse.load_staging(ERASURE_STAGING, to_arrow(ERASURE_STAGING, erasure_rows(erasures, now)))
    # The providers' analytics settings (a few rows), copied by every run: the family SQL reads them.
    settings_rows = provider_settings_rows(store.list_provider_settings())
    if settings_rows:
        staged_settings = staging_table(PROVIDER_SETTINGS)
        warehouse.load_staging(staged_settings, to_arrow(staged_settings, settings_rows))
    hook("extracted")
    loaded = warehouse.flush_staging()
    landing = LandingStage()
    if sink_mode:  # deduplicated in the warehouse into the run's raw_events staging
        landing = stage_landing(warehouse, marks["events"].value, until, config.sink_settle_seconds)
        report.read["events"] = landing.read
        loaded.rows[RAW_EVENTS.name] = landing.events
    report.staged_rows = sum(loaded.rows.values())
    hook("staged")
    staged_raw = {name for name, rows in loaded.rows.items() if rows}
    # Snapshots age with time: a run with nothing new still refreshes the records that are due.
    if staged_raw or restated or AGING or landing.conflicts:
        lease.renew(force=True)  # never commit on a lease another run may hold by now
        transaction = build_transaction(
            warehouse,
            staged_raw,
            restated,
            now,
            retention_cutoff(now.date(), settings().warehouse_retention_days),
        )
        if sink_mode:
            transaction = with_landing(warehouse, transaction, landing, now.date())
        summary = warehouse.apply(transaction, before_commit=lambda: hook("before_commit"))
        report.conversations_touched = int(summary.get("conversations_touched") or 0)
        report.provider_days = int(summary.get("provider_days") or 0)
        report.kpi_rows_written = int(summary.get("kpi_rows") or 0)
        report.days = [d for d in str(summary.get("days") or "").split(",") if d]
    report.days_restated = [d.isoformat() for d in restated]
    hook("committed")
    # Before the watermarks move: if evaluating fails, the next run recomputes and re-evaluates.
    report.alerts = after_aggregation(store, warehouse, report.days, now, publisher)
    # Written to the store only when orphan_events may have changed (this run committed).
    _record_orphans(store, warehouse, now, report, write=bool(staged_raw or restated))
    for collection in COLLECTIONS:
        mark, value = marks[collection.name], reached[collection.name]
        # Never backwards: a run with an older clock than the last one reads nothing new.
        if value is not None and (mark.value is None or value > mark.value):
            store.set_watermark(Watermark(collection.watermark, value, {"run_id": report.run_id}))
    # After the commit, like the watermark: a crash before this re-applies them (idempotently).
    store.mark_erasures_applied(erasures, now)
    report.erasures_applied = len(erasures)
    # Raw events past their retention leave the store once the warehouse has them (docs/privacy.md).
    # (Only what some run has read: a bounded run may not have reached the events yet.)
    events_read = [m for m in (reached["events"], marks["events"].value) if m is not None]
    if events_read:
        expired = now - timedelta(days=settings().event_retention_days)
        report.events_purged = store.purge_events(min(expired, max(events_read)), PURGE_PER_RUN)
    # Failed events too, a while after their last change, once that change is in the warehouse.
    failed_read = [m for m in (reached["failed_events"], marks["failed_events"].value) if m is not None]
    if failed_read:
        stale = now - timedelta(days=settings().failed_event_retention_days)
        report.failed_events_purged = store.purge_failed_events(min(stale, max(failed_read)), PURGE_PER_RUN)
    if report.more:
        # A bounded run: everything up to the least advanced collection is in the warehouse.
        kept = [
            max(v for v in (reached[c.name], marks[c.name].value) if v is not None)
            for c in COLLECTIONS
            if reached[c.name] is not None or marks[c.name].value is not None
        ]
        report.watermark = to_iso(min(kept)) if len(kept) == len(COLLECTIONS) else None
    else:
        report.watermark = to_iso(max([until, *(m.value for m in marks.values() if m.value is not None)]))
