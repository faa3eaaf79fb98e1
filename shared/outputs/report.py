"""The daily report e-mail (seed 002's bell icon): every subscriber gets the previous UTC day's KPIs
of their provider (or of one chatbot experience) with the change against the day before.

A run (``functions/report``, daily from Cloud Scheduler; ``make run`` once) holds the ``report``
lease, queues one delivery per subscription and day in the store's outbox, then sends every due
delivery: this day's and any earlier one that failed (``shared.outputs.outbox`` has the
exactly-once argument). The e-mail has a plain-text part and an HTML part whose charts are inline
PNG images rendered with vl-convert.
"""

from __future__ import annotations

import hashlib
import html
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import altair as alt

from shared.kpi.catalog import by_name
from shared.outputs import charts
from shared.outputs.channels import Mailer, SendFailed
from shared.outputs.dashboard import TILES, label
from shared.outputs.data import kpi_rows
from shared.outputs.outbox import Cancelled, deliver
from shared.outputs.wire import ReportAnswer
from shared.store.port import Store
from shared.store.records import Delivery, ReportSubscription
from shared.warehouse.port import Warehouse, WarehouseError

log = logging.getLogger("channel_analytics.outputs")

KIND = "report"
LEASE = "report"
LEASE_SECONDS = 900.0
TREND_DAYS = 14
TREND_KPIS = 4


def delivery_id(subscription: ReportSubscription, day: date) -> str:
    """One e-mail per subscription and day: a re-run finds it and sends nothing twice."""
    key = f"{subscription.provider_id}\x1f{subscription.subscription_id}\x1f{day.isoformat()}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "ratio":
        return f"{100 * value:.1f} %"
    if unit == "seconds":
        return f"{value / 60:.1f} min" if value >= 600 else f"{value:.1f} s"
    if unit == "score":
        return f"{value:.1f}"
    return f"{value:,.0f}"


def change(now: float | None, before: float | None, unit: str) -> str:
    """Against the day before: points for ratios and scores, percent otherwise."""
    if now is None or before is None:
        return "no previous value"
    diff = now - before
    if unit == "ratio":
        return f"{100 * diff:+.1f} pts"
    if unit == "score":
        return f"{diff:+.1f} pts"
    if before == 0:
        return "±0" if now == 0 else "new"
    return f"{100 * diff / abs(before):+.1f} %"


@dataclass(frozen=True)
class Line:
    kpi: str
    unit: str
    value: float | None
    before: float | None

    @property
    def cells(self) -> tuple[str, str, str, str]:
        return (
            label(self.kpi),
            _fmt(self.value, self.unit),
            _fmt(self.before, self.unit),
            change(self.value, self.before, self.unit),
        )


def _sections(rows: list[dict[str, Any]], day: date) -> list[tuple[str, list[Line]]]:
    """The day's KPIs by family (headline KPIs first), each with the day before."""
    today = {r["kpi"]: r for r in rows if r["day"] == day.isoformat()}
    yesterday = {r["kpi"]: r for r in rows if r["day"] == (day - timedelta(days=1)).isoformat()}
    catalog = by_name()
    families: dict[str, list[str]] = {}
    for family, kpis in TILES:
        families[family] = [k for k in kpis if k in today]
    for kpi in today:
        declared = catalog.get(kpi)
        family = f"{declared.family.replace('_', ' ').capitalize()} KPIs" if declared else "Other KPIs"
        if not any(kpi in listed for listed in families.values()):
            families.setdefault(family, []).append(kpi)
    return [
        (
            family,
            [
                Line(
                    k, today[k]["unit"], today[k]["value"], yesterday[k]["value"] if k in yesterday else None
                )
                for k in kpis
            ],
        )
        for family, kpis in families.items()
        if kpis
    ]


def compose(
    warehouse: Warehouse, subscription: ReportSubscription, day: date, sender: str, message_id: str
) -> EmailMessage:
    """The e-mail of one subscription for ``day``: text and HTML, charts as inline PNG."""
    start = day - timedelta(days=TREND_DAYS - 1)
    scope = subscription.provider_id
    if subscription.experience_id is None:
        rows = kpi_rows(warehouse, subscription.provider_id, start, day)
    else:
        scope += f" · {subscription.experience_id}"
        rows = kpi_rows(
            warehouse,
            subscription.provider_id,
            start,
            day,
            view="kpi_experience_daily",
            dimension="experience_id",
            value=subscription.experience_id,
        )
    sections = _sections(rows, day)
    title = f"Daily report {day.isoformat()} — {scope}"
    message = EmailMessage()
    message["Subject"] = title
    message["From"] = sender
    message["To"] = subscription.email
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id  # stable per delivery: a client can drop a resend
    message["List-Unsubscribe"] = f"<mailto:{sender.split('<')[-1].rstrip('>')}?subject=unsubscribe>"

    text = [title, "", f"KPIs of {day.isoformat()} (UTC) with the change against the day before.", ""]
    if not sections:
        text.append("No data for this day.")
    for family, lines in sections:
        text += [family, "-" * len(family)]
        text += [f"{a:<36} {b:>12}   (day before {c}, {d})" for a, b, c, d in (line.cells for line in lines)]
        text.append("")
    text.append(f"Unsubscribe: ask your operator to remove subscription {subscription.subscription_id}.")
    message.set_content("\n".join(text))

    trend_kpis = [line.kpi for _, lines in sections for line in lines][:TREND_KPIS]
    image = None
    if trend_kpis:
        trend = [r for r in rows if r["kpi"] in trend_kpis]
        chart = charts.trends(alt.Data(values=trend), {k: label(k) for k in trend_kpis})
        image = charts.png(chart, scale=1.5)
    cid = make_msgid(domain="channel-analytics")
    message.add_alternative(_html(title, day, sections, cid if image else None, subscription), subtype="html")
    if image is not None:
        html_part = message.get_payload()[1]
        html_part.add_related(image, "image", "png", cid=cid, filename="trends.png")
    return message


def _html(
    title: str, day: date, sections: list[tuple[str, list[Line]]], cid: str | None, sub: ReportSubscription
) -> str:
    esc = html.escape
    parts = [
        '<!doctype html><html><body style="font-family:Segoe UI,Arial,sans-serif;color:#1f2933">',
        f'<h2 style="margin:0 0 4px">{esc(title)}</h2>',
        f'<p style="color:#52606d;margin:0 0 16px">KPIs of {day.isoformat()} (UTC), change against the day before.</p>',
    ]
    if not sections:
        parts.append("<p><i>No data for this day.</i></p>")
    for family, lines in sections:
        parts.append(f'<h3 style="margin:16px 0 6px">{esc(family)}</h3>')
        parts.append('<table cellpadding="4" style="border-collapse:collapse;font-size:14px">')
        parts.append(
            '<tr><th align="left">KPI</th><th align="right">day</th><th align="right">day before</th><th align="right">change</th></tr>'
        )
        for line in lines:
            a, b, c, d = (esc(x) for x in line.cells)
            parts.append(
                f'<tr><td>{a}</td><td align="right"><b>{b}</b></td><td align="right">{c}</td><td align="right">{d}</td></tr>'
            )
        parts.append("</table>")
    if cid:
        parts.append(
            f'<h3>Last {TREND_DAYS} days</h3><img src="cid:{cid[1:-1]}" alt="KPI trends" style="max-width:100%">'
        )
    parts.append(
        f'<p style="color:#7b8794;font-size:12px">Subscription {esc(sub.subscription_id)}; '
        "your operator can unsubscribe you.</p></body></html>"
    )
    return "".join(parts)


def run_report(
    store: Store,
    warehouse: Warehouse,
    mailer: Callable[[], Mailer],
    now: datetime,
    sender: str,
    day: date | None = None,
) -> ReportAnswer:
    """Queue the day's deliveries (default: yesterday, UTC) and send every due one, under the lease."""
    day = day or (now.astimezone(UTC) - timedelta(days=1)).date()
    owner = uuid.uuid4().hex
    if not store.acquire_lease(LEASE, owner, now, LEASE_SECONDS):
        return ReportAnswer(
            day=day.isoformat(),
            subscriptions=0,
            queued=0,
            sent=0,
            failed=0,
            retried=0,
            cancelled=0,
            status="busy",
        )
    try:
        subs = store.list_subscriptions(None)
        queued = store.add_deliveries(
            [
                Delivery(
                    KIND,
                    s.provider_id,
                    delivery_id(s, day),
                    now,
                    {"subscriptionId": s.subscription_id, "day": day.isoformat()},
                )
                for s in subs
            ]
        )
        current = {(s.provider_id, s.subscription_id): s for s in subs}
        opened: list[Mailer] = []

        def send(delivery: Delivery) -> str:
            sub = current.get((delivery.provider_id, delivery.payload["subscriptionId"]))
            if sub is None:
                raise Cancelled("the subscription was removed")
            try:
                message = compose(
                    warehouse,
                    sub,
                    date.fromisoformat(delivery.payload["day"]),
                    sender,
                    f"<{delivery.delivery_id}@channel-analytics>",
                )
            except WarehouseError as exc:
                raise SendFailed(f"warehouse: {exc}") from exc
            if not opened:
                opened.append(mailer())
            return opened[0].send(delivery.delivery_id, message)

        started = time.monotonic()
        done = deliver(store, KIND, send, lambda: datetime.now(UTC))
        log.info("report %s: %s in %.1f s", day, done.as_dict(), time.monotonic() - started)
    finally:
        store.release_lease(LEASE, owner)
    return ReportAnswer(day=day.isoformat(), subscriptions=len(subs), queued=sum(queued), **done.as_dict())
