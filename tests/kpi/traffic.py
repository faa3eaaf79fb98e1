"""Hypothesis strategies for realistic raw contact-center and chatbot data.

Contact center: several providers and days (around midnight UTC), inbound and outbound, repeat
customers within and after 72 h, sessions with and without agents, consults, accept/reject/time-out
(sometimes conflicting), transfers, holds, focus events or none, wrap-up, surveys, messages, abandoned
and open conversations, missing queues, and clock errors (events before the start).

Chatbot: returning visitors (by customer id, by CRM contact, or anonymous), two experiences (or
none, with chatbot events only), mobile and desktop, every chatbot event with its typed details, and
gaps between events drawn from the session boundary on purpose: exactly 30 minutes (same session),
30 minutes and a microsecond or a second (new session), and sessions crossing midnight.
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
# The service levels' thresholds, written here rather than read from the catalog: the generator aims
# at the definition's edges on its own (tests/kpi/test_catalog.py checks the catalog has the same).
SERVICE_LEVELS_S = (10, 20, 30, 60, 120)


def _offset(draw: st.DrawFn, low: int, high: int) -> timedelta:
    return timedelta(seconds=draw(st.integers(low, high)))


def _maybe(draw: st.DrawFn, value: Any) -> Any:
    return value if draw(st.booleans()) else None


def _session(draw: st.DrawFn, s: Scenario, cid: str, sid: str, start: datetime) -> None:
    created = start + _offset(draw, 0, 90)
    agent = draw(st.sampled_from((None, *AGENTS)))
    consults = draw(st.lists(st.sampled_from(CONSULTANTS), max_size=2, unique=True))
    queued = _maybe(draw, created + _offset(draw, -30, 20))
    s.session(
        cid,
        sid,
        created,
        agent=agent,
        queue_id=draw(st.sampled_from(QUEUES)),
        queued=queued,
        assigned=_maybe(draw, created + _offset(draw, 0, 120)),
        consults=consults,
        channel=draw(st.sampled_from((None, None, "chat"))),
    )

    def when(low: int = -20, high: int = 1800) -> datetime:
        return created + _offset(draw, low, high)

    def answered() -> datetime:
        """An offer outcome, often exactly on a service-level threshold (or a microsecond or a second
        past it) from the queue entry (else the conversation start): where a <= slipping to < shows."""
        boundary = draw(st.sampled_from((None, *SERVICE_LEVELS_S)))
        if boundary is None:
            return when(0, 90)
        past = draw(
            st.sampled_from((timedelta(0), timedelta(0), timedelta(microseconds=1), timedelta(seconds=1)))
        )
        return (queued or start) + timedelta(seconds=boundary) + past

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
                answered(),
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


VISITORS = (None, "v-1", "v-2", "v-3")
CONTACTS = (None, "ct-1")
EXPERIENCES = (None, "exp-a", "exp-b")
MODULES = ("m-door", "m-faq", "m-raffle")
# Gaps between consecutive chat events, hitting the session boundary (30 min) on purpose.
CHAT_GAPS = (
    timedelta(0),
    timedelta(seconds=5),
    timedelta(minutes=29, seconds=59),
    timedelta(minutes=30),
    timedelta(minutes=30, microseconds=1),
    timedelta(minutes=30, seconds=1),
    timedelta(hours=2),
)


def _chat_event(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    name = draw(
        st.sampled_from(
            (
                "ChatStarted", "UserInteracted", "ModuleVisited", "ModuleVisited", "EmailCaptured",
                "WebPushAsked", "OptInGiven", "Shared", "ParticipationCompleted", "AdventCalendarOpened",
                "PinSent", "PinVerified", "DataEntered", "CustomerDeleted", "SurveyAnswered", "MessageSent",
            )
        )
    )  # fmt: skip
    data: dict[str, Any] = {}
    if name == "ModuleVisited":
        module = draw(st.sampled_from(MODULES))
        data = {"moduleId": module, "moduleName": draw(st.sampled_from((module.upper(), "Any name")))}
    elif name == "OptInGiven":
        data = {
            "topic": draw(st.sampled_from(("webpush", "reminder"))),
            "level": draw(st.sampled_from(("single", "double"))),
        }
    elif name == "Shared":
        data = {"via": draw(st.sampled_from(("facebook", "email", "native", "twitter", "whatsapp")))}
    elif name == "PinVerified":
        data = {"success": draw(st.booleans())}
    elif name == "SurveyAnswered":
        data = {"nps": draw(st.sampled_from((0, 5, 6, 7, 8, 9, 10)))}
    elif name == "MessageSent":
        data = {"sender": "bot"}
    elif name == "UserInteracted":
        data = {"interaction": draw(st.sampled_from(("typed", "clicked")))}
    return name, data


def _chat(draw: st.DrawFn, s: Scenario, cid: str) -> None:
    """A chat conversation: a visitor's events with gaps around the session boundary."""
    experience = draw(st.sampled_from(EXPERIENCES))
    start = START + timedelta(hours=draw(st.integers(0, 60))) + _offset(draw, 0, 7200)
    s.conversation(
        cid,
        start,
        channel="chatbot",
        customer_id=draw(st.sampled_from(VISITORS)),
        contact_id=draw(st.sampled_from(CONTACTS)),
        experience_id=experience,
        platform=draw(st.sampled_from((None, "mobile", "desktop"))),
    )
    at = start
    first = True
    for _ in range(draw(st.integers(0 if experience else 1, 6))):
        at += draw(st.sampled_from(CHAT_GAPS))
        name, data = _chat_event(draw)
        if first and experience is None:
            name, data = "ChatStarted", {}  # a chat without an experience shows itself by its events
        first = False
        s.event(cid, "s0", name, at, data=data, participant_id=draw(st.sampled_from((None, "v-1"))))


@st.composite
def raw_traffic(
    draw: st.DrawFn, max_conversations: int = 8, max_chats: int = 4
) -> dict[str, list[dict[str, Any]]]:
    """Raw rows of a few contact-center and chat conversations per provider over about four days."""
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
    for n in range(draw(st.integers(0, max_chats))):
        _chat(draw, by_provider[draw(st.sampled_from(PROVIDERS))], f"chat{n}")
    raw: dict[str, list[dict[str, Any]]] = {
        "raw_conversations": [],
        "raw_sessions": [],
        "raw_participants": [],
        "raw_events": [],
    }
    for s in by_provider.values():
        for name, rows in s.raw().items():
            if rows:
                raw[name].extend(rows)
    return raw


# -- relationship analytics ------------------------------------------------------------------------

CRM_NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
RECORDS = (("opportunity", "opp-1"), ("account", "acc-1"), ("contact", "ct-1"), ("lead", "ld-1"))
SELLERS = ("s-1", "s-2", "s-3")
CONTACT_PEOPLE = ("c-1", "c-2", "c-3")


def _activity_version(draw: st.DrawFn, activity_id: str, ids: list[str]) -> dict[str, Any]:
    kind = draw(st.sampled_from(("email", "email", "meeting", "phonecall")))
    status = draw(st.sampled_from(("completed", "completed", "completed", "scheduled", "canceled")))
    if status == "scheduled" and draw(st.booleans()):
        start = CRM_NOW + timedelta(minutes=draw(st.integers(1, 14 * 24 * 60)))
    else:  # around the window's edges too: 89-91 days and 7 days back
        start = CRM_NOW - timedelta(
            minutes=draw(st.sampled_from((0, 1, 60, 24 * 60, 7 * 24 * 60, 30 * 24 * 60)))
        )
        start -= timedelta(days=draw(st.sampled_from((0, 1, 2, 6, 8, 20, 89, 90, 91))))
    side = draw(st.sampled_from(("us", "customer")))
    sender = draw(st.sampled_from(SELLERS if side == "us" else CONTACT_PEOPLE))
    parties = [(sender, side, "from")]
    for _ in range(draw(st.integers(0, 3))):
        other = draw(st.sampled_from(("us", "customer")))
        person = draw(st.sampled_from(SELLERS if other == "us" else CONTACT_PEOPLE))
        parties.append((person, other, "attendee" if kind == "meeting" else "to"))
    s = Scenario(provider_id="crm")
    s.activity(
        activity_id,
        kind,
        start,
        parties,
        record=draw(st.sampled_from(RECORDS)),
        minutes=None if kind == "email" or not draw(st.booleans()) else draw(st.sampled_from((0, 5, 30, 61))),
        status=status,
        reply_to=draw(st.sampled_from((None, None, "missing", *ids))) if kind == "email" else None,
    )
    return {"id": activity_id, "activity": s.raw_activities[0], "parties": s.raw_activity_parties}


@st.composite
def crm_traffic(draw: st.DrawFn, max_activities: int = 10) -> dict[str, Any]:
    """Versions of a few activities (rescheduled, completed or canceled later, moved to another
    record, replies before what they answer) and the provider's relationship settings."""
    versions: list[dict[str, Any]] = []
    ids: list[str] = []
    for n in range(draw(st.integers(1, max_activities))):
        activity_id = f"a{n}"
        for _ in range(draw(st.integers(1, 2))):
            versions.append(_activity_version(draw, activity_id, ids))
        ids.append(activity_id)
    settings = []
    if draw(st.booleans()):
        settings.append(
            {
                "provider_id": "crm",
                "relationship_window_days": draw(st.sampled_from((None, 30, 90))),
                "relationship_contact_days": draw(st.sampled_from((None, 3, 7))),
                "relationship_weight_email": draw(st.sampled_from((None, 0.5, 1.5))),
                "relationship_weight_meeting": draw(st.sampled_from((None, 0.5, 1.0))),
                "relationship_weight_phonecall": draw(st.sampled_from((None, 1.5))),
                "updated_at": CRM_NOW - timedelta(days=1),
            }
        )
    return {"versions": versions, "settings": settings}
