"""Fixtures of the privacy suite: a generated day of traffic sent over HTTP to the real SQLite store,
aggregated into a real DuckDB file (the aggregation fixtures of tests/aggregate, reused)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.aggregate.conftest import acme, aggregate, store  # noqa: F401  (fixtures)
from tools.traffic import Traffic, generate_day


def send(ingest_client: Any, key: str, traffic: Traffic) -> None:
    """Every request of the generated day, as the provider sends it."""
    headers = {"Authorization": f"Bearer {key}"}
    for request in traffic.requests:
        answer = ingest_client.post(request.path, json=request.body, headers=headers)
        assert answer.status_code in (200, 201), answer.json


@pytest.fixture
def day_of_traffic(ingest_client, provider_key) -> Traffic:
    """A small generated day for provider ``acme`` (contact center, chatbot, activities), sent."""
    traffic = generate_day(40, seed=7, now=datetime.now(UTC) - timedelta(days=1), provider_id="acme")
    send(ingest_client, provider_key, traffic)
    return traffic
