"""Fixtures of the fuzz suites, and the ``fuzz: ...`` figures in the terminal summary."""

from __future__ import annotations

import pytest

from tests.fuzz.harness import REPORT, World
from tests.support.functions import function_client


@pytest.fixture
def world(env) -> World:
    """Both functions over a fresh store; no provider registered yet."""
    return World(
        ingest=function_client("ingest"),
        providers=function_client("providers"),
        admin={"Authorization": f"Bearer {env['ANALYTICS_ADMIN_TOKEN']}"},
        store_url=env["ANALYTICS_STORE"],
    )


def pytest_terminal_summary(terminalreporter) -> None:
    if not REPORT:
        return
    terminalreporter.section("fuzz campaigns")
    for campaign in REPORT:
        terminalreporter.write_line(campaign.summary())
    total = sum(c.cases for c in REPORT)
    seconds = sum(c.elapsed for c in REPORT)
    terminalreporter.write_line(f"fuzz: total {total} cases in {seconds:.1f}s over {len(REPORT)} campaigns")
