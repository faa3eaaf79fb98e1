"""KPI breach alerts: per-provider thresholds on any KPI and slice, evaluated after each aggregation
on the kpi_daily rows it wrote (docs/outputs.md).

One alert per (threshold, day, KPI, slice). An evaluation compares the rows the run wrote with the
alerts in ``kpi_alerts``: a breach that is not open yet opens (``occurrence`` + 1) and queues one
``kpi_breach`` message; an open alert whose restated row no longer breaches is resolved and queues
one ``kpi_breach_resolved`` message. The messages go through the outbox (``shared.outputs.outbox``)
under the aggregation's lease: written to the store first, with ids derived from (alert, occurrence,
kind), so a re-run of the same aggregation queues nothing new and sends nothing twice; a failed
publish is retried by the next run.

Order, and why it is safe: (1) messages into the store, (2) ``kpi_alerts`` upserted, (3) due
messages published. The aggregation calls this after its commit and before its watermarks move, so
a failure in (1) or (2) fails the run and the next run recomputes and re-evaluates the same days.
"""

from __future__ import annotations

import hashlib
import json
import logging
import operator as op
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlglot import exp

from shared.errors import ApiError, validate_request
from shared.kpi.catalog import by_name
from shared.kpi.families import FAMILIES
from shared.kpi.model import Kpi
from shared.outputs.channels import Publisher, SendFailed
from shared.outputs.outbox import deliver
from shared.outputs.wire import ThresholdIn, ThresholdOut
from shared.providers.service import require_provider
from shared.store.errors import AlreadyExists, NotFound
from shared.store.port import Store
from shared.store.records import AlertThreshold, AuditEntry, Delivery
from shared.warehouse.ddl import column_type
from shared.warehouse.port import Transaction, Warehouse
from shared.warehouse.tables import KPI_ALERTS, KPI_DAILY

log = logging.getLogger("channel_analytics.outputs")

KIND = "alert"
DIMENSIONS = ("channel", "queue_id", "agent_id", "experience_id")
WIRE_DIMENSIONS = {
    "channel": "channel",
    "queueId": "queue_id",
    "agentId": "agent_id",
    "experienceId": "experience_id",
}
OPERATORS: dict[str, Callable[[float, float], bool]] = {">": op.gt, ">=": op.ge, "<": op.lt, "<=": op.le}
UNIT_RANGES: dict[str, tuple[float | None, float | None]] = {
    "ratio": (0.0, 1.0),
    "score": (-100.0, 100.0),
    "seconds": (0.0, None),
    "count": (0.0, None),
}


# -- thresholds: the operator routes -----------------------------------------------------------------


def _slices_of(kpi: Kpi) -> list[tuple[str, ...]]:
    return [tuple(sorted(g)) for g in FAMILIES[kpi.family].grouping_sets]


def _wire_slice(dims: dict[str, str]) -> dict[str, str]:
    back = {v: k for k, v in WIRE_DIMENSIONS.items()}
    return {back[d]: v for d, v in dims.items()}


def validate_threshold(body: dict[str, Any]) -> tuple[ThresholdIn, Kpi, dict[str, str]]:
    """The threshold, its KPI and its slice as kpi_daily dimensions; 422 with a specific code when
    the catalog has no such KPI, the KPI is not computed at that slice, or the value is off its unit."""
    req = validate_request(ThresholdIn, body)
    kpi = by_name().get(req.kpi)
    if kpi is None:
        raise ApiError(
            422, "unknown_kpi", f"no KPI {req.kpi!r} in the catalog (GET kpi_catalog in the warehouse)"
        )
    dims = {WIRE_DIMENSIONS[k]: v for k, v in req.slice.model_dump(exclude_none=True).items()}
    available = _slices_of(kpi)
    if tuple(sorted(dims)) not in available:
        shown = [sorted(_wire_slice(dict.fromkeys(s, "*"))) for s in available]
        raise ApiError(
            422,
            "slice_not_available",
            f"{kpi.name} is computed per {', '.join(str(s) for s in shown)} only",
            [{"field": "slice", "code": "slice_not_available", "message": f"available: {shown}"}],
        )
    low, high = UNIT_RANGES[kpi.unit]
    if (low is not None and req.value < low) or (high is not None and req.value > high):
        raise ApiError(
            422,
            "threshold_out_of_range",
            f"{kpi.name} is in {kpi.unit}: a threshold must be within [{low}, {'∞' if high is None else high}]",
            [{"field": "value", "code": "threshold_out_of_range", "message": f"{kpi.unit} KPI"}],
        )
    return req, kpi, dims


def threshold_out(t: AlertThreshold) -> ThresholdOut:
    return ThresholdOut(
        thresholdId=t.threshold_id,
        kpi=t.kpi,
        unit=by_name()[t.kpi].unit if t.kpi in by_name() else "",
        operator=t.operator,
        value=t.value,
        slice=_wire_slice(t.slice),
        minDenominator=t.min_denominator,
        createdAt=t.created_at,
        createdBy=t.created_by,
    )


def _audit(provider_id: str, actor: str, at: datetime, action: str, old: Any, new: Any) -> AuditEntry:
    return AuditEntry(uuid.uuid4().hex, provider_id, at, actor, action, "alertThresholds", old, new)


def add_threshold(
    store: Store, provider_id: str, body: dict[str, Any], actor: str, now: datetime
) -> ThresholdOut:
    req, kpi, dims = validate_threshold(body)
    require_provider(store, provider_id)
    canonical = json.dumps([kpi.name, req.operator, req.value, dims, req.minDenominator], sort_keys=True)
    threshold = AlertThreshold(
        provider_id=provider_id,
        threshold_id=hashlib.sha256(canonical.encode()).hexdigest()[:20],
        kpi=kpi.name,
        operator=req.operator,
        value=req.value,
        slice=dims,
        min_denominator=req.minDenominator,
        created_at=now,
        created_by=actor,
    )
    out = threshold_out(threshold)
    audit = _audit(provider_id, actor, now, "alert.threshold_added", None, out.model_dump(mode="json"))
    try:
        store.add_threshold(threshold, audit)
    except AlreadyExists as exc:
        raise ApiError(
            409, "threshold_exists", f"this threshold exists already as {threshold.threshold_id}"
        ) from exc
    return out


def list_thresholds(store: Store, provider_id: str) -> list[ThresholdOut]:
    require_provider(store, provider_id)
    return [threshold_out(t) for t in store.list_thresholds(provider_id)]


def remove_threshold(
    store: Store, provider_id: str, threshold_id: str, actor: str, now: datetime
) -> ThresholdOut:
    require_provider(store, provider_id)
    audit = _audit(provider_id, actor, now, "alert.threshold_removed", {"thresholdId": threshold_id}, None)
    try:
        removed = store.remove_threshold(provider_id, threshold_id, audit)
    except NotFound as exc:
        raise ApiError(404, "threshold_not_found", f"no threshold {threshold_id[:100]!r}") from exc
    return threshold_out(removed)


# -- evaluation after an aggregation -------------------------------------------------------------------


@dataclass
class AlertReport:
    """What one evaluation did (part of the aggregation's report)."""

    rows: int = 0
    opened: int = 0
    resolved: int = 0
    sent: int = 0
    failed: int = 0
    retried: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def alert_id(threshold_id: str, day: date, kpi: str, dims: dict[str, str | None]) -> str:
    key = json.dumps([threshold_id, day.isoformat(), kpi, [dims.get(d) for d in DIMENSIONS]])
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def matches(threshold: AlertThreshold, row: dict[str, Any]) -> bool:
    """The row is of the threshold's KPI and slice."""
    if row["kpi"] != threshold.kpi or row["provider_id"] != threshold.provider_id:
        return False
    for dim in DIMENSIONS:
        wanted, actual = threshold.slice.get(dim), row[dim]
        if wanted is None and actual is not None:
            return False
        if wanted == "*" and actual is None:
            return False
        if wanted not in (None, "*") and actual != wanted:
            return False
    return True


def breaches(threshold: AlertThreshold, row: dict[str, Any]) -> bool:
    value = row["value"]
    if value is None:
        return False
    if threshold.min_denominator is not None and (row["denominator"] or 0) < threshold.min_denominator:
        return False
    return OPERATORS[threshold.operator](float(value), float(threshold.value))


def _literal(value: Any, type_: str, dialect: str) -> str:
    if value is None:
        return f"CAST(NULL AS {column_type(type_, dialect)})"
    if type_ == "STRING":
        return exp.Literal.string(str(value)).sql(dialect=dialect)
    if type_ == "DATE":
        return f"DATE '{value.isoformat()}'"
    if type_ == "TIMESTAMP":
        text = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")
        return f"TIMESTAMPTZ '{text}'" if dialect == "duckdb" else f"TIMESTAMP '{text}'"
    if type_ == "INT64":
        return str(int(value))
    return f"CAST({float(value)!r} AS {column_type(type_, dialect)})"


def _rows_sql(rows: Sequence[dict[str, Any]], dialect: str) -> str:
    return "\nUNION ALL ".join(
        "SELECT "
        + ", ".join(f"{_literal(r[c.name], c.type, dialect)} AS {c.name}" for c in KPI_ALERTS.columns)
        for r in rows
    )


def _days_sql(days: Sequence[date]) -> str:
    return ", ".join(f"DATE '{d.isoformat()}'" for d in sorted(set(days)))


def _in(values: Sequence[str], dialect: str) -> str:
    return ", ".join(exp.Literal.string(v).sql(dialect=dialect) for v in sorted(set(values)))


def _message(alert: dict[str, Any], unit: str, kind: str, at: datetime) -> dict[str, Any]:
    dims = {d: alert[d] for d in DIMENSIONS if alert[d] is not None}
    return {
        "type": kind,
        "alertId": alert["alert_id"],
        "providerId": alert["provider_id"],
        "thresholdId": alert["threshold_id"],
        "day": alert["day"].isoformat(),
        "kpi": alert["kpi"],
        "unit": unit,
        "slice": _wire_slice(dims),
        "operator": alert["operator"],
        "threshold": alert["threshold"],
        "value": alert["value"],
        "numerator": alert["numerator"],
        "denominator": alert["denominator"],
        "occurrence": alert["occurrence"],
        "at": at.isoformat(),
    }


def subject(body: dict[str, Any]) -> str:
    """A short ASCII line (SNS subjects: printable ASCII, under 100 characters)."""
    where = ", ".join(f"{k} {v}" for k, v in body["slice"].items()) or "all"
    state = "KPI breach" if body["type"] == "kpi_breach" else "Resolved"
    value = "-" if body["value"] is None else f"{body['value']:.4g}"
    text = f"{state}: {body['kpi']} {value} {body['operator']} {body['threshold']:.4g} ({body['providerId']}, {where}, {body['day']})"
    return text.encode("ascii", "replace").decode()[:99]


def _delivery(alert: dict[str, Any], unit: str, kind: str, at: datetime) -> Delivery:
    delivery_id = hashlib.sha256(f"{alert['alert_id']}:{alert['occurrence']}:{kind}".encode()).hexdigest()[
        :32
    ]
    return Delivery(KIND, alert["provider_id"], delivery_id, at, _message(alert, unit, kind, at))


def evaluate(
    store: Store, warehouse: Warehouse, days: Sequence[date], written_since: datetime, now: datetime
) -> tuple[AlertReport, list[Delivery]]:
    """Compare the kpi_daily rows of ``days`` written at or after ``written_since`` with the
    thresholds; queue the messages of what changed and upsert kpi_alerts. Returns the counts and
    the deliveries queued."""
    report = AlertReport()
    thresholds = store.list_thresholds(None)
    if not thresholds or not days:
        return report, []
    dialect = warehouse.dialect
    providers = [t.provider_id for t in thresholds]
    kpis = [t.kpi for t in thresholds]
    since = _literal(written_since, "TIMESTAMP", dialect)
    rows = warehouse.query(
        f"SELECT day, provider_id, kpi, channel, queue_id, agent_id, experience_id, value, numerator, "
        f"denominator FROM {warehouse.name(KPI_DAILY.name)} WHERE day IN ({_days_sql(days)}) "
        f"AND computed_at >= {since} AND provider_id IN ({_in(providers, dialect)}) AND kpi IN ({_in(kpis, dialect)})"
    )
    report.rows = len(rows)
    rewritten = {(r["provider_id"], r["day"]) for r in rows}
    existing = {
        a["alert_id"]: a
        for a in warehouse.query(
            f"SELECT * FROM {warehouse.name(KPI_ALERTS.name)} WHERE day IN ({_days_sql(days)}) "
            f"AND provider_id IN ({_in(providers, dialect)})"
        )
    }
    catalog = by_name()
    changed: list[dict[str, Any]] = []
    queued: list[Delivery] = []
    breaching: set[str] = set()
    for threshold in thresholds:
        unit = catalog[threshold.kpi].unit if threshold.kpi in catalog else ""
        for row in rows:
            if not matches(threshold, row) or not breaches(threshold, row):
                continue
            dims = {d: row[d] for d in DIMENSIONS}
            aid = alert_id(threshold.threshold_id, row["day"], row["kpi"], dims)
            breaching.add(aid)
            old = existing.get(aid)
            if old is not None and old["status"] == "open":
                if old["value"] != row["value"]:  # still breaching, with a restated value
                    changed.append(
                        {
                            **old,
                            "value": row["value"],
                            "numerator": row["numerator"],
                            "denominator": row["denominator"],
                            "updated_at": now,
                        }
                    )
                continue
            alert = {
                "provider_id": threshold.provider_id,
                "alert_id": aid,
                "threshold_id": threshold.threshold_id,
                "day": row["day"],
                "kpi": row["kpi"],
                **dims,
                "operator": threshold.operator,
                "threshold": float(threshold.value),
                "value": row["value"],
                "numerator": row["numerator"],
                "denominator": row["denominator"],
                "status": "open",
                "occurrence": (old["occurrence"] if old is not None else 0) + 1,
                "opened_at": now,
                "resolved_at": None,
                "updated_at": now,
            }
            changed.append(alert)
            queued.append(_delivery(alert, unit, "kpi_breach", now))
            report.opened += 1
    for aid, old in existing.items():
        if old["status"] != "open" or aid in breaching or (old["provider_id"], old["day"]) not in rewritten:
            continue
        row = next(
            (
                r
                for r in rows
                if r["provider_id"] == old["provider_id"]
                and r["day"] == old["day"]
                and r["kpi"] == old["kpi"]
                and all(r[d] == old[d] for d in DIMENSIONS)
            ),
            None,
        )
        resolved = {
            **old,
            "value": row["value"] if row else None,
            "numerator": row["numerator"] if row else None,
            "denominator": row["denominator"] if row else None,
            "status": "resolved",
            "resolved_at": now,
            "updated_at": now,
        }
        changed.append(resolved)
        unit = catalog[old["kpi"]].unit if old["kpi"] in catalog else ""
        queued.append(_delivery(resolved, unit, "kpi_breach_resolved", now))
        report.resolved += 1
    if queued:
        store.add_deliveries(queued)  # (1) the intent to send, durable before anything else
    if changed:  # (2) the state BI tools read
        source = _rows_sql(changed, dialect)
        name = warehouse.name(KPI_ALERTS.name)
        statements = warehouse.upsert(KPI_ALERTS, source)
        warehouse.apply(Transaction(tuple(statements), f"SELECT COUNT(*) AS alerts FROM {name}"))
    return report, queued


def publish_due(store: Store, publisher: Publisher, clock: Callable[[], datetime]) -> dict[str, int]:
    """(3) Publish every due alert message (this run's and earlier failures)."""

    def send(delivery: Delivery) -> str:
        return publisher.publish(
            delivery.delivery_id, delivery.provider_id, subject(delivery.payload), delivery.payload
        )

    return deliver(store, KIND, send, clock).as_dict()


def after_aggregation(
    store: Store,
    warehouse: Warehouse,
    days: Sequence[str],
    run_started: datetime,
    publisher: Callable[[], Publisher],
) -> dict[str, int]:
    """The one call the aggregation makes after its commit: evaluate what it wrote, then publish.
    ``publisher`` is opened only when a message is due. Publishing failures never fail the run."""
    report, _ = evaluate(store, warehouse, [date.fromisoformat(d) for d in days], run_started, run_started)
    due = store.due_deliveries(KIND, 1)
    if due:
        try:
            sent = publish_due(store, publisher(), lambda: datetime.now(UTC))
        except (SendFailed, ValueError) as exc:  # an unusable ANALYTICS_ALERTS: kept for the next run
            log.error("alerts not published: %s", exc)
            sent = {"failed": len(store.due_deliveries(KIND, 1000))}
        report.sent = sent.get("sent", 0)
        report.failed = sent.get("failed", 0)
        report.retried = sent.get("retried", 0)
    return report.as_dict()
