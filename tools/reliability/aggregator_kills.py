"""The aggregator SIGKILLed at random points, many times: one final run must leave the warehouse equal
to a clean run's over the same store (see ``aggregation`` for the comparison)."""

from __future__ import annotations

import random
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.reliability.aggregation import (
    EXIT_BUSY,
    EXIT_OK,
    CampaignFailed,
    ComparedWithCleanRun,
    World,
    chunks,
    contents,
    finish,
)
from tools.traffic import generate_day


@dataclass
class KillResult(ComparedWithCleanRun):
    kills: int = 0
    finished_before_kill: int = 0
    kill_times_s: list[float] = field(default_factory=list)
    busy_answers: int = 0
    busy_rounds: int = 0
    runs_completed: int = 0
    calibrated_run_s: float = 0.0
    requests_sent: int = 0

    def as_dict(self) -> dict[str, Any]:
        times = sorted(self.kill_times_s)
        return {
            "kills": self.kills,
            "finished_before_kill": self.finished_before_kill,
            "kill_after_s": {
                "min": round(times[0], 2) if times else None,
                "median": round(times[len(times) // 2], 2) if times else None,
                "max": round(times[-1], 2) if times else None,
            },
            "calibrated_run_s": round(self.calibrated_run_s, 2),
            "busy_rounds": self.busy_rounds,
            "busy_answers_of_the_final_run": self.busy_answers,
            "runs_completed": self.runs_completed,
            "requests_sent": self.requests_sent,
            "rows_compared": self.rows_compared,
            "warehouse_equals_clean_run": self.equal,
            "differences": self.differences,
        }


def kill_campaign(
    data_dir: Path, *, kills: int = 12, conversations: int = 120, seed: int = 17, restate_every: int = 3
) -> KillResult:
    """SIGKILL ``kills`` aggregation runs at random moments while the day's traffic arrives in slices,
    then one run to completion; the warehouse must equal a clean run's over the same store.

    Each round sends one slice, starts a run (restating the day every ``restate_every`` rounds, so a
    run has work even when an earlier one committed) and kills it at a uniform random moment within
    the duration of a complete run, measured first. A killed run cannot release its lease: the lease
    lasts 0.5 s here and each round waits that long after its kill, so the next run finds it lapsed
    (a run that still finds it taken answers ``busy``; those rounds are counted).
    """
    rng = random.Random(seed)
    result = KillResult()
    traffic = generate_day(conversations, seed)
    slices = chunks(traffic, kills + 1)
    with World(data_dir) as world:
        key = world.provider_key(traffic.provider_id)
        world.send(key, slices[0])
        started = time.monotonic()
        world.aggregate_until_done([traffic.day])
        result.calibrated_run_s = time.monotonic() - started
        for round_ in range(kills):
            if round_ + 1 < len(slices):
                world.send(key, slices[round_ + 1])
            days = [traffic.day] if round_ % restate_every == 0 else []
            process = world.start_aggregation(days)
            wait = rng.uniform(0.0, result.calibrated_run_s)
            time.sleep(wait)
            if process.poll() is not None:
                result.finished_before_kill += 1
            process.send_signal(signal.SIGKILL)
            run = finish(process)
            result.kills += 1
            result.kill_times_s.append(wait)
            if run.code not in (EXIT_OK, EXIT_BUSY, -signal.SIGKILL):
                raise CampaignFailed(f"a run ended with {run.code}: {run.stderr[-2000:]}")
            if run.code == EXIT_OK:
                result.runs_completed += 1
            if run.code == EXIT_BUSY:
                result.busy_rounds += 1
            time.sleep(world.lease_seconds)
        result.requests_sent = sum(len(s.requests) for s in slices)
        final = world.aggregate_until_done()
        result.busy_answers = final.busy_before
        got = contents(world.warehouse_url)
    result.compare(world, got, data_dir / "reference")
    return result
