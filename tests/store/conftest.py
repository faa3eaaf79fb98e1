"""The ``store`` fixture: every contract test runs once per adapter (SQLite file, Firestore emulator)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.store.firestore import FirestoreStore
from shared.store.port import Store
from shared.store.sqlite import SqliteStore
from tests.support.firestore_emulator import FirestoreEmulator

ADAPTERS = ["sqlite", pytest.param("firestore", marks=pytest.mark.emulator)]


@pytest.fixture(scope="session")
def firestore_store(firestore_emulator: FirestoreEmulator) -> Iterator[FirestoreStore]:
    """One client for the session (as in a function instance); the data is reset per test."""
    store = FirestoreStore(firestore_emulator.project)
    yield store
    store.close()


@pytest.fixture(params=ADAPTERS)
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[Store]:
    if request.param == "sqlite":
        # A file, not :memory:, so threads get their own connections as the functions' do.
        sqlite = SqliteStore(str(tmp_path / "store.sqlite3"))
        yield sqlite
        sqlite.close()
        return
    request.getfixturevalue("firestore_emulator").reset()
    yield request.getfixturevalue("firestore_store")
