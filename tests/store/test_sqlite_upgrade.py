"""A store file written before the CIF fields existed opens, keeps its events and takes the new ones."""

from __future__ import annotations

import sqlite3

from shared.store.codec import to_iso
from shared.store.sqlite import SqliteStore
from tests.store.records import at, event

# The events table as releases before CIF's clientSessionId / externalCorrelationId created it.
EARLIER_EVENTS = """
CREATE TABLE events (
    doc_id TEXT PRIMARY KEY, provider_id TEXT NOT NULL, event_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL, provider_session_id TEXT NOT NULL, participant_id TEXT,
    name TEXT NOT NULL, reason TEXT, event_ts TEXT NOT NULL, response_action TEXT,
    additional_data TEXT, custom_data TEXT NOT NULL, schema TEXT NOT NULL,
    ingested_at TEXT NOT NULL, shard INTEGER NOT NULL)
"""


def test_an_earlier_events_table_gains_the_cif_columns(tmp_path):
    path = tmp_path / "store.sqlite3"
    old = event("e-old")
    with sqlite3.connect(path) as db:
        db.execute(EARLIER_EVENTS)
        db.execute(
            "INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                old.doc_id,
                "acme",
                "e-old",
                "c-1",
                "s-1",
                "agent-7",
                old.name,
                None,
                to_iso(old.event_ts),
                None,
                old.additional_data,
                '{"sender": "agent"}',
                old.schema,
                to_iso(old.ingested_at),
                old.shard,
            ),
        )
    store = SqliteStore(str(path))
    try:
        kept = store.get_event("acme", "e-old")
        assert (kept.event_id, kept.client_session_id, kept.external_correlation_id) == ("e-old", None, None)
        new = event("e-new", ingested=1, client_session_id="desk-1", external_correlation_id="pbx-1")
        assert store.insert_events([new]) == [True]
        assert store.get_event("acme", "e-new") == new
        assert [e.event_id for page in store.scan_events(None, at(10), 10) for e in page] == [
            "e-old",
            "e-new",
        ]
    finally:
        store.close()
