"""Field types shared by the wire models, with the CIF length limits."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

# The earliest and the latest instant we accept. Late events are restated without a cut-off, but a
# timestamp before 2000 or more than a day ahead of our clock is a provider bug, not a late event.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
MAX_CLOCK_SKEW = timedelta(days=1)
MAX_PLANNED_AHEAD = timedelta(days=5 * 366)


class WireModel(BaseModel):
    """Base for request bodies: unknown fields are refused (no mass assignment)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False, frozen=True)


class CifModel(WireModel):
    """An object of a CIF call (``initLogAnalytics``, ``logAnalyticsEvent``): an empty string in an
    optional field counts as not sent. CIF's published field lists show ``""`` for every value and
    integrations send it for what they do not fill; a required field still needs a value."""

    @model_validator(mode="before")
    @classmethod
    def _empty_is_unsent(cls, data: Any) -> Any:
        if isinstance(data, dict) and "" in data.values():
            optional = _optional_fields(cls)
            return {k: v for k, v in data.items() if not (k in optional and isinstance(v, str) and v == "")}
        return data


@cache
def _optional_fields(model: type[BaseModel]) -> frozenset[str]:
    return frozenset(name for name, info in model.model_fields.items() if not info.is_required())


Str100 = Annotated[str, StringConstraints(min_length=1, max_length=100), Field(strict=True)]
"""Most CIF strings: 1..100 characters."""

Text1000 = Annotated[str, StringConstraints(max_length=1000), Field(strict=True)]
"""CIF free text of up to 1000 characters (conversation ``additionalData``, ``regionData``)."""
MAX_IDENTIFIER_LENGTH = 100
# Everything but the C0 controls and DEL: spaces of any kind, '/', '%', emoji and every script are
# allowed. The one rule for ids, at ingest and wherever an id comes back (erasure).
IDENTIFIER_PATTERN = r"^[^\x00-\x1f\x7f]+$"
_IDENTIFIER = re.compile(r"[^\x00-\x1f\x7f]+")

Identifier = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_IDENTIFIER_LENGTH, pattern=IDENTIFIER_PATTERN),
    Field(strict=True),
]
"""An id chosen by the provider: 1..100 characters, none of them a control character."""


def is_identifier(value: object) -> bool:
    """Whether ``value`` is an id that ``Identifier`` accepts (same rule, for ids outside a body)."""
    return (
        isinstance(value, str)
        and 1 <= len(value) <= MAX_IDENTIFIER_LENGTH
        and _IDENTIFIER.fullmatch(value) is not None
    )


ProviderId = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{1,62}$"),
    Field(strict=True, description="lower-case letters, digits, '-' and '_'; 2..63 characters"),
]


# The ISO 8601 / RFC 3339 shape. Checked before pydantic parses, because pydantic would also take a
# bare number ("1767225600") as Unix seconds, which is not the documented format. The groups (hour,
# minute, second, zone) let the few shapes that look right but cannot be one instant say so clearly.
_ISO_INSTANT = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]{1,9})?)?"
    r"([Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)?$"
)
_ISO_HINT = "must be an ISO 8601 string with a time zone, e.g. 2026-11-23T08:15:00Z"


# The same shape with every field in range: what nearly every timestamp is, checked in one match.
_VALID_INSTANT = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,9})?)?"
    r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):?[0-5][0-9])?$"
)


def _require_text(value: Any) -> Any:
    if type(value) is str and _VALID_INSTANT.match(value):
        return value
    match = _ISO_INSTANT.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(_ISO_HINT)
    hour, minute, second, zone = match.groups()
    if second == "60":
        raise ValueError(
            "has second 60 (a leap second), which no store or warehouse can hold: send 23:59:59.999999 instead"
        )
    if int(hour) > 23 or int(minute) > 59 or (second is not None and int(second) > 59):
        raise ValueError("has a time of day out of range: hours 00-23, minutes and seconds 00-59")
    if zone is not None and zone[0] in "+-":
        if len(zone) == 3:
            raise ValueError(f"has the offset {zone} without minutes: write it {zone}:00 ({_ISO_HINT})")
        if int(zone[1:3]) > 23 or int(zone[-2:]) > 59:
            raise ValueError("has a UTC offset out of range: from -23:59 to +23:59")
    return value


def _in_range(value: datetime, ahead: timedelta) -> datetime:
    try:
        value = value.astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01T00:00+01:00 or 9999-12-31T23:59-01:00 leave datetime's range
        too_early = value.year < EARLIEST.year
        raise ValueError(
            "is before 2000-01-01T00:00:00Z" if too_early else f"is more than {_span(ahead)} in the future"
        ) from exc
    if value < EARLIEST:
        raise ValueError("is before 2000-01-01T00:00:00Z")
    if value > datetime.now(UTC) + ahead:
        raise ValueError(f"is more than {_span(ahead)} in the future")
    return value


def _span(ahead: timedelta) -> str:
    return "24 hours" if ahead == MAX_CLOCK_SKEW else f"{ahead.days} days"


def _aware_in_range(value: datetime, ahead: timedelta) -> datetime:
    # One validator for both checks (one Python call per timestamp less on the ingest path).
    if not value.tzinfo:
        _naive(value)
    return _in_range(value, ahead)


def _timestamp(ahead: timedelta) -> Any:
    return Annotated[
        datetime,
        BeforeValidator(_require_text),
        AfterValidator(lambda v: _aware_in_range(v, ahead)),
        Field(json_schema_extra={"format": "date-time"}),
    ]


Timestamp = _timestamp(MAX_CLOCK_SKEW)
"""An ISO 8601 instant with an explicit offset, normalised to UTC; at most 24 h ahead of our clock."""

PlannedTimestamp = _timestamp(MAX_PLANNED_AHEAD)
"""The same, for what may be planned ahead (a scheduled meeting): up to about five years."""


def _naive(_: datetime) -> datetime:
    raise ValueError("must carry a time zone (e.g. 'Z' or '+01:00')")


def _int64(value: Any) -> Any:
    if type(value) is int and not -(2**63) <= value < 2**63:
        raise ValueError("integers must fit in 64 bits (the store and the warehouse hold INT64)")
    return value


CustomValue = Annotated[
    # Strict members: text past 1000 characters that reads as a number ("000…0") must be refused, not
    # silently turned into that number by a lax member of the union.
    Annotated[str, StringConstraints(max_length=1000), Field(strict=True)]
    | Annotated[bool, Field(strict=True)]
    | Annotated[int, Field(strict=True)]
    | Annotated[float, Field(strict=True)],
    AfterValidator(_int64),
]


class CustomDataItem(WireModel):
    """One CIF ``customData`` pair."""

    attribute: Str100
    value: CustomValue


CustomData = Annotated[list[CustomDataItem], Field(max_length=50)]


def custom_data_dict(items: list[CustomDataItem] | None) -> dict[str, Any]:
    """``[{"attribute","value"}]`` → ``{attribute: value}``; a repeated attribute is an error."""
    out: dict[str, Any] = {}
    for item in items or ():
        if item.attribute in out:
            raise ValueError(f"customData attribute {item.attribute!r} appears twice")
        out[item.attribute] = item.value
    return out
