"""The conversation family's reference (D365 omnichannel definitions), by close day."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from shared.kpi.reference.common import (
    Measures,
    Raw,
    Row,
    average,
    custom,
    first,
    int_or_none,
    kpi_rows,
    on_intervals,
    seconds,
    share,
    sum_known,
)
from shared.kpi.reference.sessions import CONTACT_CENTER_GROUPINGS, SessionFact, session_facts

FCR_WINDOW = timedelta(hours=72)
SERVICE_LEVELS_S = (10, 20, 30, 60, 120)  # "within X s" means <= X
UNITS = {
    "incoming_conversations": "count",
    "outgoing_conversations": "count",
    "conversations_handled": "count",
    "conversations_abandoned": "count",
    "abandon_rate": "ratio",
    "avg_speed_to_answer_s": "seconds",
    "avg_time_to_abandon_s": "seconds",
    **{f"service_level_{s}s_rate": "ratio" for s in SERVICE_LEVELS_S},
    "avg_handle_time_s": "seconds",
    "avg_hold_time_s": "seconds",
    "avg_wrap_up_time_s": "seconds",
    "avg_conversation_time_s": "seconds",
    "transfer_rate": "ratio",
    "avg_first_response_time_s": "seconds",
    "csat_rate": "ratio",
    "nps": "score",
    "first_contact_resolution_rate": "ratio",
}


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


def conversation_facts(raw: Raw, sessions: list[SessionFact]) -> list[ConversationFact]:
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
        closing = first(e for e in own if e["name"] == "ConversationClosed")
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
            hold_s = sum_known(on_intervals(hold_events, "CallHold", "CallUnhold", closed_ts)) or 0.0
            handle_s = sum_known(s.handle_s for s in mine if s.accepted)
            wrap_up_s = sum_known(s.wrap_up_s for s in mine if s.accepted) or 0.0

        messages = [e for e in own if e["name"] == "MessageSent"]
        asked = [e["event_ts"] for e in messages if custom(e).get("sender") == "customer"]
        first_response_s = None
        if asked:
            replies = [
                e["event_ts"]
                for e in messages
                if custom(e).get("sender") == "agent" and e["event_ts"] >= min(asked)
            ]
            if replies:
                first_response_s = seconds(min(asked), min(replies))

        csat: list[int] = []
        nps: list[int] = []
        for e in own:
            if e["name"] != "SurveyAnswered":
                continue
            data = custom(e)
            score = int_or_none(data["csat"]) if "csat" in data else None
            if score is not None and 1 <= score <= 5:
                csat.append(score)
            score = int_or_none(data["nps"]) if "nps" in data else None
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
                speed_to_answer_s=seconds(waiting_since, min(answers))
                if handled and inbound and answers
                else None,
                time_to_abandon_s=seconds(waiting_since, closed_ts) if abandoned else None,
                handle_s=handle_s,
                hold_s=hold_s,
                wrap_up_s=wrap_up_s,
                conversation_time_s=seconds(c["conversation_ts"], closed_ts),
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


def measures(rows: list[ConversationFact]) -> Measures:
    answered = [r for r in rows if r.speed_to_answer_s is not None]
    handled = [r for r in rows if r.handled]
    out: Measures = {
        "incoming_conversations": (float(sum(r.incoming for r in rows)), None),
        "outgoing_conversations": (float(sum(r.direction == "outbound" for r in rows)), None),
        "conversations_handled": (float(len(handled)), None),
        "conversations_abandoned": (float(sum(r.abandoned for r in rows)), None),
        "abandon_rate": share(rows, lambda r: r.abandoned, lambda r: r.incoming),
        "avg_speed_to_answer_s": average(r.speed_to_answer_s for r in rows),
        "avg_time_to_abandon_s": average(r.time_to_abandon_s for r in rows),
        "avg_handle_time_s": average(r.handle_s for r in handled),
        "avg_hold_time_s": average(r.hold_s for r in handled),
        "avg_wrap_up_time_s": average(r.wrap_up_s for r in handled),
        "avg_conversation_time_s": average(r.conversation_time_s for r in rows),
        "transfer_rate": share(rows, lambda r: r.transferred, lambda r: r.handled),
        "avg_first_response_time_s": average(r.first_response_s for r in rows),
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
        "first_contact_resolution_rate": share(
            rows, lambda r: r.first_contact_resolved, lambda r: r.resolved and r.customer_id is not None
        ),
    }
    for limit in SERVICE_LEVELS_S:
        out[f"service_level_{limit}s_rate"] = (
            float(sum(1 for r in answered if r.speed_to_answer_s <= limit)),
            float(len(answered)),
        )
    return out


def reference_rows(raw: Raw, days: set[tuple[str, date]] | None = None) -> list[dict[str, Any]]:
    """kpi_daily rows of the conversation KPIs; only for ``days`` when given."""
    facts = conversation_facts(raw, session_facts(raw))
    return kpi_rows(facts, lambda c: c.closed_ts, measures, UNITS, CONTACT_CENTER_GROUPINGS, days)
