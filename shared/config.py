"""Settings from the environment, read once per process.

Embedded defaults keep ``make run`` self-contained; the cloud sets ``firestore://`` and
``bigquery://`` URLs and takes secrets from Secret Manager via environment variables.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_STORE = "sqlite:///.local/store.sqlite3"
DEFAULT_WAREHOUSE = "duckdb:///.local/warehouse.duckdb"


@dataclass(frozen=True)
class Settings:
    store_url: str
    warehouse_url: str
    admin_token: str | None
    key_pepper: str
    key_rotation_grace_seconds: int
    max_body_bytes: int
    retry_after_seconds: int
    event_retention_days: int


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if raw in (None, "") else int(raw)


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings(
        store_url=os.environ.get("ANALYTICS_STORE") or DEFAULT_STORE,
        warehouse_url=os.environ.get("ANALYTICS_WAREHOUSE") or DEFAULT_WAREHOUSE,
        admin_token=os.environ.get("ANALYTICS_ADMIN_TOKEN") or None,
        # A server-side secret mixed into key hashes: a stolen store alone cannot confirm a key.
        key_pepper=os.environ.get("ANALYTICS_KEY_PEPPER", ""),
        key_rotation_grace_seconds=_int("ANALYTICS_KEY_ROTATION_GRACE_SECONDS", 24 * 3600),
        max_body_bytes=_int("ANALYTICS_MAX_BODY_BYTES", 1024 * 1024),
        retry_after_seconds=_int("ANALYTICS_RETRY_AFTER_SECONDS", 2),
        # Raw events in Firestore expire (TTL) this long after ingestion; the warehouse keeps the facts.
        event_retention_days=_int("ANALYTICS_EVENT_RETENTION_DAYS", 400),
    )


def reset_settings() -> None:
    """Forget cached settings (tests change the environment)."""
    settings.cache_clear()
