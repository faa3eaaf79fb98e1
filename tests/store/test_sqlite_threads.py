"""The SQLite store under threads, as one gunicorn worker serves it: every write of a process goes
through one connection, one at a time, and each thread reads through its own."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from shared.store.sqlite import SqliteStore
from tests.store.records import event


def test_racing_threads_store_each_event_exactly_once(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "store.sqlite3"))
    # Eight threads send overlapping batches: event n is in the batches of several threads.
    batches = [[event(f"e-{n}", ingested=n) for n in range(t * 25, t * 25 + 100)] for t in range(8)]
    start = threading.Barrier(len(batches))

    def send(batch: list) -> list[tuple[str, bool]]:
        start.wait()
        return list(zip([e.event_id for e in batch], store.insert_events(batch), strict=True))

    with ThreadPoolExecutor(len(batches)) as pool:
        outcomes = [pair for result in pool.map(send, batches) for pair in result]
    stored = Counter(event_id for event_id, new in outcomes if new)
    expected = {f"e-{n}" for n in range(7 * 25 + 100)}
    assert set(stored) == expected
    assert set(stored.values()) == {1}
    assert all(store.get_event("acme", event_id) is not None for event_id in expected)
    store.close()


def test_a_write_on_one_thread_is_read_at_once_on_another(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "store.sqlite3"))
    seen: list[bool] = []

    def read(event_id: str) -> None:
        seen.append(store.get_event("acme", event_id) is not None)

    for n in range(20):
        writer = threading.Thread(target=store.insert_events, args=([event(f"w-{n}")],))
        writer.start()
        writer.join()
        reader = threading.Thread(target=read, args=(f"w-{n}",))
        reader.start()
        reader.join()
    assert seen == [True] * 20
    store.close()
