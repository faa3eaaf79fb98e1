"""The soak: the ingest stack under steady traffic for a while, with retries and duplicates mixed in.

Real processes on loopback (``tools.serve``'s stack on the embedded SQLite store). Clients send handled
calls at a steady rate; the plan re-sends some batches (lost answers) and leaves some ``eventId`` out;
every ``lock_every_s`` another process holds the store's write lock past the busy timeout, so clients
get 503 + Retry-After and retry. Afterwards: every answer was 2xx or 503 + Retry-After, stored events
== unique events sent, and the resident memory of the ingest process stayed flat.
"""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tools.reliability.client import Answers, RetryingClient
from tools.reliability.load import Ledger, Plan, check_store, drive, register_provider, until
from tools.reliability.sqlite_lock import LockHolder
from tools.reliability.stack import ingest_stack, tree_rss

MIB = 1024 * 1024


@dataclass
class Memory:
    """RSS samples of the ingest process tree, and whether they stayed flat.

    The first ``warmup`` share of the samples is left out (imports, caches, the first connections);
    flat means the median of the last quarter of the rest is within ``max_growth`` of the first
    quarter's median.
    """

    samples: list[tuple[float, int]] = field(default_factory=list)
    warmup: float = 0.2
    max_growth: float = 0.10

    def steady(self) -> list[int]:
        skip = int(len(self.samples) * self.warmup)
        return [rss for _, rss in self.samples[skip:]]

    def quarters(self) -> tuple[float, float]:
        steady = self.steady()
        if len(steady) < 8:
            raise ValueError(f"too few RSS samples to judge ({len(steady)}): run longer")
        quarter = len(steady) // 4
        return statistics.median(steady[:quarter]), statistics.median(steady[-quarter:])

    @property
    def growth(self) -> float:
        first, last = self.quarters()
        return (last - first) / first

    @property
    def flat(self) -> bool:
        return self.growth <= self.max_growth

    def as_dict(self) -> dict[str, Any]:
        first, last = self.quarters()
        values = [rss for _, rss in self.samples]
        return {
            "samples": len(values),
            "rss_first_mib": round(values[0] / MIB, 1),
            "rss_steady_start_mib": round(first / MIB, 1),
            "rss_steady_end_mib": round(last / MIB, 1),
            "rss_peak_mib": round(max(values) / MIB, 1),
            "growth_pct": round(self.growth * 100, 2),
            "max_growth_pct": round(self.max_growth * 100, 2),
            "flat": self.flat,
        }


class Sampler:
    """Samples ``tree_rss(pid)`` every ``interval_s`` in a thread while in the ``with`` block."""

    def __init__(self, pid: int, memory: Memory, interval_s: float):
        self._pid, self._memory, self._interval = pid, memory, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._t0 = time.monotonic()

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self._memory.samples.append((time.monotonic() - self._t0, tree_rss(self._pid)))


@dataclass
class SoakResult:
    seconds: float
    units_per_s: float
    workers: int
    locks_injected: int
    answers: Answers
    ledger: Ledger
    memory: Memory
    store: dict[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        """Answers other than 2xx and 503 (with Retry-After), and connections that stayed broken."""
        bad = sum(
            n for status, n in self.answers.statuses.items() if not (200 <= status < 300 or status == 503)
        )
        return bad + sum(self.answers.violations.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 1),
            "target_units_per_s": self.units_per_s,
            "requests_per_s": round(self.ledger.requests / self.seconds, 1),
            "workers": self.workers,
            "locks_injected": self.locks_injected,
            "errors": self.errors,
            **self.answers.as_dict(),
            **self.ledger.as_dict(),
            "store": self.store,
            "memory": self.memory.as_dict(),
        }


def run(
    data_dir: Path,
    *,
    seconds: float = 25.0,
    units_per_s: float = 20.0,
    workers: int = 4,
    lock_every_s: float = 5.0,
    lock_hold_s: float = 1.0,
    sample_every_s: float = 0.5,
    max_growth: float = 0.10,
    seed: int = 5,
) -> SoakResult:
    """Soak the ingest stack in ``data_dir`` for ``seconds`` at ``units_per_s`` handled calls a second
    (each 2–3 requests). ``lock_every_s=0`` leaves the store alone."""
    url = f"sqlite:///{data_dir / 'store.sqlite3'}"
    answers, ledger = Answers(), Ledger()
    memory = Memory(max_growth=max_growth)
    with ingest_stack(data_dir, f"{url}?busy_timeout_ms=250") as stack:
        key = register_provider(stack.url("providers"), stack.admin_token, answers)
        plan = Plan(seed, datetime.now(UTC))
        locks = LockHolder(data_dir / "store.sqlite3", lock_hold_s, lock_every_s or float("inf"))
        with Sampler(stack.pids["ingest"], memory, sample_every_s), locks:
            took = drive(
                lambda: RetryingClient(stack.url("ingest"), key, answers),
                plan,
                ledger,
                units_per_s=units_per_s,
                workers=workers,
                keep_going=until(time.monotonic() + seconds),
            )
    result = SoakResult(took, units_per_s, workers, locks.pulses, answers, ledger, memory)
    result.store = check_store(url, ledger).as_dict()
    return result
