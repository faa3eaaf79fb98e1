"""A seeded, realistic day of traffic for one provider, as the exact HTTP request bodies it sends.

Contact center (inbound voice and chat, some outbound voice): queues and agents, offers accepted,
rejected or timed out, transfers to a second session, consults, holds, focus changes, wrap-up, chat
messages with their sender, surveys, abandoned calls, closed conversations, repeat customers, all
spread over a daily volume curve. Beside it a little chatbot traffic and relationship activities.

Like a real integration it also misbehaves, on purpose and counted: whole batches retried after a
"timeout", events sent before their conversation is registered, an integration that never sends an
``eventId`` (the server derives one), and invalid events and activities that must be rejected and kept.

``generate_day`` returns the requests in the order a provider would send them and the ground truth
(``GroundTruth``) the server's answers must add up to. The same seed gives the same day, byte for byte.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

DEFAULT_PROVIDER = "demo-contact-center"
DEFAULT_CONVERSATIONS = 400
DEFAULT_SEED = 7
MAX_EVENTS_PER_BATCH = 500

RequestKind = Literal["conversation", "events", "activities"]
PATHS: dict[RequestKind, str] = {
    "conversation": "/v1/conversations",
    "events": "/v1/events",
    "activities": "/v1/activities",
}

# Share of the day's arrivals per UTC hour: quiet nights, a morning peak, a lunch dip, an afternoon peak.
HOURLY_VOLUME = (1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 15, 13, 10, 12, 14, 13, 11, 9, 7, 5, 4, 3, 2, 1)

QUEUES = {
    "billing": ("Billing", "voice"),
    "tech-support": ("Technical support", "voice"),
    "sales": ("Sales", "voice"),
    "chat-support": ("Chat support", "chat"),
    "chat-sales": ("Chat sales", "chat"),
}
EXPERIENCES = {
    "exp-advent-2026": ("Advent calendar", ("door", "raffle", "prizes", "faq", "newsletter")),
    "exp-order-help": ("Order help", ("track-order", "returns", "invoices", "contact", "faq")),
}
ACCOUNTS = ("acc-contoso", "acc-fabrikam", "acc-northwind", "acc-litware", "acc-adatum")
# Each account's open opportunity: activities are about the account or, as often, its opportunity.
OPPORTUNITIES = {acc: f"opp-{acc[4:]}-renewal" for acc in ACCOUNTS}
CHAT_PREFIX = "chat-"


@dataclass(frozen=True)
class ApiRequest:
    """One HTTP call of the provider: ``POST path`` with ``body`` as JSON."""

    kind: RequestKind
    body: dict[str, Any]
    retry: bool = False  # a deliberate resend of an earlier request (a client retry after a timeout)

    @property
    def path(self) -> str:
        return PATHS[self.kind]


@dataclass
class GroundTruth:
    """What the server must answer, summed over every request of the day.

    ``rejected`` counts rejections per answer (a retried batch is rejected again); ``failed_events`` is
    what the operator's failed-events listing holds: each distinct rejected payload once.
    """

    day: date
    provider_id: str
    requests: Counter[str] = field(default_factory=Counter)
    conversations: int = 0  # distinct conversations registered (201 the first time)
    conversation_updates: int = 0  # later calls for a registered conversation (200)
    sessions: int = 0
    channels: Counter[str] = field(default_factory=Counter)  # conversations by "channel/direction"
    events_sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    activities_sent: int = 0
    activities_created: int = 0
    activities_updated: int = 0
    activities_rejected: Counter[str] = field(default_factory=Counter)
    failed_events: Counter[str] = field(default_factory=Counter)
    retried_requests: int = 0
    out_of_order_events: int = 0  # accepted while their conversation or session was not registered yet
    events_without_id: int = 0  # valid events sent without eventId (first sends)
    planned_events: int = 0  # valid events the day is made of, counted as they were generated
    # What the chatbot and CRM KPIs are made of: chat conversations as registered, the events the
    # server accepted on them, and the latest accepted version of each activity.
    chats: dict[str, dict[str, Any]] = field(default_factory=dict)
    chat_events: list[dict[str, Any]] = field(default_factory=list)
    activities: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Traffic:
    day: date
    provider_id: str
    seed: int
    requests: tuple[ApiRequest, ...]
    truth: GroundTruth


def generate_day(
    conversations: int = DEFAULT_CONVERSATIONS,
    seed: int = DEFAULT_SEED,
    *,
    day: date | None = None,
    now: datetime | None = None,
    provider_id: str = DEFAULT_PROVIDER,
) -> Traffic:
    """The day ``day`` (default: yesterday, UTC, relative to ``now``) with ``conversations``
    contact-center conversations, plus chatbot visits and activities in proportion."""
    if conversations < 1:
        raise ValueError("conversations must be at least 1")
    if day is None:
        day = ((now or datetime.now(UTC)).astimezone(UTC) - timedelta(days=1)).date()
    world = _World(random.Random(f"{seed}:{day.isoformat()}:{conversations}"), day, conversations)
    sends = world.build()
    sends.sort(key=lambda s: (s.at, s.seq))
    truth = _ledger(day, provider_id, sends)
    truth.planned_events = world.planned_events
    return Traffic(day, provider_id, seed, tuple(s.request for s in sends), truth)


def generate_days(
    conversations: int = DEFAULT_CONVERSATIONS,
    seed: int = DEFAULT_SEED,
    days: int = 1,
    *,
    end: date | None = None,
    now: datetime | None = None,
    provider_id: str = DEFAULT_PROVIDER,
) -> list[Traffic]:
    """``days`` consecutive days ending with ``end`` (default: yesterday, UTC), oldest first: a week
    gives trends, cumulated series and the dashboard's period selector something to show."""
    if days < 1:
        raise ValueError("days must be at least 1")
    if end is None:
        end = ((now or datetime.now(UTC)).astimezone(UTC) - timedelta(days=1)).date()
    return [
        generate_day(conversations, seed, day=end - timedelta(days=back), provider_id=provider_id)
        for back in range(days - 1, -1, -1)
    ]


def combined(truths: list[GroundTruth]) -> GroundTruth:
    """The ground truth of several days sent one after the other (ids never repeat across days)."""
    total = GroundTruth(truths[-1].day, truths[-1].provider_id)
    for truth in truths:
        for name, value in vars(truth).items():
            if isinstance(value, dict):  # Counter included
                getattr(total, name).update(value)
            elif isinstance(value, list):
                getattr(total, name).extend(value)
            elif isinstance(value, int) and name not in ("day", "provider_id"):
                setattr(total, name, getattr(total, name) + value)
    return total


def split_events(body: dict[str, Any], limit: int = MAX_EVENTS_PER_BATCH) -> Iterator[dict[str, Any]]:
    """The same envelope in requests of at most ``limit`` events (the API's per-request cap)."""
    events = body["events"]
    for start in range(0, len(events), limit):
        yield {**body, "events": events[start : start + limit]}


def timestamp(at: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, the way most providers send it."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- what is sent, and the ground truth it implies ------------------------------------------------------


@dataclass(frozen=True)
class _Item:
    """One event or activity as sent, with the code it must be rejected with (None: valid)."""

    raw: dict[str, Any]
    reject: str | None = None


@dataclass(frozen=True)
class _Send:
    at: datetime
    seq: int
    request: ApiRequest
    items: tuple[_Item, ...] = ()


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _ledger(day: date, provider_id: str, sends: list[_Send]) -> GroundTruth:
    """Replays the sends in order with the documented semantics: ``eventId`` (else the envelope and
    content) is the idempotency key, activities are upserted by ``activityId``, each distinct rejected
    payload is kept once."""
    truth = GroundTruth(day, provider_id)
    registered: set[tuple[str, str | None]] = set()
    seen_events: set[str] = set()
    seen_activities: set[str] = set()
    seen_failed: set[str] = set()
    for send in sends:
        req = send.request
        truth.requests[req.path] += 1
        truth.retried_requests += req.retry
        if req.kind == "conversation":
            conv = req.body["conversation"]
            if conv.get("experienceId"):
                truth.chats[conv["conversationId"]] = conv
            if (conv["conversationId"], None) in registered:
                truth.conversation_updates += 1
            else:
                truth.conversations += 1
                truth.channels[f"{conv['channel']}/{conv['direction']}"] += 1
                registered.add((conv["conversationId"], None))
            for session in [conv.get("session")] if conv.get("session") else conv.get("sessions", []):
                key = (conv["conversationId"], session["sessionId"])
                truth.sessions += key not in registered
                registered.add(key)
        elif req.kind == "events":
            envelope = {k: v for k, v in req.body.items() if k != "events"}
            arrived = (envelope["conversationId"], envelope["providerSessionId"]) in registered
            for item in send.items:
                truth.events_sent += 1
                content = _canonical([envelope, item.raw])
                if item.reject is not None:
                    truth.rejected[item.reject] += 1
                    if content not in seen_failed:
                        seen_failed.add(content)
                        truth.failed_events[item.reject] += 1
                    continue
                key = f"id:{item.raw['eventId']}" if "eventId" in item.raw else f"content:{content}"
                if key in seen_events:
                    truth.duplicates += 1
                    continue
                seen_events.add(key)
                if envelope["conversationId"].startswith(CHAT_PREFIX):
                    truth.chat_events.append({"conversationId": envelope["conversationId"], **item.raw})
                truth.accepted += 1
                truth.out_of_order_events += not arrived
                truth.events_without_id += "eventId" not in item.raw
        else:
            for item in send.items:
                truth.activities_sent += 1
                if item.reject is not None:
                    truth.activities_rejected[item.reject] += 1
                    content = _canonical(["activity", item.raw])
                    if content not in seen_failed:
                        seen_failed.add(content)
                        truth.failed_events[item.reject] += 1
                elif item.raw["activityId"] in seen_activities:
                    truth.activities_updated += 1
                    truth.activities[item.raw["activityId"]] = item.raw
                else:
                    truth.activities[item.raw["activityId"]] = item.raw
                    seen_activities.add(item.raw["activityId"])
                    truth.activities_created += 1
    return truth


# -- the simulated contact center ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Agent:
    agent_id: str
    name: str
    queues: tuple[str, ...]


class _Envelope:
    """The events one participant logs in one session, with strictly increasing timestamps (so that
    events without ``eventId`` never share content by accident)."""

    def __init__(self, world: _World, conv_id: str, session_id: str, participant_id: str | None, ids: bool):
        self.world = world
        self.header = {"conversationId": conv_id, "providerSessionId": session_id}
        if participant_id is not None:
            self.header["participantId"] = participant_id
        self.ids = ids
        world.envelopes += 1
        self.tag = f"p{world.envelopes}"
        self.items: list[tuple[datetime, _Item]] = []
        self._last: datetime | None = None
        self._count = 0

    def log(
        self,
        name: str,
        at: datetime,
        *,
        reason: str | None = None,
        action: str | None = None,
        custom: dict[str, Any] | None = None,
    ) -> datetime:
        at = self._after_last(at)
        raw: dict[str, Any] = {}
        if self.ids:
            self._count += 1
            raw["eventId"] = f"{self.header['providerSessionId']}-{self.tag}-e{self._count}"
        raw["kpiEventName"] = name
        if reason is not None:
            raw["kpiEventReason"] = reason
        raw["eventTimestamp"] = timestamp(at)
        if action is not None:
            raw["notificationResponseAction"] = action
        if custom:
            raw["customData"] = [{"attribute": k, "value": v} for k, v in custom.items()]
        self.items.append((at, _Item(raw)))
        self.world.planned_events += 1
        return at

    def log_invalid(self, at: datetime, code: str, raw: dict[str, Any]) -> None:
        """A deliberately broken event: always with an ``eventId``, so that it is distinct."""
        at = self._after_last(at)
        self._count += 1
        event_id = f"{self.header['providerSessionId']}-bad{self._count}"
        self.items.append((at, _Item({"eventId": event_id, **raw}, reject=code)))

    def _after_last(self, at: datetime) -> datetime:
        if self._last is not None and at <= self._last:
            at = self._last + timedelta(seconds=1)
        self._last = at
        return at

    @property
    def last(self) -> datetime | None:
        return self._last


@dataclass
class _Leg:
    """One session of a conversation, as registered (``initLogAnalytics``)."""

    session_id: str
    created: datetime
    queue_id: str | None
    channel: str
    participants: list[dict[str, Any]] = field(default_factory=list)
    queue_assigned: datetime | None = None
    agent_assigned: datetime | None = None

    def wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "sessionId": self.session_id,
            "sessionCreatedTimestamp": timestamp(self.created),
        }
        if self.queue_assigned is not None:
            out["sessionQueueAssignedTimestamp"] = timestamp(self.queue_assigned)
        if self.agent_assigned is not None:
            out["sessionAgentAssignedTimestamp"] = timestamp(self.agent_assigned)
        if self.queue_id is not None:
            out["queueId"] = self.queue_id
            out["queueName"] = QUEUES[self.queue_id][0]
        out["sessionChannel"] = self.channel
        out["participants"] = list(self.participants)
        return out


def _participant(pid: str, kind: str, mode: str, at: datetime, name: str | None = None) -> dict[str, Any]:
    out = {
        "participantId": pid,
        "participantType": kind,
        "participantMode": mode,
        "participantAddedTimestamp": timestamp(at),
    }
    if name is not None:
        out["participantName"] = name
    return out


class _Conversation:
    """Builds one conversation: its registrations, its sessions and the events of each participant."""

    def __init__(
        self, world: _World, conv_id: str, channel: str, direction: str, start: datetime, customer: str
    ):
        self.world = world
        self.rng = world.rng
        self.conv_id = conv_id
        self.channel = channel
        self.direction = direction
        self.start = start
        self.customer = customer
        self.legs: list[_Leg] = []
        self.envelopes: list[_Envelope] = []
        self.closed: datetime | None = None
        # One integration in eight never sends eventId; one conversation in twelve is registered only
        # after its events (the CRM record is written at the end).
        self.ids = self.rng.random() >= 0.125
        self.late_registration = self.rng.random() < 1 / 12
        self.registrations: list[tuple[datetime, dict[str, Any]]] = []

    def base(self) -> dict[str, Any]:
        return {
            "conversationId": self.conv_id,
            "channel": self.channel,
            "direction": self.direction,
            "conversationTimestamp": timestamp(self.start),
            "customerId": self.customer,
            "regionData": self.world.region(self.customer),
        }

    def new_leg(self, created: datetime, queue_id: str | None) -> _Leg:
        leg = _Leg(f"{self.conv_id}-s{len(self.legs) + 1}", created, queue_id, self.channel)
        leg.participants.append(_participant(self.customer, "customer", "primary", created))
        self.legs.append(leg)
        return leg

    def register(self, leg: _Leg, at: datetime) -> None:
        """``updateConversation`` with a new session, as it starts (skipped when registered late)."""
        if not self.late_registration:
            self.registrations.append((at, {"conversation": {**self.base(), "session": leg.wire()}}))

    def envelope(self, leg: _Leg, participant_id: str | None) -> _Envelope:
        env = _Envelope(self.world, self.conv_id, leg.session_id, participant_id, self.ids)
        self.envelopes.append(env)
        return env

    def close(self, at: datetime) -> None:
        self.closed = at
        final = {
            **self.base(),
            "closedTimestamp": timestamp(at),
            "sessions": [leg.wire() for leg in self.legs],
        }
        send_at = at + timedelta(seconds=self.rng.randint(1, 5))
        if self.late_registration:
            last = max((e.last for e in self.envelopes if e.last is not None), default=at)
            send_at = max(send_at, last) + timedelta(seconds=self.rng.randint(30, 180))
        self.registrations.append((send_at, {"conversation": final}))


class _World:
    def __init__(self, rng: random.Random, day: date, conversations: int):
        self.rng = rng
        self.day = day
        self.midnight = datetime.combine(day, time(0), tzinfo=UTC)
        self.size = conversations
        self.planned_events = 0
        self._seq = 0
        self.sends: list[_Send] = []
        self.agents = self._staff()
        self.customers: list[str] = []
        self._regions: dict[str, str] = {}
        self.envelopes = 0  # numbers each envelope: event ids never embed a (customer) participant id

    # -- people ----------------------------------------------------------------------------------------

    def _staff(self) -> list[_Agent]:
        voice = ["billing", "tech-support", "sales"]
        chat = ["chat-support", "chat-sales"]
        count = max(6, min(40, self.size // 10))
        agents = []
        for n in range(1, count + 1):
            pool = voice if n % 3 else chat
            queues = tuple(sorted(self.rng.sample(pool, k=min(len(pool), self.rng.choice((1, 2))))))
            agents.append(_Agent(f"agent-{n:02d}", f"Agent {n:02d}", queues))
        for queue in QUEUES:  # every queue is staffed
            if not any(queue in a.queues for a in agents):
                first = agents[len(agents) - 1 - list(QUEUES).index(queue)]
                agents[agents.index(first)] = _Agent(first.agent_id, first.name, (*first.queues, queue))
        return agents

    def agent_for(self, queue: str, exclude: set[str]) -> _Agent | None:
        staffed = [a for a in self.agents if queue in a.queues and a.agent_id not in exclude]
        return self.rng.choice(staffed) if staffed else None

    def customer(self) -> str:
        """A new customer, or (one time in six) one who already contacted us today: repeat contacts
        are what first-contact resolution measures."""
        if self.customers and self.rng.random() < 1 / 6:
            return self.rng.choice(self.customers)
        customer = f"cust-{len(self.customers) + 1:05d}"
        self.customers.append(customer)
        return customer

    def region(self, customer: str) -> str:
        if customer not in self._regions:
            self._regions[customer] = self.rng.choice(("emea", "emea", "amer", "apac"))
        return self._regions[customer]

    def arrival(self, latest_hour: int = 23) -> datetime:
        """A start time on the volume curve."""
        hour = self.rng.choices(range(latest_hour), weights=HOURLY_VOLUME[:latest_hour])[0]
        return self.midnight + timedelta(hours=hour, seconds=self.rng.randrange(3600))

    def load(self, at: datetime) -> float:
        """How busy the hour is, 0..1: the queue wait grows with it."""
        return HOURLY_VOLUME[at.hour] / max(HOURLY_VOLUME)

    # -- sends -------------------------------------------------------------------------------------------

    def send(
        self, at: datetime, kind: RequestKind, body: dict[str, Any], items: tuple[_Item, ...] = ()
    ) -> None:
        self._seq += 1
        self.sends.append(_Send(at, self._seq, ApiRequest(kind, body), items))
        # Now and then the client times out and sends the very same request again.
        if self.rng.random() < (0.05 if kind == "events" else 0.03):
            self._seq += 1
            again = at + timedelta(seconds=self.rng.randint(5, 30))
            self.sends.append(_Send(again, self._seq, ApiRequest(kind, body, retry=True), items))

    def flush(self, env: _Envelope) -> None:
        """Send an envelope's events in one to three batches, each as soon as its last event happened."""
        if not env.items:
            return
        cuts = sorted(
            self.rng.sample(range(1, len(env.items)), k=min(len(env.items) - 1, self.rng.randint(0, 2)))
        )
        for lo, hi in zip([0, *cuts], [*cuts, len(env.items)], strict=True):
            chunk = env.items[lo:hi]
            items = tuple(item for _, item in chunk)
            body = {**env.header, "events": [item.raw for item in items]}
            self.send(chunk[-1][0] + timedelta(seconds=self.rng.randint(1, 4)), "events", body, items)

    # -- the day -----------------------------------------------------------------------------------------

    def build(self) -> list[_Send]:
        conversations: list[_Conversation] = []
        for n in range(1, self.size + 1):
            roll = self.rng.random()
            channel, direction = (
                ("voice", "outbound")
                if roll < 0.12
                else ("chat", "inbound")
                if roll < 0.45
                else ("voice", "inbound")
            )
            conv = _Conversation(
                self, f"conv-{self.day:%Y%m%d}-{n:05d}", channel, direction, self.arrival(), self.customer()
            )
            if direction == "outbound":
                self._outbound(conv)
            else:
                self._inbound(conv)
            conversations.append(conv)
        self._spoil(conversations)
        for conv in conversations:
            for at, body in conv.registrations:
                self.send(at, "conversation", body)
            for env in conv.envelopes:
                self.flush(env)
        for n in range(1, max(3, self.size * 2 // 5) + 1):
            self._chatbot_visit(n)
        self._activities()
        return self.sends

    def _inbound(self, conv: _Conversation) -> None:
        rng = self.rng
        t = conv.start
        if conv.channel == "chat" and rng.random() < 0.6:
            t = self._bot_leg(conv, t)
        queues = (
            ["chat-support", "chat-sales"] if conv.channel == "chat" else ["billing", "tech-support", "sales"]
        )
        queue = rng.choices(queues, weights=(3, 1) if conv.channel == "chat" else (4, 4, 2))[0]
        patience = t + timedelta(seconds=rng.expovariate(1 / 150))
        leg = conv.new_leg(t, queue)
        leg.queue_assigned = t
        conv.register(leg, t)
        mean_wait = 8 + 70 * self.load(t) ** 2
        offer_at = t + timedelta(seconds=rng.expovariate(1 / mean_wait))
        tried: set[str] = set()
        for attempt in range(3):
            if offer_at > patience:  # the customer hung up (or left the chat) while waiting
                env = conv.envelope(leg, conv.customer)
                closed_at = env.log("ConversationClosed", patience, reason="Abandoned")
                conv.close(closed_at)
                return
            agent = self.agent_for(queue, tried)
            if agent is None:
                break
            tried.add(agent.agent_id)
            if attempt > 0:
                leg = conv.new_leg(offer_at, queue)
                leg.queue_assigned = offer_at
            leg.agent_assigned = offer_at
            leg.participants.append(_participant(agent.agent_id, "agent", "primary", offer_at, agent.name))
            if attempt > 0:
                conv.register(leg, offer_at)
            env = conv.envelope(leg, agent.agent_id)
            env.log("NotificationReceived", offer_at)
            outcome = rng.choices(("accept", "reject", "timeout"), weights=(85, 7, 8))[0]
            if outcome == "accept":
                accepted = env.log(
                    "NotificationResponse", offer_at + timedelta(seconds=rng.uniform(2, 15)), action="Accept"
                )
                self._handle(conv, leg, env, agent, accepted)
                return
            if outcome == "reject":
                at = env.log(
                    "NotificationResponse", offer_at + timedelta(seconds=rng.uniform(2, 10)), action="Reject"
                )
                env.log("SessionClosed", at + timedelta(seconds=1), reason="Rejected")
            else:
                at = env.log("NotificationTimedOut", offer_at + timedelta(seconds=30))
                env.log("SessionClosed", at + timedelta(seconds=1), reason="TimedOut")
            offer_at = at + timedelta(seconds=rng.expovariate(1 / mean_wait) + 2)
        env = conv.envelope(leg, conv.customer)
        conv.close(env.log("ConversationClosed", max(offer_at, patience), reason="Abandoned"))

    def _bot_leg(self, conv: _Conversation, t: datetime) -> datetime:
        """A bot greets the customer and hands over to a queue."""
        leg = conv.new_leg(t, None)
        leg.participants.append(_participant("bot-helper", "bot", "primary", t, "Helper bot"))
        conv.register(leg, t)
        env = conv.envelope(leg, "bot-helper")
        env.log("SessionStarted", t)
        for turn in range(self.rng.randint(2, 6)):
            t += timedelta(seconds=self.rng.randint(3, 40))
            env.log("MessageSent", t, custom={"sender": "bot" if turn % 2 == 0 else "customer"})
        return env.log("SessionClosed", t + timedelta(seconds=2), reason="Completed") + timedelta(seconds=1)

    def _handle(
        self, conv: _Conversation, leg: _Leg, env: _Envelope, agent: _Agent, accepted: datetime
    ) -> None:
        """An accepted session: talk (or chat), maybe hold, consult or transfer, then wrap-up and close."""
        rng = self.rng
        t = env.log("SessionStarted", accepted + timedelta(seconds=1))
        t = env.log("SessionInFocus", t + timedelta(seconds=1))
        if rng.random() < 0.1:  # transferred to a colleague in another queue
            t = self._talk(conv, env, t, rng.lognormvariate(4.5, 0.5))
            t = env.log("SessionClosed", t + timedelta(seconds=2), reason="Transferred")
            target_queue = rng.choice(
                [q for q, (_, ch) in QUEUES.items() if ch == conv.channel and q != leg.queue_id]
            )
            target = self.agent_for(target_queue, {agent.agent_id})
            if target is not None:
                leg = conv.new_leg(t + timedelta(seconds=1), target_queue)
                leg.queue_assigned = leg.created
                offer = leg.created + timedelta(seconds=rng.expovariate(1 / 20))
                leg.agent_assigned = offer
                leg.participants.append(_participant(target.agent_id, "agent", "primary", offer, target.name))
                conv.register(leg, leg.created)
                agent, env = target, conv.envelope(leg, target.agent_id)
                env.log("NotificationReceived", offer)
                t = env.log(
                    "NotificationResponse", offer + timedelta(seconds=rng.uniform(2, 12)), action="Accept"
                )
                t = env.log("SessionStarted", t + timedelta(seconds=1))
                t = env.log("SessionInFocus", t + timedelta(seconds=1))
        if rng.random() < 0.08:
            t = self._consult(conv, leg, agent, t)
        t = self._talk(conv, env, t, rng.lognormvariate(5.4 if conv.channel == "voice" else 5.9, 0.6))
        t = env.log("WrapUpStarted", t + timedelta(seconds=1))
        t = env.log("SessionClosed", t + timedelta(seconds=rng.uniform(10, 120)), reason="Completed")
        resolved = rng.random() < 0.8
        closed = env.log(
            "ConversationClosed", t + timedelta(seconds=1), reason="Resolved" if resolved else "Unresolved"
        )
        conv.close(closed)
        if rng.random() < 0.35:
            survey = conv.envelope(leg, conv.customer)
            answer: dict[str, Any] = {}
            kind = rng.choices(("csat", "nps", "both"), weights=(5, 2, 3))[0]
            if kind != "nps":
                answer["csat"] = rng.choices(range(1, 6), weights=(5, 7, 12, 30, 46))[0]
            if kind != "csat":
                answer["nps"] = rng.choices(range(11), weights=(2, 1, 1, 2, 2, 3, 4, 9, 14, 25, 37))[0]
            survey.log("SurveyAnswered", closed + timedelta(seconds=rng.randint(30, 600)), custom=answer)

    def _talk(self, conv: _Conversation, env: _Envelope, t: datetime, seconds: float) -> datetime:
        """The conversation itself: messages for chats, holds for calls, focus changes for both."""
        rng = self.rng
        end = t + timedelta(seconds=seconds)
        if conv.channel == "chat":
            sender = "customer"
            while t < end:
                t = env.log(
                    "MessageSent", t + timedelta(seconds=rng.randint(5, 60)), custom={"sender": sender}
                )
                sender = "agent" if sender == "customer" else "customer"
                if rng.random() < 0.1:  # the agent serves another chat for a while
                    t = env.log("SessionOutOfFocus", t + timedelta(seconds=2))
                    t = env.log("SessionInFocus", t + timedelta(seconds=rng.randint(10, 90)))
        else:
            if rng.random() < 0.25:
                hold = t + timedelta(seconds=rng.uniform(0.2, 0.7) * seconds)
                hold = env.log("CallHold", hold)
                env.log("CallUnhold", hold + timedelta(seconds=rng.randint(15, 150)))
            if rng.random() < 0.15:
                env.log("NewTabOpened", t + timedelta(seconds=rng.uniform(5, 0.8 * seconds + 6)))
            t = max(end, (env.last or t))
        return t

    def _consult(self, conv: _Conversation, leg: _Leg, agent: _Agent, t: datetime) -> datetime:
        """The agent asks a colleague for help: a consult participant on the same session."""
        colleague = self.agent_for(leg.queue_id or "", {agent.agent_id}) or self.agent_for(
            self.rng.choice(list(QUEUES)), {agent.agent_id}
        )
        if colleague is None or any(p["participantId"] == colleague.agent_id for p in leg.participants):
            return t
        asked = t + timedelta(seconds=self.rng.randint(20, 120))
        leg.participants.append(_participant(colleague.agent_id, "agent", "consult", asked, colleague.name))
        env = conv.envelope(leg, colleague.agent_id)
        env.log("NotificationReceived", asked)
        accept = self.rng.random() < 0.8
        answered = env.log(
            "NotificationResponse",
            asked + timedelta(seconds=self.rng.uniform(3, 20)),
            action="Accept" if accept else "Reject",
        )
        if accept:
            return env.log(
                "SessionClosed", answered + timedelta(seconds=self.rng.randint(30, 240)), reason="Completed"
            )
        return answered

    def _outbound(self, conv: _Conversation) -> None:
        """An agent calls a customer back: no offer, straight to the call."""
        rng = self.rng
        agent = self.agent_for("sales", set()) or rng.choice(self.agents)
        leg = conv.new_leg(conv.start, "sales")  # agent-initiated: never offered, so no agent-assigned time
        leg.participants.append(_participant(agent.agent_id, "agent", "primary", conv.start, agent.name))
        conv.register(leg, conv.start)
        env = conv.envelope(leg, agent.agent_id)
        t = env.log("SessionStarted", conv.start + timedelta(seconds=1))
        t = env.log("SessionInFocus", t + timedelta(seconds=1))
        t = self._talk(conv, env, t, rng.lognormvariate(5.0, 0.6))
        t = env.log("WrapUpStarted", t + timedelta(seconds=1))
        t = env.log("SessionClosed", t + timedelta(seconds=rng.uniform(10, 90)), reason="Completed")
        conv.close(env.log("ConversationClosed", t + timedelta(seconds=1), reason="Completed"))

    def _spoil(self, conversations: list[_Conversation]) -> None:
        """Invalid events, each in an otherwise valid batch: one bad event never fails its neighbours."""
        broken = [
            ("unknown_event", lambda at: {"kpiEventName": "CallParked", "eventTimestamp": timestamp(at)}),
            (
                "invalid_event",
                lambda at: {"kpiEventName": "CallHold", "eventTimestamp": f"{at:%Y-%m-%d} 25:61"},
            ),
            (
                "invalid_custom_data",
                lambda at: {
                    "kpiEventName": "SurveyAnswered",
                    "eventTimestamp": timestamp(at),
                    "customData": [{"attribute": "csat", "value": "excellent"}],
                },
            ),
            (
                "invalid_custom_data",
                lambda at: {
                    "kpiEventName": "MessageSent",
                    "eventTimestamp": timestamp(at),
                    "customData": [{"attribute": "sender", "value": "robot"}],
                },
            ),
            (
                "missing_response_action",
                lambda at: {"kpiEventName": "NotificationResponse", "eventTimestamp": timestamp(at)},
            ),
        ]
        envelopes = [env for conv in conversations for env in conv.envelopes if env.items]
        for n in range(max(len(broken), self.size // 25)):
            code, make = broken[n % len(broken)]
            env = self.rng.choice(envelopes)
            env.log_invalid(env.last or self.midnight, code, make(env.last or self.midnight))

    # -- chatbot -----------------------------------------------------------------------------------------

    def _chatbot_visit(self, n: int) -> None:
        """A visitor talks to a chatbot experience; a third of them bounce without interacting."""
        rng = self.rng
        experience = rng.choice(sorted(EXPERIENCES))
        modules = EXPERIENCES[experience][1]
        visitor = f"visitor-{rng.randint(1, max(4, self.size // 3)):05d}"  # visitors come back
        start = self.arrival()
        conv = _Conversation(
            self, f"{CHAT_PREFIX}{self.day:%Y%m%d}-{n:05d}", "chatbot", "inbound", start, visitor
        )
        leg = conv.new_leg(start, None)
        leg.participants.append(_participant("bot-" + experience, "bot", "primary", start))
        body = {
            **conv.base(),
            "experienceId": experience,
            "platform": rng.choice(("mobile", "mobile", "desktop")),
        }
        del body["regionData"]
        self.send(start, "conversation", {"conversation": {**body, "session": leg.wire()}})
        env = _Envelope(self, conv.conv_id, leg.session_id, visitor, ids=True)
        t = env.log("ChatStarted", start)
        if rng.random() >= 1 / 3:
            for _ in range(rng.randint(1, 6)):
                t = env.log(
                    "UserInteracted",
                    t + timedelta(seconds=rng.randint(3, 60)),
                    custom={"interaction": rng.choice(("typed", "clicked"))},
                )
                module = rng.choice(modules)
                t = env.log(
                    "ModuleVisited",
                    t + timedelta(seconds=2),
                    custom={"moduleId": module, "moduleName": module.replace("-", " ").title()},
                )
            if experience == "exp-advent-2026" and rng.random() < 0.6:
                t = env.log("AdventCalendarOpened", t + timedelta(seconds=5))
            if rng.random() < 0.2:
                t = env.log("EmailCaptured", t + timedelta(seconds=20))
                t = env.log("PinSent", t + timedelta(seconds=2))
                t = env.log(
                    "PinVerified",
                    t + timedelta(seconds=rng.randint(20, 120)),
                    custom={"success": rng.random() < 0.85},
                )
                t = env.log(
                    "DataEntered",
                    t + timedelta(seconds=10),
                    custom={"field": rng.choice(("zip", "birthday", "name"))},
                )
            if rng.random() < 0.3:
                t = env.log("WebPushAsked", t + timedelta(seconds=5))
                if rng.random() < 0.5:
                    t = env.log(
                        "OptInGiven",
                        t + timedelta(seconds=4),
                        custom={"topic": "webpush", "level": rng.choice(("single", "double"))},
                    )
            if rng.random() < 0.15:
                t = env.log(
                    "OptInGiven",
                    t + timedelta(seconds=6),
                    custom={"topic": "reminder", "level": rng.choice(("single", "double"))},
                )
            if rng.random() < 0.25:
                t = env.log("ParticipationCompleted", t + timedelta(seconds=15))
            if rng.random() < 0.1:
                t = env.log(
                    "Shared",
                    t + timedelta(seconds=5),
                    custom={"via": rng.choice(("facebook", "email", "native", "twitter", "whatsapp"))},
                )
            if rng.random() < 0.2:
                t = env.log(
                    "SurveyAnswered",
                    t + timedelta(seconds=8),
                    custom={"nps": rng.choices(range(11), weights=(2, 1, 1, 2, 2, 3, 4, 9, 14, 25, 37))[0]},
                )
            if rng.random() < 0.02:
                env.log("CustomerDeleted", t + timedelta(seconds=30))
        self.flush(env)

    # -- relationship activities ---------------------------------------------------------------------------

    def _activities(self) -> None:
        """E-mails (with replies), calls and meetings between our sellers and customer contacts, sent in
        a few batches over the day; one meeting is rescheduled (sent again) and one activity is invalid."""
        rng = self.rng
        sellers = [f"seller-{n:02d}" for n in range(1, 6)]
        contacts = {acc: [f"{acc[4:]}-contact-{k}" for k in range(1, 4)] for acc in ACCOUNTS}
        items: list[tuple[datetime, _Item]] = []
        # (id, account, regarding type, regarding id, from, to) of the e-mails that may be answered
        emails: list[tuple[str, str, str, str, tuple[str, str], tuple[str, str]]] = []
        for n in range(1, max(6, self.size * 3 // 10) + 1):
            account = rng.choice(ACCOUNTS)
            seller, contact = rng.choice(sellers), rng.choice(contacts[account])
            start = self.arrival(latest_hour=22)
            activity_id = f"act-{self.day:%Y%m%d}-{n:04d}"
            kind = rng.choices(("email", "phonecall", "meeting"), weights=(6, 3, 1))[0]
            ours = rng.random() < 0.6
            sender, receiver = (
                ((seller, "us"), (contact, "customer")) if ours else ((contact, "customer"), (seller, "us"))
            )
            # About the account, or as often about its open opportunity.
            regarding = ("opportunity", OPPORTUNITIES[account]) if n % 2 else ("account", account)
            raw: dict[str, Any] = {
                "activityId": activity_id,
                "activityType": kind,
                "regardingType": regarding[0],
                "regardingId": regarding[1],
                "accountId": account,
                "startTimestamp": timestamp(start),
            }
            if kind == "email" and emails and rng.random() < 0.4:
                replied = rng.choice(emails)  # the answer goes back the other way, about the same record
                raw.update(
                    regardingType=replied[2],
                    regardingId=replied[3],
                    accountId=replied[1],
                    inReplyToActivityId=replied[0],
                )
                sender, receiver = replied[5], replied[4]
            if kind != "email":
                raw["endTimestamp"] = timestamp(start + timedelta(minutes=rng.choice((5, 15, 30, 45, 60))))
            role = "attendee" if kind == "meeting" else "to"
            raw["parties"] = [
                {"partyId": sender[0], "side": sender[1], "role": "from"},
                {"partyId": receiver[0], "side": receiver[1], "role": role},
            ]
            if kind == "meeting":
                colleague = rng.choice([s for s in sellers if s != seller])
                raw["parties"].append({"partyId": colleague, "side": "us", "role": "attendee"})
            if kind == "email" and "inReplyToActivityId" not in raw:
                emails.append((activity_id, account, *regarding, sender, receiver))
            items.append((start, _Item(raw)))
        # A meeting planned for next week (the "next interaction"), then moved by a day.
        planned = self.midnight + timedelta(days=7, hours=10)
        meeting = {
            "activityId": f"act-{self.day:%Y%m%d}-planned",
            "activityType": "meeting",
            "regardingType": "opportunity",
            "regardingId": "opp-contoso-renewal",
            "accountId": "acc-contoso",
            "status": "scheduled",
            "startTimestamp": timestamp(planned),
            "endTimestamp": timestamp(planned + timedelta(hours=1)),
            "parties": [
                {"partyId": "seller-01", "side": "us", "role": "from"},
                {"partyId": "contoso-contact-1", "side": "customer", "role": "attendee"},
            ],
        }
        moved = {
            **meeting,
            "startTimestamp": timestamp(planned + timedelta(days=1)),
            "endTimestamp": timestamp(planned + timedelta(days=1, hours=1)),
        }
        items.append((self.midnight + timedelta(hours=9), _Item(meeting)))
        items.append((self.midnight + timedelta(hours=16), _Item(moved)))
        # Two senders claimed for one e-mail: invalid, rejected and kept.
        bad = {
            "activityId": f"act-{self.day:%Y%m%d}-bad",
            "activityType": "email",
            "regardingType": "contact",
            "regardingId": "fabrikam-contact-2",
            "startTimestamp": timestamp(self.midnight + timedelta(hours=11)),
            "parties": [
                {"partyId": "seller-02", "side": "us", "role": "from"},
                {"partyId": "fabrikam-contact-2", "side": "customer", "role": "from"},
            ],
        }
        items.append((self.midnight + timedelta(hours=11), _Item(bad, reject="invalid_activity")))
        items.sort(key=lambda pair: pair[0])
        # The CRM syncs every few hours: one batch per four-hour window that saw activity.
        windows: dict[int, list[tuple[datetime, _Item]]] = {}
        for at, item in items:
            windows.setdefault(at.hour // 4, []).append((at, item))
        for window, chunk in sorted(windows.items()):
            sync_at = self.midnight + timedelta(hours=4 * (window + 1), minutes=rng.randint(0, 10))
            batch = tuple(item for _, item in chunk)
            self.send(sync_at, "activities", {"activities": [item.raw for item in batch]}, batch)
