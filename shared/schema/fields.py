"""Field types shared by the wire models, with the CIF length limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

# The earliest and the latest instant we accept. Late events are restated without a cut-off, but a
# timestamp before 2000 or more than a day ahead of our clock is a provider bug, not a late event.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
MAX_CLOCK_SKEW = timedelta(days=1)


class WireModel(BaseModel):
    """Base for request bodies: unknown fields are refused (no mass assignment)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False, frozen=True)


Str100 = Annotated[str, StringConstraints(min_length=1, max_length=100), Field(strict=True)]
"""Most CIF strings: 1..100 characters."""

Identifier = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$"),
    Field(strict=True),
]
"""An id chosen by the provider: 1..100 printable characters."""

ProviderId = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{1,62}$"),
    Field(strict=True, description="lower-case letters, digits, '-' and '_'; 2..63 characters"),
]


def _require_text(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 string with a time zone, e.g. 2026-11-23T08:15:00Z")
    return value


def _in_range(value: datetime) -> datetime:
    value = value.astimezone(UTC)
    if value < EARLIEST:
        raise ValueError("is before 2000-01-01T00:00:00Z")
    if value > datetime.now(UTC) + MAX_CLOCK_SKEW:
        raise ValueError("is more than 24 hours in the future")
    return value


Timestamp = Annotated[
    datetime,
    BeforeValidator(_require_text),
    AfterValidator(lambda v: v if v.tzinfo else _naive(v)),
    AfterValidator(_in_range),
    Field(json_schema_extra={"format": "date-time"}),
]
"""An ISO 8601 instant with an explicit offset, normalised to UTC."""


def _naive(_: datetime) -> datetime:
    raise ValueError("must carry a time zone (e.g. 'Z' or '+01:00')")


CustomValue = Annotated[str, StringConstraints(max_length=1000), Field(strict=True)] | bool | int | float


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
