"""The session family's reference: agent sessions (seed 003) from the raw rows, by close day."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from shared.kpi.reference.common import (
    Measures,
    Raw,
    Row,
    average,
    first,
    kpi_rows,
    on_intervals,
    seconds,
    sum_known,
)

CONTACT_CENTER_GROUPINGS: tuple[tuple[str, ...], ...] = (
    (),
    ("channel",),
    ("queue_id",),
    ("agent_id",),
    ("queue_id", "agent_id"),
)
UNITS = {
    "incoming_sessions": "count",
    "sessions_engaged": "count",
    "sessions_rejected": "count",
    "session_rejection_rate": "ratio",
    "sessions_timed_out": "count",
    "session_timeout_rate": "ratio",
    "sessions_transferred": "count",
    "session_transfer_rate": "ratio",
    "avg_session_time_to_accept_s": "seconds",
    "avg_session_time_to_reject_s": "seconds",
    "avg_session_handle_time_s": "seconds",
    "avg_session_wait_time_s": "seconds",
    "consults_requested": "count",
    "consults_accepted": "count",
    "consult_acceptance_rate": "ratio",
}


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


def session_facts(raw: Raw) -> list[SessionFact]:
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
            return first(e for e in among if e["name"] in names)

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
            periods = on_intervals(focus, "SessionInFocus", "SessionOutOfFocus", close_ts)
            if periods:
                handle_s = sum_known(periods)
            else:
                started = first_of("SessionStarted")
                handle_s = seconds(started["event_ts"] if started else outcome_ts, close_ts)
            wrap = first_of("WrapUpStarted")
            wrap_up_s = seconds(wrap["event_ts"] if wrap else None, close_ts)

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
                time_to_accept_s=seconds(offered_ts, outcome_ts) if accepted else None,
                time_to_reject_s=seconds(offered_ts, outcome_ts) if rejected else None,
                wait_s=seconds(s.get("queue_assigned_ts"), outcome_ts) if accepted else None,
                handle_s=handle_s,
                wrap_up_s=wrap_up_s,
                consults_requested=len(consults),
                consults_accepted=consults_accepted,
            )
        )
    return facts


def measures(rows: Sequence[SessionFact]) -> Measures:
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
        "avg_session_time_to_accept_s": average(r.time_to_accept_s for r in rows if r.accepted),
        "avg_session_time_to_reject_s": average(r.time_to_reject_s for r in rows if r.rejected),
        "avg_session_handle_time_s": average(r.handle_s for r in rows if r.accepted),
        "avg_session_wait_time_s": average(r.wait_s for r in rows if r.accepted),
        "consults_requested": (requested, None),
        "consults_accepted": (consulted, None),
        "consult_acceptance_rate": (consulted, requested),
    }


def reference_rows(raw: Raw, days: set[tuple[str, date]] | None = None) -> list[dict[str, Any]]:
    """kpi_daily rows of the session KPIs; only for ``days`` when given."""
    return kpi_rows(session_facts(raw), lambda s: s.close_ts, measures, UNITS, CONTACT_CENTER_GROUPINGS, days)
