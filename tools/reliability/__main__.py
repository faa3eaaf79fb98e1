"""``make reliability``: every fault campaign, the soak, the fuzz campaigns and the authorization matrix,
sized long, with the figures printed and written (JSON and Markdown).

``python -m tools.reliability [--only NAME ...] [sizes] [--update-doc RELIABILITY.md]``. The defaults
are the long sizes; ``tests/reliability`` runs the same campaigns small on every ``make test``.
Exit status 0 when every campaign held, 1 otherwise (the figures are written either way).
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from tools.reliability import (
    aggregator_kills,
    concurrent_runs,
    firestore_outage,
    late_data,
    slow_clients,
    soak,
    sqlite_lock,
    suites,
)
from tools.reliability.report import render, replace_block
from tools.serve import DEFAULT_DATA_DIR, ROOT

CAMPAIGNS = (
    "sqlite-lock",
    "firestore-outage",
    "soak",
    "slow-clients",
    "kills",
    "concurrent",
    "late",
    "fuzz",
    "authz",
)


def _verdict(name: str, figures: dict[str, Any]) -> list[str]:
    """What is wrong with a campaign's figures (empty: it held)."""
    problems: list[str] = []
    if figures.get("errors"):
        problems.append(f"{figures['errors']} error answer(s)")
    store = figures.get("store")
    if store and not store.get("exact"):
        problems.append(f"store {store} does not match what was sent")
    if figures.get("warehouse_equals_clean_run") is False:
        problems.append(f"warehouse differs from a clean run: {figures.get('differences')}")
    memory = figures.get("memory")
    if memory and not memory.get("flat"):
        problems.append(f"memory grew {memory['growth_pct']} % (limit {memory['max_growth_pct']} %)")
    if name == "late" and figures["expected_days"] != figures["restated_days"]:
        problems.append(f"restated {figures['restated_days']}, expected {figures['expected_days']}")
    if name == "late" and figures["rows_of_other_days_rewritten"]:
        problems.append("rows of days no late data counts on were rewritten")
    if figures.get("slow_clients_starved_others"):
        problems.append(
            f"p99 with slow clients {figures['under_attack']['p99_ms']} ms > {figures['max_p99_ms']} ms"
        )
    if name == "slow-clients" and figures.get("closed_by_server", 0) < figures.get("idle_connections", 0):
        problems.append("the server left silent connections open past its idle timeout")
    if "exit_code" in figures and figures["exit_code"] != 0:
        problems.append(f"pytest exited {figures['exit_code']}")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.reliability", description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=CAMPAIGNS, help="run only these (repeatable)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR / "reliability")
    parser.add_argument("--soak-seconds", type=float, default=180.0)
    parser.add_argument("--soak-rate", type=float, default=20.0, help="handled calls per second")
    parser.add_argument("--lock-seconds", type=float, default=60.0, help="SQLite lock campaign length")
    parser.add_argument("--outages", type=int, default=5, help="Firestore emulator stops and restarts")
    parser.add_argument("--slow-clients", type=int, default=50, help="silent half-requests held open")
    parser.add_argument("--slow-client-seconds", type=float, default=20.0)
    parser.add_argument("--kills", type=int, default=200, help="aggregation runs SIGKILLed")
    parser.add_argument("--kill-conversations", type=int, default=400)
    parser.add_argument("--concurrent-rounds", type=int, default=10)
    parser.add_argument("--fuzz-examples", type=int, default=2000, help="CA_FUZZ_EXAMPLES per fuzz test")
    parser.add_argument("--json", type=Path, help="default DATA_DIR/figures.json")
    parser.add_argument("--markdown", type=Path, help="default DATA_DIR/figures.md")
    parser.add_argument("--update-doc", type=Path, help="replace the figures block of this document")
    parser.add_argument(
        "--render", type=Path, metavar="FIGURES_JSON", help="run nothing: render these figures"
    )
    args = parser.parse_args(argv)
    if args.render:
        return _render_only(args.render, args.markdown, args.update_doc)
    chosen = args.only or list(CAMPAIGNS)
    data: Path = args.data_dir.resolve()
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)

    runs: dict[str, Callable[[], dict[str, Any]]] = {
        "sqlite-lock": lambda: sqlite_lock.run(data / "sqlite-lock", seconds=args.lock_seconds).as_dict(),
        "firestore-outage": lambda: firestore_outage.run(
            data / "firestore-outage", outages=args.outages, before_s=5, outage_s=5, after_s=10
        ).as_dict(),
        "soak": lambda: soak.run(
            data / "soak", seconds=args.soak_seconds, units_per_s=args.soak_rate
        ).as_dict(),
        "kills": lambda: aggregator_kills.kill_campaign(
            data / "kills", kills=args.kills, conversations=args.kill_conversations
        ).as_dict(),
        "concurrent": lambda: concurrent_runs.concurrent_campaign(
            data / "concurrent", rounds=args.concurrent_rounds, conversations=40 * args.concurrent_rounds
        ).as_dict(),
        "slow-clients": lambda: slow_clients.run(
            data / "slow-clients", idle=args.slow_clients, seconds=args.slow_client_seconds
        ).as_dict(),
        "late": lambda: late_data.late_campaign(data / "late").as_dict(),
        "fuzz": lambda: suites.fuzz(args.fuzz_examples).as_dict(),
        "authz": lambda: suites.authorization_matrix().as_dict(),
    }
    figures: dict[str, Any] = {
        "run": {
            "command": " ".join(
                ["python -m tools.reliability", *(argv if argv is not None else sys.argv[1:])]
            ),
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "commit": _commit(),
            "machine": f"{platform.system()} {platform.machine()}, {psutil.cpu_count()} CPUs, "
            f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}",
        },
        "campaigns": {},
    }
    failed: list[str] = []
    for name in chosen:
        print(f"reliability: {name} ...", flush=True)
        started = time.monotonic()
        try:
            result = runs[name]()
            problems = _verdict(name, result)
        except Exception as exc:  # noqa: BLE001 - a campaign that breaks is a finding, reported like the rest
            result = {"exception": "".join(traceback.format_exception_only(exc)).strip()}
            traceback.print_exc()
            problems = [result["exception"]]
        result["wall_s"] = round(time.monotonic() - started, 1)
        result["held"] = not problems
        result["problems"] = problems
        figures["campaigns"][name] = result
        if problems:
            failed.append(name)
        print(
            f"reliability: {name}: {'held' if not problems else 'FAILED: ' + '; '.join(problems)}"
            f" ({result['wall_s']} s)",
            flush=True,
        )
    figures["run"]["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    json_path = args.json or data / "figures.json"
    md_path = args.markdown or data / "figures.md"
    json_path.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    markdown = render(figures)
    md_path.write_text(markdown)
    if args.update_doc:
        args.update_doc.write_text(replace_block(args.update_doc.read_text(), markdown))
    print(markdown)
    print(f"figures: {json_path} and {md_path}")
    return 1 if failed else 0


def _render_only(figures_path: Path, markdown_path: Path | None, document: Path | None) -> int:
    markdown = render(json.loads(figures_path.read_text()))
    if markdown_path:
        markdown_path.write_text(markdown)
    if document:
        document.write_text(replace_block(document.read_text(), markdown))
    print(markdown)
    return 0


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
