"""Canonical JSON and content hashes: the basis of derived, retry-stable ids."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> str:
    """Key-sorted, compact JSON: the same content always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_id(prefix: str, *values: Any) -> str:
    digest = hashlib.sha256("\x1e".join(canonical_json(v) for v in values).encode()).hexdigest()
    return f"{prefix}{digest[:32]}"
