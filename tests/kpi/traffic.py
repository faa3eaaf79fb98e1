"""Hypothesis strategies for realistic raw contact-center data.

Several providers and days (around midnight UTC), inbound and outbound, repeat customers within and
after 72 h, sessions with and without agents, consults, accept/reject/time-out (sometimes
conflicting), transfers, holds, focus events or none, wrap-up, surveys, messages, abandoned and open
conversations, missing queues, and clock errors (events before the start).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from tests.kpi.scenario import Scenario

START = datetime(2026, 3, 1, 22, 0, tzinfo=UTC)  # spans several UTC days and their midnights
PROVIDERS = ("acme", "globex")
CUSTOMERS = (None, "cu-1", "cu-2", "cu-3")
QUEUES = (None, "billing", "sales")
AGENTS = ("agent-1", "agent-2", "agent-3")
CONSULTANTS = ("agent-8", "agent-9")


def _offset(draw: st.DrawFn, low: int, high: int) -> timedelta:
    return timedelta(seconds=draw(st.integers(low, high)))


def _maybe(draw: st.DrawFn, value: Any) -> Any:
    return value if draw(st.booleans()) else None


def _session(draw: st.DrawFn, s: Scenario, cid: str, sid: str, start: datetime) -> None:
    created = start + _offset(draw, 0, 90)
    agent = draw(st.sampled_from((None, *AGENTS)))
    consults = draw(st.lists(st.sampled_from(CONSULTANTS), max_size=2, unique=True))
    s.session(
        cid,
        sid,
        created,
        agent=agent,
        queue_id=draw(st.sampled_from(QUEUES)),
        queued=_maybe(draw, created + _offset(draw, -30, 20)),
        assigned=_maybe(draw, created + _offset(draw, 0, 120)),
        consults=consults,
        channel=draw(st.sampled_from((None, None, "chat"))),
    )

    def when(low: int = -20, high: int = 1800) -> datetime:
        return created + _offset(draw, low, high)

    if draw(st.booleans()):
        s.event(cid, sid, "NotificationReceived", when(0, 20))
    for _ in range(draw(st.integers(0, 2))):  # two outcomes = conflicting events
        if draw(st.integers(0, 3)) == 0:
            s.event(cid, sid, "NotificationTimedOut", when(0, 90))
        else:
            s.event(
                cid,
                sid,
                "NotificationResponse",
                when(0, 90),
                action=draw(st.sampled_from(("Accept", "Accept", "Reject"))),
            )
    if draw(st.booleans()):
        s.event(cid, sid, "SessionStarted", when(0, 120))
    for _ in range(draw(st.integers(0, 4))):
        s.event(cid, sid, draw(st.sampled_from(("SessionInFocus", "SessionOutOfFocus"))), when())
    if draw(st.booleans()):
        s.event(cid, sid, "WrapUpStarted", when(100, 1500))
    for _ in range(draw(st.integers(0, 2))):
        reason = draw(st.sampled_from(("Completed", "Transferred", "CustomerLeft")))
        s.event(cid, sid, "SessionClosed", when(60, 2400), reason=reason)
    for consultant in consults:
        if draw(st.booleans()):
            action = draw(st.sampled_from(("Accept", "Reject")))
            s.event(cid, sid, "NotificationResponse", when(60, 600), action=action, participant_id=consultant)
        if draw(st.booleans()):  # a consult's own close does not close the session
            s.event(cid, sid, "SessionClosed", when(60, 600), reason="Completed", participant_id=consultant)
    if agent is not None and draw(st.integers(0, 4)) == 0:  # the agent's id on its own events
        s.event(cid, sid, "SessionStarted", when(0, 10), participant_id=agent)


def _conversation_events(draw: st.DrawFn, s: Scenario, cid: str, sid: str, start: datetime) -> None:
    def when(low: int = 0, high: int = 2400) -> datetime:
        return start + _offset(draw, low, high)

    for _ in range(draw(st.integers(0, 4))):
        s.event(cid, sid, draw(st.sampled_from(("CallHold", "CallUnhold"))), when())
    for _ in range(draw(st.integers(0, 4))):
        sender = draw(st.sampled_from(("customer", "agent", "bot")))
        s.event(cid, sid, "MessageSent", when(), data={"sender": sender})
    for _ in range(draw(st.integers(0, 2))):
        data: dict[str, Any] = {}
        if draw(st.booleans()):
            data["csat"] = draw(st.integers(1, 5))
        if not data or draw(st.booleans()):
            data["nps"] = draw(st.integers(0, 10))
        s.event(cid, sid, "SurveyAnswered", when(1800, 4000), data=data)
    if draw(st.booleans()):
        reason = draw(st.sampled_from(("Resolved", "Resolved", "Unresolved")))
        s.event(cid, sid, "ConversationClosed", when(600, 3600), reason=reason)


@st.composite
def raw_traffic(draw: st.DrawFn, max_conversations: int = 8) -> dict[str, list[dict[str, Any]]]:
    """Raw rows of a few conversations per provider over about four days."""
    by_provider = {p: Scenario(provider_id=p) for p in PROVIDERS}
    count = draw(st.integers(1, max_conversations))
    for n in range(count):
        s = by_provider[draw(st.sampled_from(PROVIDERS))]
        cid = f"c{n}"
        # hours apart, so repeat contacts land both inside and outside the 72 h window
        start = START + timedelta(hours=draw(st.integers(0, 100))) + _offset(draw, 0, 3599)
        closed = _maybe(draw, start + _offset(draw, 60, 5000))
        s.conversation(
            cid,
            start,
            channel=draw(st.sampled_from(("voice", "chat"))),
            direction=draw(st.sampled_from(("inbound", "inbound", "outbound"))),
            closed=closed,
            customer_id=draw(st.sampled_from(CUSTOMERS)),
        )
        sessions = draw(st.integers(0, 3))
        for k in range(sessions):
            _session(draw, s, cid, f"s{k}", start)
        _conversation_events(draw, s, cid, "s0", start)
    raw: dict[str, list[dict[str, Any]]] = {
        "raw_conversations": [],
        "raw_sessions": [],
        "raw_participants": [],
        "raw_events": [],
    }
    for s in by_provider.values():
        for name, rows in s.raw().items():
            raw[name].extend(rows)
    return raw
