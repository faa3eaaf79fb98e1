"""What every family's reference shares: reading raw rows, durations, and turning fact objects into
``kpi_daily`` rows by the family's groupings.

The reference stands alone: no SQL, no catalog expressions, no catalog constants (units, thresholds
and windows are its own, and a test checks that they agree with the catalog). Input rows are dicts
keyed by raw_* column names, with aware datetimes and ``custom_data`` a dict (or its JSON text);
output rows are dicts keyed by the kpi_daily columns (without ``computed_at``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

Row = Mapping[str, Any]
Raw = Mapping[str, Sequence[Row]]
Measures = dict[str, tuple[float, float | None]]  # KPI name -> (numerator, denominator or None)
NONE = "(none)"
KPI_DIMENSIONS = ("channel", "queue_id", "agent_id", "experience_id")
SCORES = {"score"}  # units whose value is 100 × numerator ÷ denominator


def seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None or end < start:
        return None
    return (end - start) / timedelta(microseconds=1) / 1_000_000


def first(events: Iterable[Row]) -> Row | None:
    ordered = sorted(events, key=lambda e: (e["event_ts"], e["event_id"]))
    return ordered[0] if ordered else None


def custom(event: Row) -> dict[str, Any]:
    data = event.get("custom_data") or {}
    return json.loads(data) if isinstance(data, str) else dict(data)


def int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(str(value))
    except ValueError:
        return None


def on_intervals(events: list[Row], on: str, off: str, end: datetime | None) -> list[float | None]:
    """Durations of the ``on`` periods of an on/off stream: repeats collapse, a leading off is ignored,
    a period still on at the end of the stream lasts until ``end``."""
    durations: list[float | None] = []
    started: datetime | None = None
    for event in sorted(events, key=lambda e: (e["event_ts"], e["event_id"])):
        if event["name"] == on and started is None:
            started = event["event_ts"]
        elif event["name"] == off and started is not None:
            durations.append(seconds(started, event["event_ts"]))
            started = None
    if started is not None:
        durations.append(seconds(started, end))
    return durations


def sum_known(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def utc_day(ts: datetime) -> date:
    return ts.astimezone(UTC).date()


def share(
    rows: Sequence[Any], within: Callable[[Any], bool], of: Callable[[Any], bool]
) -> tuple[float, float]:
    return float(sum(1 for r in rows if of(r) and within(r))), float(sum(1 for r in rows if of(r)))


def average(values: Iterable[float | None]) -> tuple[float, float]:
    known = [v for v in values if v is not None]
    return float(sum(known)), float(len(known))


def kpi_rows(
    facts: Sequence[Any],
    day_of: Callable[[Any], datetime | None],
    measures: Callable[[Sequence[Any]], Measures],
    units: Mapping[str, str],
    groupings: Sequence[tuple[str, ...]],
    days: set[tuple[str, date]] | None,
) -> list[dict[str, Any]]:
    """One row per KPI and group of ``facts`` (objects with ``provider_id`` and the dimension
    attributes named in ``groupings``) on each UTC day; only for ``days`` when given."""
    dimensions = sorted({d for grouping in groupings for d in grouping}, key=KPI_DIMENSIONS.index)
    groups: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
    for fact in facts:
        at = day_of(fact)
        if at is None:
            continue
        day = utc_day(at)
        if days is not None and (fact.provider_id, day) not in days:
            continue
        values = {d: NONE if getattr(fact, d) is None else getattr(fact, d) for d in dimensions}
        for grouping in groupings:
            slice_ = tuple(values[d] if d in grouping else None for d in KPI_DIMENSIONS)
            groups[(fact.provider_id, day, *slice_)].append(fact)
    out = []
    for (provider_id, day, *slice_), members in groups.items():
        for name, (numerator, denominator) in measures(members).items():
            if denominator is None:
                value: float | None = numerator
            elif denominator == 0:
                value = None
            else:
                value = (100.0 if units[name] in SCORES else 1.0) * numerator / denominator
            out.append(
                {
                    "day": day,
                    "provider_id": provider_id,
                    "kpi": name,
                    **dict(zip(KPI_DIMENSIONS, slice_, strict=True)),
                    "value": value,
                    "numerator": numerator,
                    "denominator": denominator,
                    "unit": units[name],
                }
            )
    return out
