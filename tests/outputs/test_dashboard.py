"""The sample dashboard in a real headless Chromium: it renders offline, without console errors or
any network request, and shows the numbers of the warehouse it was built from."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from shared.outputs.dashboard import NO_DATA, build_dashboard
from shared.warehouse.duckdb import DuckDbWarehouse
from tests.outputs.browser import page
from tests.outputs.world import DAYS, END, PROVIDER, build, counts
from tools.dashboard import main as dashboard_main

pytestmark = pytest.mark.slow
WEEK = DAYS[7:]
BEFORE = DAYS[:7]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("dashboard") / "warehouse.duckdb")


def _tiles(tab) -> dict[str, tuple[str, str]]:
    found = tab.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('.tile')].map(t =>
            [t.dataset.kpi, [t.querySelector('.value').textContent, t.querySelector('.change').textContent]]))"""
    )
    return {kpi: tuple(shown) for kpi, shown in found.items()}


def _open(tab, path: Path) -> None:
    tab.goto(path.as_uri())
    tab.wait_for_function("document.body.dataset.ready !== undefined", timeout=20000)
    assert tab.evaluate("document.body.dataset.ready") == "true"


def test_the_page_renders_offline_and_shows_the_warehouse_numbers(world, tmp_path):
    out = tmp_path / "dashboard.html"
    assert (
        dashboard_main(
            [
                "--provider",
                PROVIDER,
                "--start",
                str(WEEK[0]),
                "--end",
                str(END),
                "--warehouse",
                f"duckdb:///{world}",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    with page() as (tab, seen):
        _open(tab, out)
        tiles = _tiles(tab)
        # Counts add up over the week; their change is against the week before.
        week = sum(counts(d)["incoming_conversations"][0] for d in WEEK)
        before = sum(counts(d)["incoming_conversations"][0] for d in BEFORE)
        assert tiles["incoming_conversations"] == (f"{week:,}", f"+{100 * (week - before) / before:.1f} %")
        # Rates roll up as sum(numerator) / sum(denominator), not as an average of daily rates.
        rate = 70 / sum(counts(d)["abandon_rate"][1] for d in WEEK)
        assert tiles["abandon_rate"][0] == f"{100 * rate:.1f} %"
        assert tiles["nps"] == ("40.0", "+0.0 pts")
        assert tiles["chat_sessions"][0] == "1,400"
        # Every chart drew something; the queue table has the two queues.
        assert tab.locator(".panel svg").count() == 9
        assert tab.locator(".panel .nodata").count() == 0
        queues = tab.inner_text("#queues")
        assert "billing" in queues and "sales" in queues
        assert "acc-litware" in tab.inner_text("#relationships")
        # The period selector: the last day alone, against the day before.
        tab.select_option("#period", label="Last day")
        tab.wait_for_function(f"document.getElementById('compare').textContent.startsWith('{END}')")
        last, previous = (
            counts(END)["incoming_conversations"][0],
            counts(END - timedelta(days=1))["incoming_conversations"][0],
        )
        assert _tiles(tab)["incoming_conversations"] == (
            f"{last:,}",
            f"+{100 * (last - previous) / previous:.1f} %",
        )
        tab.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    assert seen.console_errors == []
    assert [url for url in seen.requests if not url.startswith("file:")] == [], "the page fetched something"


def test_absent_tables_and_other_providers_say_no_data(tmp_path):
    path = build(tmp_path / "bare.duckdb", chatbot_tables=False)
    warehouse = DuckDbWarehouse(str(path))
    try:
        html = build_dashboard(warehouse, "nobody", WEEK[0], END)
    finally:
        warehouse.close()
    out = tmp_path / "empty.html"
    out.write_text(html, encoding="utf-8")
    with page() as (tab, seen):
        _open(tab, out)
        assert _tiles(tab) == {}
        assert tab.locator(".panel svg").count() == 0
        assert tab.locator(".nodata").count() >= 9
        assert NO_DATA in tab.inner_text("main")
    assert seen.console_errors == []
