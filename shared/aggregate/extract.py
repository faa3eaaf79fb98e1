"""Incremental extraction: store records in ``(watermark, until]`` into the warehouse's staging tables.

The store hands out bounded pages and each page is converted and staged before the next one is read,
so a run holds one page in memory however much arrived since the last run.

A run may also be bounded in records (``limit``): it stops at the first page boundary past the limit,
then reads on only the records stamped like the last one read. Pages come in store-timestamp order,
so every record stamped up to that timestamp has been read and none after it: the timestamp is an
exact watermark, and the next run starts right after it.
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
    RAW_ACTIVITY_PARTIES,
    RAW_CONVERSATIONS,
    RAW_EVENTS,
    RAW_FAILED_EVENTS,
    RAW_PARTICIPANTS,
    RAW_SESSIONS,
    Table,
)

Scan = Callable[[Store, datetime | None, datetime, int], Iterator[list[Any]]]
Convert = Callable[[list[Any]], list[tuple[Table, list[Row]]]]
Stamp = Callable[[Any], datetime]


@dataclass(frozen=True)
class Collection:
    """One store collection the aggregation reads, with its own watermark.

    ``stamp`` is a record's scan timestamp, which a bounded read cuts at; ``None`` when the record
    does not carry it (a failed event's scan timestamp also moves when it is erased): such a
    collection is always read whole (failed events are few).
    """

    name: str
    scan: Scan
    convert: Convert
    stamp: Stamp | None = None

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


def _activities(records: list[Any]) -> list[tuple[Table, list[Row]]]:
    rows = activity_rows(records)
    # Both, even when a page has no parties: the transaction reads both staging tables.
    return [(RAW_ACTIVITIES, rows.activities), (RAW_ACTIVITY_PARTIES, rows.parties)]


COLLECTIONS = (
    Collection(
        "conversations",
        lambda s, since, until, size: s.scan_conversations(since, until, size),
        _conversations,
        lambda c: c.updated_at,
    ),
    Collection(
        "events",
        lambda s, since, until, size: s.scan_events(since, until, size),
        lambda records: [(RAW_EVENTS, event_rows(records))],
        lambda e: e.ingested_at,
    ),
    Collection(
        "failed_events",
        lambda s, since, until, size: s.scan_failed_events(since, until, size),
        lambda records: [(RAW_FAILED_EVENTS, failed_event_rows(records))],
    ),
    Collection(
        "activities",
        lambda s, since, until, size: s.scan_activities(since, until, size),
        _activities,
        lambda a: a.ingested_at,
    ),
)


@dataclass(frozen=True)
class Extracted:
    """What one collection's extraction read: ``read`` records; ``complete`` when that is everything
    up to ``until``, otherwise every record stamped up to ``reached`` (``None``: none at all)."""

    read: int
    complete: bool = True
    reached: datetime | None = None


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
    limit: int | None = None,
) -> Extracted:
    """Stage the records of ``collection`` stamped in ``(since, until]``, all of them or, past
    ``limit`` records, up to the end of a store timestamp (see the module docstring).
    Customer identifiers are pseudonymised here, before any row leaves the process."""
    if since is not None and since >= until:
        return Extracted(0)
    stamp = collection.stamp if limit is not None else None
    if stamp is not None and limit is not None and limit <= 0:
        # No budget left: the watermark stays, and there is more only if one record is waiting.
        waiting = next(iter(collection.scan(store, since, until, 1)), [])
        return Extracted(0, complete=not waiting, reached=since)
    read = 0
    cut: datetime | None = None  # set once past the limit: the timestamp this run finishes
    for page in collection.scan(store, since, until, page_size):
        if stamp is not None and cut is not None:
            same = 0
            while same < len(page) and stamp(page[same]) == cut:
                same += 1
            tail = page[:same]
            _stage(warehouse, collection, tail, pseudonyms)
            read += len(tail)
            if len(tail) < len(page):
                return Extracted(read, complete=False, reached=cut)
        else:
            _stage(warehouse, collection, page, pseudonyms)
            read += len(page)
            if stamp is not None and limit is not None and read >= limit:
                cut = stamp(page[-1])
        if after_page is not None:
            after_page()
    return Extracted(read)  # the scan ran out: everything up to ``until`` was read


def _stage(warehouse: Warehouse, collection: Collection, page: list[Any], pseudonyms: Pseudonymizer) -> None:
    if not page:
        return
    for raw, rows in collection.convert(page):
        table = staging_table(raw)
        warehouse.load_staging(table, to_arrow(table, pseudonymise_rows(raw, rows, pseudonyms)))
