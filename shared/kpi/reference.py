"""A plain-Python reference for the contact-center and privacy KPIs: the oracle the SQL is tested against.

Written from the KPI definitions (docs/kpis.md), not from the SQL: straightforward loops over the
raw rows, no SQL, no catalog expressions. Input rows are dicts keyed by raw_* column names, with
aware datetimes and ``custom_data`` a dict (or its JSON text); output rows are dicts keyed by the
kpi_daily columns (without ``computed_at``). It favours clarity over speed: use it on test data.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared.kpi.catalog import CATALOG, SERVICE_LEVEL_SECONDS

Row = Mapping[str, Any]
FCR_WINDOW = timedelta(hours=72)
NONE = "(none)"
GROUPINGS: tuple[tuple[str, ...], ...] = (
    (),
    ("channel",),
    ("queue_id",),
    ("agent_id",),
    ("queue_id", "agent_id"),
)


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None or end < start:
        return None
    return (end - start) / timedelta(microseconds=1) / 1_000_000


def _first(events: Iterable[Row]) -> Row | None:
    ordered = sorted(events, key=lambda e: (e["event_ts"], e["event_id"]))
    return ordered[0] if ordered else None


def _custom(event: Row) -> dict[str, Any]:
    data = event.get("custom_data") or {}
    return json.loads(data) if isinstance(data, str) else dict(data)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _on_intervals(events: list[Row], on: str, off: str, end: datetime | None) -> list[float | None]:
    """Durations of the ``on`` periods of an on/off stream: repeats collapse, a leading off is ignored,
    a period still on at the end of the stream lasts until ``end``."""
    durations: list[float | None] = []
    started: datetime | None = None
    for event in sorted(events, key=lambda e: (e["event_ts"], e["event_id"])):
        if event["name"] == on and started is None:
            started = event["event_ts"]
        elif event["name"] == off and started is not None:
            durations.append(_seconds(started, event["event_ts"]))
            started = None
    if started is not None:
        durations.append(_seconds(started, end))
    return durations


def _sum_known(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


@dataclass
class SessionFact:
    provider_id: str
    conversation_id: str
    session_id: str
    channel: str
    queue_id: str | None
    agent_id: str | None
    created_ts: datetime
    queue_assigned_ts: datetime | None
    incoming: bool
    accepted: bool
    rejected: bool
    timed_out: bool
    transferred: bool
    close_ts: datetime | None
    responded_ts: datetime | None
    time_to_accept_s: float | None
    time_to_reject_s: float | None
    wait_s: float | None
    handle_s: float | None
    wrap_up_s: float | None
    consults_requested: int
    consults_accepted: int


@dataclass
class ConversationFact:
    provider_id: str
    conversation_id: str
    channel: str
    direction: str
    customer_id: str | None
    queue_id: str | None
    agent_id: str | None
    conversation_ts: datetime
    closed_ts: datetime | None
    incoming: bool
    handled: bool
    abandoned: bool
    transferred: bool
    resolved: bool
    speed_to_answer_s: float | None
    time_to_abandon_s: float | None
    handle_s: float | None
    hold_s: float | None
    wrap_up_s: float | None
    conversation_time_s: float | None
    first_response_s: float | None
    csat: list[int]
    nps: list[int]
    first_contact_resolved: bool = False


SESSION_EVENT_NAMES = {
    "NotificationReceived",
    "NotificationResponse",
    "NotificationTimedOut",
    "SessionStarted",
    "SessionClosed",
    "WrapUpStarted",
    "SessionInFocus",
    "SessionOutOfFocus",
}


def _outcome(event: Row | None) -> str | None:
    if event is None:
        return None
    if event["name"] == "NotificationTimedOut":
        return "TimedOut"
    return event.get("response_action")


def session_facts(raw: Mapping[str, Sequence[Row]]) -> list[SessionFact]:
    conversations = {(c["provider_id"], c["conversation_id"]): c for c in raw.get("raw_conversations", ())}
    participants: dict[tuple[str, str, str], list[Row]] = defaultdict(list)
    for p in raw.get("raw_participants", ()):
        participants[(p["provider_id"], p["conversation_id"], p["session_id"])].append(p)
    events: dict[tuple[str, str, str], list[Row]] = defaultdict(list)
    for e in raw.get("raw_events", ()):
        if e["name"] in SESSION_EVENT_NAMES:
            events[(e["provider_id"], e["conversation_id"], e["session_id"])].append(e)

    facts = []
    for s in raw.get("raw_sessions", ()):
        key = (s["provider_id"], s["conversation_id"], s["session_id"])
        conversation = conversations.get(key[:2])
        if conversation is None:
            continue
        people = participants[key]
        primaries = sorted(
            (p for p in people if p["participant_type"] == "agent" and p["participant_mode"] == "primary"),
            key=lambda p: (p["added_ts"], p["participant_id"]),
        )
        agent_id = primaries[0]["participant_id"] if primaries else None
        side = {p["participant_id"] for p in people if p["participant_mode"] in ("consult", "monitor")}
        own = [e for e in events[key] if e.get("participant_id") not in side]

        def first_of(*names: str, among: list[Row] = own) -> Row | None:
            return _first(e for e in among if e["name"] in names)

        notified = first_of("NotificationReceived")
        outcome_event = first_of("NotificationResponse", "NotificationTimedOut")
        outcome = _outcome(outcome_event) if agent_id is not None else None
        accepted, rejected, timed_out = outcome == "Accept", outcome == "Reject", outcome == "TimedOut"
        offered_ts = notified["event_ts"] if notified else s.get("agent_assigned_ts")
        outcome_ts = outcome_event["event_ts"] if outcome_event else None
        incoming = agent_id is not None and (offered_ts is not None or outcome_event is not None)
        closed = first_of("SessionClosed")
        if closed is not None:
            close_ts, close_reason = closed["event_ts"], closed.get("reason")
        elif rejected or timed_out:
            close_ts, close_reason = outcome_ts, "Rejected" if rejected else "TimedOut"
        else:
            close_ts, close_reason = None, None

        handle_s = wrap_up_s = None
        if accepted:
            focus = [e for e in own if e["name"] in ("SessionInFocus", "SessionOutOfFocus")]
            periods = _on_intervals(focus, "SessionInFocus", "SessionOutOfFocus", close_ts)
            if periods:
                handle_s = _sum_known(periods)
            else:
                started = first_of("SessionStarted")
                handle_s = _seconds(started["event_ts"] if started else outcome_ts, close_ts)
            wrap = first_of("WrapUpStarted")
            wrap_up_s = _seconds(wrap["event_ts"] if wrap else None, close_ts)

        consults = [
            p for p in people if p["participant_type"] == "agent" and p["participant_mode"] == "consult"
        ]
        consults_accepted = 0
        for consult in consults:
            theirs = [e for e in events[key] if e.get("participant_id") == consult["participant_id"]]
            if _outcome(first_of("NotificationResponse", "NotificationTimedOut", among=theirs)) == "Accept":
                consults_accepted += 1

        facts.append(
            SessionFact(
                provider_id=key[0],
                conversation_id=key[1],
                session_id=key[2],
                channel=s.get("session_channel") or conversation["channel"],
                queue_id=s.get("queue_id"),
                agent_id=agent_id,
                created_ts=s["created_ts"],
                queue_assigned_ts=s.get("queue_assigned_ts"),
                incoming=incoming,
                accepted=accepted,
                rejected=rejected,
                timed_out=timed_out,
                transferred=close_reason == "Transferred" and closed is not None,
                close_ts=close_ts,
                responded_ts=outcome_ts,
                time_to_accept_s=_seconds(offered_ts, outcome_ts) if accepted else None,
                time_to_reject_s=_seconds(offered_ts, outcome_ts) if rejected else None,
                wait_s=_seconds(s.get("queue_assigned_ts"), outcome_ts) if accepted else None,
                handle_s=handle_s,
                wrap_up_s=wrap_up_s,
                consults_requested=len(consults),
                consults_accepted=consults_accepted,
            )
        )
    return facts


def conversation_facts(
    raw: Mapping[str, Sequence[Row]], sessions: list[SessionFact]
) -> list[ConversationFact]:
    by_conversation: dict[tuple[str, str], list[SessionFact]] = defaultdict(list)
    for s in sessions:
        by_conversation[(s.provider_id, s.conversation_id)].append(s)
    events: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for e in raw.get("raw_events", ()):
        events[(e["provider_id"], e["conversation_id"])].append(e)

    facts = []
    for c in raw.get("raw_conversations", ()):
        key = (c["provider_id"], c["conversation_id"])
        mine = by_conversation[key]
        own = events[key]
        closing = _first(e for e in own if e["name"] == "ConversationClosed")
        closed_ts = c.get("closed_ts") or (closing["event_ts"] if closing else None)
        inbound = c["direction"] == "inbound"
        handled = any(s.accepted for s in mine)
        queued = [s.queue_assigned_ts for s in mine if s.queue_assigned_ts is not None]
        waiting_since = min(queued) if queued else c["conversation_ts"]
        answers = [s.responded_ts for s in mine if s.accepted and s.responded_ts is not None]
        abandoned = inbound and closed_ts is not None and not handled

        def rank(s: SessionFact) -> tuple[int, datetime, str]:
            tier = 0 if s.accepted else 1 if s.incoming else 2 if s.queue_id is not None else 3
            return (tier, s.created_ts, s.session_id)

        primary = min(mine, key=rank) if mine else None

        hold_events = [e for e in own if e["name"] in ("CallHold", "CallUnhold")]
        hold_s = None
        handle_s = wrap_up_s = None
        if handled:
            hold_s = _sum_known(_on_intervals(hold_events, "CallHold", "CallUnhold", closed_ts)) or 0.0
            handle_s = _sum_known(s.handle_s for s in mine if s.accepted)
            wrap_up_s = _sum_known(s.wrap_up_s for s in mine if s.accepted) or 0.0

        messages = [e for e in own if e["name"] == "MessageSent"]
        asked = [e["event_ts"] for e in messages if _custom(e).get("sender") == "customer"]
        first_response_s = None
        if asked:
            replies = [
                e["event_ts"]
                for e in messages
                if _custom(e).get("sender") == "agent" and e["event_ts"] >= min(asked)
            ]
            if replies:
                first_response_s = _seconds(min(asked), min(replies))

        csat: list[int] = []
        nps: list[int] = []
        for e in own:
            if e["name"] != "SurveyAnswered":
                continue
            data = _custom(e)
            score = _int_or_none(data["csat"]) if "csat" in data else None
            if score is not None and 1 <= score <= 5:
                csat.append(score)
            score = _int_or_none(data["nps"]) if "nps" in data else None
            if score is not None and 0 <= score <= 10:
                nps.append(score)

        facts.append(
            ConversationFact(
                provider_id=key[0],
                conversation_id=key[1],
                channel=c["channel"],
                direction=c["direction"],
                customer_id=c.get("customer_id"),
                queue_id=primary.queue_id if primary else None,
                agent_id=primary.agent_id if primary else None,
                conversation_ts=c["conversation_ts"],
                closed_ts=closed_ts,
                incoming=inbound and any(s.incoming for s in mine),
                handled=handled,
                abandoned=abandoned,
                transferred=any(s.transferred and s.agent_id is not None for s in mine),
                resolved=closed_ts is not None
                and closing is not None
                and closing.get("reason") == "Resolved",
                speed_to_answer_s=_seconds(waiting_since, min(answers))
                if handled and inbound and answers
                else None,
                time_to_abandon_s=_seconds(waiting_since, closed_ts) if abandoned else None,
                handle_s=handle_s,
                hold_s=hold_s,
                wrap_up_s=wrap_up_s,
                conversation_time_s=_seconds(c["conversation_ts"], closed_ts),
                first_response_s=first_response_s,
                csat=csat,
                nps=nps,
            )
        )

    for x in facts:
        if not (x.resolved and x.customer_id is not None and x.closed_ts is not None):
            continue
        deadline = x.closed_ts + FCR_WINDOW
        x.first_contact_resolved = not any(
            y.provider_id == x.provider_id
            and y.customer_id == x.customer_id
            and y.conversation_id != x.conversation_id
            and y.direction == "inbound"
            and x.closed_ts < y.conversation_ts <= deadline
            for y in facts
        )
    return facts


def _average(values: Iterable[float | None]) -> tuple[float, float]:
    known = [v for v in values if v is not None]
    return float(sum(known)), float(len(known))


def _share(
    rows: Sequence[Any], within: Callable[[Any], bool], of: Callable[[Any], bool]
) -> tuple[float, float]:
    return float(sum(1 for r in rows if of(r) and within(r))), float(sum(1 for r in rows if of(r)))


def _session_measures(rows: Sequence[SessionFact]) -> dict[str, tuple[float, float | None]]:
    incoming = float(sum(r.incoming for r in rows))
    rejected = float(sum(r.rejected for r in rows))
    timed_out = float(sum(r.timed_out for r in rows))
    transferred = float(sum(r.incoming and r.transferred for r in rows))
    requested = float(sum(r.consults_requested for r in rows))
    consulted = float(sum(r.consults_accepted for r in rows))
    return {
        "incoming_sessions": (incoming, None),
        "sessions_engaged": (float(sum(r.accepted for r in rows)), None),
        "sessions_rejected": (rejected, None),
        "session_rejection_rate": (rejected, incoming),
        "sessions_timed_out": (timed_out, None),
        "session_timeout_rate": (timed_out, incoming),
        "sessions_transferred": (transferred, None),
        "session_transfer_rate": (transferred, incoming),
        "avg_session_time_to_accept_s": _average(r.time_to_accept_s for r in rows if r.accepted),
        "avg_session_time_to_reject_s": _average(r.time_to_reject_s for r in rows if r.rejected),
        "avg_session_handle_time_s": _average(r.handle_s for r in rows if r.accepted),
        "avg_session_wait_time_s": _average(r.wait_s for r in rows if r.accepted),
        "consults_requested": (requested, None),
        "consults_accepted": (consulted, None),
        "consult_acceptance_rate": (consulted, requested),
    }


def _conversation_measures(rows: Sequence[ConversationFact]) -> dict[str, tuple[float, float | None]]:
    answered = [r for r in rows if r.speed_to_answer_s is not None]
    handled = [r for r in rows if r.handled]
    measures: dict[str, tuple[float, float | None]] = {
        "incoming_conversations": (float(sum(r.incoming for r in rows)), None),
        "outgoing_conversations": (float(sum(r.direction == "outbound" for r in rows)), None),
        "conversations_handled": (float(len(handled)), None),
        "conversations_abandoned": (float(sum(r.abandoned for r in rows)), None),
        "abandon_rate": _share(rows, lambda r: r.abandoned, lambda r: r.incoming),
        "avg_speed_to_answer_s": _average(r.speed_to_answer_s for r in rows),
        "avg_time_to_abandon_s": _average(r.time_to_abandon_s for r in rows),
        "avg_handle_time_s": _average(r.handle_s for r in handled),
        "avg_hold_time_s": _average(r.hold_s for r in handled),
        "avg_wrap_up_time_s": _average(r.wrap_up_s for r in handled),
        "avg_conversation_time_s": _average(r.conversation_time_s for r in rows),
        "transfer_rate": _share(rows, lambda r: r.transferred, lambda r: r.handled),
        "avg_first_response_time_s": _average(r.first_response_s for r in rows),
        "csat_rate": (
            float(sum(1 for r in rows for score in r.csat if score >= 4)),
            float(sum(len(r.csat) for r in rows)),
        ),
        "nps": (
            float(
                sum(1 for r in rows for s in r.nps if s >= 9) - sum(1 for r in rows for s in r.nps if s <= 6)
            ),
            float(sum(len(r.nps) for r in rows)),
        ),
        "first_contact_resolution_rate": _share(
            rows, lambda r: r.first_contact_resolved, lambda r: r.resolved and r.customer_id is not None
        ),
    }
    for seconds in SERVICE_LEVEL_SECONDS:
        measures[f"service_level_{seconds}s_rate"] = (
            float(sum(1 for r in answered if r.speed_to_answer_s <= seconds)),
            float(len(answered)),
        )
    return measures


def _utc_day(ts: datetime) -> date:
    return ts.astimezone(UTC).date()


def _rows(
    family_rows: Sequence[Any],
    day_of: Callable[[Any], datetime | None],
    measures: Callable[[Sequence[Any]], dict[str, tuple[float, float | None]]],
    days: set[tuple[str, date]] | None,
) -> list[dict[str, Any]]:
    groups: dict[tuple[str, date, str | None, str | None, str | None], list[Any]] = defaultdict(list)
    for row in family_rows:
        closed = day_of(row)
        if closed is None:
            continue
        day = _utc_day(closed)
        if days is not None and (row.provider_id, day) not in days:
            continue
        slice_values = {
            d: NONE if getattr(row, d) is None else getattr(row, d)
            for d in ("channel", "queue_id", "agent_id")
        }
        for grouping in GROUPINGS:
            dims = tuple(
                slice_values[d] if d in grouping else None for d in ("channel", "queue_id", "agent_id")
            )
            groups[(row.provider_id, day, *dims)].append(row)
    units = {kpi.name: kpi.unit for kpi in CATALOG}
    out = []
    for (provider_id, day, channel, queue_id, agent_id), members in groups.items():
        for name, (numerator, denominator) in measures(members).items():
            if denominator is None:
                value: float | None = numerator
            elif denominator == 0:
                value = None
            else:
                value = (100.0 if units[name] == "score" else 1.0) * numerator / denominator
            out.append(
                {
                    "day": day,
                    "provider_id": provider_id,
                    "kpi": name,
                    "channel": channel,
                    "queue_id": queue_id,
                    "agent_id": agent_id,
                    "experience_id": None,
                    "value": value,
                    "numerator": numerator,
                    "denominator": denominator,
                    "unit": units[name],
                }
            )
    return out


def reference_kpi_rows(
    raw: Mapping[str, Sequence[Row]], days: set[tuple[str, date]] | None = None
) -> list[dict[str, Any]]:
    """kpi_daily rows (without computed_at) of every contact-center KPI; only for ``days`` when given."""
    sessions = session_facts(raw)
    conversations = conversation_facts(raw, sessions)
    return [
        *_rows(sessions, lambda s: s.close_ts, _session_measures, days),
        *_rows(conversations, lambda c: c.closed_ts, _conversation_measures, days),
        *erasure_kpi_rows(raw.get("customer_erasures", ()), days),
    ]


def erasure_kpi_rows(
    erasures: Sequence[Row], days: set[tuple[str, date]] | None = None
) -> list[dict[str, Any]]:
    """``customers_deleted``: erasure receipts per provider and UTC day requested (one per customer)."""
    receipts: dict[tuple[str, date], set[str]] = defaultdict(set)
    for erasure in erasures:
        key = (erasure["provider_id"], _utc_day(erasure["requested_at"]))
        if days is None or key in days:
            receipts[key].add(erasure["erasure_id"])
    return [
        {
            "day": day,
            "provider_id": provider_id,
            "kpi": "customers_deleted",
            "channel": None,
            "queue_id": None,
            "agent_id": None,
            "experience_id": None,
            "value": float(len(ids)),
            "numerator": float(len(ids)),
            "denominator": None,
            "unit": "count",
        }
        for (provider_id, day), ids in receipts.items()
    ]
