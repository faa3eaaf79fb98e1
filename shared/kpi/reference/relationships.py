"""The relationship family's reference (seed 001): activity facts, per-record snapshots, top contacts
and the activities chart, computed from the raw activities with plain loops.

The definitions are restated here on purpose (not imported from the family's SQL module): the
windows, the hourly-investment minutes, the health formula and its bands are the reference's own, and
the tests hold the SQL to them.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from shared.kpi.reference.common import Raw, seconds, utc_day

WINDOW_DAYS = 90
CONTACT_DAYS = 7
WEIGHT = 1.0
TREND_DAYS = 7
TREND_POINTS = 5
TYPES = ("email", "meeting", "phonecall")
Record = tuple[str, str, str]  # (provider_id, regarding_type, regarding_id)


@dataclass(frozen=True)
class Settings:
    window_days: int = WINDOW_DAYS
    contact_days: int = CONTACT_DAYS
    weights: tuple[float, float, float] = (WEIGHT, WEIGHT, WEIGHT)  # email, meeting, phonecall


@dataclass(frozen=True)
class ActivityFact:
    provider_id: str
    activity_id: str
    activity_type: str
    record: Record
    status: str
    start_ts: datetime
    initiated_by: str
    minutes_us: float
    minutes_customer: float
    response_s: float | None
    parties: tuple[tuple[str, str], ...]  # (side, party_id), each party once

    @property
    def start_day(self) -> date:
        return utc_day(self.start_ts)


def settings_of(raw: Raw) -> dict[str, Settings]:
    out = {}
    for row in raw.get("provider_settings", ()):

        def pick(name: str, default: Any, row: Mapping[str, Any] = row) -> Any:
            return default if row.get(name) is None else row[name]

        out[row["provider_id"]] = Settings(
            pick("relationship_window_days", WINDOW_DAYS),
            pick("relationship_contact_days", CONTACT_DAYS),
            tuple(pick(f"relationship_weight_{t}", WEIGHT) for t in TYPES),  # type: ignore[arg-type]
        )
    return out


def _parties(row: Mapping[str, Any]) -> list[dict[str, Any]]:
    parties = row["parties"]
    return json.loads(parties) if isinstance(parties, str) else list(parties)


def activity_facts(raw: Raw) -> list[ActivityFact]:
    activities = {(a["provider_id"], a["activity_id"]): a for a in raw.get("raw_activities", ())}
    out = []
    for (provider_id, activity_id), a in activities.items():
        unique: dict[str, dict[str, Any]] = {}
        for party in _parties(a):
            unique.setdefault(party["partyId"], party)
        ours = sum(1 for p in unique.values() if p["side"] == "us")
        theirs = sum(1 for p in unique.values() if p["side"] == "customer")
        side = a["initiated_by"]
        duration = seconds(a["start_ts"], a.get("end_ts"))
        minutes = 0.0 if duration is None else duration / 60
        if a["activity_type"] == "email":
            minutes_us = 5.0 if side == "us" else 2.5 if ours else 0.0
            minutes_customer = 5.0 if side == "customer" else 2.5 if theirs else 0.0
        elif a["activity_type"] == "meeting":
            minutes_us, minutes_customer = minutes * ours, minutes if theirs else 0.0
        else:
            minutes_us, minutes_customer = minutes if ours else 0.0, minutes if theirs else 0.0
        response = None
        answered = activities.get((provider_id, a.get("in_reply_to")))
        if (
            answered is not None
            and answered["activity_type"] == "email"
            and answered["status"] == "completed"
            and answered["initiated_by"] != side
        ):
            response = seconds(answered["start_ts"], a["start_ts"])
        out.append(
            ActivityFact(
                provider_id,
                activity_id,
                a["activity_type"],
                (provider_id, a["regarding_type"], a["regarding_id"]),
                a["status"],
                a["start_ts"],
                side,
                minutes_us,
                minutes_customer,
                response,
                tuple((p["side"], pid) for pid, p in unique.items()),
            )
        )
    return out


def _in_window(fact: ActivityFact, as_of: date, window: int) -> bool:
    return fact.status == "completed" and as_of - timedelta(days=window) < fact.start_day <= as_of


def _active(facts: list[ActivityFact], day: date, now: datetime, window: int) -> bool:
    return any(
        f.status != "canceled"
        and (
            day - timedelta(days=window) < f.start_day <= day
            or (f.status == "scheduled" and f.start_ts > now)
        )
        for f in facts
    )


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def health(facts: list[ActivityFact], as_of: date, cfg: Settings) -> int:
    """The health score as of ``as_of`` (docs/kpis.md): activity, recency and two-sidedness."""
    window = [f for f in facts if _in_window(f, as_of, cfg.window_days)]
    counts = Counter((f.activity_type, f.initiated_by) for f in window)
    w_email, w_meeting, w_call = cfg.weights

    def weighted(*sides: str) -> float:
        by = {t: sum(counts[(t, s)] for s in sides) for t in TYPES}
        return w_email * by["email"] + w_meeting * by["meeting"] + w_call * by["phonecall"]

    expected = float(cfg.window_days) / cfg.contact_days
    activity = min(1.0, weighted("us", "customer") / expected)
    last = max((f.start_day for f in window), default=None)
    if last is None:
        recency = 0.0
    else:
        quiet = (as_of - last).days
        if quiet <= cfg.contact_days:
            recency = 1.0
        elif quiet >= 4 * cfg.contact_days:
            recency = 0.0
        else:
            recency = 1.0 - (quiet - cfg.contact_days) / (3 * float(cfg.contact_days))
    two_sided = min(1.0, min(weighted("us"), weighted("customer")) / (expected / 2))
    return math.floor(100 * (0.5 * activity + 0.3 * recency + 0.2 * two_sided) + 0.5)


def band(score: int) -> str:
    return "good" if score >= 60 else "fair" if score >= 40 else "poor"


def _by_record(raw: Raw) -> dict[Record, list[ActivityFact]]:
    grouped: dict[Record, list[ActivityFact]] = defaultdict(list)
    for fact in activity_facts(raw):
        if fact.status != "canceled":
            grouped[fact.record].append(fact)
    return grouped


def _active_records(
    raw: Raw, day: date, now: datetime
) -> Iterator[tuple[Record, list[ActivityFact], Settings]]:
    """The records that have a snapshot on ``day``, with their activities and their provider's settings."""
    settings = settings_of(raw)
    for record, facts in _by_record(raw).items():
        cfg = settings.get(record[0], Settings())
        if _active(facts, day, now, cfg.window_days):
            yield record, facts, cfg


def snapshot_rows(raw: Raw, day: date, now: datetime) -> list[dict[str, Any]]:
    """``relationship_snapshot`` rows of ``day`` (without computed_at) for every active record."""
    out = []
    for record, facts, cfg in _active_records(raw, day, now):
        window = [f for f in facts if _in_window(f, day, cfg.window_days)]

        def count(kind: str, side: str, window: list[ActivityFact] = window) -> int:
            return sum(1 for f in window if f.activity_type == kind and f.initiated_by == side)

        sent, received = count("email", "us"), count("email", "customer")
        score, earlier = health(facts, day, cfg), health(facts, day - timedelta(days=TREND_DAYS), cfg)
        upcoming = [f.start_ts for f in facts if f.status == "scheduled" and f.start_ts > now]
        out.append(
            {
                "snapshot_day": day,
                "provider_id": record[0],
                "regarding_type": record[1],
                "regarding_id": record[2],
                "window_days": cfg.window_days,
                "emails_sent": sent,
                "emails_received": received,
                "meetings_by_us": count("meeting", "us"),
                "meetings_by_customer": count("meeting", "customer"),
                "calls_by_us": count("phonecall", "us"),
                "calls_by_customer": count("phonecall", "customer"),
                "initiated_by_us": sum(1 for f in window if f.initiated_by == "us"),
                "initiated_by_customer": sum(1 for f in window if f.initiated_by == "customer"),
                "email_ratio_us": sent / received if received else None,
                "email_ratio_customer": received / sent if sent else None,
                "response_time_us_s": _mean(
                    [f.response_s for f in window if f.initiated_by == "us" and f.response_s is not None]
                ),
                "response_time_customer_s": _mean(
                    [
                        f.response_s
                        for f in window
                        if f.initiated_by == "customer" and f.response_s is not None
                    ]
                ),
                "hours_us": sum(f.minutes_us for f in window) / 60,
                "hours_customer": sum(f.minutes_customer for f in window) / 60,
                "last_interaction_ts": max((f.start_ts for f in window), default=None),
                "next_interaction_ts": min(upcoming, default=None),
                "health_score": score,
                "health_band": band(score),
                "health_trend": "up"
                if score - earlier >= TREND_POINTS
                else "down"
                if earlier - score >= TREND_POINTS
                else "flat",
            }
        )
    return out


def contact_rows(raw: Raw, day: date, now: datetime) -> list[dict[str, Any]]:
    """``relationship_contacts`` rows of ``day``: the top three people per side of active records."""
    out = []
    for record, facts, cfg in _active_records(raw, day, now):
        taking_part: dict[tuple[str, str], set[str]] = defaultdict(set)
        for f in facts:
            if _in_window(f, day, cfg.window_days):
                for side, party in f.parties:
                    taking_part[(side, party)].add(f.activity_id)
        for side in ("us", "customer"):
            people = sorted(
                ((party, len(ids)) for (s, party), ids in taking_part.items() if s == side),
                key=lambda p: (-p[1], p[0]),
            )
            for rank, (party, interactions) in enumerate(people[:3], start=1):
                out.append(
                    {
                        "snapshot_day": day,
                        "provider_id": record[0],
                        "regarding_type": record[1],
                        "regarding_id": record[2],
                        "side": side,
                        "rank": rank,
                        "party_id": party,
                        "interactions": interactions,
                    }
                )
    return out


def daily_activity_rows(raw: Raw) -> list[dict[str, Any]]:
    """``relationship_daily_activity``: completed activities per day, record, type and side."""
    counts: Counter[tuple[Any, ...]] = Counter(
        (f.start_day, *f.record, f.activity_type, f.initiated_by)
        for f in activity_facts(raw)
        if f.status == "completed"
    )
    return [
        {
            "day": day,
            "provider_id": provider_id,
            "regarding_type": regarding_type,
            "regarding_id": regarding_id,
            "activity_type": activity_type,
            "initiated_by": side,
            "activities": n,
        }
        for (day, provider_id, regarding_type, regarding_id, activity_type, side), n in counts.items()
    ]
