"""Fixtures of the event sink suites: the aggregation fixtures of tests/aggregate, with the ingest
function appending accepted events to a sink (``ANALYTICS_EVENT_SINK``) instead of the store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shared.config import reset_settings
from tests.aggregate.conftest import acme, aggregate, store  # noqa: F401  (fixtures)
from tools.traffic import Traffic

SALT = "sink-tests-salt-0123456789abcdef"


@pytest.fixture
def duckdb_sink(env, monkeypatch) -> Iterator[str]:
    """Sink mode on the embedded warehouse: events land in the test's DuckDB file."""
    url = env["ANALYTICS_WAREHOUSE"]
    monkeypatch.setenv("ANALYTICS_EVENT_SINK", url)
    monkeypatch.setenv("ANALYTICS_PSEUDONYM_SALT", SALT)
    reset_settings()
    yield url
    reset_settings()


def send(ingest_client: Any, key: str, traffic: Traffic) -> list[dict[str, Any]]:
    """Every request of a generated day, as the provider sends it; the answers."""
    headers = {"Authorization": f"Bearer {key}"}
    answers = []
    for request in traffic.requests:
        answer = ingest_client.post(request.path, json=request.body, headers=headers)
        assert answer.status_code in (200, 201), answer.json
        answers.append(answer.json)
    return answers
