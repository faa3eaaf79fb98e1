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
DEFAULT_MAILER = "file://.local/outbox"
DEFAULT_ALERTS = "file://.local/alerts.jsonl"
DEFAULT_REPORT_FROM = "Channel Analytics <reports@channel-analytics.invalid>"


@dataclass(frozen=True)
class Settings:
    store_url: str
    warehouse_url: str
    admin_token: str | None
    admin_invokers: frozenset[str]
    admin_audiences: tuple[str, ...]
    key_pepper: str
    key_rotation_grace_seconds: int
    max_body_bytes: int
    retry_after_seconds: int
    event_retention_days: int
    pseudonym_salt: str | None
    warehouse_retention_days: int
    # How far the time in a request signature may be from ours (docs/api.md, "Request signing").
    signature_tolerance_seconds: int = 300
    # Requests a second one provider may send to one instance (0 = no limit), and the burst
    # (0 = twice the rate): shared/http/ratelimit.py.
    provider_rate_limit: float = 0.0
    provider_rate_burst: int = 0
    # Supervisor outputs (docs/outputs.md): where report e-mails and KPI breach alerts go, the
    # report's sender, and the AWS role assumed with the function's Google identity (no static key).
    mailer_url: str = DEFAULT_MAILER
    alerts_url: str = DEFAULT_ALERTS
    report_from: str = DEFAULT_REPORT_FROM
    aws_role_arn: str | None = None
    # Failed events leave the store this long after their last change, once aggregated.
    failed_event_retention_days: int = 90
    # Where accepted KPI events go (shared/sink): None, the store; or a sink URL such as
    # bigquery-write://PROJECT/DATASET (docs/scale.md).
    event_sink_url: str | None = None


def _list(name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in os.environ.get(name, "").split(",") if item.strip())


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if raw in (None, "") else int(raw)


def _non_negative(name: str) -> float:
    raw = os.environ.get(name)
    value = 0.0 if raw in (None, "") else float(raw)
    if not 0 <= value < float("inf"):  # also refuses NaN
        raise ValueError(f"{name} must be 0 or a positive number, not {raw!r}")
    return value


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings(
        store_url=os.environ.get("ANALYTICS_STORE") or DEFAULT_STORE,
        warehouse_url=os.environ.get("ANALYTICS_WAREHOUSE") or DEFAULT_WAREHOUSE,
        admin_token=os.environ.get("ANALYTICS_ADMIN_TOKEN") or None,
        # Service accounts whose Google ID tokens open operator routes (Cloud Scheduler's).
        admin_invokers=frozenset(email.lower() for email in _list("ANALYTICS_ADMIN_INVOKERS")),
        admin_audiences=_list("ANALYTICS_ADMIN_AUDIENCES"),
        # A server-side secret mixed into key hashes: a stolen store alone cannot confirm a key.
        key_pepper=os.environ.get("ANALYTICS_KEY_PEPPER", ""),
        key_rotation_grace_seconds=_int("ANALYTICS_KEY_ROTATION_GRACE_SECONDS", 24 * 3600),
        max_body_bytes=_int("ANALYTICS_MAX_BODY_BYTES", 1024 * 1024),
        retry_after_seconds=_int("ANALYTICS_RETRY_AFTER_SECONDS", 2),
        # Raw events in Firestore expire (TTL) this long after ingestion; the warehouse keeps the facts.
        event_retention_days=_int("ANALYTICS_EVENT_RETENTION_DAYS", 400),
        # The key of the customer pseudonyms in the warehouse (docs/privacy.md); None: see shared.privacy.
        pseudonym_salt=os.environ.get("ANALYTICS_PSEUDONYM_SALT") or None,
        # Warehouse day partitions older than this are dropped (24 months by default).
        warehouse_retention_days=_int("ANALYTICS_WAREHOUSE_RETENTION_DAYS", 730),
        signature_tolerance_seconds=_int("ANALYTICS_SIGNATURE_TOLERANCE_SECONDS", 300),
        provider_rate_limit=_non_negative("ANALYTICS_PROVIDER_RATE_LIMIT"),
        provider_rate_burst=int(_non_negative("ANALYTICS_PROVIDER_RATE_BURST")),
        mailer_url=os.environ.get("ANALYTICS_MAILER") or DEFAULT_MAILER,
        alerts_url=os.environ.get("ANALYTICS_ALERTS") or DEFAULT_ALERTS,
        report_from=os.environ.get("ANALYTICS_REPORT_FROM") or DEFAULT_REPORT_FROM,
        aws_role_arn=os.environ.get("ANALYTICS_AWS_ROLE_ARN") or None,
        failed_event_retention_days=_int("ANALYTICS_FAILED_EVENT_RETENTION_DAYS", 90),
        event_sink_url=os.environ.get("ANALYTICS_EVENT_SINK") or None,
    )


def reset_settings() -> None:
    """Forget cached settings (tests change the environment)."""
    settings.cache_clear()
