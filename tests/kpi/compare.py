"""Compare KPI rows from the warehouse with the reference's, with a readable difference."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

KEY = ("day", "provider_id", "kpi", "channel", "queue_id", "agent_id", "experience_id")
NUMBERS = ("value", "numerator", "denominator")


def keyed(rows: Iterable[Mapping[str, Any]]) -> dict[tuple[Any, ...], Mapping[str, Any]]:
    out: dict[tuple[Any, ...], Mapping[str, Any]] = {}
    for row in rows:
        key = tuple(row[k] for k in KEY)
        assert key not in out, f"two rows for {key}"
        out[key] = row
    return out


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


def differences(actual: Iterable[Mapping[str, Any]], expected: Iterable[Mapping[str, Any]]) -> list[str]:
    got, want = keyed(actual), keyed(expected)
    problems = [f"missing {k}" for k in sorted(set(want) - set(got), key=str)]
    problems += [f"unexpected {k}: {dict(got[k])}" for k in sorted(set(got) - set(want), key=str)]
    for key in sorted(set(got) & set(want), key=str):
        a, b = got[key], want[key]
        for field in NUMBERS:
            if not _close(a[field], b[field]):
                problems.append(f"{key} {field}: sql={a[field]!r} reference={b[field]!r}")
        if a["unit"] != b["unit"]:
            problems.append(f"{key} unit: sql={a['unit']!r} reference={b['unit']!r}")
    return problems


def assert_same_rows(actual: Iterable[Mapping[str, Any]], expected: Iterable[Mapping[str, Any]]) -> None:
    problems = differences(actual, expected)
    assert not problems, f"{len(problems)} differences:\n" + "\n".join(problems[:40])
