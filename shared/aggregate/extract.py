"""Incremental extraction: store records in ``(watermark, until]`` into the warehouse's staging tables.

The store hands out bounded pages and each page is converted and staged before the next one is read,
so a run holds one page in memory however much arrived since the last run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.aggregate.rows import (
    Row,
    activity_rows,
    conversation_rows,
    event_rows,
    failed_event_rows,
)
from shared.aggregate.staging import staging_table
from shared.privacy.policy import pseudonymise_rows
from shared.privacy.pseudonym import Pseudonymizer
from shared.store.port import Store
from shared.warehouse.arrow import to_arrow
from shared.warehouse.port import Warehouse
from shared.warehouse.tables import (
    RAW_ACTIVITIES,
    RAW_CONVERSATIONS,
    RAW_EVENTS,
    RAW_FAILED_EVENTS,
    RAW_PARTICIPANTS,
    RAW_SESSIONS,
    Table,
)

Scan = Callable[[Store, datetime | None, datetime, int], Iterator[list[Any]]]
Convert = Callable[[list[Any]], list[tuple[Table, list[Row]]]]


@dataclass(frozen=True)
class Collection:
    """One store collection the aggregation reads, with its own watermark."""

    name: str
    scan: Scan
    convert: Convert

    @property
    def watermark(self) -> str:
        return f"aggregate.{self.name}"


def _conversations(records: list[Any]) -> list[tuple[Table, list[Row]]]:
    rows = conversation_rows(records)
    # All three, even when a page has no sessions: the transaction reads the three staging tables.
    return [
        (RAW_CONVERSATIONS, rows.conversations),
        (RAW_SESSIONS, rows.sessions),
        (RAW_PARTICIPANTS, rows.participants),
    ]


COLLECTIONS = (
    Collection(
        "conversations",
        lambda s, since, until, size: s.scan_conversations(since, until, size),
        _conversations,
    ),
    Collection(
        "events",
        lambda s, since, until, size: s.scan_events(since, until, size),
        lambda records: [(RAW_EVENTS, event_rows(records))],
    ),
    Collection(
        "failed_events",
        lambda s, since, until, size: s.scan_failed_events(since, until, size),
        lambda records: [(RAW_FAILED_EVENTS, failed_event_rows(records))],
    ),
    Collection(
        "activities",
        lambda s, since, until, size: s.scan_activities(since, until, size),
        lambda records: [(RAW_ACTIVITIES, activity_rows(records))],
    ),
)


def extract(
    store: Store,
    warehouse: Warehouse,
    collection: Collection,
    since: datetime | None,
    until: datetime,
    page_size: int,
    after_page: Callable[[], None] | None = None,
    *,
    pseudonyms: Pseudonymizer,
) -> int:
    """Stage every record of ``collection`` stamped in ``(since, until]``; returns how many.
    Customer identifiers are pseudonymised here, before any row leaves the process."""
    read = 0
    if since is not None and since >= until:
        return read
    for page in collection.scan(store, since, until, page_size):
        for raw, rows in collection.convert(page):
            table = staging_table(raw)
            warehouse.load_staging(table, to_arrow(table, pseudonymise_rows(raw, rows, pseudonyms)))
        read += len(page)
        if after_page is not None:
            after_page()
    return read
