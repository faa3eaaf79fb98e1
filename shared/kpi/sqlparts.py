"""SQL fragments the family declarations share, in the canonical (BigQuery) dialect.

Each returns text to be embedded in a family's fact or KPI SQL; ``shared.kpi.dialects`` renders the
whole statement per warehouse, so nothing here is dialect-specific.
"""

from __future__ import annotations


def seconds(start: str, end: str) -> str:
    """Seconds from ``start`` to ``end``; NULL when either is missing or the end comes first."""
    return f"CASE WHEN {end} >= {start} THEN TIMESTAMP_DIFF({end}, {start}, MICROSECOND) / 1000000 END"


def count_if(condition: str) -> str:
    """Rows where ``condition`` is TRUE, 0 when none: unlike COUNTIF, never NULL in any dialect."""
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def names(values: tuple[str, ...]) -> str:
    """``'a', 'b'``: a list of string literals for ``IN (...)`` (our own constants only)."""
    return ", ".join(f"'{v}'" for v in values)


def same(left: str, right: str, *columns: str) -> str:
    """``left.c = right.c AND ...`` for each column: an equi-join on a key."""
    return " AND ".join(f"{left}.{c} = {right}.{c}" for c in columns)


def intervals(source: str, key: tuple[str, ...], on: str, off: str) -> str:
    """Collapse an on/off event stream to state changes; every kept ``on`` row gets the time of the
    next change (``next_ts``, NULL while still on). Two passes because the filter needs LAG and the
    interval end needs LEAD over the filtered rows."""
    partition = ", ".join(key)
    cols = ", ".join(key)
    return f"""
      SELECT {cols}, name, event_ts,
        LEAD(event_ts) OVER (PARTITION BY {partition} ORDER BY event_ts, event_id) AS next_ts
      FROM (
        SELECT {cols}, name, event_ts, event_id,
          LAG(name) OVER (PARTITION BY {partition} ORDER BY event_ts, event_id) AS previous_name
        FROM {source}
        WHERE name IN ('{on}', '{off}')
      ) AS stream
      WHERE (previous_name IS NULL AND name = '{on}') OR (previous_name IS NOT NULL AND name <> previous_name)
    """
