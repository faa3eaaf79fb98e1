"""Ingest throughput through the real HTTP path, next to its floors measured in the same run.

Three functions, one after the other, each in its own process served by ``tools/server.py``
(waitress in front of the functions-framework app, its default threads) on the same machine as the client:

- ``ingest`` — the product, started by ``tools.serve.LocalStack`` exactly as ``make serve`` starts it,
  with a registered provider whose analytics is on; events go to ``POST /v1/events`` with its API key;
- ``minimal`` — the minimal validate-and-insert floor (``floors.py``);
- ``empty`` — the HTTP ceiling (``floors.py``).

Every function gets the same pre-encoded request bodies: valid events of the realistic generated day
(``tools.traffic``), each with a unique ``eventId`` so every event is really stored (no duplicates).
Per batch size: a warm-up, then several timed repetitions; the figures are medians over them.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from shared.ingest.events import Envelope, EventResolver, build_event
from shared.store.records import Event
from shared.store.sqlite import SqliteStore
from tools.bench.load import LoadResult, run_load
from tools.bench.report import Section, ratio, verdict
from tools.bench.servers import Served, floor_server
from tools.bench.stats import median
from tools.serve import LocalStack
from tools.traffic import generate_day

BATCHES = (1, 100, 500)
TARGETS = ("empty", "minimal", "product")
PROVIDER = "bench-provider"


@dataclass(frozen=True)
class IngestPlan:
    """How much to send: requests per timed repetition for each batch size, repetitions, clients."""

    requests: dict[int, int]
    warmup: dict[int, int]
    repetitions: int
    concurrency: int

    @classmethod
    def full(cls) -> IngestPlan:
        return cls({1: 3000, 100: 500, 500: 120}, {1: 300, 100: 50, 500: 20}, 3, 4)

    @classmethod
    def quick(cls) -> IngestPlan:
        return cls({1: 600, 100: 100, 500: 24}, {1: 100, 100: 20, 500: 6}, 3, 4)

    @classmethod
    def smoke(cls) -> IngestPlan:
        """The smallest run that still exercises every path (the test suite's end-to-end check)."""
        return cls({1: 20, 100: 3, 500: 2}, {1: 5, 100: 1, 500: 1}, 1, 2)


@dataclass(frozen=True)
class Measured:
    target: str
    batch: int
    events_per_s: float
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    server_cpu_us_per_event: float
    client_cpu_us_per_event: float

    @classmethod
    def of(cls, target: str, batch: int, runs: list[LoadResult]) -> Measured:
        return cls(
            target,
            batch,
            median([r.events_per_s for r in runs]),
            median([r.requests_per_s for r in runs]),
            median([r.p50_ms for r in runs]),
            median([r.p99_ms for r in runs]),
            median([r.server_cpu_s / r.events * 1e6 for r in runs]),
            median([r.client_cpu_s / r.events * 1e6 for r in runs]),
        )


def event_pool(size: int = 400) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(envelope, event) pairs of a generated day that the product accepts, in the order sent."""
    traffic = generate_day(size, seed=11, day=datetime(2026, 11, 22, tzinfo=UTC).date())
    store = SqliteStore(":memory:")
    resolve = EventResolver(store, PROVIDER)
    now = datetime.now(UTC)
    pool = []
    for request in traffic.requests:
        if request.kind != "events":
            continue
        header = {k: v for k, v in request.body.items() if k != "events"}
        envelope = Envelope(
            header["conversationId"], header["providerSessionId"], header.get("participantId")
        )
        for raw in request.body["events"]:
            if isinstance(build_event(PROVIDER, envelope, raw, resolve, now), Event):
                pool.append((header, raw))
    store.close()
    return pool


def make_bodies(
    pool: list[tuple[dict[str, Any], dict[str, Any]]], batch: int, count: int, tag: str
) -> list[bytes]:
    """``count`` request bodies of ``batch`` events each, cycling through the pool, unique event ids."""
    bodies = []
    cursor = 0
    for n in range(count):
        header = pool[cursor % len(pool)][0]
        events = []
        for i in range(batch):
            raw = pool[(cursor + i) % len(pool)][1]
            events.append({**raw, "eventId": f"{tag}-{n}-{i}"})
        cursor += batch
        bodies.append(json.dumps({**header, "events": events}, separators=(",", ":")).encode())
    return bodies


@contextmanager
def _target(name: str, workdir: Path) -> Iterator[tuple[Served, dict[str, str]]]:
    """A running function and the headers its requests need."""
    if name != "product":
        with floor_server(name, workdir / f"{name}.sqlite3") as served:
            yield served, {}
        return
    stack = LocalStack(
        data_dir=workdir / "product",
        ports={"ingest": 0, "providers": 0},
        functions=["ingest", "providers"],
        environ={},
        echo=None,
    )
    with stack, requests.Session() as http:
        admin = {"Authorization": f"Bearer {stack.admin_token}"}
        created = http.post(
            f"{stack.url('providers')}/v1/providers",
            json={"providerId": PROVIDER, "name": "Bench provider"},
            headers=admin,
            timeout=10,
        )
        created.raise_for_status()
        http.patch(
            f"{stack.url('providers')}/v1/providers/{PROVIDER}",
            json={"enableAnalytics": True},
            headers=admin,
            timeout=10,
        ).raise_for_status()
        key = created.json()["apiKey"]
        yield Served(stack.url("ingest"), stack.pids["ingest"]), {"Authorization": f"Bearer {key}"}


def measure(plan: IngestPlan, progress: Any = print) -> list[Measured]:
    pool = event_pool()
    results: list[Measured] = []
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        workdir = Path(tmp)
        for target in TARGETS:
            with _target(target, workdir) as (served, headers):
                for batch in BATCHES:
                    n, warm = plan.requests[batch], plan.warmup[batch]
                    bodies = make_bodies(pool, batch, warm + plan.repetitions * n, f"{target}-{batch}")
                    path = "/v1/events"
                    run_load(served.url, path, bodies[:warm], batch, headers, plan.concurrency, served.pid)
                    runs = []
                    for r in range(plan.repetitions):
                        chunk = bodies[warm + r * n : warm + (r + 1) * n]
                        runs.append(
                            run_load(served.url, path, chunk, batch, headers, plan.concurrency, served.pid)
                        )
                    result = Measured.of(target, batch, runs)
                    progress(
                        f"  ingest {target:<8} batch {batch:>3}: {result.events_per_s:>9,.0f} events/s "
                        f"p50 {result.p50_ms:.1f} ms p99 {result.p99_ms:.1f} ms"
                    )
                    results.append(result)
    return results


def _goal(batch: int, product: Measured, minimal: Measured) -> tuple[str, bool]:
    share_ok = product.events_per_s >= 0.8 * minimal.events_per_s
    if batch == 1:
        return (
            "≥ 1,000 req/s, p99 ≤ 15 ms, ≥ 0.80 of minimal",
            product.requests_per_s >= 1000 and product.p99_ms <= 15 and share_ok,
        )
    if batch == 100:
        return (
            "≥ 50,000 events/s, p99 ≤ 50 ms, ≥ 0.80 of minimal",
            product.events_per_s >= 50_000 and product.p99_ms <= 50 and share_ok,
        )
    return "≥ 0.80 of minimal", share_ok


def sections(results: list[Measured], plan: IngestPlan) -> list[Section]:
    by = {(r.target, r.batch): r for r in results}
    summary = Section(
        "Ingest: POST /v1/events over HTTP (functions-framework, keep-alive clients)",
        [
            "batch",
            "product events/s (req/s)",
            "p50 / p99 ms",
            "floor: minimal events/s",
            "ratio",
            "ceiling: empty events/s",
            "ratio",
            "goal",
            "met?",
        ],
    )
    for batch in BATCHES:
        product, minimal, empty = by[("product", batch)], by[("minimal", batch)], by[("empty", batch)]
        goal, met = _goal(batch, product, minimal)
        summary.rows.append(
            [
                str(batch),
                f"{product.events_per_s:,.0f} ({product.requests_per_s:,.0f})",
                f"{product.p50_ms:.1f} / {product.p99_ms:.1f}",
                f"{minimal.events_per_s:,.0f}",
                ratio(product.events_per_s, minimal.events_per_s),
                f"{empty.events_per_s:,.0f}",
                ratio(product.events_per_s, empty.events_per_s),
                goal,
                verdict(met),
            ]
        )
    summary.notes.append(
        f"medians of {plan.repetitions} repetitions; per repetition {plan.requests[1]:,} / "
        f"{plan.requests[100]:,} / {plan.requests[500]:,} requests at batches of 1 / 100 / 500, "
        f"after a warm-up; {plan.concurrency} client threads, one keep-alive connection each"
    )
    detail = Section(
        "Ingest: every function, with CPU per event",
        [
            "function",
            "batch",
            "events/s",
            "req/s",
            "p50 ms",
            "p99 ms",
            "server CPU µs/event",
            "client CPU µs/event",
        ],
    )
    for r in results:
        detail.rows.append(
            [
                r.target,
                str(r.batch),
                f"{r.events_per_s:,.0f}",
                f"{r.requests_per_s:,.0f}",
                f"{r.p50_ms:.1f}",
                f"{r.p99_ms:.1f}",
                f"{r.server_cpu_us_per_event:,.1f}",
                f"{r.client_cpu_us_per_event:,.1f}",
            ]
        )
    detail.notes.append(
        "server CPU: user + system time of the function's process group over the timed window; the "
        "server is one Python process, so it can use at most one core"
    )
    return [summary, detail]
