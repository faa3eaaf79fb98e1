"""Hypothesis strategies for request bodies: valid ones, and ones broken field by field.

Each generated item comes with a verdict: ``True`` when it is certainly invalid under the v1 contract
(the server must refuse it), ``False`` when it is certainly valid (the server must take it), ``None``
when the contract leaves it open (then only the invariants apply: no 5xx, JSON errors, nothing lost).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

NOW = datetime.now(UTC)

# -- text -------------------------------------------------------------------------------------------

# Printable text without control characters or surrogates: valid for every id and every CIF string.
SAFE_ALPHABET = st.characters(exclude_categories=("Cc", "Cs", "Co", "Cn"))
safe_text = st.text(SAFE_ALPHABET, min_size=1, max_size=24)
ident = st.text(SAFE_ALPHABET, min_size=1, max_size=40)

UNICODE_EDGES = [
    "\x00",
    "a\x00b",
    "\ud800",  # a lone high surrogate: JSON can carry it escaped as \ud800
    "x\udfffy",
    "\ud83d",
    "\u202eevil\u202c",  # right-to-left override
    "\u200f\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627",
    "\ufeffbom",
    "\uffff\ufffe",
    "\U0010ffff",
    "e\u0301" * 40,
    "\U0001f600" * 30,
    "\u2028\u2029",
    "\x1b[31mred\x1b[0m",
    "<script>alert(1)</script>",
    "' OR '1'='1' --",
    "../../etc/passwd",
    "%00%0a",
    "${jndi:ldap://x/a}",
    "{{7*7}}",
    "\\u0000",
    " ",
]
edge_text = st.one_of(
    st.sampled_from(UNICODE_EDGES),
    st.text(st.characters(exclude_categories=()), min_size=1, max_size=12),
)
CONTROL = set(map(chr, range(0x20))) | {"\x7f"}


def has_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= c <= "\udfff" for c in value)
    if isinstance(value, dict):
        return any(has_surrogate(k) or has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_surrogate(v) for v in value)
    return False


def has_non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(has_non_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(has_non_finite(v) for v in value)
    return False


def depth(value: Any) -> int:
    """Containers nested in one another (a scalar is 0, ``{}`` is 1, ``{"a": []}`` is 2)."""
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


def huge(limit: int) -> st.SearchStrategy[str]:
    """A string past ``limit`` characters (up to ~40 KB, past the per-event limit)."""
    return st.builds(
        lambda chunk, n: (chunk * n)[:n],
        st.text(SAFE_ALPHABET, min_size=1, max_size=3),
        st.sampled_from([limit + 1, limit + 7, 4 * limit, 40_000]),
    )


def nested(leaf: Any, levels: int, kind: str) -> Any:
    for _ in range(levels):
        leaf = [leaf] if kind == "list" else {"n": leaf}
    return leaf


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
deep_values = st.builds(
    nested, json_scalars, st.integers(2, 60), st.sampled_from(["list", "dict"])
)  # deeper than 32 levels makes the whole body too deep

# -- timestamps -------------------------------------------------------------------------------------

# The warehouse keeps 730 days (ANALYTICS_WAREHOUSE_RETENTION_DAYS): ingest refuses events, activities
# and conversations older than its first kept day. Valid timestamps are drawn after it, with a margin.
KEPT_FROM = (NOW - timedelta(days=729)).replace(hour=0, minute=0, second=0, microsecond=0)
# A recent day for fixed texts whose verdict must come from their shape, never from their age.
RECENT = (NOW - timedelta(days=30)).date().isoformat()

OFFSETS = [timedelta(0), timedelta(hours=5, minutes=30), timedelta(hours=-8), timedelta(hours=14)]
EXTREME_OFFSETS = [timedelta(hours=23, minutes=59), timedelta(hours=-23, minutes=-59)]


def iso(dt: datetime, offset: timedelta | None, zulu: bool) -> str:
    if offset is None:
        return dt.isoformat()
    text = dt.replace(tzinfo=timezone(offset)).isoformat()
    return text.replace("+00:00", "Z") if zulu and offset == timedelta(0) else text


valid_timestamp = st.builds(
    iso,
    st.datetimes(
        min_value=KEPT_FROM.replace(tzinfo=None) + timedelta(days=1),
        max_value=NOW.replace(tzinfo=None) - timedelta(days=2),
    ),
    st.sampled_from(OFFSETS),
    st.booleans(),
)

FIXED_TIMESTAMPS: list[tuple[str, bool | None]] = [
    ("0001-01-01T00:00:00Z", True),
    ("1899-12-31T23:59:59Z", True),
    ("1999-12-31T23:59:59.999999Z", True),
    ("9999-12-31T23:59:59Z", True),
    ("9999-12-31T23:59:59.999999-23:59", True),
    ("0001-01-01T00:00:00+23:59", True),
    ("3000-01-01T00:00:00+00:00", True),
    ("2024-06-01T12:00:00", True),  # no zone
    ("2024-06-01", True),  # a date, no time, no zone
    ("2024-06-01T12:00:00.123456", True),
    ("1717243200", True),  # Unix seconds in a string: no zone, not ISO 8601
    ("1717243200.5", True),
    ("", True),
    ("now", True),
    ("2024-02-30T00:00:00Z", True),
    ("2024-13-01T00:00:00Z", True),
    ("2024-06-01T24:00:01Z", True),
    ("2024-06-01T00:00:00+25:00", True),
    (f"{RECENT}T23:59:60Z", True),  # a leap second: no instant a store or warehouse can hold
    (f"{RECENT}T12:00:00+05", True),  # an offset without minutes
    (f"{RECENT}T12:00:00-11", True),
    (f"{RECENT}T12:60:00Z", True),
    ("2024-06-01 12:00:00Z", None),
    ("+002024-06-01T00:00:00Z", None),
    ("2024-06-01T00:00:00.1234567891Z", None),
]


def _timestamp_case(dt: datetime, offset: timedelta | None, ahead_days: int) -> tuple[str, bool | None]:
    """The text of a timestamp and its verdict for a field that takes up to ``ahead_days`` ahead."""
    text = iso(dt, offset, zulu=False)
    if offset is None:
        return text, True
    try:
        utc = dt.replace(tzinfo=timezone(offset)).astimezone(UTC)
    except OverflowError:
        return text, True  # not even representable in UTC
    if utc < datetime(2000, 1, 1, tzinfo=UTC) or utc > NOW + timedelta(days=ahead_days + 1):
        return text, True
    if KEPT_FROM + timedelta(days=1) < utc < NOW + timedelta(hours=12):
        return text, False
    # Near a boundary; ahead where the field may (or may not) plan ahead; or older than the warehouse
    # keeps, which the fields that decide a day (event, activity start, conversation) refuse.
    return text, None


def edge_timestamps(ahead_days: int) -> st.SearchStrategy[tuple[Any, bool | None]]:
    """Timestamps far in the past or future, with extreme offsets or none, and non-strings."""
    return st.one_of(
        st.sampled_from(FIXED_TIMESTAMPS),
        st.builds(
            _timestamp_case,
            st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(1999, 12, 31)),
            st.sampled_from([*OFFSETS, *EXTREME_OFFSETS, None]),
            st.just(ahead_days),
        ),
        st.builds(
            _timestamp_case,
            st.datetimes(
                min_value=NOW.replace(tzinfo=None) + timedelta(days=3), max_value=datetime(9999, 12, 30)
            ),
            st.sampled_from([*OFFSETS, *EXTREME_OFFSETS, None]),
            st.just(ahead_days),
        ),
        st.builds(
            _timestamp_case,
            st.datetimes(
                min_value=datetime(2001, 1, 2), max_value=NOW.replace(tzinfo=None) - timedelta(days=2)
            ),
            st.just(None),
            st.just(ahead_days),
        ),
        st.builds(lambda v: (v, True), st.integers(0, 2**40) | st.floats(0, 2e9) | st.booleans()),
    )


# -- field specifications ---------------------------------------------------------------------------


@dataclass(frozen=True)
class F:
    """One field of a wire object: its kind, whether it is required, its length limit."""

    kind: str  # id | str | text | name | enum | ts | list | object | value | bool | int
    required: bool = False
    limit: int = 100
    choices: tuple[str, ...] = ()
    nullable: bool | None = None  # default: optional fields take null
    ahead_days: int = 1  # timestamps: how far ahead of now the contract may allow
    empty_unsent: bool = False  # "" counts as not sent (optional fields of CIF objects)

    @property
    def takes_null(self) -> bool:
        return (not self.required) if self.nullable is None else self.nullable


EVENT_NAMES = (
    "NotificationReceived",
    "NotificationTimedOut",
    "SessionStarted",
    "SessionInFocus",
    "SessionOutOfFocus",
    "SessionClosed",
    "NewTabOpened",
    "CallHold",
    "CallUnhold",
    "WrapUpStarted",
    "ConversationClosed",
    "ChatStarted",
    "EmailCaptured",
    "WebPushAsked",
    "ParticipationCompleted",
    "AdventCalendarOpened",
    "PinSent",
    "CustomerDeleted",
)


def cif(fields: dict[str, F]) -> dict[str, F]:
    """The fields of a CIF object (initLogAnalytics, logAnalyticsEvent): "" in an optional one
    counts as not sent."""
    return {name: replace(f, empty_unsent=not f.required) for name, f in fields.items()}


EVENT = cif(
    {
        "eventId": F("id"),
        "kpiEventName": F("name", True),
        "kpiEventReason": F("str"),
        "eventTimestamp": F("ts", True),
        "notificationResponseAction": F("enum", choices=("Accept", "Reject")),
        "additionalData": F("text", limit=2000),
        "externalCorrelationId": F("id"),
        "customData": F("list", limit=50),
    }
)
CUSTOM_ITEM = {"attribute": F("str", True), "value": F("value", True, limit=1000)}
ENVELOPE = cif(
    {
        "conversationId": F("id", True),
        "providerSessionId": F("id", True),
        "clientSessionId": F("id"),
        "participantId": F("id"),
    }
)
# Ids CIF repeats from the parent (a session's conversationId, a participant's sessionId and
# conversationId) are fields too: a broken value is refused like any other, a valid one must agree.
PARTICIPANT = cif(
    {
        "sessionId": F("id"),
        "conversationId": F("id"),
        "participantId": F("id", True),
        "externalParticipantId": F("id"),
        "participantName": F("str"),
        "externalParticipantName": F("str"),
        "participantType": F("enum", True, choices=("agent", "bot", "customer")),
        "participantMode": F("enum", True, choices=("primary", "consult", "monitor")),
        "participantAddedTimestamp": F("ts", True),
        "participantAssignReason": F("str"),
        "customData": F("list", limit=50),
    }
)
SESSION = cif(
    {
        "conversationId": F("id"),
        "sessionId": F("id", True),
        "sessionName": F("str"),
        "clientSessionId": F("id"),
        "clientSessionName": F("str"),
        "sessionChannel": F("str"),
        "sessionCreationReason": F("str"),
        "sessionAdditionalData": F("str"),
        "externalCorrelationId": F("id"),
        "sessionCreatedTimestamp": F("ts", True),
        "sessionQueueAssignedTimestamp": F("ts"),
        "sessionAgentAssignedTimestamp": F("ts"),
        "queueId": F("str"),
        "queueName": F("str"),
        "customData": F("list", limit=50),
        "participants": F("list", nullable=False, limit=50),
    }
)
CONVERSATION = cif(
    {
        "conversationId": F("id", True),
        "backendConversationId": F("id"),
        "channel": F("str", True),
        "channelContext": F("str"),
        "direction": F("enum", choices=("inbound", "outbound")),
        "conversationTimestamp": F("ts", True),
        "providerId": F("id"),
        "externalProviderId": F("id"),
        "providerName": F("str"),
        "externalProviderName": F("str"),
        "accountId": F("id"),
        "externalAccountId": F("id"),
        "contactId": F("id"),
        "externalContactId": F("id"),
        "customerId": F("id"),
        "experienceId": F("id"),
        "platform": F("str"),
        "regionData": F("str", limit=1000),
        "additionalData": F("text", limit=1000),
        "externalCorrelationId": F("id"),
        "customData": F("list", limit=50),
        "closedTimestamp": F("ts"),
        "session": F("object"),
        "sessions": F("list", limit=100),
    }
)
PARTY = {
    "partyId": F("id", True),
    "side": F("enum", True, choices=("us", "customer")),
    "role": F("enum", True, choices=("from", "to", "attendee")),
    "name": F("str"),
}
ACTIVITY = {
    "activityId": F("id", True),
    "activityType": F("enum", True, choices=("email", "meeting", "phonecall")),
    "regardingType": F("enum", True, choices=("account", "contact", "lead", "opportunity")),
    "regardingId": F("id", True),
    "accountId": F("id"),
    "status": F("enum", choices=("completed", "scheduled", "canceled"), nullable=False),
    # a scheduled meeting may lie ahead: up to about five years is not certainly wrong
    "startTimestamp": F("ts", True, ahead_days=5 * 366),
    "endTimestamp": F("ts", ahead_days=5 * 366),
    "inReplyToActivityId": F("id"),
    "parties": F("list", True, limit=100),
}
PROVIDER_CREATE = {
    "providerId": F("id", True),  # narrower in truth: ^[a-z0-9][a-z0-9_-]{1,62}$
    "name": F("str", True),
    "enableAnalytics": F("bool", nullable=False),
}
# Both switches are optional (at least one must be sent) and neither takes null.
PROVIDER_PATCH = {"enableAnalytics": F("bool", nullable=False), "requireSignature": F("bool", nullable=False)}
KEY_ROTATE = {"revokeOthers": F("bool", nullable=False)}
EVENT_DEFINITION = {
    "version": F("str", nullable=False),  # SchemaVer, e.g. 1-0-0
    "active": F("bool", nullable=False),
    "description": F("text", limit=500, nullable=False),
}
REPLAY = {"failedIds": F("list", limit=500), "limit": F("int", nullable=False)}

# -- valid objects ----------------------------------------------------------------------------------

# Before every generated valid timestamp, so an end or close time drawn later is never before it.
EARLY = KEPT_FROM.isoformat().replace("+00:00", "Z")

custom_data = st.lists(
    st.fixed_dictionaries(
        {
            "attribute": st.builds(lambda s: f"x_{s}", st.text(SAFE_ALPHABET, min_size=1, max_size=20)),
            "value": st.one_of(
                st.text(max_size=30),
                st.booleans(),
                st.integers(-(10**9), 10**9),
                st.floats(-1e9, 1e9, allow_nan=False),
            ),
        }
    ),
    max_size=3,
    unique_by=lambda item: item["attribute"],
)


def _with_optional(required: dict[str, Any], optional: dict[str, st.SearchStrategy]) -> st.SearchStrategy:
    return st.fixed_dictionaries(
        {k: v if isinstance(v, st.SearchStrategy) else st.just(v) for k, v in required.items()},
        optional=optional,
    )


@st.composite
def valid_event(draw: st.DrawFn) -> dict[str, Any]:
    name = draw(st.sampled_from((*EVENT_NAMES, "NotificationResponse")))
    event = draw(
        _with_optional(
            {"kpiEventName": name, "eventTimestamp": valid_timestamp},
            {
                "eventId": ident,
                "kpiEventReason": safe_text,
                "additionalData": st.text(max_size=200).filter(lambda s: not has_surrogate(s)),
                "externalCorrelationId": ident,
                "customData": custom_data,
            },
        )
    )
    if name == "NotificationResponse":
        event["notificationResponseAction"] = draw(st.sampled_from(["Accept", "Reject"]))
    return event


valid_participant = st.fixed_dictionaries(
    {
        "participantId": ident,
        "participantType": st.sampled_from(PARTICIPANT["participantType"].choices),
        "participantMode": st.sampled_from(PARTICIPANT["participantMode"].choices),
        "participantAddedTimestamp": valid_timestamp,
    },
    optional={
        "participantName": safe_text,
        "externalParticipantId": ident,
        "participantAssignReason": safe_text,
        "customData": custom_data,
    },
)
valid_session = st.fixed_dictionaries(
    {"sessionId": ident, "sessionCreatedTimestamp": valid_timestamp},
    optional={
        "sessionQueueAssignedTimestamp": valid_timestamp,
        "queueId": safe_text,
        "sessionChannel": safe_text,
        "sessionName": safe_text,
        "clientSessionId": ident,
        "sessionCreationReason": safe_text,
        "customData": custom_data,
        "participants": st.lists(valid_participant, max_size=3, unique_by=lambda p: p["participantId"]),
    },
)
valid_conversation = st.fixed_dictionaries(
    {
        "conversationId": ident,
        "channel": st.sampled_from(["voice", "chat", "sms", "email"]) | safe_text,
        "conversationTimestamp": st.just(EARLY),
    },
    optional={
        "direction": st.sampled_from(["inbound", "outbound"]),
        "backendConversationId": ident,
        "providerId": ident,
        "externalContactId": ident,
        "regionData": st.text(SAFE_ALPHABET, min_size=1, max_size=300),
        "customerId": ident,
        "experienceId": ident,
        "platform": st.sampled_from(["mobile", "desktop"]),
        "additionalData": st.text(max_size=100).filter(lambda s: not has_surrogate(s)),
        "customData": custom_data,
        "sessions": st.lists(valid_session, max_size=3, unique_by=lambda s: s["sessionId"]),
    },
)  # closedTimestamp is left out: it must not precede conversationTimestamp
valid_party = st.fixed_dictionaries(
    {
        "partyId": ident,
        "side": st.sampled_from(["us", "customer"]),
        "role": st.sampled_from(["to", "attendee"]),
    },
    optional={"name": safe_text},
)


@st.composite
def valid_activity(draw: st.DrawFn) -> dict[str, Any]:
    sender = {**draw(valid_party), "role": "from"}
    others = draw(st.lists(valid_party, max_size=3))
    activity = draw(
        _with_optional(
            {
                "activityId": ident,
                "activityType": st.sampled_from(ACTIVITY["activityType"].choices),
                "regardingType": st.sampled_from(ACTIVITY["regardingType"].choices),
                "regardingId": ident,
                "startTimestamp": st.just(EARLY),
            },
            {
                "accountId": ident,
                "status": st.sampled_from(ACTIVITY["status"].choices),
                "endTimestamp": valid_timestamp,
                "inReplyToActivityId": ident,
            },
        )
    )
    activity["parties"] = [sender, *others]
    return activity


# -- breaking a field -------------------------------------------------------------------------------


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "list" if isinstance(value, list) else "object"


ACCEPTS = {
    "id": {"string"},
    "str": {"string"},
    "text": {"string"},
    "name": {"string"},
    "enum": {"string"},
    "ts": {"string"},
    "list": {"list"},
    "object": {"object"},
    "value": {"string", "bool", "number"},
    "bool": {"bool"},
    "int": {"number"},
}


def wrong_type(spec: F) -> st.SearchStrategy[Any]:
    """A JSON value of a type the field never takes."""
    accepted = set(ACCEPTS[spec.kind]) | ({"null"} if spec.takes_null else set())
    return st.one_of(json_values, deep_values).filter(lambda v: _json_kind(v) not in accepted)


def broken_value(spec: F) -> st.SearchStrategy[tuple[Any, bool | None]]:
    """A value for a field with the verdict on it (True: certainly invalid)."""
    options: list[st.SearchStrategy[tuple[Any, bool | None]]] = [
        st.tuples(wrong_type(spec), st.just(True)),
    ]
    if spec.kind in ("id", "str", "name"):
        options.append(st.tuples(huge(spec.limit), st.just(True)))
        options.append(st.tuples(st.just(""), st.just(True)))
    if spec.kind in ("text", "value"):
        options.append(st.tuples(huge(spec.limit), st.just(True)))
    if spec.kind in ("id", "str", "name", "text", "enum"):
        options.append(st.builds(lambda s: (s, _edge_verdict(spec, s)), edge_text))
    if spec.kind == "enum":
        options.append(
            st.tuples(safe_text.filter(lambda s: s not in spec.choices), st.just(True)),
        )
        options.append(st.tuples(st.sampled_from([c.upper() for c in spec.choices]), st.just(True)))
        # (every choice here is lower- or mixed-case, so its upper-case form is not a choice)
    if spec.kind == "name":
        options.append(st.tuples(st.sampled_from(["1Event", "has space", "a/b", "Événement"]), st.just(True)))
        options.append(st.tuples(st.sampled_from(["UnknownEvent", "Notification_Received"]), st.just(True)))
    if spec.kind == "ts":
        options.append(edge_timestamps(spec.ahead_days))
    if spec.kind == "bool":
        options.append(st.tuples(st.sampled_from([0, 1, "true", "false", "yes"]), st.just(True)))
    if spec.kind == "int":
        options.append(st.tuples(st.sampled_from([0, -1, 501, 10**20, 5.0, "5", True]), st.just(True)))
    if spec.kind == "list":
        not_text = json_scalars.filter(lambda v: v is not None and not isinstance(v, str))
        options.append(st.tuples(st.lists(not_text, min_size=1, max_size=3), st.just(True)))
    if spec.empty_unsent:  # "" leaves the field out: valid as far as the field goes
        return st.one_of(options).map(lambda pair: (pair[0], None) if pair[0] == "" else pair)
    return st.one_of(options)


def _edge_verdict(spec: F, text: str) -> bool | None:
    if spec.kind == "enum":
        return text not in spec.choices or None
    if spec.kind == "id" and any(c in CONTROL for c in text):
        return True
    if spec.kind in ("str", "name", "id") and len(text) > spec.limit:
        return True
    return None


@st.composite
def break_object(
    draw: st.DrawFn,
    valid: dict[str, Any],
    fields: dict[str, F],
    reserved: tuple[str, ...] = (),
    ordered: tuple[str, ...] = (),
) -> tuple[Any, bool | None]:
    """One mutation of a valid object, with its verdict. ``reserved`` keys are never added as
    unknown fields; a valid value put in an ``ordered`` field (start/end pairs) gets no verdict."""
    how = draw(st.sampled_from(["value", "value", "value", "missing", "unknown", "not_object"]))
    obj = dict(valid)
    if how == "missing":
        required = [k for k, f in fields.items() if f.required]
        if not required:
            how = "unknown"
        else:
            del obj[draw(st.sampled_from(required))]
            return obj, True
    if how == "unknown":
        key = draw(
            st.sampled_from(["isAdmin", "providerId", "apiKey", "createdAt", "__proto__", "constructor"])
            | st.text(max_size=12)
        )
        if key in fields or key in reserved:
            return obj, None
        obj[key] = draw(json_values)
        return obj, True
    if how == "not_object":
        return draw(st.one_of(json_scalars, st.lists(json_scalars, max_size=3))), True
    name = draw(st.sampled_from(sorted(fields)))
    value, verdict = draw(broken_value(fields[name]))
    obj[name] = value
    if verdict is False and name in ordered:
        verdict = None
    return obj, verdict


@st.composite
def maybe_broken(
    draw: st.DrawFn,
    valid: st.SearchStrategy,
    fields: dict[str, F],
    reserved: tuple[str, ...] = (),
    ordered: tuple[str, ...] = (),
    broken_share: int = 6,
) -> tuple[Any, bool | None]:
    """A valid object (verdict False) or, ``broken_share`` times in ten, a broken one."""
    obj = draw(valid)
    if draw(st.integers(0, 9)) >= broken_share:
        return obj, False
    return draw(break_object(obj, fields, reserved, ordered))


# -- serialising ------------------------------------------------------------------------------------


def encode(body: Any, ascii_only: bool) -> bytes:
    """JSON text as a client would send it; with ``ascii_only`` lone surrogates travel as ``\\ud800``
    escapes, without it they become bytes that are not UTF-8 (as a buggy client would send)."""
    return json.dumps(body, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


def body_level_expectation(body: Any, raw: bytes, ascii_only: bool, max_bytes: int) -> tuple[int, str] | None:
    """What the body layer must answer before any route sees the body, if anything."""
    if len(raw) > max_bytes:
        return 413, "body_too_large"
    if not ascii_only and has_surrogate(body):
        return 400, "invalid_utf8"
    if has_non_finite(body):
        return 400, "malformed_json"
    if depth(body) >= 40:
        return 400, "json_too_deep"
    return None


# -- whole request bodies ---------------------------------------------------------------------------

valid_envelope = st.fixed_dictionaries(
    {"conversationId": ident, "providerSessionId": ident},
    optional={"participantId": ident, "clientSessionId": ident},
)


@st.composite
def broken_event(draw: st.DrawFn) -> tuple[Any, bool | None]:
    """A valid event, or one broken at a field, in a customData item, or against a registry rule."""
    event = draw(valid_event())
    how = draw(st.integers(0, 9))
    if how < 4:
        return event, False
    if how == 4 and event.get("customData"):
        items = list(event["customData"])
        index = draw(st.integers(0, len(items) - 1))
        items[index], verdict = draw(break_object(items[index], CUSTOM_ITEM))
        return {**event, "customData": items}, verdict
    if how == 5:
        rule = draw(st.sampled_from(["action_on_other", "no_action", "twice", "typed"]))
        if rule == "action_on_other" and event["kpiEventName"] != "NotificationResponse":
            # CIF's event carries the field whatever its name: kept as sent, counted only on
            # NotificationResponse
            return {**event, "notificationResponseAction": "Accept"}, False
        if rule == "no_action" and event["kpiEventName"] == "NotificationResponse":
            return {k: v for k, v in event.items() if k != "notificationResponseAction"}, True
        if rule == "twice":
            item = {"attribute": "x_same", "value": 1}
            return {**event, "customData": [item, {**item, "value": 2}]}, True
        if rule == "typed":  # SurveyAnswered: csat 1..5 and/or nps 0..10
            attribute = draw(st.sampled_from(["csat", "nps"]))
            value = draw(st.sampled_from([0, 6, -1, 11.5, "excellent", None]))
            valid = value in ((0, 6) if attribute == "nps" else ())
            survey = {"kpiEventName": "SurveyAnswered", "eventTimestamp": event["eventTimestamp"]}
            return {**survey, "customData": [{"attribute": attribute, "value": value}]}, not valid
        return event, False
    return draw(break_object(event, EVENT))


@st.composite
def event_batches(draw: st.DrawFn) -> tuple[Any, dict[int, bool], bool | None]:
    """``(body, per-event verdicts, envelope verdict)`` for ``POST /v1/events``."""
    if draw(st.integers(0, 9)) < 2:
        envelope, envelope_verdict = draw(break_object(draw(valid_envelope), ENVELOPE, reserved=("events",)))
    else:
        envelope, envelope_verdict = draw(valid_envelope), False
    pairs = draw(st.lists(broken_event(), min_size=1, max_size=5))
    verdicts = {i: v for i, (_, v) in enumerate(pairs) if v is not None}
    if isinstance(envelope, dict):
        envelope = dict(envelope)
        shape = draw(st.integers(0, 19))
        if shape == 0:
            envelope["events"], envelope_verdict = [], True
        elif shape == 1:
            envelope["events"], envelope_verdict = draw(wrong_type(F("list", True))), True
        else:
            envelope["events"] = [event for event, _ in pairs]
    return envelope, verdicts, envelope_verdict


@st.composite
def conversation_bodies(draw: st.DrawFn) -> tuple[Any, bool | None]:
    """``(body, verdict)`` for ``POST /v1/conversations``, broken at any level or not at all."""
    conversation = draw(valid_conversation)
    verdict: bool | None = False
    where = draw(st.integers(0, 9))
    sessions = conversation.get("sessions") or []
    if where in (0, 1, 2, 3):
        pass
    elif where == 4 and sessions:
        index = draw(st.integers(0, len(sessions) - 1))
        session, verdict = draw(break_object(sessions[index], SESSION))
        conversation["sessions"] = [*sessions[:index], session, *sessions[index + 1 :]]
    elif where == 5 and any(s.get("participants") for s in sessions):
        index = next(i for i, s in enumerate(sessions) if s.get("participants"))
        people = sessions[index]["participants"]
        person, verdict = draw(break_object(people[0], PARTICIPANT))
        conversation["sessions"] = [
            *sessions[:index],
            {**sessions[index], "participants": [person, *people[1:]]},
            *sessions[index + 1 :],
        ]
    elif where == 6:
        rule = draw(st.sampled_from(["both", "same_session", "closed_before"]))
        if rule == "both" or not sessions:
            conversation["session"] = draw(valid_session)
            conversation["sessions"] = sessions
        elif rule == "same_session":
            conversation["sessions"] = [*sessions, sessions[0]]
        else:
            conversation["closedTimestamp"] = "2000-05-31T23:59:59Z"
        verdict = True
    else:
        conversation, verdict = draw(
            break_object(conversation, CONVERSATION, ordered=("conversationTimestamp", "closedTimestamp"))
        )
    top = draw(st.integers(0, 19))
    if top == 0:
        return draw(st.one_of(json_scalars, st.lists(json_scalars, max_size=2))), True
    if top == 1:
        return {"conversation": conversation, draw(st.sampled_from(["session", "providerId", "x"])): 1}, True
    if top == 2:
        return {}, True
    return {"conversation": conversation}, verdict


@st.composite
def broken_activity(draw: st.DrawFn) -> tuple[Any, bool | None]:
    activity = draw(valid_activity())
    how = draw(st.integers(0, 9))
    if how < 4:
        return activity, False
    if how == 4:
        parties = list(activity["parties"])
        index = draw(st.integers(0, len(parties) - 1))
        parties[index], verdict = draw(break_object(parties[index], PARTY))
        if verdict is False:
            verdict = None  # a changed role may leave no sender, or two
        return {**activity, "parties": parties}, verdict
    if how == 5:
        rule = draw(st.sampled_from(["two_senders", "no_sender", "end_before_start", "no_parties"]))
        if rule == "two_senders":
            return {
                **activity,
                "parties": [*activity["parties"], {**activity["parties"][0], "partyId": "p2"}],
            }, True
        if rule == "no_sender":
            return {**activity, "parties": [{**p, "role": "to"} for p in activity["parties"]]}, True
        if rule == "end_before_start":
            return {**activity, "endTimestamp": "2000-05-01T00:00:00Z"}, True
        return {**activity, "parties": []}, True
    return draw(break_object(activity, ACTIVITY, ordered=("startTimestamp", "endTimestamp")))


@st.composite
def activity_batches(draw: st.DrawFn) -> tuple[Any, dict[int, bool], bool | None]:
    """``(body, per-activity verdicts, envelope verdict)`` for ``POST /v1/activities``."""
    pairs = draw(st.lists(broken_activity(), min_size=1, max_size=4))
    verdicts = {i: v for i, (_, v) in enumerate(pairs) if v is not None}
    shape = draw(st.integers(0, 19))
    if shape == 0:
        return {"activities": []}, verdicts, True
    if shape == 1:
        return {"activities": draw(wrong_type(F("list", True)))}, verdicts, True
    if shape == 2:
        return {"activities": [a for a, _ in pairs], "extra": 1}, verdicts, True
    return {"activities": [a for a, _ in pairs]}, verdicts, False


provider_ids = st.from_regex(r"[a-z0-9][a-z0-9_-]{1,20}", fullmatch=True)
definition_names = st.from_regex(r"[A-Za-z][A-Za-z0-9_.-]{0,30}", fullmatch=True).filter(
    lambda n: n.lower().strip(".") not in ("", "keys")
)

# route -> (valid body strategy, fields, reserved keys)
OPERATOR_BODIES: dict[str, tuple[st.SearchStrategy, dict[str, F], tuple[str, ...]]] = {
    "POST /v1/providers": (
        st.fixed_dictionaries(
            {"providerId": provider_ids, "name": safe_text}, optional={"enableAnalytics": st.booleans()}
        ),
        PROVIDER_CREATE,
        (),
    ),
    "PATCH /v1/providers/{id}": (
        st.fixed_dictionaries(
            {"enableAnalytics": st.booleans()}, optional={"requireSignature": st.booleans()}
        ),
        PROVIDER_PATCH,
        (),
    ),
    "POST /v1/providers/{id}/keys": (
        st.fixed_dictionaries({}, optional={"revokeOthers": st.booleans()}),
        KEY_ROTATE,
        (),
    ),
    "PUT /v1/providers/{id}/event-definitions/{name}": (
        st.fixed_dictionaries(
            {},
            optional={
                "version": st.sampled_from(["1-0-0", "2-3-4", "10-0-1"]),
                "active": st.booleans(),
                "description": st.text(max_size=100),
            },
        ),
        EVENT_DEFINITION,
        ("name",),  # the path names the event
    ),
    "POST /v1/providers/{id}/failed-events/replay": (
        st.fixed_dictionaries(
            {},
            optional={
                "failedIds": st.lists(safe_text, max_size=3),
                "limit": st.integers(1, 500),
            },
        ),
        REPLAY,
        (),
    ),
}
