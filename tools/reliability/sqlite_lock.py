"""The embedded store locked by another process: clients get 503 + Retry-After, retries lose nothing.

``LockHolder`` runs ``python -m tools.reliability.sqlite_lock PATH SECONDS`` — a separate process that
takes SQLite's write lock (``BEGIN IMMEDIATE``, as a long writer would) and keeps it for ``SECONDS``,
longer than the store's busy timeout. ``run`` drives steady traffic into a real ingest process while
such locks come and go, then reads the store back against the client's ledger.
"""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tools.reliability.client import Answers, RetryingClient
from tools.reliability.load import Ledger, Plan, check_store, drive, register_provider, until
from tools.reliability.stack import ingest_stack
from tools.serve import ROOT

READY = "locked"


class LockHolder:
    """Takes the write lock of a SQLite file in another process, ``pulses`` times, on a schedule."""

    def __init__(self, path: Path, hold_s: float, every_s: float):
        self.path, self.hold_s, self.every_s = path, hold_s, every_s
        self.pulses = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self.error: BaseException | None = None

    def __enter__(self) -> LockHolder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self.hold_s + 30)
        if self.error is not None:
            raise self.error

    def hold_once(self) -> None:
        """One lock, held ``hold_s`` seconds by a child process; returns when it is released."""
        child = subprocess.Popen(
            [sys.executable, "-m", "tools.reliability.sqlite_lock", str(self.path), str(self.hold_s)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert child.stdout is not None
            line = child.stdout.readline().strip()
            if line != READY:
                raise RuntimeError(f"the lock holder did not take the lock: {line!r}")
            self.pulses += 1
            child.wait(timeout=self.hold_s + 30)
            if child.returncode != 0:
                raise RuntimeError(f"the lock holder exited with {child.returncode}")
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()

    def _loop(self) -> None:
        try:
            while not self._stop.wait(self.every_s):
                self.hold_once()
        except BaseException as exc:  # noqa: BLE001 - re-raised by __exit__
            self.error = exc


def hold(path: str, seconds: float) -> None:
    """The child's side: take the write lock, say so, keep it, release it."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        conn.execute("BEGIN IMMEDIATE")
        print(READY, flush=True)
        time.sleep(seconds)
        conn.execute("ROLLBACK")
    finally:
        conn.close()


@dataclass
class LockResult:
    seconds: float
    busy_timeout_ms: int
    locks_injected: int
    lock_hold_s: float
    answers: Answers
    ledger: Ledger
    store: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 1),
            "busy_timeout_ms": self.busy_timeout_ms,
            "locks_injected": self.locks_injected,
            "lock_hold_s": self.lock_hold_s,
            **self.answers.as_dict(),
            **self.ledger.as_dict(),
            "store": self.store,
        }


def run(
    data_dir: Path,
    *,
    seconds: float = 12.0,
    locks_every_s: float = 2.0,
    hold_s: float = 1.0,
    busy_timeout_ms: int = 200,
    units_per_s: float = 15.0,
    workers: int = 3,
    seed: int = 11,
) -> LockResult:
    """Traffic for ``seconds`` while another process locks the store every ``locks_every_s``."""
    path = data_dir / "store.sqlite3"
    url = f"sqlite:///{path}"
    answers, ledger = Answers(), Ledger()
    with ingest_stack(data_dir, f"{url}?busy_timeout_ms={busy_timeout_ms}") as stack:
        key = register_provider(stack.url("providers"), stack.admin_token, Answers())
        plan = Plan(seed, datetime.now(UTC))
        with LockHolder(path, hold_s, locks_every_s) as locks:
            took = drive(
                lambda: RetryingClient(stack.url("ingest"), key, answers),
                plan,
                ledger,
                units_per_s=units_per_s,
                workers=workers,
                keep_going=until(time.monotonic() + seconds),
            )
    result = LockResult(took, busy_timeout_ms, locks.pulses, hold_s, answers, ledger)
    result.store = check_store(url, ledger).as_dict()
    return result


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        hold(sys.argv[1], float(sys.argv[2]))
