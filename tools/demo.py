"""``make run``: the whole main job on the embedded defaults, end to end, over HTTP.

From a clean data directory: start the local stack, register the demo provider and switch its
analytics on, subscribe a supervisor to its daily report and set a KPI breach threshold, send a
generated day (or ``--days N``) of traffic (``tools.traffic``), check every count the server
answered against the generator's ground truth, run the aggregation (which evaluates the threshold),
send the daily report e-mail (``.local/outbox/``), print the KPI table read back from the DuckDB
warehouse, write the sample dashboard (``.local/dashboard.html``) and stop everything it started.
Exits non-zero when a count is off.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import requests

from shared.kpi.catalog import CATALOG
from tools import expected
from tools.dashboard import write_dashboard
from tools.serve import DEFAULT_DATA_DIR, LocalStack, StackError, interrupts_as_keyboard_interrupt
from tools.traffic import (
    DEFAULT_CONVERSATIONS,
    DEFAULT_PROVIDER,
    DEFAULT_SEED,
    ApiRequest,
    GroundTruth,
    Traffic,
    combined,
    generate_days,
    split_events,
)

PROVIDER_NAME = "Demo Contact Center"
MAX_ATTEMPTS = 6  # per request, for 429/503 answers that carry Retry-After
MAX_RETRY_WAIT_S = 10.0
# Session KPIs shown per queue and agent: who was offered what, and how it went.
SLICE_KPIS = (
    "incoming_sessions",
    "sessions_engaged",
    "sessions_rejected",
    "sessions_timed_out",
    "avg_session_time_to_accept_s",
    "avg_session_handle_time_s",
)
SLICE_ROWS = 12
SUPERVISOR = "supervisor@example.com"
# Breach rules a supervisor would set: more than 8 % of a queue's incoming conversations abandoned
# (on at least 5 of them), and the average speed to answer above 40 s.
THRESHOLDS = (
    {"kpi": "abandon_rate", "operator": ">", "value": 0.08, "slice": {"queueId": "*"}, "minDenominator": 5},
    {"kpi": "avg_speed_to_answer_s", "operator": ">", "value": 40},
)


class DemoError(RuntimeError):
    """The demo cannot go on: a call failed in a way a retry does not fix."""


class Client:
    """One keep-alive HTTP session to one function, with the bounded retry a provider should have:
    ``503``/``429`` with ``Retry-After`` are repeated (the API says the same request is safe to repeat)."""

    def __init__(self, http: requests.Session, base_url: str, token: str):
        self.http = http
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {token}"}
        self.retries = 0

    def call(
        self, method: str, path: str, body: Any = None, expect: Iterable[int] = (200, 201)
    ) -> requests.Response:
        expected = tuple(expect)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            answer = self.http.request(
                method, self.base_url + path, json=body, headers=self.headers, timeout=60
            )
            if answer.status_code in (429, 503) and attempt < MAX_ATTEMPTS:
                self.retries += 1
                time.sleep(_retry_after(answer))
                continue
            if answer.status_code not in expected:
                raise DemoError(f"{method} {path} answered {answer.status_code}: {_error_text(answer)}")
            return answer
        raise AssertionError("unreachable: the last attempt returns or raises")


def _retry_after(answer: requests.Response) -> float:
    try:
        wait = float(answer.headers.get("Retry-After", "1"))
    except ValueError:
        wait = 1.0
    return min(max(wait, 0.1), MAX_RETRY_WAIT_S)


def _error_text(answer: requests.Response) -> str:
    try:
        error = answer.json()["error"]
        return f"{error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        return answer.text[:300]


@dataclass
class Tally:
    """What the server answered, summed the same way as ``GroundTruth``."""

    requests: Counter[str] = field(default_factory=Counter)
    conversations: int = 0
    conversation_updates: int = 0
    events_sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    activities_sent: int = 0
    activities_created: int = 0
    activities_updated: int = 0
    activities_rejected: Counter[str] = field(default_factory=Counter)
    failed_events: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    finished_at: float = 0.0  # time.monotonic() of the last answer

    def add(self, other: Tally) -> None:
        """Sum another stream's answers into this one."""
        for name in ("conversations", "conversation_updates", "events_sent", "accepted", "duplicates"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("activities_sent", "activities_created", "activities_updated"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("requests", "rejected", "activities_rejected", "failed_events"):
            getattr(self, name).update(getattr(other, name))


def conversation_of(request: ApiRequest) -> str:
    """The conversation a request belongs to (activities form a stream of their own)."""
    if request.kind == "conversation":
        return str(request.body["conversation"]["conversationId"])
    if request.kind == "events":
        return str(request.body["conversationId"])
    return ""


def send_traffic(base_url: str, api_key: str, traffic: Traffic, workers: int = 4) -> tuple[Tally, int]:
    """Every request of the day, over ``workers`` keep-alive sessions. Each conversation stays on one
    session in the generated order, so its retries and out-of-order sends happen exactly as planned.
    Returns the tally and how many answers asked to retry later (503/429)."""
    streams: list[list[ApiRequest]] = [[] for _ in range(workers)]
    for request in traffic.requests:
        streams[zlib.crc32(conversation_of(request).encode()) % workers].append(request)
    tallies = [Tally() for _ in streams]
    clients: list[Client] = []
    started = time.perf_counter()
    with ExitStack() as cleanup, ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in streams:
            http = cleanup.enter_context(requests.Session())
            clients.append(Client(http, base_url, api_key))
        # list() re-raises the first failure of any stream.
        list(pool.map(_send_stream, clients, streams, tallies))
    total = Tally()
    for tally in tallies:
        total.add(tally)
    total.seconds = time.perf_counter() - started
    total.finished_at = time.monotonic()
    return total, sum(c.retries for c in clients)


def _send_stream(ingest: Client, stream: list[ApiRequest], tally: Tally) -> None:
    for request in stream:
        if request.kind == "conversation":
            answer = ingest.call("POST", request.path, request.body)
            tally.requests[request.path] += 1
            if answer.status_code == 201:
                tally.conversations += 1
            else:
                tally.conversation_updates += 1
        elif request.kind == "events":
            for body in split_events(request.body):
                result = ingest.call("POST", request.path, body, expect=(200,)).json()
                tally.requests[request.path] += 1
                tally.events_sent += len(body["events"])
                tally.accepted += result["accepted"]
                tally.duplicates += result["duplicates"]
                tally.rejected.update(
                    r["error"]["code"] for r in result["results"] if r["status"] == "rejected"
                )
        else:
            result = ingest.call("POST", request.path, request.body, expect=(200,)).json()
            tally.requests[request.path] += 1
            tally.activities_sent += len(request.body["activities"])
            tally.activities_created += result["created"]
            tally.activities_updated += result["updated"]
            tally.activities_rejected.update(
                r["error"]["code"] for r in result["results"] if r["status"] == "rejected"
            )


def failed_events(operator: Client, provider_id: str) -> Counter[str]:
    """Open failed events by code, as the operator endpoint lists them (every page)."""
    counts: Counter[str] = Counter()
    cursor: str | None = None
    while True:
        query = f"?status=open&limit=500{f'&cursor={cursor}' if cursor else ''}"
        page = operator.call("GET", f"/v1/providers/{provider_id}/failed-events{query}", expect=(200,)).json()
        counts.update(item["code"] for item in page["items"])
        cursor = page["nextCursor"]
        if not cursor:
            return counts


@dataclass(frozen=True)
class Check:
    label: str
    expected: int
    server: int

    @property
    def ok(self) -> bool:
        return self.expected == self.server


def compare(truth: GroundTruth, tally: Tally) -> list[Check]:
    """Every count the server answered, beside what the generator says it must be."""
    checks = [
        Check("conversations registered", truth.conversations, tally.conversations),
        Check("conversation updates", truth.conversation_updates, tally.conversation_updates),
        Check("events sent", truth.events_sent, tally.events_sent),
        Check("accepted", truth.accepted, tally.accepted),
        Check("duplicates", truth.duplicates, tally.duplicates),
        Check("rejected", sum(truth.rejected.values()), sum(tally.rejected.values())),
    ]
    checks += _by_code("  ", truth.rejected, tally.rejected)
    checks += [
        Check("activities sent", truth.activities_sent, tally.activities_sent),
        Check("activities created", truth.activities_created, tally.activities_created),
        Check("activities updated", truth.activities_updated, tally.activities_updated),
        Check(
            "activities rejected",
            sum(truth.activities_rejected.values()),
            sum(tally.activities_rejected.values()),
        ),
    ]
    checks += _by_code("  ", truth.activities_rejected, tally.activities_rejected)
    checks.append(
        Check("failed events listed", sum(truth.failed_events.values()), sum(tally.failed_events.values()))
    )
    checks += _by_code("  ", truth.failed_events, tally.failed_events)
    return checks


def _by_code(indent: str, expected: Counter[str], server: Counter[str]) -> list[Check]:
    return [
        Check(f"{indent}{code}", expected[code], server[code]) for code in sorted(set(expected) | set(server))
    ]


def aggregate(scheduler: Client, attempts: int = 10) -> dict[str, Any]:
    """One aggregation run, as Cloud Scheduler triggers it. ``busy`` means another run holds the lease
    (it will pick everything up); the demo waits for it so that its own run sees all the day."""
    for _ in range(attempts):
        report: dict[str, Any] = scheduler.call("POST", "/", expect=(200,)).json()
        if report["status"] == "ok":
            return report
        time.sleep(1.0)
    raise DemoError(f"the aggregation stayed busy for {attempts} attempts")


# -- the warehouse ------------------------------------------------------------------------------------


def read_kpis(
    warehouse: Path, provider_id: str, day: date
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(provider totals, the queue x agent slice) of ``day``, read the way a BI tool would."""
    with contextlib.closing(duckdb.connect(str(warehouse), read_only=True)) as db:
        # The contact-center families here; the chatbot's have a table of their own.
        contact_center = [k.name for k in CATALOG if k.family in ("conversation", "session")]
        totals = db.execute(
            "SELECT kpi, value, numerator, denominator, unit FROM kpi_provider_daily "
            f"WHERE provider_id = ? AND day = ? AND kpi IN ({', '.join('?' for _ in contact_center)}) ORDER BY kpi",
            [provider_id, day, *contact_center],
        ).fetchall()
        placeholders = ", ".join("?" for _ in SLICE_KPIS)
        # '(none)' marks sessions without a queue or agent (a bot leg): not a queue x agent cell.
        sliced = db.execute(
            "SELECT queue_id, agent_id, kpi, value, unit FROM kpi_daily "
            "WHERE provider_id = ? AND day = ? AND queue_id IS NOT NULL AND agent_id IS NOT NULL "
            "AND queue_id <> '(none)' AND agent_id <> '(none)' "
            f"AND channel IS NULL AND experience_id IS NULL AND kpi IN ({placeholders}) "
            "ORDER BY queue_id, agent_id, kpi",
            [provider_id, day, *SLICE_KPIS],
        ).fetchall()
    return totals, sliced


def read_chatbot(warehouse: Path, provider_id: str) -> dict[tuple[date, str | None, str], float]:
    """The checked chatbot KPIs of every day, per experience and in total, from ``kpi_daily``."""
    placeholders = ", ".join("?" for _ in expected.CHECKED)
    with contextlib.closing(duckdb.connect(str(warehouse), read_only=True)) as db:
        rows = db.execute(
            "SELECT day, experience_id, kpi, value FROM kpi_daily WHERE provider_id = ? "
            f"AND channel IS NULL AND queue_id IS NULL AND agent_id IS NULL AND kpi IN ({placeholders})",
            [provider_id, *expected.CHECKED],
        ).fetchall()
    return {(day, experience, kpi): value for day, experience, kpi, value in rows}


def chatbot_checks(truth: GroundTruth, got: dict[tuple[date, str | None, str], float]) -> list[str]:
    """Every checked chatbot KPI the warehouse and the ground truth disagree on (0 when absent)."""
    want = expected.chatbot(truth)
    return [
        f"{day} {experience or 'all'} {kpi}: expected {want.get(key, 0):g}, warehouse {got.get(key, 0):g}"
        for key in sorted(set(want) | set(got), key=repr)
        for day, experience, kpi in [key]
        if want.get(key, 0) != got.get(key, 0)
    ]


RELATIONSHIP_COLUMNS = (
    "regarding_type",
    "regarding_id",
    "emails_sent",
    "emails_received",
    "meetings_by_us",
    "meetings_by_customer",
    "calls_by_us",
    "calls_by_customer",
    "email_ratio_us",
    "response_time_us_s",
    "response_time_customer_s",
    "hours_us",
    "hours_customer",
    "health_score",
    "health_band",
    "health_trend",
    "next_interaction_ts",
)


def read_relationships(warehouse: Path, provider_id: str) -> list[dict[str, Any]]:
    """Today's relationship snapshot of every record, the way a CRM's BI tool reads it."""
    with contextlib.closing(duckdb.connect(str(warehouse), read_only=True)) as db:
        relation = db.sql(
            f"SELECT {', '.join(RELATIONSHIP_COLUMNS)} FROM relationship_snapshot WHERE provider_id = $provider "
            "AND snapshot_day = (SELECT MAX(snapshot_day) FROM relationship_snapshot) "
            "ORDER BY regarding_type, regarding_id",
            params={"provider": provider_id},
        )
        return relation.to_arrow_table().to_pylist()


def relationship_checks(truth: GroundTruth, rows: list[dict[str, Any]], today: date) -> list[str]:
    want = expected.relationships(truth, today)
    problems = []
    got = {r["regarding_id"]: r for r in rows}
    for record, values in sorted(want.items()):
        row = got.get(record)
        if row is None:
            problems.append(f"{record}: no snapshot")
            continue
        for column, value in values.items():
            if abs((row[column] or 0) - value) > 1e-9:
                problems.append(f"{record} {column}: expected {value:g}, warehouse {row[column]}")
    return problems


def number(value: Any, unit: str | None = None) -> str:
    """Counts as integers, ratios with three decimals, seconds and scores with one."""
    if value is None:
        return "-"
    value = float(value)
    if unit == "ratio":
        return f"{value:.3f}"
    if unit in ("seconds", "score", "minutes") or value != int(value):
        return f"{value:,.1f}"
    return f"{int(value):,}"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], numeric_from: int = 1) -> str:
    """A plain aligned table: text left, numbers right."""
    rows = [list(map(str, r)) for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i >= numeric_from else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def pivot(sliced: list[tuple[Any, ...]]) -> tuple[list[str], list[list[str]]]:
    """Queue x agent rows with one column per KPI of ``SLICE_KPIS`` that the warehouse holds."""
    present = [k for k in SLICE_KPIS if any(row[2] == k for row in sliced)]
    units = {row[2]: row[4] for row in sliced}
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    for queue, agent, kpi, value, _ in sliced:
        cells.setdefault((queue, agent), {})[kpi] = value
    rows = [[q, a, *(number(values.get(k), units[k]) for k in present)] for (q, a), values in cells.items()]
    return ["queue", "agent", *present], rows


# -- the run ------------------------------------------------------------------------------------------


def reset(data_dir: Path) -> None:
    """A clean state: no store, warehouse or logs of an earlier run (the admin token file stays)."""
    for name in (
        "store.sqlite3",
        "store.sqlite3-wal",
        "store.sqlite3-shm",
        "warehouse.duckdb",
        "warehouse.duckdb.wal",
        "alerts.jsonl",
        "dashboard.html",
    ):
        (data_dir / name).unlink(missing_ok=True)
    for log in (data_dir / "logs").glob("*.log"):
        log.unlink()
    for mail in (data_dir / "outbox").glob("*.eml"):
        mail.unlink()


def run(args: argparse.Namespace) -> int:
    data_dir: Path = args.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    reset(data_dir)
    store, warehouse = data_dir / "store.sqlite3", data_dir / "warehouse.duckdb"
    days = generate_days(args.conversations, args.seed, args.days, end=args.day, provider_id=DEFAULT_PROVIDER)
    traffic, first = days[-1], days[0].day
    truth = combined([t.truth for t in days])
    span = f"day {traffic.day}" if len(days) == 1 else f"{len(days)} days {first} to {traffic.day}"
    print(f"Channel Analytics demo: provider {traffic.provider_id}, {span} (seed {traffic.seed})")
    print(
        f"generated {sum(len(t.requests) for t in days):,} requests: "
        f"{args.conversations * len(days):,} contact-center conversations, "
        f"{truth.channels['chatbot/inbound']:,} chatbot visits, {truth.activities_sent:,} activities"
    )
    stack = LocalStack(
        data_dir=data_dir,
        ports=dict.fromkeys(("ingest", "providers", "aggregate", "report"), 0),
        store_url=f"sqlite:///{store}",
        warehouse_url=f"duckdb:///{warehouse}",
        echo=sys.stderr,
    )
    with stack, requests.Session() as http:
        print("local stack: " + "  ".join(f"{name} {url}" for name, url in stack.urls.items()))
        operator = Client(http, stack.url("providers"), stack.admin_token)
        created = operator.call(
            "POST", "/v1/providers", {"providerId": traffic.provider_id, "name": PROVIDER_NAME}, expect=(201,)
        ).json()
        operator.call(
            "PATCH", f"/v1/providers/{traffic.provider_id}", {"enableAnalytics": True}, expect=(200,)
        )
        print(f"registered provider {traffic.provider_id} (key {created['keyId']}); analytics switched on")
        outputs = f"/v1/providers/{traffic.provider_id}"
        operator.call("POST", f"{outputs}/report-subscriptions", {"email": SUPERVISOR}, expect=(201,))
        for threshold in THRESHOLDS:
            operator.call("POST", f"{outputs}/alert-thresholds", threshold, expect=(201,))
        print(f"subscribed {SUPERVISOR} to the daily report; {len(THRESHOLDS)} KPI breach thresholds set")

        tally, retried = Tally(), 0
        for day in days:
            sent_day, retried_day = send_traffic(stack.url("ingest"), created["apiKey"], day, args.workers)
            tally.add(sent_day)
            tally.seconds += sent_day.seconds
            tally.finished_at = sent_day.finished_at
            retried += retried_day
        tally.failed_events = failed_events(operator, traffic.provider_id)
        sent = sum(tally.requests.values())
        print(
            f"sent {sent:,} requests in {tally.seconds:.1f} s ({sent / max(tally.seconds, 1e-9):,.0f}/s): "
            + ", ".join(f"{n:,} x POST {path}" for path, n in sorted(tally.requests.items()))
            + (f"; {retried} answers said retry later (503/429), retried" if retried else "")
        )
        print(
            f"on purpose: {truth.retried_requests} requests retried whole, {truth.out_of_order_events:,} events "
            f"sent before their conversation or session, {truth.events_without_id:,} events without eventId"
        )
        checks = compare(truth, tally)
        print()
        print(
            table(
                ["", "expected", "server", ""],
                [[c.label, f"{c.expected:,}", f"{c.server:,}", "" if c.ok else "MISMATCH"] for c in checks],
            )
        )
        print()
        if not all(c.ok for c in checks):
            print("check: MISMATCH - the server's counts differ from the generator's ground truth")
            return 1
        print("check: OK - every count matches the generator's ground truth")

        aggregated = "aggregate" in stack.functions
        if aggregated:
            # The aggregation reads only records older than its lag (ANALYTICS_AGGREGATE_LAG_SECONDS), so
            # that a write still committing is read by the next run: give the last writes that long.
            from shared.aggregate.settings import aggregate_settings

            settle = aggregate_settings().lag_seconds + 0.5 - (time.monotonic() - tally.finished_at)
            if settle > 0:
                print(f"waiting {settle:.1f} s for the aggregation lag to cover the last writes")
                time.sleep(settle)
            report = aggregate(Client(http, stack.url("aggregate"), stack.admin_token))
            print(
                f"aggregation: read {sum(report['read'].values()):,} records, wrote {report['kpiRowsWritten']:,} "
                f"KPI rows for {', '.join(report['days']) or 'no day'} in {report['durationMs'] / 1000:.1f} s"
            )
            alerts = report.get("alerts") or {}
            print(
                f"KPI breach alerts: {alerts.get('opened', 0)} opened, {alerts.get('sent', 0)} published "
                f"to {_shown(Path(stack.alerts_url.removeprefix('file://')))}"
            )
            if "report" in stack.functions:
                mailed = (
                    Client(http, stack.url("report"), stack.admin_token)
                    .call("POST", "/", {"day": traffic.day.isoformat()}, expect=(200,))
                    .json()
                )
                print(
                    f"daily report of {mailed['day']}: {mailed['sent']} e-mail(s) sent to "
                    f"{_shown(Path(stack.mailer_url.removeprefix('file://')))}"
                )
    # The warehouse is read after the stack has stopped: nothing else has the DuckDB file open.
    if aggregated:
        totals, sliced = read_kpis(warehouse, traffic.provider_id, traffic.day)
        print()
        print(f"contact-center KPIs of {traffic.day}, provider totals (kpi_provider_daily):")
        print(
            table(
                ["kpi", "value", "numerator", "denominator", "unit"],
                [[k, number(v, u), number(n), number(d), u or ""] for k, v, n, d, u in totals],
                numeric_from=1,
            )
        )
        headers, rows = pivot(sliced)
        print()
        print(f"by queue and agent (kpi_daily), first {min(SLICE_ROWS, len(rows))} of {len(rows)}:")
        print(table(headers, rows[:SLICE_ROWS], numeric_from=2))
        print_chatbot(warehouse, traffic, truth)
        print_relationships(warehouse, traffic, truth)
        page = write_dashboard(
            f"duckdb:///{warehouse}", traffic.provider_id, first, traffic.day, data_dir / "dashboard.html"
        )
        print()
        print(
            f"sample dashboard ({first} to {traffic.day}): open {_shown(page)} in a browser (works offline)"
        )
    else:
        print("aggregation: skipped, this checkout has no functions/aggregate/main.py")
    print()
    print(f"files: store {_shown(store)}, warehouse {_shown(warehouse)}, logs {_shown(data_dir / 'logs')}")
    print("query it with any DuckDB client, read-only, e.g.:")
    print(f"  duckdb -readonly {_shown(warehouse)} 'SELECT * FROM kpi_provider_daily'")
    print(
        f"  .venv/bin/python -c \"import duckdb; duckdb.connect('{_shown(warehouse)}', read_only=True)"
        ".sql('SELECT * FROM kpi_provider_daily').show()\""
    )
    print("everything the demo started has stopped")
    return 0


def print_chatbot(warehouse: Path, traffic: Traffic, truth: GroundTruth) -> None:
    """The chatbot KPIs of the last day per experience, and the check of every day against the truth."""
    got = read_chatbot(warehouse, traffic.provider_id)
    experiences = sorted({e for (d, e, _) in got if d == traffic.day and e is not None})
    rows = [
        [kpi, *(number(got.get((traffic.day, e, kpi))) for e in (None, *experiences))]
        for kpi in expected.CHECKED
        if any(got.get((traffic.day, e, kpi)) for e in (None, *experiences))
    ]
    print()
    print(f"chatbot KPIs of {traffic.day} (kpi_daily, sliced by experience_id):")
    print(table(["kpi", "all", *experiences], rows))
    problems = chatbot_checks(truth, got)
    if problems:
        raise DemoError(
            "chatbot KPIs differ from the generator's ground truth:\n  " + "\n  ".join(problems[:20])
        )
    print(
        f"check: OK - {len(expected.CHECKED)} chatbot KPIs of every day and experience match the ground truth"
    )


def print_relationships(warehouse: Path, traffic: Traffic, truth: GroundTruth) -> None:
    """Today's snapshot of each CRM record, and the check of its counts and hours against the truth."""
    rows = read_relationships(warehouse, traffic.provider_id)
    print()
    print("relationship snapshots of today (relationship_snapshot, 90-day window):")
    print(
        table(
            [
                "record",
                "e-mails out/in",
                "meetings us/them",
                "calls us/them",
                "ratio us",
                "reply us/them (h)",
                "hours us/them",
                "health",
                "next",
            ],
            [
                [
                    f"{r['regarding_type']} {r['regarding_id']}",
                    f"{r['emails_sent']}/{r['emails_received']}",
                    f"{r['meetings_by_us']}/{r['meetings_by_customer']}",
                    f"{r['calls_by_us']}/{r['calls_by_customer']}",
                    number(r["email_ratio_us"], "ratio"),
                    "/".join(
                        "-" if v is None else f"{v / 3600:.1f}"
                        for v in (r["response_time_us_s"], r["response_time_customer_s"])
                    ),
                    f"{r['hours_us']:.1f}/{r['hours_customer']:.1f}",
                    f"{r['health_score']} {r['health_band']} {r['health_trend']}",
                    "-" if r["next_interaction_ts"] is None else f"{r['next_interaction_ts']:%Y-%m-%d %H:%M}",
                ]
                for r in rows
            ],
        )
    )
    problems = relationship_checks(truth, rows, datetime.now(UTC).date())
    if problems:
        raise DemoError(
            "relationship snapshots differ from the ground truth:\n  " + "\n  ".join(problems[:20])
        )
    print(f"check: OK - the counts and hours of {len(rows)} records match the ground truth")


def _shown(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.relative_to(Path.cwd()))
    return str(path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=DEFAULT_CONVERSATIONS, help="per day")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--days", type=int, default=1, help="days of traffic, ending with --day (default 1)")
    parser.add_argument(
        "--day", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: yesterday, UTC)"
    )
    parser.add_argument("--workers", type=int, default=4, help="concurrent HTTP sessions (default 4)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="default .local")
    args = parser.parse_args(argv)
    if args.conversations < 1:
        parser.error("--conversations must be at least 1")
    if args.days < 1:
        parser.error("--days must be at least 1")
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    with interrupts_as_keyboard_interrupt():
        try:
            return run(args)
        except KeyboardInterrupt:
            print("\ninterrupted; everything the demo started has stopped", file=sys.stderr)
            return 130
        except (DemoError, StackError, requests.RequestException) as exc:
            print(f"make run: {exc}", file=sys.stderr)
            return 1


if __name__ == "__main__":
    sys.exit(main())
