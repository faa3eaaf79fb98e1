"""The relationship family (seed 001): activities between our team and a customer, as facts, and
per-record snapshots over a trailing window, recomputed for the records a run changes or ages.

Definitions (docs/kpis.md, "Relationship analytics", explains them for users):
- Only **completed** activities count, canceled ones never; "initiated by" is the side of the ``from``
  party. The window is the last ``window_days`` UTC days up to and including the snapshot day.
- **Hourly investment**: an e-mail costs 5 minutes to its writer's side and 2.5 minutes to the other
  side when that side has a party on it (once per e-mail and side); a meeting its duration × our
  parties (any role) for us and its duration once for the customer; a call its duration to each side
  taking part. A side with no party in an activity invests nothing; a missing end is a 0-minute one.
- **Response time**: a completed reply (``inReplyToActivityId``) to the *other* side's completed
  e-mail, reply start minus e-mail start, averaged per replying side over the replies in the window. A
  reply that arrives before the e-mail it answers is matched once both are there (the answered e-mail
  touches its replies' facts).
- **Health score** 0-100 = floor(100 × (0.5 A + 0.3 R + 0.2 T) + 0.5), with the expected number of
  interactions in the window E = window_days ÷ contact_days (default 90 ÷ 7):
  A (activity) = min(1, weighted completed activities ÷ E), weights per type (default 1);
  R (recency) = 1 when the last interaction is at most contact_days days old, 0 from 4 × contact_days
  days or with none, linear in between;
  T (two-sidedness) = min(1, the less active side's weighted activities ÷ (E ÷ 2)).
  Bands: good 60-100, fair 40-59, poor 0-39. Trend: up when the score is at least 5 points above the
  one the record had 7 days earlier (recomputed from the activities as known now), down when at least
  5 below, flat otherwise.
- A record has a snapshot on a day when it has a non-canceled activity in that day's window or a
  scheduled one ahead: each run recomputes today's row of every record whose activities changed, every
  active record without a row for today yet (the first run of a day ages them all), and every record
  whose next interaction has passed.
"""

from __future__ import annotations

from shared.kpi.model import Family, Output, Scope, Snapshot
from shared.kpi.sqlparts import count_if, same, seconds
from shared.warehouse.tables import (
    FACT_ACTIVITIES,
    RELATIONSHIP_CONTACTS,
    RELATIONSHIP_DAILY_ACTIVITY,
    RELATIONSHIP_SNAPSHOT,
)

ACTIVITY_KEY = ("provider_id", "activity_id")
RECORD_KEY = ("provider_id", "regarding_type", "regarding_id")
DEFAULT_WINDOW_DAYS = 90
DEFAULT_CONTACT_DAYS = 7
DEFAULT_WEIGHT = 1.0
EMAIL_WRITE_MIN = 5.0
EMAIL_READ_MIN = 2.5
TREND_DAYS = 7
TREND_POINTS = 5
BANDS = (("good", 60), ("fair", 40), ("poor", 0))

ACTIVITIES = Scope(
    "activities",
    "touched_activities",
    ACTIVITY_KEY,
    staged=("raw_activities",),
    restated_sql="SELECT provider_id, activity_id FROM raw_activities "
    "WHERE DATE(start_ts) IN (SELECT day FROM restated_days)",
)

# An activity touches its replies too: their response time needs the e-mail they answer.
THREADS = Scope(
    "activity_threads",
    "touched_threads",
    ACTIVITY_KEY,
    sql="""
SELECT DISTINCT provider_id, activity_id FROM (
  SELECT provider_id, activity_id FROM touched_activities
  UNION ALL
  SELECT r.provider_id, r.activity_id FROM raw_activities AS r
  JOIN touched_activities AS t ON t.provider_id = r.provider_id AND t.activity_id = r.in_reply_to
) AS threads
""",
    parents=(ACTIVITIES,),
)

FACT_ACTIVITIES_SQL = f"""
WITH
scope AS (SELECT DISTINCT provider_id, activity_id FROM touched_threads),
acts AS (SELECT a.* FROM raw_activities AS a JOIN scope AS s ON {same("s", "a", *ACTIVITY_KEY)}),
sides AS (
  SELECT p.provider_id, p.activity_id,
    {count_if("p.side = 'us'")} AS ours,
    {count_if("p.side = 'customer'")} AS theirs
  FROM raw_activity_parties AS p JOIN scope AS s ON {same("s", "p", *ACTIVITY_KEY)}
  GROUP BY p.provider_id, p.activity_id
),
timed AS (
  SELECT a.*, COALESCE(d.ours, 0) AS ours, COALESCE(d.theirs, 0) AS theirs,
    COALESCE({seconds("a.start_ts", "a.end_ts")} / 60, 0) AS duration_min
  FROM acts AS a LEFT JOIN sides AS d ON {same("d", "a", *ACTIVITY_KEY)}
)
SELECT t.provider_id, t.activity_id, t.activity_type, t.regarding_type, t.regarding_id, t.status,
  t.start_ts, t.initiated_by,
  CASE t.activity_type
    WHEN 'email' THEN CASE WHEN t.initiated_by = 'us' THEN {EMAIL_WRITE_MIN}
                           WHEN t.ours > 0 THEN {EMAIL_READ_MIN} ELSE 0 END
    WHEN 'meeting' THEN t.duration_min * t.ours
    ELSE CASE WHEN t.ours > 0 THEN t.duration_min ELSE 0 END
  END AS minutes_us,
  CASE t.activity_type
    WHEN 'email' THEN CASE WHEN t.initiated_by = 'customer' THEN {EMAIL_WRITE_MIN}
                           WHEN t.theirs > 0 THEN {EMAIL_READ_MIN} ELSE 0 END
    ELSE CASE WHEN t.theirs > 0 THEN t.duration_min ELSE 0 END
  END AS minutes_customer,
  t.in_reply_to AS replied_to,
  CASE WHEN o.activity_type = 'email' AND o.status = 'completed' AND o.initiated_by <> t.initiated_by
    THEN {seconds("o.start_ts", "t.start_ts")} END AS response_s
FROM timed AS t
LEFT JOIN raw_activities AS o ON o.provider_id = t.provider_id AND o.activity_id = t.in_reply_to
"""

_SETTINGS = f"""
  SELECT p.provider_id,
    COALESCE(s.relationship_window_days, {DEFAULT_WINDOW_DAYS}) AS window_days,
    COALESCE(s.relationship_contact_days, {DEFAULT_CONTACT_DAYS}) AS contact_days,
    COALESCE(s.relationship_weight_email, {DEFAULT_WEIGHT}) AS w_email,
    COALESCE(s.relationship_weight_meeting, {DEFAULT_WEIGHT}) AS w_meeting,
    COALESCE(s.relationship_weight_phonecall, {DEFAULT_WEIGHT}) AS w_phonecall
  FROM (SELECT DISTINCT provider_id FROM {{records}}) AS p
  LEFT JOIN provider_settings AS s ON s.provider_id = p.provider_id"""


def _active(alias: str, settings: str) -> str:
    """``alias`` (a fact_activities row) keeps ``alias``'s record in today's snapshots."""
    return (
        f"{alias}.status <> 'canceled' AND ("
        f"(UNIX_DATE(DATE({alias}.start_ts)) <= UNIX_DATE(k.snapshot_day)"
        f" AND UNIX_DATE(DATE({alias}.start_ts)) > UNIX_DATE(k.snapshot_day) - {settings}.window_days)"
        f" OR ({alias}.status = 'scheduled' AND {alias}.start_ts > k.now_ts))"
    )


# Records whose row of today a run recomputes (see the module docstring): those of the activities that
# changed (both versions) or were sent again (their parties may have changed: the facts would not
# show it), the active ones without a row for today yet, and those whose next interaction has passed.
RECORDS = Scope(
    "records",
    "touched_records",
    RECORD_KEY,
    sql=f"""
WITH
candidates AS (SELECT DISTINCT provider_id, regarding_type, regarding_id FROM fact_activities),
settings AS ({_SETTINGS.format(records="candidates")})
SELECT DISTINCT provider_id, regarding_type, regarding_id FROM (
  SELECT provider_id, regarding_type, regarding_id FROM changed_fact_activities
  UNION ALL
  SELECT a.provider_id, a.regarding_type, a.regarding_id
  FROM raw_activities AS a
  JOIN touched_activities AS t ON t.provider_id = a.provider_id AND t.activity_id = a.activity_id
  UNION ALL
  SELECT f.provider_id, f.regarding_type, f.regarding_id
  FROM fact_activities AS f
  CROSS JOIN run_clock AS k
  JOIN settings AS w ON w.provider_id = f.provider_id
  WHERE {_active("f", "w")}
    AND NOT EXISTS (
      SELECT 1 FROM relationship_snapshot AS r
      WHERE r.snapshot_day = k.snapshot_day AND {same("r", "f", *RECORD_KEY)}
    )
  UNION ALL
  SELECT r.provider_id, r.regarding_type, r.regarding_id
  FROM relationship_snapshot AS r CROSS JOIN run_clock AS k
  WHERE r.snapshot_day = k.snapshot_day AND r.next_interaction_ts <= k.now_ts
) AS due
""",
    parents=(ACTIVITIES,),
)

_RECORD_ACTIVITIES = f"""
records AS (SELECT DISTINCT provider_id, regarding_type, regarding_id FROM touched_records),
settings AS ({_SETTINGS.format(records="records")}),
acts AS (
  SELECT f.*, w.window_days, w.contact_days, w.w_email, w.w_meeting, w.w_phonecall,
    UNIX_DATE(DATE(f.start_ts)) AS start_day
  FROM fact_activities AS f
  JOIN records AS r ON {same("r", "f", *RECORD_KEY)}
  JOIN settings AS w ON w.provider_id = f.provider_id
  WHERE f.status <> 'canceled'
),
active AS (
  SELECT DISTINCT a.provider_id, a.regarding_type, a.regarding_id, a.window_days, a.contact_days,
    a.w_email, a.w_meeting, a.w_phonecall
  FROM acts AS a CROSS JOIN run_clock AS k
  WHERE {_active("a", "a")}
)"""

RELATIONSHIP_SNAPSHOT_SQL = f"""
WITH
{_RECORD_ACTIVITIES},
as_of AS (
  SELECT x.*, o.back, UNIX_DATE(k.snapshot_day) - o.back AS as_of_day
  FROM active AS x CROSS JOIN run_clock AS k
  CROSS JOIN (SELECT 0 AS back UNION ALL SELECT {TREND_DAYS} AS back) AS o
),
windowed AS (
  SELECT d.provider_id, d.regarding_type, d.regarding_id, d.back, a.*
  FROM as_of AS d
  JOIN acts AS a ON {same("a", "d", *RECORD_KEY)}
  WHERE a.status = 'completed' AND a.start_day <= d.as_of_day AND a.start_day > d.as_of_day - d.window_days
),
counted AS (
  SELECT provider_id, regarding_type, regarding_id, back,
    {count_if("activity_type = 'email' AND initiated_by = 'us'")} AS emails_sent,
    {count_if("activity_type = 'email' AND initiated_by = 'customer'")} AS emails_received,
    {count_if("activity_type = 'meeting' AND initiated_by = 'us'")} AS meetings_by_us,
    {count_if("activity_type = 'meeting' AND initiated_by = 'customer'")} AS meetings_by_customer,
    {count_if("activity_type = 'phonecall' AND initiated_by = 'us'")} AS calls_by_us,
    {count_if("activity_type = 'phonecall' AND initiated_by = 'customer'")} AS calls_by_customer,
    AVG(CASE WHEN initiated_by = 'us' THEN response_s END) AS response_time_us_s,
    AVG(CASE WHEN initiated_by = 'customer' THEN response_s END) AS response_time_customer_s,
    SUM(minutes_us) / 60 AS hours_us,
    SUM(minutes_customer) / 60 AS hours_customer,
    MAX(start_ts) AS last_interaction_ts,
    MAX(start_day) AS last_day
  FROM windowed
  GROUP BY provider_id, regarding_type, regarding_id, back
),
scored AS (
  SELECT d.provider_id, d.regarding_type, d.regarding_id, d.back, d.as_of_day, d.window_days,
    d.contact_days, d.w_email, d.w_meeting, d.w_phonecall,
    COALESCE(c.emails_sent, 0) AS emails_sent, COALESCE(c.emails_received, 0) AS emails_received,
    COALESCE(c.meetings_by_us, 0) AS meetings_by_us, COALESCE(c.meetings_by_customer, 0) AS meetings_by_customer,
    COALESCE(c.calls_by_us, 0) AS calls_by_us, COALESCE(c.calls_by_customer, 0) AS calls_by_customer,
    c.response_time_us_s, c.response_time_customer_s,
    COALESCE(c.hours_us, 0) AS hours_us, COALESCE(c.hours_customer, 0) AS hours_customer,
    c.last_interaction_ts, c.last_day,
    CAST(d.window_days AS FLOAT64) / d.contact_days AS expected
  FROM as_of AS d
  LEFT JOIN counted AS c ON {same("c", "d", *RECORD_KEY)} AND c.back = d.back
),
weighted AS (
  SELECT s.*,
    s.w_email * (s.emails_sent + s.emails_received) + s.w_meeting * (s.meetings_by_us + s.meetings_by_customer)
      + s.w_phonecall * (s.calls_by_us + s.calls_by_customer) AS weighted_all,
    s.w_email * s.emails_sent + s.w_meeting * s.meetings_by_us + s.w_phonecall * s.calls_by_us AS weighted_us,
    s.w_email * s.emails_received + s.w_meeting * s.meetings_by_customer
      + s.w_phonecall * s.calls_by_customer AS weighted_customer,
    s.as_of_day - s.last_day AS quiet_days
  FROM scored AS s
),
health AS (
  SELECT w.*,
    CAST(FLOOR(100 * (
      0.5 * LEAST(1.0, w.weighted_all / w.expected)
      + 0.3 * CASE WHEN w.last_day IS NULL THEN 0.0
                   WHEN w.quiet_days <= w.contact_days THEN 1.0
                   WHEN w.quiet_days >= 4 * w.contact_days THEN 0.0
                   ELSE 1.0 - (w.quiet_days - w.contact_days) / (3 * CAST(w.contact_days AS FLOAT64)) END
      + 0.2 * LEAST(1.0, LEAST(w.weighted_us, w.weighted_customer) / (w.expected / 2))
    ) + 0.5) AS INT64) AS health_score
  FROM weighted AS w
),
upcoming AS (
  SELECT a.provider_id, a.regarding_type, a.regarding_id, MIN(a.start_ts) AS next_interaction_ts
  FROM acts AS a CROSS JOIN run_clock AS k
  WHERE a.status = 'scheduled' AND a.start_ts > k.now_ts
  GROUP BY a.provider_id, a.regarding_type, a.regarding_id
)
SELECT k.snapshot_day, h.provider_id, h.regarding_type, h.regarding_id, h.window_days,
  h.emails_sent, h.emails_received, h.meetings_by_us, h.meetings_by_customer, h.calls_by_us,
  h.calls_by_customer, h.emails_sent + h.meetings_by_us + h.calls_by_us AS initiated_by_us,
  h.emails_received + h.meetings_by_customer + h.calls_by_customer AS initiated_by_customer,
  CASE WHEN h.emails_received > 0 THEN h.emails_sent / h.emails_received END AS email_ratio_us,
  CASE WHEN h.emails_sent > 0 THEN h.emails_received / h.emails_sent END AS email_ratio_customer,
  h.response_time_us_s, h.response_time_customer_s, h.hours_us, h.hours_customer,
  h.last_interaction_ts, u.next_interaction_ts, h.health_score,
  CASE WHEN h.health_score >= {BANDS[0][1]} THEN '{BANDS[0][0]}'
       WHEN h.health_score >= {BANDS[1][1]} THEN '{BANDS[1][0]}' ELSE '{BANDS[2][0]}' END AS health_band,
  CASE WHEN h.health_score - e.health_score >= {TREND_POINTS} THEN 'up'
       WHEN e.health_score - h.health_score >= {TREND_POINTS} THEN 'down' ELSE 'flat' END AS health_trend,
  k.now_ts AS computed_at
FROM health AS h
CROSS JOIN run_clock AS k
JOIN health AS e ON {same("e", "h", *RECORD_KEY)} AND e.back = {TREND_DAYS}
LEFT JOIN upcoming AS u ON {same("u", "h", *RECORD_KEY)}
WHERE h.back = 0
"""

RELATIONSHIP_CONTACTS_SQL = f"""
WITH
{_RECORD_ACTIVITIES},
windowed AS (
  SELECT a.* FROM acts AS a
  JOIN active AS x ON {same("x", "a", *RECORD_KEY)}
  CROSS JOIN run_clock AS k
  WHERE a.status = 'completed' AND a.start_day <= UNIX_DATE(k.snapshot_day)
    AND a.start_day > UNIX_DATE(k.snapshot_day) - a.window_days
),
people AS (
  SELECT w.provider_id, w.regarding_type, w.regarding_id, p.side, p.party_id,
    COUNT(DISTINCT w.activity_id) AS interactions
  FROM windowed AS w
  JOIN raw_activity_parties AS p ON {same("p", "w", *ACTIVITY_KEY)}
  GROUP BY w.provider_id, w.regarding_type, w.regarding_id, p.side, p.party_id
),
ranked AS (
  SELECT p.*, ROW_NUMBER() OVER (
    PARTITION BY p.provider_id, p.regarding_type, p.regarding_id, p.side
    ORDER BY p.interactions DESC, p.party_id) AS rank
  FROM people AS p
)
SELECT k.snapshot_day, r.provider_id, r.regarding_type, r.regarding_id, r.side, r.rank, r.party_id,
  r.interactions
FROM ranked AS r CROSS JOIN run_clock AS k
WHERE r.rank <= 3
"""

DAILY_ACTIVITY_SQL = """
SELECT d.day, f.provider_id, f.regarding_type, f.regarding_id, f.activity_type, f.initiated_by,
  COUNT(*) AS activities
FROM fact_activities AS f
JOIN (SELECT DISTINCT provider_id, day FROM affected_days) AS d
  ON d.provider_id = f.provider_id AND d.day = DATE(f.start_ts)
WHERE f.status = 'completed'
GROUP BY d.day, f.provider_id, f.regarding_type, f.regarding_id, f.activity_type, f.initiated_by
"""

RELATIONSHIP = Family(
    "relationship",
    FACT_ACTIVITIES,
    "start_ts",
    (),
    ((),),
    scope=THREADS,
    fact_sql=FACT_ACTIVITIES_SQL,
    outputs=(Output(RELATIONSHIP_DAILY_ACTIVITY, DAILY_ACTIVITY_SQL),),
    snapshots=(
        Snapshot(RELATIONSHIP_SNAPSHOT, RECORDS, RELATIONSHIP_SNAPSHOT_SQL),
        Snapshot(RELATIONSHIP_CONTACTS, RECORDS, RELATIONSHIP_CONTACTS_SQL),
    ),
    description="Relationship analytics (seed 001): activities, and per-record snapshots over a trailing "
    "window (no kpi_daily rows: the snapshot tables hold them).",
)
