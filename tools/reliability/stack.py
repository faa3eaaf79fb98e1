"""The ingest side of the local stack (ingest + providers functions) as campaigns start it."""

from __future__ import annotations

import secrets
from pathlib import Path

import psutil

from tools.serve import LocalStack


def ingest_stack(data_dir: Path, store_url: str, *, aggregate: bool = False, **settings: str) -> LocalStack:
    """Ingest and providers (and the aggregate function if asked) under functions-framework on free
    ports, over ``store_url`` and the DuckDB file ``data_dir/warehouse.duckdb``.

    ``settings`` are further ``ANALYTICS_*`` variables; ``Retry-After`` is 1 s unless given, so a
    client that honours it retries soon. Nothing is read from the caller's environment.
    """
    environ = {
        "ANALYTICS_ADMIN_TOKEN": secrets.token_urlsafe(24),
        "ANALYTICS_KEY_PEPPER": secrets.token_urlsafe(16),
        "ANALYTICS_RETRY_AFTER_SECONDS": "1",
        **settings,
    }
    return LocalStack(
        data_dir=data_dir,
        ports={"ingest": 0, "providers": 0, "aggregate": 0, "report": 0},
        functions=["ingest", "providers", *(["aggregate"] if aggregate else [])],
        store_url=store_url,
        warehouse_url=f"duckdb:///{data_dir / 'warehouse.duckdb'}",
        environ=environ,
        echo=None,
    )


def tree_rss(pid: int) -> int:
    """Resident memory of a process and its children (the server and anything it started), bytes."""
    root = psutil.Process(pid)
    total = 0
    for process in [root, *root.children(recursive=True)]:
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total
