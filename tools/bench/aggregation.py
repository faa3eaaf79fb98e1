"""Aggregation end to end on the embedded stack (SQLite store, DuckDB warehouse), next to its floor.

For each size: seed a fresh store (``dataset.py``), run one full aggregation in its own process
(``aggregation_run.py``: extraction, staging, the transaction with facts, every KPI and the replace,
then the watermarks) and time the GROUP BY floor on the warehouse it wrote; then add 1% new events on
the newest day of every provider and time the incremental run that follows. Full runs are repeated on
fresh copies of the seeded store; the figures are medians.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tools.bench.dataset import Seeded, Template, add_late, build_template, seed
from tools.bench.report import Section, ratio, verdict
from tools.bench.stats import median
from tools.serve import ROOT

GOAL_10M_S = 30.0
GOAL_RSS_MIB = 2048.0


@dataclass(frozen=True)
class SizeResult:
    requested: int
    seeded: Seeded
    total_s: float
    extract_s: float
    transaction_s: float
    peak_rss_mib: float
    floor_s: float
    kpi_rows: int
    incremental_events: int
    incremental_s: float
    incremental_rss_mib: float
    runs: int


def _child(store: Path, warehouse: Path, floor: int = 0) -> dict[str, Any]:
    command = [sys.executable, "-m", "tools.bench.aggregation_run", str(store), str(warehouse)]
    if floor:
        command += ["--floor", str(floor)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the aggregation run failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _copy_store(source: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")


def measure_size(template: Template, events: int, repetitions: int, progress: Any = print) -> SizeResult:
    with tempfile.TemporaryDirectory(prefix="bench-aggregate-") as tmp:
        workdir = Path(tmp)
        pristine = workdir / "seeded.sqlite3"
        seeded = seed(pristine, template, events, datetime.now(UTC).date())
        progress(
            f"  aggregation {events:>10,}: seeded {seeded.events:,} events, {seeded.conversations:,} conversations"
        )
        runs = []
        for r in range(repetitions):
            store, warehouse = workdir / f"store{r}.sqlite3", workdir / f"warehouse{r}.duckdb"
            _copy_store(pristine, store)
            runs.append(_child(store, warehouse, floor=5))
            progress(f"  aggregation {events:>10,}: full run {r + 1}: {runs[-1]['total_s']:.1f} s")
            if r < repetitions - 1:
                for leftover in workdir.glob(f"*{r}.*"):
                    leftover.unlink()
        # The incremental run continues on the last repetition's store and warehouse.
        added = add_late(store, template, max(1, seeded.events // 100), seeded, datetime.now(UTC))
        incremental = _child(store, warehouse)
        progress(
            f"  aggregation {events:>10,}: incremental +{added:,} events: {incremental['total_s']:.1f} s"
        )
    return SizeResult(
        requested=events,
        seeded=seeded,
        total_s=median([r["total_s"] for r in runs]),
        extract_s=median([r["extract_s"] for r in runs]),
        transaction_s=median([r["transaction_s"] for r in runs]),
        peak_rss_mib=median([r["peak_rss_mib"] for r in runs]),
        floor_s=median([r["floor_s"] for r in runs]),
        kpi_rows=int(runs[-1]["report"]["kpi_rows_written"]),
        incremental_events=added,
        incremental_s=incremental["total_s"],
        incremental_rss_mib=incremental["peak_rss_mib"],
        runs=repetitions,
    )


def measure(
    sizes: list[int], repetitions: int, template_conversations: int, progress: Any = print
) -> list[SizeResult]:
    template = build_template(template_conversations)
    progress(
        f"  aggregation template: {len(template.events):,} events, {len(template.conversations):,} conversations"
    )
    return [measure_size(template, n, repetitions, progress) for n in sizes]


def sections(results: list[SizeResult]) -> list[Section]:
    table = Section(
        "Aggregation end to end (SQLite store → DuckDB warehouse)",
        [
            "events",
            "runs",
            "full run s",
            "extract + stage s",
            "in-warehouse s",
            "floor: GROUP BY s",
            "ratio",
            "peak RSS MiB",
            "incremental (+1%) s",
            "ratio to full",
            "goal",
            "met?",
        ],
    )
    for r in results:
        goals, met = [], []
        goals.append("in-warehouse ≤ 3× floor")
        met.append(r.transaction_s <= 3 * r.floor_s)
        goals.append("incremental ≤ 0.10 of full")
        met.append(r.incremental_s <= 0.10 * r.total_s)
        goals.append(f"peak ≤ {GOAL_RSS_MIB:,.0f} MiB")
        met.append(r.peak_rss_mib <= GOAL_RSS_MIB)
        if r.seeded.events >= 10_000_000:
            goals.append(f"≤ {GOAL_10M_S:.0f} s")
            met.append(r.total_s <= GOAL_10M_S)
        table.rows.append(
            [
                f"{r.seeded.events:,}",
                str(r.runs),
                f"{r.total_s:.1f}",
                f"{r.extract_s:.1f}",
                f"{r.transaction_s:.2f}",
                f"{r.floor_s:.3f}",
                ratio(r.transaction_s, r.floor_s),
                f"{r.peak_rss_mib:,.0f}",
                f"{r.incremental_s:.1f} (+{r.incremental_events:,})",
                ratio(r.incremental_s, r.total_s),
                "; ".join(goals),
                verdict(all(met))
                + (
                    ""
                    if all(met)
                    else " (" + ", ".join(g for g, ok in zip(goals, met, strict=True) if not ok) + ")"
                ),
            ]
        )
    table.notes.append(
        "full runs: the median of `runs`, each on a fresh copy of the seeded store; floor: "
        "`SELECT provider_id, CAST(event_ts AS DATE), name, COUNT(*) FROM raw_events GROUP BY ...` on "
        "the warehouse the run wrote, median of 5; in-warehouse = the one transaction (facts, every KPI, "
        "replace) and its commit"
    )
    if len(results) >= 2:
        first, last = results[0], results[-1]
        scale = last.seeded.events / first.seeded.events
        table.notes.append(
            f"growth from {first.seeded.events:,} to {last.seeded.events:,} events (×{scale:.1f}): full run "
            f"×{last.total_s / first.total_s:.1f}, extraction ×{last.extract_s / first.extract_s:.1f}, "
            f"in-warehouse ×{last.transaction_s / first.transaction_s:.1f} (linear would be ×{scale:.1f})"
        )
    dataset = results[0].seeded if results else None
    if dataset is not None:
        table.notes.append(
            f"data: a generated day (contact center and chatbot, retries, out-of-order sends) ingested "
            f"through the product's services, replicated over {dataset.providers} providers and "
            f"consecutive days; incremental = whole new conversations on each provider's newest day"
        )
    return [table]
