"""A warehouse with a known week of KPI rows of every family, for the dashboard and report tests.

Contact-center rows come from the catalog's names; chatbot and relationship rows use the names and
columns PRODUCT.md pins (kpi_daily KPIs sliced by experience_id, chat_module_visits,
relationship_snapshot, relationship_daily_activity), created here with those columns where this
checkout does not declare them yet.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from shared.kpi.bi import prepare_warehouse
from shared.warehouse.duckdb import DuckDbWarehouse

PROVIDER = "demo"
END = date(2026, 11, 22)
DAYS = [END - timedelta(days=n) for n in range(13, -1, -1)]  # two weeks: a week and the one before
COMPUTED = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def counts(day: date) -> dict[str, tuple[float, float | None, str]]:
    """KPI -> (numerator, denominator, unit) of the provider total of ``day``: simple, known numbers."""
    n = (day - DAYS[0]).days  # 0..13
    return {
        "incoming_conversations": (100 + n, None, "count"),
        "conversations_handled": (90 + n, None, "count"),
        "abandon_rate": (10, 100 + n, "ratio"),
        "avg_speed_to_answer_s": (30.0 * (90 + n), 90 + n, "seconds"),
        "nps": (20, 50, "score"),
        "chat_sessions": (200, None, "count"),
        "chat_sessions_with_conversation": (150, None, "count"),
        "chat_bounces": (50, None, "count"),
        "new_customers": (20, None, "count"),
        "webpush_optins_single": (5, None, "count"),
        "reminder_optins_double": (3, None, "count"),
        "participations": (12, None, "count"),
        "chat_sessions_mobile": (140, None, "count"),
        "chat_sessions_desktop": (60, None, "count"),
        "chat_nps_detractors": (2, None, "count"),
        "chat_nps_passives": (3, None, "count"),
        "chat_nps_promoters": (5, None, "count"),
        "chat_nps_score_3": (2, None, "count"),
        "chat_nps_score_8": (3, None, "count"),
        "chat_nps_score_10": (5, None, "count"),
    }


def _value(numerator: float, denominator: float | None, unit: str) -> float:
    if denominator is None:
        return numerator
    return (100 if unit == "score" else 1) * numerator / denominator


def build(path: Path, *, chatbot_tables: bool = True) -> Path:
    """The warehouse file: schema from the declarations, then the rows."""
    warehouse = DuckDbWarehouse(str(path))
    prepare_warehouse(warehouse)
    warehouse.close()
    rows = []
    for day in DAYS:
        for kpi, (num, den, unit) in counts(day).items():
            rows.append(
                (day, PROVIDER, kpi, None, None, None, None, _value(num, den, unit), num, den, unit, COMPUTED)
            )
        for queue, share in (("billing", 0.6), ("sales", 0.4)):
            rows.append(
                (
                    day,
                    PROVIDER,
                    "incoming_conversations",
                    None,
                    queue,
                    None,
                    None,
                    100 * share,
                    100 * share,
                    None,
                    "count",
                    COMPUTED,
                )
            )
            rows.append(
                (
                    day,
                    PROVIDER,
                    "abandon_rate",
                    None,
                    queue,
                    None,
                    None,
                    0.1 * share / 0.5,
                    10 * share / 0.5,
                    100 * share,
                    "ratio",
                    COMPUTED,
                )
            )
        rows.append(
            (
                day,
                PROVIDER,
                "incoming_sessions",
                None,
                None,
                "agent-01",
                None,
                40,
                40,
                None,
                "count",
                COMPUTED,
            )
        )
        rows.append(
            (
                day,
                PROVIDER,
                "chat_sessions",
                None,
                None,
                None,
                "exp-advent",
                120,
                120,
                None,
                "count",
                COMPUTED,
            )
        )
        rows.append(
            (
                day,
                "other",
                "incoming_conversations",
                None,
                None,
                None,
                None,
                999,
                999,
                None,
                "count",
                COMPUTED,
            )
        )
    with duckdb.connect(str(path)) as db:
        db.execute("SET TimeZone = 'UTC'")
        db.executemany("INSERT INTO kpi_daily VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        if chatbot_tables:
            db.execute(
                "CREATE TABLE IF NOT EXISTS chat_module_visits (day DATE, provider_id VARCHAR, experience_id VARCHAR, "
                "module_id VARCHAR, module_name VARCHAR, visits BIGINT, sessions BIGINT)"
            )
            db.executemany(
                "INSERT INTO chat_module_visits VALUES (?,?,?,?,?,?,?)",
                [
                    (d, PROVIDER, "exp-advent", m, m.title(), 10 * (i + 1), 5 * (i + 1))
                    for d in DAYS
                    for i, m in enumerate(("door", "raffle", "faq"))
                ],
            )
            db.execute(
                "CREATE TABLE IF NOT EXISTS relationship_snapshot (snapshot_day DATE, provider_id VARCHAR, "
                "regarding_type VARCHAR, regarding_id VARCHAR, window_days BIGINT, emails_sent BIGINT, "
                "emails_received BIGINT, meetings_by_us BIGINT, meetings_by_customer BIGINT, calls_by_us BIGINT, "
                "calls_by_customer BIGINT, initiated_by_us BIGINT, initiated_by_customer BIGINT, email_ratio_us DOUBLE, "
                "email_ratio_customer DOUBLE, response_time_us_s DOUBLE, response_time_customer_s DOUBLE, hours_us DOUBLE, "
                "hours_customer DOUBLE, last_interaction_ts TIMESTAMPTZ, next_interaction_ts TIMESTAMPTZ, "
                "health_score DOUBLE, health_band VARCHAR, health_trend VARCHAR, computed_at TIMESTAMPTZ)"
            )
            for regarding, score, band in (
                ("acc-contoso", 72.0, "good"),
                ("acc-fabrikam", 45.0, "fair"),
                ("acc-litware", 20.0, "poor"),
            ):
                db.execute(
                    "INSERT INTO relationship_snapshot (snapshot_day, provider_id, regarding_type, regarding_id, window_days, "
                    "emails_sent, emails_received, meetings_by_us, meetings_by_customer, calls_by_us, calls_by_customer, "
                    "initiated_by_us, initiated_by_customer, hours_us, hours_customer, "
                    "health_score, health_band, health_trend, last_interaction_ts, computed_at) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    [
                        END,
                        PROVIDER,
                        "account",
                        regarding,
                        90,
                        4,
                        3,
                        1,
                        0,
                        2,
                        1,
                        7,
                        4,
                        1.5,
                        0.75,
                        score,
                        band,
                        "up",
                        COMPUTED,
                        COMPUTED,
                    ],
                )
            db.execute(
                "CREATE TABLE IF NOT EXISTS relationship_daily_activity (day DATE, provider_id VARCHAR, "
                "regarding_type VARCHAR, regarding_id VARCHAR, activity_type VARCHAR, initiated_by VARCHAR, activities BIGINT)"
            )
            db.executemany(
                "INSERT INTO relationship_daily_activity VALUES (?,?,?,?,?,?,?)",
                [
                    (d, PROVIDER, "account", "acc-contoso", t, "us", 2)
                    for d in DAYS
                    for t in ("email", "meeting")
                ],
            )
    return path
