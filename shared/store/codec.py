"""Time and cursor encodings shared by the adapters."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any


def utc(dt: datetime) -> datetime:
    """Normalise an aware datetime to UTC (naive values are taken as UTC)."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


# ``YYYY-MM-DDTHH:MM:SS.ffffffZ``: 27 characters, always.
ISO_WIDTH = 27


def to_iso(dt: datetime | None) -> str | None:
    """Fixed-width ISO text, so lexical order equals time order (SQLite keys, cursors).

    ``isoformat`` rather than ``strftime``: the same text (microseconds always written), at a
    fraction of the cost; every scanned record goes through here or ``from_iso``.
    """
    if dt is None:
        return None
    return utc(dt).isoformat(timespec="microseconds")[:26] + "Z"


def from_iso(text: str | None) -> datetime | None:
    """The instant ``to_iso`` wrote, aware in UTC; ``ValueError`` for any other text.

    ``fromisoformat`` (which reads the trailing ``Z`` since Python 3.11) is many times faster than
    ``strptime``, but it also takes other ISO forms (offsets, no fraction): only the exact shape
    ``to_iso`` writes goes through it, anything else through the strict parser, which decides.
    """
    if text is None:
        return None
    if len(text) == ISO_WIDTH and text[10] == "T" and text[19] == "." and text[26] == "Z":
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass  # e.g. a space-padded field, which strptime reads
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def encode_cursor(*parts: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str, arity: int | None = None) -> list[Any]:
    """Decode a cursor; ``ValueError`` for anything we did not issue.

    With ``arity``, the cursor must hold exactly that many strings: a well-formed cursor of another
    shape would otherwise reach the query as a wrong-typed parameter.
    """
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except Exception as exc:
        raise ValueError("invalid cursor") from exc
    if not isinstance(value, list):
        raise ValueError("invalid cursor")
    if arity is not None and (len(value) != arity or not all(isinstance(v, str) for v in value)):
        raise ValueError("invalid cursor")
    return value
