"""Aggregation campaigns: the aggregator SIGKILLed at random points, two runs at once, late and skewed
events. Each runs ``python -m tools.aggregate`` (``make aggregate``) as separate processes on a real
SQLite store and DuckDB file, and compares the warehouse with a clean run's.

The clean reference: the store is copied (SQLite backup API), the copy's watermarks are cleared, and
one ``make aggregate`` over it fills a fresh warehouse. "Equal" means every declared warehouse table has the
same rows, every column compared except ``computed_at`` (when a row was computed, not what it says).
"""

from __future__ import annotations

import json
import os
import random
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import requests

from shared.aggregate.extract import COLLECTIONS
from shared.store import open_store
from shared.store.records import Watermark
from shared.warehouse import open_warehouse
from shared.warehouse.ddl import declared_tables
from tools.demo import send_traffic
from tools.reliability.client import Answers, RetryingClient
from tools.reliability.load import call_closed_at, handled_call, register_provider
from tools.reliability.stack import ingest_stack
from tools.serve import ROOT, LocalStack
from tools.traffic import Traffic, generate_day

EXIT_OK, EXIT_BUSY, EXIT_FAILED = 0, 2, 3  # tools.aggregate's exit statuses
IGNORED_COLUMNS = frozenset({"computed_at"})
Contents = dict[str, list[tuple[Any, ...]]]


class CampaignFailed(AssertionError):
    """The warehouse or the runs did not come out as the exactly-once argument says."""


@dataclass
class World:
    """A data directory with the SQLite store, the DuckDB warehouse and the ingest stack over them."""

    data_dir: Path
    lease_seconds: float = 0.5
    page_size: int = 250  # several store pages per run, so a kill can land between two of them
    with_function: bool = False  # also serve functions/aggregate (POST /), as the scheduler calls it
    # One pseudonym key for every run of a campaign and its reference, so their customer ids agree.
    pseudonym_salt: str = field(default_factory=lambda: secrets.token_hex(16))
    stack: LocalStack | None = None

    @property
    def store_path(self) -> Path:
        return self.data_dir / "store.sqlite3"

    @property
    def store_url(self) -> str:
        return f"sqlite:///{self.store_path}"

    @property
    def warehouse_url(self) -> str:
        return f"duckdb:///{self.data_dir / 'warehouse.duckdb'}"

    def __enter__(self) -> World:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.stack = ingest_stack(
            self.data_dir,
            self.store_url,
            aggregate=self.with_function,
            **{
                k: v
                for k, v in self.environment().items()
                if k.startswith("ANALYTICS_AGGREGATE_") or k == "ANALYTICS_PSEUDONYM_SALT"
            },
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.stack is not None:
            self.stack.stop()

    def provider_key(self, provider_id: str) -> str:
        assert self.stack is not None
        return register_provider(self.stack.url("providers"), self.stack.admin_token, Answers(), provider_id)

    def send(self, key: str, traffic: Traffic) -> None:
        """Every request of ``traffic`` over HTTP, retried on 503 (``tools.demo``'s client)."""
        assert self.stack is not None
        send_traffic(self.stack.url("ingest"), key, traffic, workers=2)

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANALYTICS_")}
        env.update(
            {
                "ANALYTICS_STORE": self.store_url,
                "ANALYTICS_WAREHOUSE": self.warehouse_url,
                "ANALYTICS_AGGREGATE_LAG_SECONDS": "0",
                "ANALYTICS_AGGREGATE_PAGE_SIZE": str(self.page_size),
                # A SIGKILLed run cannot release its lease: it frees itself after this many seconds.
                "ANALYTICS_AGGREGATE_LEASE_SECONDS": str(self.lease_seconds),
                "ANALYTICS_PSEUDONYM_SALT": self.pseudonym_salt,
                "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
            }
        )
        return env

    def start_aggregation(self, days: Sequence[date] = ()) -> subprocess.Popen[str]:
        """``python -m tools.aggregate [--day D ...]`` as its own process."""
        command = [sys.executable, "-m", "tools.aggregate", *(f"--day={d.isoformat()}" for d in days)]
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def aggregate_until_done(self, days: Sequence[date] = (), within_s: float = 60.0) -> Run:
        """One run to completion; a ``busy`` answer (a killed run's lease) is retried until it lapses."""
        deadline = time.monotonic() + within_s
        busy = 0
        while True:
            run = finish(self.start_aggregation(days))
            if run.code == EXIT_OK and run.report.get("status") == "ok":
                run.busy_before = busy
                return run
            if run.code != EXIT_BUSY and not (run.code == EXIT_OK and run.report.get("status") == "busy"):
                raise CampaignFailed(f"the aggregation failed ({run.code}): {run.stderr[-2000:]}")
            busy += 1
            if time.monotonic() > deadline:
                raise CampaignFailed(f"the aggregation stayed busy for {within_s} s")
            time.sleep(self.lease_seconds / 2)


@dataclass
class Run:
    code: int
    report: dict[str, Any]
    stderr: str
    busy_before: int = 0


def finish(process: subprocess.Popen[str], timeout_s: float = 300.0) -> Run:
    out, err = process.communicate(timeout=timeout_s)
    report: dict[str, Any] = {}
    if process.returncode == EXIT_OK and out.strip():
        report = json.loads(out)
    return Run(process.returncode, report, err)


def contents(warehouse_url: str) -> Contents:
    """Every declared table's rows, sorted, without the columns that only say when."""
    warehouse = open_warehouse(warehouse_url)
    try:
        out: Contents = {}
        for table in declared_tables():
            columns = [c.name for c in table.columns if c.name not in IGNORED_COLUMNS]
            rows = warehouse.query(f"SELECT {', '.join(columns)} FROM {warehouse.name(table.name)}")
            out[table.name] = sorted((tuple(r[c] for c in columns) for r in rows), key=repr)
        return out
    finally:
        warehouse.close()


def clean_reference(world: World, work_dir: Path) -> Contents:
    """One ``make aggregate`` over a copy of the world's store into a fresh warehouse: what the tables
    must hold."""
    reference = World(work_dir, lease_seconds=world.lease_seconds, pseudonym_salt=world.pseudonym_salt)
    work_dir.mkdir(parents=True, exist_ok=True)
    for stale in (reference.store_path, Path(reference.warehouse_url.removeprefix("duckdb:///"))):
        stale.unlink(missing_ok=True)
    source, target = sqlite3.connect(world.store_path), sqlite3.connect(reference.store_path)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    store = open_store(reference.store_url)
    try:
        for collection in COLLECTIONS:
            store.set_watermark(Watermark(collection.watermark, None))
    finally:
        store.close()
    # The copy may hold a lease a killed run left behind: the run waits for it to lapse.
    reference.aggregate_until_done()
    return contents(reference.warehouse_url)


def differences(got: Contents, want: Contents) -> dict[str, dict[str, int]]:
    """Per table that differs: rows only in the warehouse, rows only in the reference."""
    out: dict[str, dict[str, int]] = {}
    for name in sorted(set(got) | set(want)):
        have, need = Counter(got.get(name, [])), Counter(want.get(name, []))
        extra, missing = sum((have - need).values()), sum((need - have).values())
        if extra or missing:
            out[name] = {"extra_rows": extra, "missing_rows": missing}
    return out


def chunks(traffic: Traffic, n: int) -> list[Traffic]:
    """The day's requests in ``n`` consecutive slices (the order a provider sends them in)."""
    size = max(1, -(-len(traffic.requests) // n))
    return [
        replace(traffic, requests=traffic.requests[i : i + size])
        for i in range(0, len(traffic.requests), size)
    ]


# -- SIGKILL at random points -----------------------------------------------------------------------


@dataclass
class KillResult:
    kills: int = 0
    finished_before_kill: int = 0
    kill_times_s: list[float] = field(default_factory=list)
    busy_answers: int = 0
    busy_rounds: int = 0
    runs_completed: int = 0
    calibrated_run_s: float = 0.0
    requests_sent: int = 0
    rows_compared: dict[str, int] = field(default_factory=dict)
    differences: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def equal(self) -> bool:
        return not self.differences

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
    want = clean_reference(world, data_dir / "reference")
    result.rows_compared = {name: len(rows) for name, rows in want.items()}
    result.differences = differences(got, want)
    return result


# -- two runs at once ----------------------------------------------------------------------------------


@dataclass
class ConcurrentResult:
    rounds: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    rows_compared: dict[str, int] = field(default_factory=dict)
    differences: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def equal(self) -> bool:
        return not self.differences

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
    want = clean_reference(world, data_dir / "reference")
    result.rows_compared = {name: len(rows) for name, rows in want.items()}
    result.differences = differences(got, want)
    return result


# -- late events and clock skew --------------------------------------------------------------------------


@dataclass
class LateResult:
    base_days: list[str] = field(default_factory=list)
    late_sends: dict[str, int] = field(default_factory=dict)
    rejected_for_skew: int = 0
    skew_rejection_code: str = ""
    expected_days: list[str] = field(default_factory=list)
    restated_days: list[str] = field(default_factory=list)
    untouched_rows_rewritten: int = 0
    rows_compared: dict[str, int] = field(default_factory=dict)
    differences: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def equal(self) -> bool:
        return not self.differences

    def as_dict(self) -> dict[str, Any]:
        return {
            "base_days": self.base_days,
            "late_sends": self.late_sends,
            "rejected_for_clock_skew": self.rejected_for_skew,
            "skew_rejection_code": self.skew_rejection_code,
            "expected_days": self.expected_days,
            "restated_days": self.restated_days,
            "rows_of_other_days_rewritten": self.untouched_rows_rewritten,
            "rows_compared": self.rows_compared,
            "warehouse_equals_clean_run": self.equal,
            "differences": self.differences,
        }


def late_campaign(data_dir: Path, *, calls_per_day: int = 4, days: int = 5) -> LateResult:
    """Days of calls aggregated, then data arriving late or from skewed clocks:

    - a survey for a call two days back (hours to days late);
    - a whole call stamped three days back that arrives only now;
    - a call from a client whose clock runs 20 h ahead (inside the 24 h skew the API accepts);
    - a call stamped in a UTC-5 local time just before midnight (its UTC day is the next one);
    - an event stamped 30 h ahead (beyond the tolerance): rejected, kept as a failed event, no KPI day.

    The next run must restate exactly the days that data counts on, rewrite no other day's rows (their
    ``computed_at`` stays), and leave the warehouse equal to a clean run's.
    """
    result = LateResult()
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.date()
    with World(data_dir) as world:
        assert world.stack is not None
        key = world.provider_key("late")
        client = RetryingClient(world.stack.url("ingest"), key, Answers())

        def send_call(conversation_id: str, start: datetime, **kw: Any) -> datetime:
            conversation, events = handled_call(conversation_id, start, **kw)
            client.call("POST", "/v1/conversations", conversation)
            answer = client.call("POST", "/v1/events", events, expect=(200,))
            assert answer["accepted"] == len(events["events"]), answer
            return call_closed_at(start)

        try:
            for back in range(days, 0, -1):
                day_start = datetime.combine(today - timedelta(days=back), datetime.min.time(), UTC)
                for n in range(calls_per_day):
                    send_call(f"d{back}-{n}", day_start + timedelta(hours=8 + n), csat=4 if n % 2 else None)
                result.base_days.append((today - timedelta(days=back)).isoformat())
            world.aggregate_until_done()
            before = _kpi_rows(world.warehouse_url)

            expected: set[date] = set()
            # A survey for the first call two days back, arriving now.
            survey_day = today - timedelta(days=2)
            survey_at = datetime.combine(survey_day, datetime.min.time(), UTC) + timedelta(hours=9)
            survey = {
                "conversationId": "d2-0",
                "providerSessionId": "d2-0-s1",
                "events": [
                    {
                        "eventId": "d2-0-late-survey",
                        "kpiEventName": "SurveyAnswered",
                        "eventTimestamp": survey_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "customData": [{"attribute": "csat", "value": 5}],
                    }
                ],
            }
            assert client.call("POST", "/v1/events", survey, expect=(200,))["accepted"] == 1
            expected.add(survey_day)
            # A whole call from three days back.
            start = datetime.combine(today - timedelta(days=3), datetime.min.time(), UTC) + timedelta(
                hours=15
            )
            expected.add(send_call("late-3d", start, csat=2).date())
            # A client clock 20 h ahead.
            expected.add(send_call("ahead-20h", now + timedelta(hours=20)).date())
            # Local time UTC-5, 23:50 on the day before yesterday: 04:50Z the next UTC day.
            local = timezone(timedelta(hours=-5))
            start = datetime.combine(today - timedelta(days=2), datetime.min.time(), local) + timedelta(
                hours=23, minutes=50
            )
            expected.add(send_call("local-utc-5", start, zone=local).date())
            # A clock 30 h ahead: beyond the accepted skew.
            skewed = {
                "conversationId": "d1-0",
                "providerSessionId": "d1-0-s1",
                "events": [
                    {
                        "eventId": "skewed-30h",
                        "kpiEventName": "SessionInFocus",
                        "eventTimestamp": (now + timedelta(hours=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    }
                ],
            }
            answer = client.call("POST", "/v1/events", skewed, expect=(200,))
            result.rejected_for_skew = answer["rejected"]
            result.skew_rejection_code = answer["results"][0].get("error", {}).get("code", "")
            if answer["rejected"] != 1:
                raise CampaignFailed(f"an event 30 h ahead was not rejected: {answer}")
        finally:
            client.close()
        result.late_sends = {
            "late_survey": 1,
            "call_3_days_back": 1,
            "call_20h_ahead": 1,
            "call_in_utc-5": 1,
            "event_30h_ahead": 1,
        }
        result.expected_days = sorted(d.isoformat() for d in expected)
        run = world.aggregate_until_done()
        result.restated_days = list(run.report["days"])
        after = _kpi_rows(world.warehouse_url)
        got = contents(world.warehouse_url)
    kept = {r for r in before if r[0].isoformat() not in result.expected_days}
    now_other = {r for r in after if r[0].isoformat() not in result.expected_days}
    result.untouched_rows_rewritten = len(kept ^ now_other)
    want = clean_reference(world, data_dir / "reference")
    result.rows_compared = {name: len(rows) for name, rows in want.items()}
    result.differences = differences(got, want)
    return result


def _kpi_rows(warehouse_url: str) -> set[tuple[Any, ...]]:
    """``kpi_daily`` with ``computed_at``: a rewritten row shows up as a changed tuple."""
    warehouse = open_warehouse(warehouse_url)
    try:
        rows = warehouse.query(f"SELECT * FROM {warehouse.name('kpi_daily')}")
    finally:
        warehouse.close()
    return {tuple(r.values()) for r in rows}
