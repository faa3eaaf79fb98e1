"""The event sink: where the ingest function puts accepted KPI events (``ANALYTICS_EVENT_SINK``).

- unset (the default): the operational store, as always (SQLite embedded, Firestore in the cloud);
  the aggregation extracts new events from it page by page;
- ``bigquery-write://PROJECT/DATASET``: the BigQuery Storage Write API's default stream appends them
  to the warehouse's ``event_landing`` table, and the aggregation deduplicates them into
  ``raw_events`` inside the warehouse (``shared.aggregate.landing``): no event passes through the
  store or through the aggregation's Python. Options: ``endpoint`` (``HOST:PORT`` of a local
  emulator, plain gRPC), ``timeout_s`` (one append's deadline, default 20);
- ``duckdb:///PATH``: the same landing table in an embedded DuckDB warehouse file (tests and local
  runs of this mode; one writer process at a time).

docs/scale.md explains the choice, its delivery guarantees and quotas; docs/api.md what the ingest
answer promises in this mode.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs, urlparse

from shared.warehouse.tables import EVENT_LANDING, RAW_EVENTS

if TYPE_CHECKING:
    from shared.privacy.pseudonym import Pseudonymizer
    from shared.store.records import Event

Row = dict[str, Any]

SCHEMES = ("bigquery-write", "duckdb")


class SinkUnavailable(Exception):
    """The sink did not confirm the append: nothing is promised, the provider retries (HTTP 503)."""

    def __init__(self, message: str = "the event sink is unavailable", retry_after: int = 2):
        super().__init__(message)
        self.retry_after = retry_after


class EventSink(Protocol):
    """Appends landing rows; returns only once they are durable (or raises ``SinkUnavailable``)."""

    def append(self, rows: Sequence[Row]) -> None: ...

    def close(self) -> None: ...


def landing_rows(events: Sequence[Event], pseudonyms: Pseudonymizer) -> list[Row]:
    """``event_landing`` rows of accepted events: the columns of ``raw_events`` as the aggregation
    would stage them, customer identifiers pseudonymised here, before anything leaves the process
    (docs/privacy.md), ``customData`` as JSON text, and the content digest (keyed with the same
    salt) that tells a retry from a reused ``eventId``. ``additionalData`` (free text) is not kept in this mode."""
    from shared.aggregate.rows import VERSION, event_rows
    from shared.privacy.policy import pseudonymise_rows

    rows = pseudonymise_rows(RAW_EVENTS, event_rows(list(events)), pseudonyms)
    columns = [c.name for c in EVENT_LANDING.columns]
    out: list[Row] = []
    for event, row in zip(events, rows, strict=True):
        row.pop(VERSION, None)
        row["custom_data"] = None if row["custom_data"] is None else json.dumps(row["custom_data"])
        # Keyed like a pseudonym: the plain digest of content that holds a raw participant id would
        # let whoever holds the warehouse confirm a guessed event; equal contents still compare equal.
        row["digest"] = pseudonyms(event.provider_id, f"digest\x1f{event.digest}")
        out.append({name: row.get(name) for name in columns})
    return out


def _options(query: str, allowed: set[str], url: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for name, values in parse_qs(query, keep_blank_values=True).items():
        if name not in allowed or len(values) != 1 or not values[0]:
            raise ValueError(f"unsupported option {name!r} in event sink URL {url!r}: use {sorted(allowed)}")
        options[name] = values[0]
    return options


def sink_scheme(url: str | None) -> str | None:
    """The mode an ``ANALYTICS_EVENT_SINK`` value selects (``None``: the store); a value that names
    no supported sink is an error, never a silent fall-back to the store."""
    if not url:
        return None
    scheme = urlparse(url).scheme
    if scheme not in SCHEMES:
        raise ValueError(
            f"unsupported ANALYTICS_EVENT_SINK {url!r}: use bigquery-write://PROJECT/DATASET, "
            "duckdb:///PATH, or leave it unset for the store"
        )
    return scheme


def open_event_sink(url: str) -> EventSink:
    """A sink for ``url`` (see the module docstring); the caller keeps it for the process."""
    parsed = urlparse(url)
    scheme = sink_scheme(url)
    if scheme == "bigquery-write":
        from shared.sink.bigquery_write import BigQueryWriteSink

        dataset = parsed.path.strip("/")
        if not parsed.netloc or not dataset or "/" in dataset:
            raise ValueError(f"unsupported event sink URL {url!r}: use bigquery-write://PROJECT/DATASET")
        options = _options(parsed.query, {"endpoint", "timeout_s"}, url)
        return BigQueryWriteSink(
            parsed.netloc,
            dataset,
            endpoint=options.get("endpoint"),
            timeout_s=float(options.get("timeout_s", "20")),
        )
    from shared.sink.duckdb import DuckDbSink

    location = url.split("?", 1)[0]
    path = location[len("duckdb:///") :] if location.startswith("duckdb:///") else ""
    if not path:
        raise ValueError(f"unsupported event sink URL {url!r}: use duckdb:///PATH")
    options = _options(parsed.query, {"lock_timeout_s"}, url)
    return DuckDbSink(path, float(options.get("lock_timeout_s", "10")))
