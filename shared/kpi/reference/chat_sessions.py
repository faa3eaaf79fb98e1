"""The chat-session family's reference (seed 002): sessions from the chat events, by the UTC day,
experience and platform where they started."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from shared.kpi.reference.chat_events import EXPERIENCE_GROUPINGS, ChatEvent, chat_events
from shared.kpi.reference.common import Measures, Raw, kpi_rows, seconds

UNITS = {
    "chat_sessions": "count",
    "chat_sessions_with_conversation": "count",
    "chat_bounces": "count",
    "chat_bounce_rate": "ratio",
    "screen_time_min": "minutes",
    "chat_sessions_mobile": "count",
    "chat_sessions_desktop": "count",
}


@dataclass(frozen=True)
class ChatSession:
    provider_id: str
    customer_key: str
    start: datetime
    end: datetime
    experience_id: str | None
    platform: str | None
    interacted: bool

    @property
    def span_s(self) -> float:
        span = seconds(self.start, self.end)
        assert span is not None
        return span


def chat_sessions(raw: Raw) -> list[ChatSession]:
    by_session: dict[tuple[str, str, datetime], list[ChatEvent]] = defaultdict(list)
    for e in chat_events(raw):
        by_session[(e.provider_id, e.customer_key, e.session_start)].append(e)
    out = []
    for (provider_id, who, start), events in by_session.items():
        events.sort(key=lambda e: (e.event_ts, e.event_id))
        out.append(
            ChatSession(
                provider_id=provider_id,
                customer_key=who,
                start=start,
                end=events[-1].event_ts,
                experience_id=events[0].experience_id,
                platform=events[0].platform,
                interacted=any(e.name == "UserInteracted" for e in events),
            )
        )
    return out


def measures(rows: Sequence[ChatSession]) -> Measures:
    bounces = float(sum(not r.interacted for r in rows))
    return {
        "chat_sessions": (float(len(rows)), None),
        "chat_sessions_with_conversation": (float(sum(r.interacted for r in rows)), None),
        "chat_bounces": (bounces, None),
        "chat_bounce_rate": (bounces, float(len(rows))),
        "screen_time_min": (sum(r.span_s for r in rows) / 60, None),
        "chat_sessions_mobile": (float(sum(r.platform == "mobile" for r in rows)), None),
        "chat_sessions_desktop": (float(sum(r.platform == "desktop" for r in rows)), None),
    }


def reference_rows(raw: Raw, days: set[tuple[str, date]] | None = None) -> list[dict[str, Any]]:
    """kpi_daily rows of the chat-session KPIs; only for ``days`` when given."""
    return kpi_rows(chat_sessions(raw), lambda s: s.start, measures, UNITS, EXPERIENCE_GROUPINGS, days)
