"""The operational store: one port (``port.Store``), one adapter per backend."""

from __future__ import annotations

import threading
from urllib.parse import parse_qs, urlparse

from shared.store.port import Store

_open: dict[str, Store] = {}
_lock = threading.Lock()


def _sqlite_options(query: str) -> dict[str, int]:
    """``busy_timeout_ms`` from a ``sqlite:///path?busy_timeout_ms=N`` URL (tests use a short one)."""
    options: dict[str, int] = {}
    for name, values in parse_qs(query, keep_blank_values=True, strict_parsing=bool(query)).items():
        if name != "busy_timeout_ms" or len(values) != 1 or not values[0].isdigit():
            raise ValueError(f"unsupported SQLite URL option {name}={values!r}: use busy_timeout_ms=<ms>")
        options[name] = int(values[0])
    return options


def _firestore_options(query: str) -> dict[str, float]:
    """``deadline_s`` from ``firestore://PROJECT[/DATABASE]?deadline_s=S``: how long a call may retry
    before the request is answered 503 (default 10 s; keep it well under the function's timeout)."""
    options: dict[str, float] = {}
    for name, values in parse_qs(query, keep_blank_values=True, strict_parsing=bool(query)).items():
        try:
            value = float(values[0]) if name == "deadline_s" and len(values) == 1 else 0.0
        except ValueError:
            value = 0.0
        if not 0 < value <= 300:
            raise ValueError(
                f"unsupported Firestore URL option {name}={values!r}: use deadline_s=<0..300 seconds>"
            )
        options[name] = value
    return options


def open_store(url: str) -> Store:
    """A store for ``sqlite:///path[?busy_timeout_ms=N]`` or ``firestore://PROJECT[/DATABASE][?deadline_s=S]``."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        from shared.store.sqlite import SqliteStore

        location = url.split("?", 1)[0]
        path = location[len("sqlite:///") :] if location.startswith("sqlite:///") else parsed.path
        return SqliteStore(path or ":memory:", **_sqlite_options(parsed.query))
    if parsed.scheme == "firestore":
        from shared.store.firestore import FirestoreStore

        database = parsed.path.strip("/") or "(default)"
        return FirestoreStore(project=parsed.netloc, database=database, **_firestore_options(parsed.query))
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
