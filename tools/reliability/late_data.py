"""Late and clock-skewed data after its days were aggregated: exactly those days are restated."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from shared.warehouse import open_warehouse
from tools.reliability.aggregation import (
    CampaignFailed,
    ComparedWithCleanRun,
    World,
    contents,
)
from tools.reliability.client import Answers, RetryingClient
from tools.reliability.load import call_closed_at, handled_call


@dataclass
class LateResult(ComparedWithCleanRun):
    base_days: list[str] = field(default_factory=list)
    late_sends: dict[str, int] = field(default_factory=dict)
    rejected_for_skew: int = 0
    skew_rejection_code: str = ""
    expected_days: list[str] = field(default_factory=list)
    restated_days: list[str] = field(default_factory=list)
    untouched_rows_rewritten: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "base_days": self.base_days,
            "late_sends": self.late_sends,
            "rejected_for_clock_skew": self.rejected_for_skew,
            "skew_rejection_code": self.skew_rejection_code,
            "expected_days": self.expected_days,
            "restated_days": self.restated_days,
            "rows_of_other_days_rewritten": self.untouched_rows_rewritten,
            "rows_compared": self.rows_compared,
            "warehouse_equals_clean_run": self.equal,
            "differences": self.differences,
        }


def late_campaign(data_dir: Path, *, calls_per_day: int = 4, days: int = 5) -> LateResult:
    """Days of calls aggregated, then data arriving late or from skewed clocks:

    - a survey for a call two days back (hours to days late);
    - a whole call stamped three days back that arrives only now;
    - a call from a client whose clock runs 20 h ahead (inside the 24 h skew the API accepts);
    - a call stamped in a UTC-5 local time just before midnight (its UTC day is the next one);
    - an event stamped 30 h ahead (beyond the tolerance): rejected, kept as a failed event, no KPI day.

    The next run must restate exactly the days that data counts on, rewrite no other day's rows (their
    ``computed_at`` stays), and leave the warehouse equal to a clean run's.
    """
    result = LateResult()
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.date()
    with World(data_dir) as world:
        assert world.stack is not None
        key = world.provider_key("late")
        client = RetryingClient(world.stack.url("ingest"), key, Answers())

        def send_call(conversation_id: str, start: datetime, **kw: Any) -> datetime:
            conversation, events = handled_call(conversation_id, start, **kw)
            client.call("POST", "/v1/conversations", conversation)
            answer = client.call("POST", "/v1/events", events, expect=(200,))
            assert answer["accepted"] == len(events["events"]), answer
            return call_closed_at(start)

        try:
            for back in range(days, 0, -1):
                day_start = datetime.combine(today - timedelta(days=back), datetime.min.time(), UTC)
                for n in range(calls_per_day):
                    send_call(f"d{back}-{n}", day_start + timedelta(hours=8 + n), csat=4 if n % 2 else None)
                result.base_days.append((today - timedelta(days=back)).isoformat())
            world.aggregate_until_done()
            before = _kpi_rows(world.warehouse_url)

            expected: set[date] = set()
            # A survey for the first call two days back, arriving now.
            survey_day = today - timedelta(days=2)
            survey_at = datetime.combine(survey_day, datetime.min.time(), UTC) + timedelta(hours=9)
            survey = {
                "conversationId": "d2-0",
                "providerSessionId": "d2-0-s1",
                "events": [
                    {
                        "eventId": "d2-0-late-survey",
                        "kpiEventName": "SurveyAnswered",
                        "eventTimestamp": survey_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "customData": [{"attribute": "csat", "value": 5}],
                    }
                ],
            }
            assert client.call("POST", "/v1/events", survey, expect=(200,))["accepted"] == 1
            expected.add(survey_day)
            # A whole call from three days back.
            start = datetime.combine(today - timedelta(days=3), datetime.min.time(), UTC) + timedelta(
                hours=15
            )
            expected.add(send_call("late-3d", start, csat=2).date())
            # A client clock 20 h ahead.
            expected.add(send_call("ahead-20h", now + timedelta(hours=20)).date())
            # Local time UTC-5, 23:50 on the day before yesterday: 04:50Z the next UTC day.
            local = timezone(timedelta(hours=-5))
            start = datetime.combine(today - timedelta(days=2), datetime.min.time(), local) + timedelta(
                hours=23, minutes=50
            )
            expected.add(send_call("local-utc-5", start, zone=local).date())
            # A clock 30 h ahead: beyond the accepted skew.
            skewed = {
                "conversationId": "d1-0",
                "providerSessionId": "d1-0-s1",
                "events": [
                    {
                        "eventId": "skewed-30h",
                        "kpiEventName": "SessionInFocus",
                        "eventTimestamp": (now + timedelta(hours=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    }
                ],
            }
            answer = client.call("POST", "/v1/events", skewed, expect=(200,))
            result.rejected_for_skew = answer["rejected"]
            result.skew_rejection_code = answer["results"][0].get("error", {}).get("code", "")
            if answer["rejected"] != 1:
                raise CampaignFailed(f"an event 30 h ahead was not rejected: {answer}")
        finally:
            client.close()
        result.late_sends = {
            "late_survey": 1,
            "call_3_days_back": 1,
            "call_20h_ahead": 1,
            "call_in_utc-5": 1,
            "event_30h_ahead": 1,
        }
        result.expected_days = sorted(d.isoformat() for d in expected)
        run = world.aggregate_until_done()
        result.restated_days = list(run.report["days"])
        after = _kpi_rows(world.warehouse_url)
        got = contents(world.warehouse_url)
    kept = {r for r in before if r[0].isoformat() not in result.expected_days}
    now_other = {r for r in after if r[0].isoformat() not in result.expected_days}
    result.untouched_rows_rewritten = len(kept ^ now_other)
    result.compare(world, got, data_dir / "reference")
    return result


def _kpi_rows(warehouse_url: str) -> set[tuple[Any, ...]]:
    """``kpi_daily`` with ``computed_at``: a rewritten row shows up as a changed tuple."""
    warehouse = open_warehouse(warehouse_url)
    try:
        rows = warehouse.query(f"SELECT * FROM {warehouse.name('kpi_daily')}")
    finally:
        warehouse.close()
    return {tuple(r.values()) for r in rows}
