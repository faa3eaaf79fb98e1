"""What the chatbot and relationship KPIs of a generated traffic must be, worked out from what the
generator sent and the server accepted (``GroundTruth``), independently of the warehouse's SQL.

``make run`` holds the warehouse to these numbers: the chatbot KPIs per day and experience, and each
CRM record's counts and hours in today's relationship snapshot.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tools.traffic import GroundTruth

SESSION_GAP = timedelta(minutes=30)
WINDOW_DAYS = 90
# The chatbot KPIs checked: counts of events or sessions, by (day, experience or None = all).
CHECKED = (
    "chat_sessions",
    "chat_sessions_with_conversation",
    "chat_bounces",
    "chat_sessions_mobile",
    "chat_sessions_desktop",
    "chat_starts",
    "new_customers",
    "webpush_asked",
    "webpush_optins_single",
    "webpush_optins_double",
    "reminder_optins_single",
    "reminder_optins_double",
    "shares_facebook",
    "shares_email",
    "shares_native",
    "shares_twitter",
    "shares_whatsapp",
    "advent_calendar_opened",
    "participations",
    "pins_sent",
    "pins_succeeded",
    "pins_failed",
    "customers_deleted",
    "chat_nps_detractors",
    "chat_nps_passives",
    "chat_nps_promoters",
)
Key = tuple[date, str | None, str]  # (day, experience or None, kpi)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _custom(event: dict[str, Any]) -> dict[str, Any]:
    return {pair["attribute"]: pair["value"] for pair in event.get("customData", [])}


def _event_kpis(name: str, custom: dict[str, Any]) -> list[str]:
    """The event-day KPIs one chatbot event counts in."""
    simple = {
        "ChatStarted": "chat_starts",
        "EmailCaptured": "new_customers",
        "WebPushAsked": "webpush_asked",
        "AdventCalendarOpened": "advent_calendar_opened",
        "ParticipationCompleted": "participations",
        "PinSent": "pins_sent",
        "CustomerDeleted": "customers_deleted",
    }
    if name in simple:
        return [simple[name]]
    if name == "OptInGiven":
        return [f"{custom['topic']}_optins_{custom['level']}"]
    if name == "Shared":
        return [f"shares_{custom['via']}"]
    if name == "PinVerified":
        return ["pins_succeeded" if custom["success"] else "pins_failed"]
    if name == "SurveyAnswered" and "nps" in custom:
        score = int(custom["nps"])
        return [
            "chat_nps_promoters"
            if score >= 9
            else "chat_nps_passives"
            if score >= 7
            else "chat_nps_detractors"
        ]
    return []


def chatbot(truth: GroundTruth) -> dict[Key, float]:
    """The chatbot KPIs of ``CHECKED`` per UTC day and experience (and None: every experience)."""
    out: Counter[Key] = Counter()

    def count(day: date, experience: str | None, kpi: str) -> None:
        out[(day, experience, kpi)] += 1
        out[(day, None, kpi)] += 1

    by_customer: dict[str, list[tuple[datetime, str, dict[str, Any]]]] = defaultdict(list)
    for event in truth.chat_events:
        conversation = truth.chats.get(event["conversationId"])
        if conversation is None:  # its conversation was never registered: it counts nowhere
            continue
        at = _instant(event["eventTimestamp"])
        for kpi in _event_kpis(event["kpiEventName"], _custom(event)):
            count(at.date(), conversation["experienceId"], kpi)
        by_customer[conversation["customerId"]].append(
            (at, event["eventId"], {**event, "_chat": conversation})
        )
    for events in by_customer.values():
        events.sort(key=lambda e: (e[0], e[1]))
        sessions: list[list[dict[str, Any]]] = []
        last: datetime | None = None
        for at, _, event in events:
            if last is None or at - last > SESSION_GAP:
                sessions.append([])
            sessions[-1].append({**event, "_at": at})
            last = at
        for session in sessions:
            first = session[0]
            day, chat = first["_at"].date(), first["_chat"]
            count(day, chat["experienceId"], "chat_sessions")
            interacted = any(e["kpiEventName"] == "UserInteracted" for e in session)
            count(
                day, chat["experienceId"], "chat_sessions_with_conversation" if interacted else "chat_bounces"
            )
            if chat.get("platform") in ("mobile", "desktop"):
                count(day, chat["experienceId"], f"chat_sessions_{chat['platform']}")
    return dict(out)


def relationships(truth: GroundTruth, today: date) -> dict[str, dict[str, float]]:
    """Each record's counts and hours over the window ending ``today`` (latest accepted versions)."""
    out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for activity in truth.activities.values():
        if activity.get("status", "completed") != "completed":
            continue
        start = _instant(activity["startTimestamp"])
        if not today - timedelta(days=WINDOW_DAYS) < start.date() <= today:
            continue
        parties = {p["partyId"]: p for p in reversed(activity["parties"])}  # first role wins
        side = next(p["side"] for p in activity["parties"] if p["role"] == "from")
        ours = sum(1 for p in parties.values() if p["side"] == "us")
        theirs = sum(1 for p in parties.values() if p["side"] == "customer")
        kind = activity["activityType"]
        record = out[activity["regardingId"]]
        name = {"email": "emails_sent" if side == "us" else "emails_received"}.get(
            kind, f"{'meetings' if kind == 'meeting' else 'calls'}_by_{side}"
        )
        record[name] += 1
        minutes = 0.0
        if "endTimestamp" in activity:
            minutes = (_instant(activity["endTimestamp"]) - start).total_seconds() / 60
        if kind == "email":
            us, customer = (
                (5.0 if side == "us" else 2.5 if ours else 0),
                (5.0 if side == "customer" else 2.5 if theirs else 0),
            )
        elif kind == "meeting":
            us, customer = minutes * ours, minutes if theirs else 0
        else:
            us, customer = minutes if ours else 0, minutes if theirs else 0
        record["hours_us"] += us / 60
        record["hours_customer"] += customer / 60
    return {k: dict(v) for k, v in out.items()}
