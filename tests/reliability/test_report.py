"""The figures ``make reliability`` writes: pytest's fuzz lines parsed, the Markdown block replaced."""

from __future__ import annotations

import pytest

from tools.reliability import report, suites


def test_fuzz_summary_lines_are_parsed():
    line = "fuzz: malformed events: 500 cases in 12.3s [400x120, 415x3, 422x377] no finding"
    match = suites.FUZZ_LINE.match(line)
    assert match and (match["name"], match["cases"], match["verdict"]) == (
        "malformed events",
        "500",
        "no finding",
    )
    assert suites.FUZZ_LINE.match("fuzz: total 4400 cases in 120.0s over 10 campaigns") is None
    assert suites.FUZZ_TOTAL.match("fuzz: total 4400 cases in 120.0s over 10 campaigns")


FIGURES = {
    "run": {
        "command": "python -m tools.reliability --data-dir /somewhere --kills 5 --json=/x.json",
        "commit": "abc1234",
        "started": "s",
        "finished": "f",
        "machine": "Linux x86_64, 2 CPUs",
    },
    "campaigns": {
        "late": {
            "late_sends": {"late_survey": 1},
            "rejected_for_clock_skew": 1,
            "expected_days": ["2026-11-20"],
            "restated_days": ["2026-11-20"],
            "rows_of_other_days_rewritten": 0,
            "rows_compared": {"kpi_daily": 9},
            "warehouse_equals_clean_run": True,
            "held": True,
            "problems": [],
            "wall_s": 7.0,
        },
        "kills": {"exception": "CampaignFailed: boom", "held": False, "problems": ["boom"], "wall_s": 1.0},
    },
}


def test_the_figures_block_of_the_document_is_replaced_and_failures_show():
    block = report.render(FIGURES)
    assert block.startswith(report.BEGIN) and block.rstrip().endswith(report.END)
    assert "| late |" in block and "restated 2026-11-20" in block
    assert "FAILED: boom" in block
    assert "`python -m tools.reliability --kills 5`" in block  # sizes shown, output paths not
    document = f"# Title\n\nbefore\n\n{report.BEGIN}\nold figures\n{report.END}\n\nafter\n"
    updated = report.replace_block(document, block)
    assert "old figures" not in updated and updated.startswith("# Title") and updated.endswith("after\n")
    assert report.replace_block(updated, block) == updated  # idempotent
    with pytest.raises(ValueError, match="no figures block"):
        report.replace_block("# nothing here\n", block)
