"""The warehouse: one port, a DuckDB and a BigQuery adapter; tables declared once in ``tables.py``.

``open_warehouse(url)`` picks the adapter from ``ANALYTICS_WAREHOUSE``:

- ``duckdb:///path`` (embedded; ``duckdb:///:memory:`` for throw-away use), option
  ``lock_timeout_s`` (how long to wait for another process's lock on the file);
- ``bigquery://PROJECT/DATASET``, options ``location``, ``partition_expiration_days`` (``0``: never;
  default ``ANALYTICS_WAREHOUSE_RETENTION_DAYS``), ``maximum_bytes_billed`` and ``endpoint`` (the
  ``http://HOST:PORT`` of a local BigQuery API emulator, with anonymous credentials; tests only).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlparse

from shared.config import settings

if TYPE_CHECKING:  # the port imports pyarrow, which ingest (asking only for the retention) never needs
    from shared.warehouse.port import Warehouse

_DUCKDB_OPTIONS = {"lock_timeout_s"}
_BIGQUERY_OPTIONS = {"location", "partition_expiration_days", "maximum_bytes_billed", "endpoint"}


def _options(query: str, allowed: set[str], url: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for name, values in parse_qs(query, keep_blank_values=True).items():
        if name not in allowed or len(values) != 1 or not values[0]:
            raise ValueError(f"unsupported option {name!r} in warehouse URL {url!r}: use {sorted(allowed)}")
        options[name] = values[0]
    return options


def _positive_int(options: dict[str, str], name: str) -> int | None:
    if name not in options:
        return None
    if not options[name].isdigit() or int(options[name]) < 1:
        raise ValueError(f"warehouse URL option {name} must be a positive integer")
    return int(options[name])


def _expiration_days(options: dict[str, str]) -> int | None:
    """Retention of BigQuery partitions (docs/privacy.md): the URL option (``0`` keeps them forever),
    else ``ANALYTICS_WAREHOUSE_RETENTION_DAYS`` (730 days by default)."""
    if options.get("partition_expiration_days") == "0":
        return None
    return _positive_int(options, "partition_expiration_days") or settings().warehouse_retention_days


def first_kept_day(today: date, retention_days: int) -> date:
    """The first UTC day whose partitions a warehouse keeping ``retention_days`` still holds."""
    return today - timedelta(days=retention_days)


def retention_days(url: str) -> int | None:
    """How many days the warehouse at ``url`` keeps a day partition; ``None``: forever (BigQuery
    with ``partition_expiration_days=0``). Ingest refuses data older than that: it would be dropped
    by the next aggregation run (docs/api.md). A URL the aggregation would refuse falls back to
    ``ANALYTICS_WAREHOUSE_RETENTION_DAYS`` here; the aggregation reports the mistake."""
    parsed = urlparse(url)
    if parsed.scheme == "bigquery":
        try:
            return _expiration_days(_options(parsed.query, _BIGQUERY_OPTIONS, url))
        except ValueError:
            pass
    return settings().warehouse_retention_days


def kept_from(url: str, today: date) -> date | None:
    """The first UTC day the warehouse at ``url`` keeps (``None``: it keeps every day)."""
    days = retention_days(url)
    return None if days is None else first_kept_day(today, days)


def open_warehouse(url: str) -> Warehouse:
    """A new warehouse connection for ``url``; the caller closes it when the run is done."""
    parsed = urlparse(url)
    if parsed.scheme == "duckdb":
        from shared.warehouse.duckdb import DuckDbWarehouse

        options = _options(parsed.query, _DUCKDB_OPTIONS, url)
        location = url.split("?", 1)[0]
        path = location[len("duckdb:///") :] if location.startswith("duckdb:///") else ""
        if not path:
            raise ValueError(f"unsupported warehouse URL {url!r}: use duckdb:///PATH")
        timeout = float(options.get("lock_timeout_s", "10"))
        return DuckDbWarehouse(path, lock_timeout_s=timeout)
    if parsed.scheme == "bigquery":
        from shared.warehouse.bigquery import BigQueryWarehouse
        from shared.warehouse.ddl import BigQueryTableOptions

        dataset = parsed.path.strip("/")
        if not parsed.netloc or not dataset or "/" in dataset:
            raise ValueError(f"unsupported warehouse URL {url!r}: use bigquery://PROJECT/DATASET")
        options = _options(parsed.query, _BIGQUERY_OPTIONS, url)
        return BigQueryWarehouse(
            parsed.netloc,
            dataset,
            location=options.get("location"),
            options=BigQueryTableOptions(_expiration_days(options)),
            maximum_bytes_billed=_positive_int(options, "maximum_bytes_billed"),
            endpoint=options.get("endpoint"),
        )
    raise ValueError(f"unsupported warehouse URL {url!r}: use duckdb:///PATH or bigquery://PROJECT/DATASET")
