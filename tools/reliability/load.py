"""Steady provider traffic with a ledger of what was sent, so a campaign can prove what was stored.

A *unit* is one handled call: its conversation registration and its events. Like a real integration,
the plan sends some events before their conversation, leaves ``eventId`` out of some (the server then
derives one from the content) and re-sends some whole batches as if the first answer had been lost.
The ledger keys every event by its content, so "unique events sent" does not depend on the server.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from shared.store import open_store
from tools.reliability.client import Answers, RetryingClient
from tools.traffic import timestamp as utc_timestamp

PROVIDER_ID = "reliability"
QUEUES = ("billing", "tech-support", "sales")


@dataclass(frozen=True)
class Request:
    path: str
    body: dict[str, Any]
    resend: bool = False  # a deliberate duplicate of an earlier request


def handled_call(
    conversation_id: str,
    start: datetime,
    *,
    queue: str = "billing",
    agent: str = "agent-1",
    answer_s: float = 12.0,
    talk_s: float = 240.0,
    csat: int | None = None,
    with_ids: bool = True,
    zone: tzinfo = UTC,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The two request bodies of one inbound call an agent answered and resolved; timestamps are
    written in ``zone`` (a provider may send local time with its offset)."""

    def timestamp(at: datetime) -> str:
        return utc_timestamp(at) if zone is UTC else at.astimezone(zone).isoformat(timespec="seconds")

    session = f"{conversation_id}-s1"
    conversation = {
        "conversation": {
            "conversationId": conversation_id,
            "channel": "voice",
            "direction": "inbound",
            "conversationTimestamp": timestamp(start),
            "session": {
                "sessionId": session,
                "sessionCreatedTimestamp": timestamp(start),
                "sessionQueueAssignedTimestamp": timestamp(start),
                "queueId": queue,
                "participants": [
                    {
                        "participantId": agent,
                        "participantType": "agent",
                        "participantMode": "primary",
                        "participantAddedTimestamp": timestamp(start + timedelta(seconds=2)),
                    }
                ],
            },
        }
    }
    offered = start + timedelta(seconds=2)
    accepted = start + timedelta(seconds=answer_s)
    closed = accepted + timedelta(seconds=talk_s)
    events: list[dict[str, Any]] = [
        {"kpiEventName": "NotificationReceived", "eventTimestamp": timestamp(offered)},
        {
            "kpiEventName": "NotificationResponse",
            "notificationResponseAction": "Accept",
            "eventTimestamp": timestamp(accepted),
        },
        {"kpiEventName": "SessionStarted", "eventTimestamp": timestamp(accepted)},
        {"kpiEventName": "SessionClosed", "kpiEventReason": "Completed", "eventTimestamp": timestamp(closed)},
        {
            "kpiEventName": "ConversationClosed",
            "kpiEventReason": "Resolved",
            "eventTimestamp": timestamp(closed + timedelta(seconds=1)),
        },
    ]
    if csat is not None:
        events.append(
            {
                "kpiEventName": "SurveyAnswered",
                "eventTimestamp": timestamp(closed + timedelta(seconds=30)),
                "customData": [{"attribute": "csat", "value": csat}],
            }
        )
    if with_ids:
        for n, event in enumerate(events):
            event["eventId"] = f"{conversation_id}-e{n}"
    envelope = {
        "conversationId": conversation_id,
        "providerSessionId": session,
        "participantId": agent,
        "events": events,
    }
    return conversation, envelope


def call_closed_at(start: datetime, answer_s: float = 12.0, talk_s: float = 240.0) -> datetime:
    """When ``handled_call`` closes the conversation, in UTC: its ``.date()`` is the day it counts on."""
    return (start + timedelta(seconds=answer_s + talk_s + 1)).astimezone(UTC)


class Plan:
    """An endless, seeded stream of units; unit ``n`` is the same for the same seed and base time."""

    def __init__(
        self,
        seed: int,
        base: datetime,
        *,
        prefix: str = "c",
        resend_rate: float = 0.1,
        early_rate: float = 0.1,
        no_id_rate: float = 0.25,
    ):
        self._rng = random.Random(seed)
        self._base = base
        self._prefix = prefix
        self._resend, self._early, self._no_id = resend_rate, early_rate, no_id_rate
        self._n = 0
        self._lock = threading.Lock()

    def next_unit(self) -> list[Request]:
        with self._lock:
            n, rng = self._n, self._rng
            self._n += 1
            # Calls spread over the day before ``base``, every queue and a few agents.
            start = self._base - timedelta(seconds=86_000 - (n * 37) % 86_000)
            conversation, events = handled_call(
                f"{self._prefix}-{n}",
                start,
                queue=QUEUES[n % len(QUEUES)],
                agent=f"agent-{rng.randint(1, 12)}",
                answer_s=float(rng.randint(3, 90)),
                talk_s=float(rng.randint(30, 900)),
                csat=rng.randint(1, 5) if rng.random() < 0.3 else None,
                with_ids=rng.random() >= self._no_id,
            )
            requests = [Request("/v1/conversations", conversation), Request("/v1/events", events)]
            if rng.random() < self._early:
                requests.reverse()  # events before their conversation: kept and counted once it arrives
            if rng.random() < self._resend:
                requests.append(Request("/v1/events", events, resend=True))
            return requests


def content_key(envelope: dict[str, Any], event: dict[str, Any]) -> str:
    """What makes an event the same event for the client: its envelope and its content."""
    scope = (envelope["conversationId"], envelope["providerSessionId"], envelope.get("participantId"))
    return json.dumps([scope, event], sort_keys=True, separators=(",", ":"))


@dataclass
class Ledger:
    """What the client sent and what the server answered, summed over every 200."""

    requests: int = 0
    resends: int = 0
    conversations: int = 0
    events_sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    ids_by_content: dict[str, set[str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, request: Request, answer: dict[str, Any]) -> None:
        with self._lock:
            self.requests += 1
            self.resends += request.resend
            if request.path == "/v1/conversations":
                self.conversations += 1
                return
            self.events_sent += len(request.body["events"])
            self.accepted += answer["accepted"]
            self.duplicates += answer["duplicates"]
            self.rejected += answer["rejected"]
            for event, result in zip(request.body["events"], answer["results"], strict=True):
                if result["status"] != "rejected":
                    key = content_key(request.body, event)
                    self.ids_by_content.setdefault(key, set()).add(result["eventId"])

    @property
    def unique_events(self) -> int:
        return len(self.ids_by_content)

    def ids(self) -> set[str]:
        return {i for ids in self.ids_by_content.values() for i in ids}

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "resent_batches": self.resends,
            "events_sent": self.events_sent,
            "unique_events_sent": self.unique_events,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
        }


def register_provider(
    providers_url: str, admin_token: str, answers: Answers, provider_id: str = PROVIDER_ID
) -> str:
    """Register ``provider_id`` with analytics on; its API key."""
    operator = RetryingClient(providers_url, admin_token, answers)
    try:
        created = operator.call("POST", "/v1/providers", {"providerId": provider_id, "name": "Reliability"})
        operator.call("PATCH", f"/v1/providers/{provider_id}", {"enableAnalytics": True}, expect=(200,))
    finally:
        operator.close()
    return str(created["apiKey"])


def drive(
    make_client: Callable[[], RetryingClient],
    plan: Plan,
    ledger: Ledger,
    *,
    units_per_s: float,
    workers: int,
    keep_going: Callable[[], bool],
) -> float:
    """Send units at a steady rate (unit ``k`` is due at ``k / units_per_s``) from ``workers`` threads
    until ``keep_going()`` is false; each unit's requests go in order on one connection. Returns the
    seconds it took. The first failure of any worker (or a Ctrl-C) stops the others and is raised."""
    started = time.monotonic()
    slot = iter(range(1 << 62))
    slot_lock = threading.Lock()
    halted = threading.Event()

    def work() -> None:
        client = make_client()
        try:
            while keep_going() and not halted.is_set():
                with slot_lock:
                    due = started + next(slot) / units_per_s
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                for request in plan.next_unit():
                    ledger.record(request, client.call("POST", request.path, request.body))
        except BaseException:
            halted.set()
            raise
        finally:
            client.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(work) for _ in range(workers)]
        try:
            for future in futures:
                future.result()
        except BaseException:
            halted.set()
            raise
    return time.monotonic() - started


def until(deadline: float) -> Callable[[], bool]:
    return lambda: time.monotonic() < deadline


@dataclass
class StoreCheck:
    """The store read back after a campaign, against the ledger."""

    stored_events: int
    unique_events_sent: int
    missing: int
    unexpected: int
    contents_with_several_ids: int

    @property
    def exact(self) -> bool:
        return (
            self.stored_events == self.unique_events_sent
            and self.missing == 0
            and self.unexpected == 0
            and self.contents_with_several_ids == 0
        )

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "exact": self.exact}


def check_store(store_url: str, ledger: Ledger, provider_id: str = PROVIDER_ID) -> StoreCheck:
    """Every event of ``provider_id`` in the store, read through the store port's scan."""
    store = open_store(store_url)
    try:
        stored: list[str] = []
        horizon = datetime.now(UTC) + timedelta(days=2)
        for page in store.scan_events(None, horizon, 500):
            stored.extend(e.event_id for e in page if e.provider_id == provider_id)
    finally:
        store.close()
    sent = ledger.ids()
    return StoreCheck(
        stored_events=len(stored),
        unique_events_sent=ledger.unique_events,
        missing=len(sent - set(stored)),
        unexpected=len(set(stored) - sent),
        contents_with_several_ids=sum(1 for ids in ledger.ids_by_content.values() if len(ids) != 1),
    )
