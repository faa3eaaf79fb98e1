"""The embedded store and warehouse files hold sealed secrets, pseudonyms and customer data: only
their owner can read them (0600), whatever the process umask, also when an older version made them
world-readable."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime

from shared.store.sqlite import SqliteStore
from shared.warehouse.duckdb import DuckDbWarehouse
from shared.warehouse.port import Transaction
from tests.store.records import event


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_sqlite_store_files_are_private(tmp_path):
    previous = os.umask(0o022)  # what a default shell gives: 0644 files
    try:
        path = tmp_path / "data" / "store.sqlite3"
        store = SqliteStore(str(path))
        store.insert_events([event("e-1")])
        assert _mode(path) == 0o600
        for suffix in ("-wal", "-shm"):
            assert _mode(f"{path}{suffix}") == 0o600
        assert _mode(path.parent) == 0o700
        store.close()

        os.chmod(path, 0o644)  # a file an older version created
        SqliteStore(str(path)).close()
        assert _mode(path) == 0o600
    finally:
        os.umask(previous)


def test_duckdb_warehouse_files_are_private(tmp_path):
    previous = os.umask(0o022)
    try:
        path = tmp_path / "warehouse.duckdb"
        warehouse = DuckDbWarehouse(str(path))
        warehouse.ensure_schema()
        warehouse.apply(Transaction(("CREATE TABLE IF NOT EXISTS t (ts TIMESTAMPTZ)",), "SELECT 1 AS one"))
        warehouse.apply(
            Transaction((f"INSERT INTO t VALUES ('{datetime.now(UTC).isoformat()}')",), "SELECT 1")
        )
        for name in (path, f"{path}.wal"):
            if os.path.exists(name):
                assert _mode(name) == 0o600, name
        warehouse.close()
        assert _mode(path) == 0o600
    finally:
        os.umask(previous)
