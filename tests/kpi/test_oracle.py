"""The SQL (run in DuckDB) equals the plain-Python reference for every KPI row, on generated traffic.

``KPI_EXAMPLES`` sets how many examples each property tries (default 40, quick enough for every run;
e.g. ``KPI_EXAMPLES=2000`` for a long run).
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.kpi.reference import reference_kpi_rows
from tests.kpi.compare import assert_same_rows
from tests.kpi.traffic import raw_traffic
from tests.kpi.warehouse import KpiWarehouse

EXAMPLES = int(os.environ.get("KPI_EXAMPLES", "40"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

_SHARED: list[KpiWarehouse] = []


def _warehouse() -> KpiWarehouse:
    """One DuckDB for all examples (emptied before each): creating one per example would dominate."""
    if not _SHARED:
        _SHARED.append(KpiWarehouse())
    _SHARED[0].reset()
    return _SHARED[0]


@PROPERTY
@given(raw=raw_traffic())
def test_sql_equals_reference(raw: dict[str, list[dict[str, Any]]]) -> None:
    warehouse = _warehouse()
    assert_same_rows(warehouse.run(raw), reference_kpi_rows(raw))


def _split(
    raw: dict[str, list[dict[str, Any]]], data: st.DataObject
) -> list[dict[str, list[dict[str, Any]]]]:
    """Deliver the raw rows in two batches, the way late and out-of-order arrivals come in:
    a conversation (with its sessions) in one batch, any of its events in either."""
    conversations = {(r["provider_id"], r["conversation_id"]) for r in raw["raw_conversations"]}
    late = {c for c in sorted(conversations) if data.draw(st.booleans())}
    first: dict[str, list[dict[str, Any]]] = {name: [] for name in raw}
    second: dict[str, list[dict[str, Any]]] = {name: [] for name in raw}
    for name, rows in raw.items():
        for row in rows:
            key = (row["provider_id"], row["conversation_id"])
            if name == "raw_events":
                (second if data.draw(st.booleans()) else first)[name].append(row)
            else:
                (second if key in late else first)[name].append(row)
    return [first, second]


@PROPERTY
@given(raw=raw_traffic(), data=st.data())
def test_incremental_aggregation_equals_a_full_recompute(
    raw: dict[str, list[dict[str, Any]]], data: st.DataObject
) -> None:
    """Facts and KPI rows rebuilt only for touched conversations and affected days (including the
    72 h first-contact look-back) end up exactly where recomputing everything would."""
    warehouse = _warehouse()
    for batch in _split(raw, data):
        warehouse.aggregate(warehouse.load(batch))
    assert_same_rows(warehouse.kpi_rows(), reference_kpi_rows(raw))
