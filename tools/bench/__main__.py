"""``make bench`` / ``python -m tools.bench``: measure, print the table, optionally update BENCHMARKS.md.

Modes: the default (ingest at full length, aggregation of 100,000 and 1,000,000 events, Firestore
emulator, the event sink mode's aggregation of 100,000 and 1,000,000 events on the BigQuery API emulator), ``--quick`` (a minute or two), ``--smoke`` (seconds: the test suite's end-to-end check of
the harness; its figures mean nothing). ``--sizes 1000000,10000000`` picks the aggregation sizes (ten
million events take longer than the default run and are only measured when asked for).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from tools.bench import aggregation, firestore, ingest, sink
from tools.bench.machine import Machine
from tools.bench.report import Section, as_markdown, as_text, write_markdown

SECTIONS = ("ingest", "aggregation", "firestore", "sink")


def _sizes(text: str) -> list[int]:
    sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes are positive event counts, e.g. 1000000,10000000")
    return sizes


def _only(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = sorted(set(names) - set(SECTIONS))
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"sections are {', '.join(SECTIONS)}")
    return names


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="smaller sizes: a minute or two")
    mode.add_argument("--smoke", action="store_true", help="tiny sizes: checks the harness, not the speed")
    parser.add_argument("--sizes", type=_sizes, help="aggregation sizes in events, comma-separated")
    parser.add_argument(
        "--only",
        type=_only,
        help="sections: ingest,aggregation,firestore,sink (--smoke leaves sink out unless named: it "
        "starts the BigQuery API emulator)",
    )
    parser.add_argument(
        "--markdown", type=Path, help="replace the generated block of this file (BENCHMARKS.md)"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    args.only = args.only or [s for s in SECTIONS if not (args.smoke and s == "sink")]
    command = shlex.join(["python", "-m", "tools.bench", *(sys.argv[1:] if argv is None else argv)])
    machine = Machine.current()
    log = print if not args.smoke else (lambda *a, **k: None)
    print(f"Channel Analytics benchmarks - {machine.summary()}", flush=True)
    sections: list[Section] = []

    if "ingest" in args.only:
        plan = (
            ingest.IngestPlan.smoke()
            if args.smoke
            else ingest.IngestPlan.quick()
            if args.quick
            else ingest.IngestPlan.full()
        )
        sections += ingest.sections(ingest.measure(plan, progress=log), plan)

    if "aggregation" in args.only:
        if args.smoke:
            sizes, template, repeat = args.sizes or [2_000], 150, 1
        elif args.quick:
            sizes, template, repeat = args.sizes or [20_000, 100_000], 2_000, 3
        else:
            sizes, template, repeat = args.sizes or [100_000, 1_000_000], 2_000, 3
        results = [
            aggregation.measure_size(t, n, repeat if n < 1_000_000 else 1, log)
            for t in [aggregation.build_template(template)]
            for n in sizes
        ]
        sections += aggregation.sections(results)

    if "sink" in args.only:
        if args.smoke:
            sizes, template = args.sizes or [2_000], 150
        elif args.quick:
            sizes, template = args.sizes or [20_000, 100_000], 2_000
        else:
            sizes, template = args.sizes or [100_000, 1_000_000], 2_000
        conversations = 40 if args.smoke else 400
        results, cost, skipped = sink.measure(aggregation.build_template(template), sizes, log, conversations)
        sections += sink.sections(results, cost, skipped)

    if "firestore" in args.only:
        count, repeat = (200, 1) if args.smoke else (2_000, 3) if args.quick else (10_000, 3)
        emulated, reference = firestore.measure(count, repeat)
        sections += firestore.sections(emulated, reference, count, repeat)

    print()
    print(as_text(machine, command, sections), flush=True)
    if args.markdown is not None:
        date = datetime.now(UTC).date().isoformat()
        write_markdown(args.markdown, as_markdown(machine, command, date, sections))
        print(f"updated {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
