"""Staging tables: the raw tables' columns plus ``_version``, filled page by page for one run.

Staging is per run and disposable: DuckDB keeps it in temporary tables of the run's connection,
BigQuery in ``_staging_*`` tables that each run's load job replaces (``WRITE_TRUNCATE``). A run that
crashes before its commit leaves at most stale staging behind, which the next run overwrites.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

from shared.aggregate.rows import VERSION
from shared.warehouse.tables import (
    RAW_ACTIVITIES,
    RAW_ACTIVITY_PARTIES,
    RAW_CONVERSATIONS,
    RAW_EVENTS,
    RAW_FAILED_EVENTS,
    RAW_PARTICIPANTS,
    RAW_SESSIONS,
    Column,
    Table,
)

RAW_TABLES = (
    RAW_CONVERSATIONS,
    RAW_SESSIONS,
    RAW_PARTICIPANTS,
    RAW_EVENTS,
    RAW_FAILED_EVENTS,
    RAW_ACTIVITIES,
    RAW_ACTIVITY_PARTIES,
)


@cache
def staging_table(raw: Table) -> Table:
    """The staging declaration of a raw table (same name: the adapter decides where staging lives)."""
    version = Column(VERSION, "TIMESTAMP", "Store timestamp ordering versions of one key", True)
    return replace(raw, columns=(*raw.columns, version), partition_by=None, cluster_by=())
