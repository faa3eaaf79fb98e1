"""Accepted events to the event sink (``ANALYTICS_EVENT_SINK``) instead of the store.

The store's create-if-absent tells a retry at once; a sink that appends (BigQuery's Storage Write API)
cannot, without a read per event that would bring back the per-event store traffic this mode exists
to remove. So deduplication is deferred to the warehouse (``shared.aggregate.landing``: first write
wins per ``(provider_id, event_id)``), and the answer says so (``deduplication: "deferred"``). What is
still decided here: an event repeated within one request (``duplicate``, or ``event_id_conflict`` when
its content differs), and nothing is answered ``accepted`` before the sink has acknowledged it.
"""

from __future__ import annotations

from functools import lru_cache

from shared.ingest.events import Insert, Rejection, conflict_rejection
from shared.privacy.pseudonym import Pseudonymizer
from shared.sink import EventSink, landing_rows, open_event_sink
from shared.store.port import Store
from shared.store.records import Event


@lru_cache(maxsize=4)
def event_sink(url: str) -> EventSink:
    """One sink per process and URL: its connection (an append stream) is reused by every request."""
    return open_event_sink(url)


def sink_insert(sink: EventSink, pseudonyms: Pseudonymizer) -> Insert:
    """An ``Insert`` for ``log_events`` that appends the request's first occurrence of each event id,
    pseudonymised (docs/privacy.md); raises ``SinkUnavailable`` when the append is not confirmed."""

    def insert(store: Store, events: list[Event]) -> list[bool | Rejection]:
        first: dict[str, Event] = {}
        outcomes: list[bool | Rejection] = []
        for event in events:
            earlier = first.get(event.event_id)
            if earlier is None:
                first[event.event_id] = event
                outcomes.append(True)
            else:
                outcomes.append(conflict_rejection(earlier, event) or False)
        if first:
            sink.append(landing_rows(list(first.values()), pseudonyms))
        return outcomes

    return insert
