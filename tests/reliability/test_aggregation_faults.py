"""The aggregator killed at random points, two runs at once, late and clock-skewed data: the warehouse
always ends equal, row for row, to one clean run over the same store."""

from __future__ import annotations

import pytest

from shared.warehouse import open_warehouse
from shared.warehouse.port import Transaction
from tools.reliability import aggregation, aggregator_kills, concurrent_runs, late_data


@pytest.mark.slow
def test_sigkilled_runs_then_one_run_equal_a_clean_run(tmp_path):
    result = aggregator_kills.kill_campaign(tmp_path, kills=5, conversations=50)
    assert result.kills == 5
    assert result.kills - result.finished_before_kill >= 2  # kills hit runs at work, not only finished ones
    assert result.rows_compared["kpi_daily"] > 0 and result.rows_compared["raw_events"] > 0
    assert result.equal, result.differences


@pytest.mark.slow
def test_two_runs_at_once_never_double_count(tmp_path):
    result = concurrent_runs.concurrent_campaign(tmp_path, rounds=2, conversations=60)
    # One pair of processes, one pair of requests to the function: in each, exactly one run read the
    # new records (the campaign checks that per round), and the other waited or answered busy.
    assert sum(n for o, n in result.outcomes.items() if o.startswith("process")) == 2
    assert sum(n for o, n in result.outcomes.items() if o.startswith("function")) == 2
    assert result.outcomes["process: ran"] == 1
    assert result.outcomes["function: 200 ran"] == 1
    assert result.equal, result.differences


@pytest.mark.slow
def test_late_and_skewed_data_restates_exactly_its_days(tmp_path):
    result = late_data.late_campaign(tmp_path)
    assert len(result.expected_days) == 4  # 3 days back, 2 days back, local time's next UTC day, +20 h
    assert result.restated_days == result.expected_days
    assert result.untouched_rows_rewritten == 0  # no other day's rows were even rewritten
    assert result.rejected_for_skew == 1
    assert result.rows_compared["raw_failed_events"] == 1  # kept for replay, not lost
    assert result.equal, result.differences

    # The comparison is not vacuous: one row gone from kpi_daily is a difference.
    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    warehouse = open_warehouse(url)
    try:
        warehouse.apply(
            Transaction(
                ("DELETE FROM kpi_daily WHERE rowid = (SELECT MIN(rowid) FROM kpi_daily)",), "SELECT 1 AS ok"
            )
        )
    finally:
        warehouse.close()
    reference = aggregation.contents(f"duckdb:///{tmp_path / 'reference' / 'warehouse.duckdb'}")
    assert aggregation.differences(aggregation.contents(url), reference) == {
        "kpi_daily": {"extra_rows": 0, "missing_rows": 1}
    }
