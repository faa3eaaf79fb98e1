"""Two aggregations started at once: one runs, the other waits or answers busy; nothing is counted twice."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tools.reliability.aggregation import (
    EXIT_BUSY,
    EXIT_FAILED,
    EXIT_OK,
    CampaignFailed,
    ComparedWithCleanRun,
    Run,
    World,
    chunks,
    contents,
    finish,
)
from tools.traffic import generate_day


@dataclass
class ConcurrentResult(ComparedWithCleanRun):
    rounds: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rounds": self.rounds,
            "runs": 2 * self.rounds,
            "outcomes": dict(sorted(self.outcomes.items())),
            "rows_compared": self.rows_compared,
            "warehouse_equals_clean_run": self.equal,
            "differences": self.differences,
        }


def _process_outcome(run: Run) -> tuple[str, int]:
    """How one ``make aggregate`` process ended, and how many records it read."""
    if run.code == EXIT_BUSY or run.report.get("status") == "busy":
        return "process: busy (lease held), exited", 0
    if run.code == EXIT_FAILED:
        return "process: warehouse locked past its timeout, nothing committed", 0
    if run.code != EXIT_OK:
        raise CampaignFailed(f"a concurrent run ended with {run.code}: {run.stderr[-2000:]}")
    read = sum(run.report["read"].values())
    return ("process: ran" if read else "process: waited for the warehouse, then found nothing new"), read


def _function_outcome(status: int, body: dict[str, Any]) -> tuple[str, int]:
    """How one ``POST /`` to the aggregate function ended, and how many records it read."""
    if status == 200 and body.get("status") == "busy":
        return "function: 200 busy (lease held)", 0
    if status == 503:
        return "function: 503 warehouse or store unavailable", 0
    if status != 200:
        raise CampaignFailed(f"a concurrent POST / answered {status}: {body}")
    read = sum(body["read"].values())
    return ("function: 200 ran" if read else "function: 200, found nothing new"), read


def concurrent_campaign(
    data_dir: Path, *, rounds: int = 4, conversations: int = 80, seed: int = 23
) -> ConcurrentResult:
    """Two aggregations started at the same moment, ``rounds`` times, each round after a new slice of
    traffic. Even rounds: two ``make aggregate`` processes (the DuckDB file lets one process in, the
    other waits for it); odd rounds: two ``POST /`` to one aggregate function at once (one process, two
    threads: the lease decides). Exactly one of the two may read the slice; the warehouse must equal a
    clean run's at the end."""
    result = ConcurrentResult()
    traffic = generate_day(conversations, seed)
    slices = chunks(traffic, rounds)
    with World(data_dir, lease_seconds=900.0, with_function=True) as world:
        assert world.stack is not None
        key = world.provider_key(traffic.provider_id)
        scheduler = {"Authorization": f"Bearer {world.stack.admin_token}"}
        url = world.stack.url("aggregate") + "/"
        for n, piece in enumerate(slices):
            world.send(key, piece)
            if n % 2 == 0:
                pair = [world.start_aggregation(), world.start_aggregation()]
                ended = [_process_outcome(finish(p)) for p in pair]
            else:
                with ThreadPoolExecutor(max_workers=2) as pool:
                    answers = list(
                        pool.map(lambda _: requests.post(url, headers=scheduler, timeout=300), (0, 1))
                    )
                ended = [_function_outcome(a.status_code, a.json()) for a in answers]
            result.rounds += 1
            result.outcomes.update(outcome for outcome, _ in ended)
            readers = sum(1 for _, read in ended if read)
            if readers != 1:
                raise CampaignFailed(
                    f"round {n}: {readers} of two concurrent runs read the new records: {ended}"
                )
        got = contents(world.warehouse_url)
    result.compare(world, got, data_dir / "reference")
    return result
