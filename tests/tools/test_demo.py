"""``make run`` end to end: the demo as a user runs it, its printed counts checked against the truth."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tests.tools.conftest import stack_processes
from tools.demo import Check, Tally, compare, number, reset
from tools.serve import ROOT
from tools.traffic import DEFAULT_SEED, generate_day

DAY = date(2026, 11, 22)
ROW = re.compile(
    r"^(?P<label>\S.*?|\s+\S.*?)\s{2,}(?P<expected>[\d,]+)\s{2,}(?P<server>[\d,]+)(?:\s+MISMATCH)?$"
)


def _expected_rows(conversations: int) -> dict[str, int]:
    truth = generate_day(conversations, DEFAULT_SEED, day=DAY).truth
    rows = {
        "conversations registered": truth.conversations,
        "conversation updates": truth.conversation_updates,
        "events sent": truth.events_sent,
        "accepted": truth.accepted,
        "duplicates": truth.duplicates,
        "rejected": sum(truth.rejected.values()),
        "activities created": truth.activities_created,
        "activities updated": truth.activities_updated,
        "failed events listed": sum(truth.failed_events.values()),
    }
    rows.update({f"  {code}": n for code, n in truth.failed_events.items()})
    return rows


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="process checks read /proc (Linux)")
def test_make_run_sends_a_day_over_http_and_every_count_matches_the_ground_truth(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANALYTICS_")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.demo",
            "--conversations",
            "30",
            "--day",
            DAY.isoformat(),
            *("--data-dir", str(tmp_path), "--workers", "2"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "check: OK" in out
    printed = {m["label"]: (m["expected"], m["server"]) for m in map(ROW.match, out.splitlines()) if m}
    for label, expected in _expected_rows(30).items():
        assert label in printed, f"{label!r} missing from:\n{out}"
        assert printed[label] == (f"{expected:,}", f"{expected:,}"), label
    assert "MISMATCH" not in out
    assert "registered provider demo-contact-center" in out
    assert stack_processes(str(tmp_path)) == []
    assert (tmp_path / "store.sqlite3").is_file()
    if (ROOT / "functions" / "aggregate" / "main.py").is_file():
        _check_kpi_table(out, tmp_path)
    else:
        assert "aggregation: skipped" in out


def _check_kpi_table(out: str, data_dir: Path) -> None:
    """The KPI table is the warehouse's, and its numbers are the generated day's."""
    written = re.search(r"wrote ([\d,]+) KPI rows for (\S+)", out)
    assert written and int(written[1].replace(",", "")) > 0, out
    assert written[2].rstrip(",") == DAY.isoformat()
    totals = dict(re.findall(r"^(\w+)\s{2,}(\S+)\s{2,}\S+\s{2,}\S+\s{2,}\w+$", out, re.M))
    traffic = generate_day(30, DEFAULT_SEED, day=DAY)
    closed = Counter()
    for request in traffic.requests:
        conv = request.body.get("conversation", {})
        if "closedTimestamp" in conv and not request.retry:
            closed_day = datetime.fromisoformat(conv["closedTimestamp"]).astimezone(UTC).date()
            closed[conv["direction"], closed_day] += 1
    # Outgoing conversations count on the day they closed.
    assert totals["outgoing_conversations"] == str(closed["outbound", DAY]), out
    assert "by queue and agent" in out
    assert (data_dir / "warehouse.duckdb").is_file()
    # The supervisor outputs: the dashboard page, the report e-mail of the day, the alerts file.
    page = (data_dir / "dashboard.html").read_text(encoding="utf-8")
    assert (
        "demo-contact-center" in page and "vegaEmbed" in page and "cdn." not in page.split("<script>", 1)[0]
    )
    [mail] = list((data_dir / "outbox").glob("*.eml"))
    assert f"Daily report {DAY.isoformat()}" in mail.read_text(encoding="utf-8")
    assert f"daily report of {DAY.isoformat()}: 1 e-mail(s) sent" in out
    assert re.search(r"KPI breach alerts: \d+ opened, \d+ published", out)


def test_a_count_off_by_one_is_a_mismatch() -> None:
    truth = generate_day(10, DEFAULT_SEED, day=DAY).truth
    tally = Tally(
        conversations=truth.conversations,
        conversation_updates=truth.conversation_updates,
        events_sent=truth.events_sent,
        accepted=truth.accepted,
        duplicates=truth.duplicates,
        rejected=Counter(truth.rejected),
        activities_sent=truth.activities_sent,
        activities_created=truth.activities_created,
        activities_updated=truth.activities_updated,
        activities_rejected=Counter(truth.activities_rejected),
        failed_events=Counter(truth.failed_events),
    )
    assert all(c.ok for c in compare(truth, tally))
    tally.duplicates += 1
    tally.failed_events["unknown_event"] -= 1
    off = [c for c in compare(truth, tally) if not c.ok]
    assert off == [
        Check("duplicates", truth.duplicates, truth.duplicates + 1),
        Check(
            "failed events listed", sum(truth.failed_events.values()), sum(truth.failed_events.values()) - 1
        ),
        Check(
            "  unknown_event", truth.failed_events["unknown_event"], truth.failed_events["unknown_event"] - 1
        ),
    ]


def test_a_run_starts_from_a_clean_state_but_keeps_the_admin_token(tmp_path) -> None:
    for name in ("store.sqlite3", "store.sqlite3-wal", "warehouse.duckdb", "admin_token", "logs/ingest.log"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("old")
    reset(tmp_path)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["admin_token"]


def test_numbers_read_the_way_their_unit_says() -> None:
    assert number(1234.0, "count") == "1,234"
    assert number(0.05882, "ratio") == "0.059"
    assert number(332.47, "seconds") == "332.5"
    assert number(None, "ratio") == "-"
