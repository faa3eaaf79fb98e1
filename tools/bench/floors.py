"""The floors of the ingest benchmark, served by functions-framework exactly like the real functions.

- ``empty``: reads the body and answers a constant JSON object. Nothing a function does can be faster
  on this server, so it is the HTTP ceiling.
- ``minimal``: the least a correct event ingest must do. Parse the JSON, check every event's required
  fields (a known event name, an ISO 8601 timestamp, an id), and insert the events into SQLite once
  (``INSERT OR IGNORE`` by id, one transaction per request, WAL like the product's store), answering
  how many were stored. No authentication, no per-event results, no failed-event store.

Both read ``ANALYTICS_STORE`` (``sqlite:///PATH``) like the product, so each writes to its own file.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from datetime import datetime

import functions_framework
from flask import Request, Response

from shared.schema.registry import STANDARD_EVENTS

_local = threading.local()
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS events (event_id TEXT PRIMARY KEY, conversation_id TEXT NOT NULL, "
    "session_id TEXT NOT NULL, name TEXT NOT NULL, event_ts TEXT NOT NULL, payload TEXT NOT NULL)"
)


def _db() -> sqlite3.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        path = os.environ["ANALYTICS_STORE"].removeprefix("sqlite:///")
        conn = sqlite3.connect(path, isolation_level=None, timeout=5)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(_SCHEMA)
        _local.conn = conn
    return conn


def _json(status: int, body: object) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


@functions_framework.http
def empty(request: Request) -> Response:
    request.get_data()
    return _json(200, {"ok": True})


def _valid(event: object) -> bool:
    if not isinstance(event, dict):
        return False
    name, ts, event_id = event.get("kpiEventName"), event.get("eventTimestamp"), event.get("eventId")
    if name not in STANDARD_EVENTS or not isinstance(ts, str) or not isinstance(event_id, str):
        return False
    try:
        datetime.fromisoformat(ts)
    except ValueError:
        return False
    return True


@functions_framework.http
def minimal(request: Request) -> Response:
    try:
        body = json.loads(request.get_data())
        conversation, session, events = body["conversationId"], body["providerSessionId"], body["events"]
    except (ValueError, KeyError, TypeError):
        return _json(400, {"error": "malformed"})
    rows = [
        (e["eventId"], conversation, session, e["kpiEventName"], e["eventTimestamp"], json.dumps(e))
        for e in events
        if _valid(e)
    ]
    db = _db()
    db.execute("BEGIN IMMEDIATE")
    before = db.total_changes
    db.executemany("INSERT OR IGNORE INTO events VALUES (?,?,?,?,?,?)", rows)
    stored = db.total_changes - before
    db.execute("COMMIT")
    return _json(200, {"accepted": stored, "rejected": len(events) - len(rows)})
