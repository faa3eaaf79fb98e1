"""The Firestore adapter against the real emulator: batched event writes and the extraction scan.

The emulator runs on this machine, keeps everything in memory, enforces no rate limits and checks no
indexes: its figures say what the adapter's own code and the client library cost, not what
production Firestore sustains (docs/scale.md has those limits). The same operations on the SQLite
adapter, in the same run, are shown beside them as the reference.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared.ingest.events import Envelope, EventResolver, build_event
from shared.store.port import Store
from shared.store.records import Event
from shared.store.sqlite import SqliteStore
from tools.bench.ingest import PROVIDER, event_pool
from tools.bench.report import Section
from tools.bench.stats import median

BATCH = 500  # the most events one POST /v1/events carries: one insert_events call


@dataclass(frozen=True)
class StoreFigures:
    writes_per_s: float
    reads_per_s: float


def events(count: int) -> list[Event]:
    """``count`` distinct events of the realistic day, as the ingest function builds them."""
    pool = event_pool()
    now = datetime.now(UTC) - timedelta(minutes=1)
    memory = SqliteStore(":memory:")
    resolve = EventResolver(memory, PROVIDER)
    out: list[Event] = []
    for n in range(count):
        header, raw = pool[n % len(pool)]
        envelope = Envelope(
            header["conversationId"], header["providerSessionId"], header.get("participantId")
        )
        built = build_event(PROVIDER, envelope, {**raw, "eventId": f"fs-{n}"}, resolve, now)
        assert isinstance(built, Event)
        out.append(built)
    memory.close()
    return out


def measure_store(store: Store, batch: list[Event], repetitions: int) -> StoreFigures:
    """Write the events in requests of ``BATCH`` (fresh ids each repetition), then scan them back."""
    writes, reads = [], []
    for r in range(repetitions):
        rows = [_renamed(e, f"r{r}-") for e in batch]
        started = time.perf_counter()
        for i in range(0, len(rows), BATCH):
            stored = store.insert_events(rows[i : i + BATCH])
            if not all(stored):
                raise RuntimeError("a fresh event was reported as a duplicate")
        writes.append(len(rows) / (time.perf_counter() - started))
        started = time.perf_counter()
        seen = sum(len(page) for page in store.scan_events(None, datetime.now(UTC), 1000))
        reads.append(seen / (time.perf_counter() - started))
    return StoreFigures(median(writes), median(reads))


def _renamed(event: Event, prefix: str) -> Event:
    from dataclasses import replace

    return replace(event, event_id=prefix + event.event_id)


@contextmanager
def _emulator() -> Iterator[Store | None]:
    from tests.support.firestore_emulator import FirestoreEmulator, environment_set, missing_tools

    if missing_tools():
        yield None
        return
    emulator = FirestoreEmulator()
    emulator.start()
    try:
        with environment_set(emulator.environment()):
            from shared.store.firestore import FirestoreStore

            store = FirestoreStore(project=emulator.project, database="(default)")
            try:
                yield store
            finally:
                store.close()
    finally:
        emulator.close()


def measure(count: int, repetitions: int) -> tuple[StoreFigures | None, StoreFigures]:
    batch = events(count)
    with _emulator() as firestore:
        emulated = measure_store(firestore, batch, repetitions) if firestore is not None else None
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        sqlite = SqliteStore(str(Path(tmp) / "store.sqlite3"))
        try:
            reference = measure_store(sqlite, batch, repetitions)
        finally:
            sqlite.close()
    return emulated, reference


def sections(
    emulated: StoreFigures | None, reference: StoreFigures, count: int, repetitions: int
) -> list[Section]:
    section = Section(
        "Firestore adapter on the emulator (not production)",
        [
            "operation",
            "Firestore emulator docs/s",
            "reference: SQLite adapter docs/s",
            "ratio",
            "goal",
            "met?",
        ],
    )
    rows = [
        ("write: insert_events, 500 per BatchWrite", "writes_per_s"),
        ("read: scan_events (16 shards merged, pages of 1,000)", "reads_per_s"),
    ]
    for label, attr in rows:
        ref = getattr(reference, attr)
        if emulated is None:
            section.rows.append(
                [label, "skipped: gcloud or java missing", f"{ref:,.0f}", "n/a", "reported", "n/a"]
            )
        else:
            value = getattr(emulated, attr)
            section.rows.append(
                [label, f"{value:,.0f}", f"{ref:,.0f}", f"{value / ref:.2f}", "reported", "n/a"]
            )
    section.notes.append(
        f"{count:,} events per repetition, median of {repetitions}; the emulator keeps data in memory, "
        "enforces no rate limits and checks no indexes, so these figures are the adapter's and client "
        "library's cost on this machine, not production throughput"
    )
    return [section]
