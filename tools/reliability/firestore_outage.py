"""Firestore stopped and restarted under load: clients get 503 + Retry-After, retries lose nothing.

A real ingest process (functions-framework, as ``tools.serve`` runs it) on the Firestore adapter talks to
the Firestore emulator; clients send steady traffic with a retry loop. ``outages`` times: the emulator is
stopped mid-load, stays down ``outage_s`` seconds (ingest answers 503 + Retry-After meanwhile) and comes
back. Then every answer must have been 2xx or 503 + Retry-After, and the store must hold exactly the
unique events the clients sent, none twice.

The emulator keeps data in memory, where Firestore keeps it durably. So that a restart comes back with
the data (as Firestore does after an outage), the stop is: pause the ingest process (SIGSTOP) so no write
is half-way, let in-flight writes settle, export a snapshot through the emulator's export endpoint, stop
the emulator, resume ingest (it now meets a dead store), and later start the emulator with
``--import-data`` of that snapshot. Every write acknowledged before the stop is in the snapshot.

What clients see: the Firestore adapter retries a failing call within its 10 s deadline, so an outage
shorter than that only slows answers down; past it, a call answers 503 + Retry-After. After a restart
gRPC reconnects with a backoff of a few seconds, so the first 2xx comes a little after the emulator.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.support.firestore_emulator import FirestoreEmulator, environment_set
from tools.reliability.client import Answers, RetryingClient
from tools.reliability.load import Ledger, Plan, check_store, drive, register_provider
from tools.reliability.stack import ingest_stack

SETTLE_S = 0.5  # after pausing ingest, for writes already sent to the emulator to commit


@dataclass
class OutageResult:
    outages: int = 0
    outage_s: float = 0.0
    seconds: float = 0.0
    answers: Answers = field(default_factory=Answers)
    ledger: Ledger = field(default_factory=Ledger)
    store: dict[str, Any] = field(default_factory=dict)
    recovery_s: list[float] = field(default_factory=list)

    @property
    def errors(self) -> int:
        bad = sum(n for s, n in self.answers.statuses.items() if not (200 <= s < 300 or s == 503))
        return bad + sum(self.answers.violations.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "outages": self.outages,
            "outage_s": self.outage_s,
            "seconds": round(self.seconds, 1),
            "first_2xx_after_restart_s": [round(s, 1) for s in self.recovery_s],
            "errors": self.errors,
            **self.answers.as_dict(),
            **self.ledger.as_dict(),
            "store": self.store,
        }


def run(
    data_dir: Path,
    emulator: FirestoreEmulator | None = None,
    *,
    outages: int = 1,
    before_s: float = 4.0,
    outage_s: float = 4.0,
    after_s: float = 8.0,
    units_per_s: float = 8.0,
    workers: int = 3,
    seed: int = 29,
    store_deadline_s: float | None = None,
) -> OutageResult:
    """Run on ``emulator`` (it is reset first and left running) or on one started for the campaign.

    ``store_deadline_s`` shortens how long the ingest process retries a dead store before it answers
    503 (the adapter's default is 10 s), so a short outage is still seen by clients as 503s."""
    own = emulator is None
    emulator = emulator or FirestoreEmulator(project="demo-reliability")
    if own:
        emulator.start()
    try:
        emulator.reset()
        with environment_set(emulator.environment()):
            return _campaign(
                data_dir,
                emulator,
                outages,
                before_s,
                outage_s,
                after_s,
                units_per_s,
                workers,
                seed,
                store_deadline_s,
            )
    finally:
        if own:
            emulator.close()
        elif not emulator.running:
            emulator.start()


def _campaign(
    data_dir: Path,
    emulator: FirestoreEmulator,
    outages: int,
    before_s: float,
    outage_s: float,
    after_s: float,
    units_per_s: float,
    workers: int,
    seed: int,
    store_deadline_s: float | None,
) -> OutageResult:
    result = OutageResult(outage_s=outage_s)
    url = f"firestore://{emulator.project}"
    if store_deadline_s is not None:
        url += f"?deadline_s={store_deadline_s:g}"
    data_dir.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    failure: list[BaseException] = []
    with ingest_stack(data_dir, url) as stack:
        key = register_provider(stack.url("providers"), stack.admin_token, result.answers)
        plan = Plan(seed, datetime.now(UTC))
        ingest_group = stack.pids["ingest"]  # the leader of the ingest process group

        def load() -> None:
            try:
                drive(
                    lambda: RetryingClient(stack.url("ingest"), key, result.answers, give_up_after_s=180),
                    plan,
                    result.ledger,
                    units_per_s=units_per_s,
                    workers=workers,
                    keep_going=lambda: not stop.is_set(),
                )
            except BaseException as exc:  # noqa: BLE001 - re-raised in the campaign thread
                failure.append(exc)

        started = time.monotonic()
        sender = threading.Thread(target=load, daemon=True)
        sender.start()
        try:
            for n in range(outages):
                time.sleep(before_s if n == 0 else after_s)
                if failure:
                    break
                os.killpg(ingest_group, signal.SIGSTOP)
                try:
                    time.sleep(SETTLE_S)
                    snapshot = emulator.export(data_dir / f"snapshot-{n}")
                    emulator.stop()
                finally:
                    os.killpg(ingest_group, signal.SIGCONT)
                result.outages += 1
                time.sleep(outage_s)
                emulator.start(import_data=snapshot)
                result.recovery_s.append(_first_success_after(result.answers))
            time.sleep(after_s)
        finally:
            stop.set()
            sender.join(timeout=240)
            if not emulator.running:
                emulator.start()
        result.seconds = time.monotonic() - started
    if failure:
        raise failure[0]
    result.store = check_store(url, result.ledger).as_dict()
    return result


def _first_success_after(answers: Answers, within_s: float = 60.0) -> float:
    """Seconds from now until a client next gets a 2xx (the store is usable again)."""
    started = time.monotonic()
    seen = answers.statuses[200] + answers.statuses[201]
    while answers.statuses[200] + answers.statuses[201] == seen:
        if time.monotonic() - started > within_s:
            break
        time.sleep(0.05)
    return time.monotonic() - started
