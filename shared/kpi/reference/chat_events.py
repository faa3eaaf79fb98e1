"""The chat-event family's reference (seed 002): chat conversations, the customers' chat sessions and
the event KPIs by the UTC day of the event, sliced by the experience of the event's conversation."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from shared.kpi.reference.common import NONE, Measures, Raw, custom, int_or_none, kpi_rows, utc_day

SESSION_GAP = timedelta(minutes=30)  # default; a provider may set its own (provider_settings)
EXPERIENCE_GROUPINGS: tuple[tuple[str, ...], ...] = ((), ("experience_id",))
CHATBOT_EVENT_NAMES = {
    "ChatStarted",
    "UserInteracted",
    "ModuleVisited",
    "EmailCaptured",
    "WebPushAsked",
    "OptInGiven",
    "Shared",
    "ParticipationCompleted",
    "AdventCalendarOpened",
    "PinSent",
    "PinVerified",
    "DataEntered",
    "CustomerDeleted",
}
SHARED_VIA = ("facebook", "email", "native", "twitter", "whatsapp")
UNITS = {
    "chat_starts": "count",
    "participants": "count",
    "participations": "count",
    "new_customers": "count",
    "webpush_asked": "count",
    **{f"{t}_optins_{lvl}": "count" for t in ("webpush", "reminder") for lvl in ("single", "double")},
    **{f"shares_{via}": "count" for via in SHARED_VIA},
    "advent_calendar_opened": "count",
    "chat_nps": "score",
    "chat_nps_detractors": "count",
    "chat_nps_passives": "count",
    "chat_nps_promoters": "count",
    **{f"chat_nps_score_{n}": "count" for n in range(11)},
    "pins_sent": "count",
    "pins_succeeded": "count",
    "pins_failed": "count",
}


@dataclass(frozen=True)
class ChatEvent:
    provider_id: str
    customer_key: str
    event_id: str
    conversation_id: str
    event_ts: datetime
    name: str
    experience_id: str | None
    platform: str | None
    session_start: datetime
    data: dict[str, Any]


def customer_key(conversation: Any) -> str:
    """The customer, else the CRM contact, else the conversation itself."""
    if conversation.get("customer_id") is not None:
        return f"customer:{conversation['customer_id']}"
    if conversation.get("contact_id") is not None:
        return f"contact:{conversation['contact_id']}"
    return f"conversation:{conversation['conversation_id']}"


def _json_text(value: Any) -> str | None:
    """What a warehouse's JSON_VALUE reads from a scalar: ``true``/``false`` for booleans."""
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def chat_events(raw: Raw) -> list[ChatEvent]:
    """Every event of a chat conversation (one naming an experience or carrying a chatbot event),
    in its customer's chat sessions: a gap of more than the provider's gap starts a new one."""
    events_of: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for e in raw.get("raw_events", ()):
        events_of[(e["provider_id"], e["conversation_id"])].append(e)
    gaps = {
        s["provider_id"]: timedelta(seconds=s["chat_session_gap_s"])
        for s in raw.get("provider_settings", ())
        if s.get("chat_session_gap_s") is not None
    }
    by_customer: dict[tuple[str, str], list[tuple[Any, Any]]] = defaultdict(list)
    for c in raw.get("raw_conversations", ()):
        key = (c["provider_id"], c["conversation_id"])
        mine = events_of.get(key, [])
        if c.get("experience_id") is None and not any(e["name"] in CHATBOT_EVENT_NAMES for e in mine):
            continue
        for e in mine:
            by_customer[(c["provider_id"], customer_key(c))].append((e, c))
    out = []
    for (provider_id, who), pairs in by_customer.items():
        gap = gaps.get(provider_id, SESSION_GAP)
        pairs.sort(key=lambda pair: (pair[0]["event_ts"], pair[0]["event_id"]))
        start: datetime | None = None
        previous: datetime | None = None
        for e, c in pairs:
            if previous is None or e["event_ts"] - previous > gap:
                start = e["event_ts"]
            previous = e["event_ts"]
            assert start is not None
            out.append(
                ChatEvent(
                    provider_id=provider_id,
                    customer_key=who,
                    event_id=e["event_id"],
                    conversation_id=c["conversation_id"],
                    event_ts=e["event_ts"],
                    name=e["name"],
                    experience_id=c.get("experience_id"),
                    platform=c.get("platform"),
                    session_start=start,
                    data=custom(e),
                )
            )
    return out


def nps_of(event: ChatEvent) -> int | None:
    if event.name != "SurveyAnswered":
        return None
    return int_or_none(_json_text(event.data.get("nps")))


def measures(rows: Sequence[ChatEvent]) -> Measures:
    def named(name: str) -> list[ChatEvent]:
        return [r for r in rows if r.name == name]

    def text(r: ChatEvent, field: str) -> str | None:
        return _json_text(r.data.get(field))

    answers = [s for s in (nps_of(r) for r in rows) if s is not None and 0 <= s <= 10]
    pins = [text(r, "success") for r in named("PinVerified")]
    out: Measures = {
        "chat_starts": (float(len(named("ChatStarted"))), None),
        "participants": (float(len({r.customer_key for r in named("ChatStarted")})), None),
        "participations": (float(len(named("ParticipationCompleted"))), None),
        "new_customers": (float(len(named("EmailCaptured"))), None),
        "webpush_asked": (float(len(named("WebPushAsked"))), None),
        "advent_calendar_opened": (float(len(named("AdventCalendarOpened"))), None),
        "chat_nps": (
            float(sum(1 for s in answers if s >= 9) - sum(1 for s in answers if s <= 6)),
            float(len(answers)),
        ),
        "chat_nps_detractors": (float(sum(1 for s in answers if s <= 6)), None),
        "chat_nps_passives": (float(sum(1 for s in answers if 7 <= s <= 8)), None),
        "chat_nps_promoters": (float(sum(1 for s in answers if s >= 9)), None),
        "pins_sent": (float(len(named("PinSent"))), None),
        "pins_succeeded": (float(sum(1 for p in pins if p == "true")), None),
        "pins_failed": (float(sum(1 for p in pins if p is not None and p != "true")), None),
    }
    for topic in ("webpush", "reminder"):
        for level in ("single", "double"):
            given = [
                r for r in named("OptInGiven") if text(r, "topic") == topic and text(r, "level") == level
            ]
            out[f"{topic}_optins_{level}"] = (float(len(given)), None)
    for via in SHARED_VIA:
        out[f"shares_{via}"] = (float(sum(1 for r in named("Shared") if text(r, "via") == via)), None)
    for n in range(11):
        out[f"chat_nps_score_{n}"] = (float(answers.count(n)), None)
    return out


def reference_rows(raw: Raw, days: set[tuple[str, date]] | None = None) -> list[dict[str, Any]]:
    """kpi_daily rows of the chat-event KPIs; only for ``days`` when given."""
    return kpi_rows(chat_events(raw), lambda e: e.event_ts, measures, UNITS, EXPERIENCE_GROUPINGS, days)


def module_visits(raw: Raw, days: set[tuple[str, date]] | None = None) -> list[dict[str, Any]]:
    """``chat_module_visits`` rows: ModuleVisited events per UTC day, experience and module."""
    groups: dict[tuple[Any, ...], list[ChatEvent]] = defaultdict(list)
    for e in chat_events(raw):
        module = _json_text(e.data.get("moduleId")) if e.name == "ModuleVisited" else None
        if module is None:
            continue
        day = utc_day(e.event_ts)
        if days is not None and (e.provider_id, day) not in days:
            continue
        groups[(day, e.provider_id, NONE if e.experience_id is None else e.experience_id, module)].append(e)
    rows = []
    for (day, provider_id, experience_id, module_id), visits in groups.items():
        names = [n for n in (_json_text(v.data.get("moduleName")) for v in visits) if n is not None]
        rows.append(
            {
                "day": day,
                "provider_id": provider_id,
                "experience_id": experience_id,
                "module_id": module_id,
                "module_name": max(names) if names else None,
                "visits": len(visits),
                "sessions": len({(v.customer_key, v.session_start) for v in visits}),
            }
        )
    return rows
