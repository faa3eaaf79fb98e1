"""The event sink on an embedded DuckDB warehouse file (``duckdb:///PATH``): the landing table of the
BigQuery mode, without BigQuery, so this mode runs (and is tested) on one machine.

A DuckDB file has one writer process at a time: each append opens the file, inserts the rows in one
statement from Arrow and closes it (waiting up to ``lock_timeout_s`` for the aggregation, which holds
the file during its run). Fine for tests and local runs; the cloud uses ``bigquery-write://``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from shared.sink import Row, SinkUnavailable
from shared.warehouse.arrow import to_arrow
from shared.warehouse.ddl import create_table
from shared.warehouse.port import WarehouseUnavailable
from shared.warehouse.tables import EVENT_LANDING

_PAGE = "_landing_page"


class DuckDbSink:
    def __init__(self, path: str, lock_timeout_s: float = 10.0):
        self.path = path
        self.lock_timeout_s = lock_timeout_s
        self._lock = threading.Lock()  # one connection per process at a time

    def append(self, rows: Sequence[Row]) -> None:
        if not rows:
            return
        from shared.warehouse.duckdb import DuckDbWarehouse

        batch = to_arrow(EVENT_LANDING, rows)
        columns = ", ".join(c.name for c in EVENT_LANDING.columns)
        with self._lock:
            try:
                warehouse = DuckDbWarehouse(self.path, lock_timeout_s=self.lock_timeout_s)
            except WarehouseUnavailable as exc:
                raise SinkUnavailable(f"event sink: {exc}", retry_after=exc.retry_after) from exc
            try:
                conn = warehouse._conn
                conn.execute(create_table(EVENT_LANDING, "duckdb", EVENT_LANDING.name))
                conn.register(_PAGE, batch)
                conn.execute(f"INSERT INTO {EVENT_LANDING.name} ({columns}) SELECT {columns} FROM {_PAGE}")
                conn.unregister(_PAGE)
            except Exception as exc:  # any DuckDB failure: nothing promised, the provider retries
                raise SinkUnavailable(f"event sink: {exc}") from exc
            finally:
                warehouse.close()

    def close(self) -> None:
        pass
