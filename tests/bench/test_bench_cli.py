"""``python -m tools.bench --smoke`` end to end: real servers, real stores, the table and BENCHMARKS.md.

No timing is asserted (timings belong to ``make bench``): these tests check that every section is
measured and reported next to its floor, and that the Markdown block replaces only itself.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tools.bench.report import RESULTS_END, RESULTS_START, write_markdown
from tools.serve import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    target = tmp_path_factory.mktemp("bench") / "BENCHMARKS.md"
    target.write_text(
        "# Benchmarks\n\nHand-written analysis stays.\n\n"
        + RESULTS_START
        + "\nold\n"
        + RESULTS_END
        + "\n\n## Profiles\n\nkept too\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "tools.bench", "--smoke", "--markdown", str(target)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done.stdout, target.read_text()


def test_the_table_names_every_section_with_its_floor(smoke: tuple[str, str]) -> None:
    out, _ = smoke
    assert "Ingest: POST /v1/events over HTTP" in out
    assert "floor: minimal events/s" in out and "ceiling: empty events/s" in out
    assert "Aggregation end to end" in out and "floor: GROUP BY s" in out
    assert "Firestore adapter on the emulator (not production)" in out
    # One row per batch size in the ingest summary, every function in the detail table.
    for batch in ("1", "100", "500"):
        assert any(line.split()[:1] == [batch] for line in out.splitlines()), batch
    for function in ("empty", "minimal", "product"):
        assert any(line.startswith(function) for line in out.splitlines()), function


def test_markdown_holds_machine_command_date_and_tables(smoke: tuple[str, str]) -> None:
    _, markdown = smoke
    block = markdown[markdown.index(RESULTS_START) : markdown.index(RESULTS_END)]
    for row in (
        "| date |",
        "| command | `python -m tools.bench --smoke",
        "| cores |",
        "| memory |",
        "| CPU |",
        "| Python |",
    ):
        assert row in block, row
    assert "/work" not in block and str(ROOT) not in block  # no machine paths in the document
    tables = [line for line in block.splitlines() if line.startswith("| ") and "ratio" in line]
    assert len(tables) >= 3
    assert all("goal" in header and "met?" in header for header in tables)
    # Every data row of the summary tables carries a verdict: 3 batch sizes, 1 size, 2 store operations.
    cells = [line.strip("|").split("|") for line in block.splitlines() if line.startswith("| ")]
    verdicts = [row[-1].strip() for row in cells if len(row) > 2]
    assert sum(v.startswith(("yes", "**no**", "n/a")) for v in verdicts) >= 3 + 1 + 2


def test_markdown_replaces_only_its_block(smoke: tuple[str, str]) -> None:
    _, markdown = smoke
    assert markdown.startswith("# Benchmarks\n\nHand-written analysis stays.")
    assert markdown.rstrip().endswith("## Profiles\n\nkept too")
    assert "\nold\n" not in markdown
    assert markdown.count(RESULTS_START) == 1 and markdown.count(RESULTS_END) == 1


def test_a_new_file_gets_the_block(tmp_path: Path) -> None:
    target = tmp_path / "B.md"
    write_markdown(target, f"{RESULTS_START}\nfigures\n{RESULTS_END}")
    write_markdown(target, f"{RESULTS_START}\nnewer\n{RESULTS_END}")
    text = target.read_text()
    assert text.startswith("# Benchmarks") and "newer" in text and "figures" not in text
