"""The operational store: one port (``port.Store``), one adapter per backend."""

from __future__ import annotations

import threading
from urllib.parse import urlparse

from shared.store.port import Store

_open: dict[str, Store] = {}
_lock = threading.Lock()


def open_store(url: str) -> Store:
    """A store for ``sqlite:///path`` or ``firestore://PROJECT[/DATABASE]``."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        from shared.store.sqlite import SqliteStore

        path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else parsed.path
        return SqliteStore(path or ":memory:")
    if parsed.scheme == "firestore":
        from shared.store.firestore import FirestoreStore

        database = parsed.path.strip("/") or "(default)"
        return FirestoreStore(project=parsed.netloc, database=database)
    raise ValueError(f"unsupported store URL {url!r}: use sqlite:///PATH or firestore://PROJECT[/DATABASE]")


def store_for(url: str) -> Store:
    """The process-wide store for ``url`` (one client per process, reused across requests)."""
    with _lock:
        if url not in _open:
            _open[url] = open_store(url)
        return _open[url]


def forget_stores() -> None:
    """Close and forget cached stores (tests switch URLs)."""
    with _lock:
        for store in _open.values():
            store.close()
        _open.clear()
