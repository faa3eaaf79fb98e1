"""The sample dashboard: one self-contained HTML page (scripts, charts and data inlined: it opens
offline and makes no network request) with the out-of-the-box KPIs of every family.

The page embeds the provider's daily rows from the documented BI views for the chosen range and the
period before it; its period selector (whole range, last 7 days, last day) recomputes the tiles with
the rollup recipe of docs/bi.md (sums of numerators and denominators) and their change against the
previous period of the same length, refills the charts' named datasets and the queue and agent
tables. A panel whose data is empty or whose table is absent says "no data for this period".
"""

from __future__ import annotations

import html
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import altair as alt

from shared.kpi.catalog import by_name
from shared.outputs import charts
from shared.outputs.data import (
    AGENT_KPIS,
    CHATBOT_KPIS,
    QUEUE_KPIS,
    existing_tables,
    kpi_rows,
    optional_rows,
    sql_string,
)
from shared.warehouse.port import Warehouse

# The tiles: the KPIs a supervisor looks at first, per family, when the warehouse has them.
TILES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Contact center",
        (
            "incoming_conversations",
            "conversations_handled",
            "abandon_rate",
            "avg_speed_to_answer_s",
            "service_level_20s_rate",
            "avg_handle_time_s",
            "transfer_rate",
            "csat_rate",
            "nps",
            "first_contact_resolution_rate",
        ),
    ),
    (
        "Agent sessions",
        (
            "incoming_sessions",
            "sessions_engaged",
            "session_rejection_rate",
            "session_timeout_rate",
            "avg_session_handle_time_s",
        ),
    ),
    (
        "Chatbot",
        (
            "chat_sessions",
            "chat_sessions_with_conversation",
            "chat_bounces",
            "chat_bounce_rate",
            "chat_starts",
            "participants",
            "new_customers",
            "webpush_optins_single",
            "webpush_optins_double",
            "reminder_optins_single",
            "reminder_optins_double",
            "participations",
            "screen_time_min",
            "chat_nps",
            "customers_deleted",
        ),
    ),
)
NO_DATA = "no data for this period"


def label(kpi: str) -> str:
    text = kpi.removesuffix("_s").replace("_", " ")
    text = text.replace("avg ", "avg. ").replace("nps", "NPS").replace("csat", "CSAT")
    return text[:1].upper() + text[1:]


def _units(rows: list[dict[str, Any]]) -> dict[str, str]:
    units = {k.name: k.unit for k in by_name().values()}
    units.update({r["kpi"]: r["unit"] for r in rows})
    return units


def dashboard_data(warehouse: Warehouse, provider_id: str, start: date, end: date) -> dict[str, Any]:
    """Everything the page shows, read once: [start − length, end] so the first period has a previous one."""
    length = (end - start).days + 1
    since = start - timedelta(days=length)
    present = existing_tables(warehouse)
    daily = kpi_rows(warehouse, provider_id, since, end)
    provider = f"provider_id = {sql_string(provider_id, warehouse)}"
    period = f"day BETWEEN DATE '{since.isoformat()}' AND DATE '{end.isoformat()}'"
    snapshot = optional_rows(
        warehouse,
        "relationship_snapshot",
        "SELECT regarding_type, regarding_id, health_score, health_band, health_trend, last_interaction_ts, "
        "next_interaction_ts, snapshot_day FROM relationship_snapshot WHERE "
        # The last snapshot of the period, else the first one after it (a run on the day after the
        # period ends takes the first snapshot that covers its last day).
        f"{provider} AND snapshot_day = COALESCE("
        f"(SELECT MAX(snapshot_day) FROM relationship_snapshot WHERE {provider} "
        f"AND snapshot_day <= DATE '{end.isoformat()}'), "
        f"(SELECT MIN(snapshot_day) FROM relationship_snapshot WHERE {provider} "
        f"AND snapshot_day > DATE '{end.isoformat()}')) ORDER BY health_score, regarding_id",
        present,
    )
    return {
        "providerId": provider_id,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "generatedAt": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "daily": daily,
        "queues": kpi_rows(
            warehouse, provider_id, since, end, view="kpi_queue_daily", dimension="queue_id", kpis=QUEUE_KPIS
        ),
        "agents": kpi_rows(
            warehouse, provider_id, since, end, view="kpi_agent_daily", dimension="agent_id", kpis=AGENT_KPIS
        ),
        "experiences": kpi_rows(
            warehouse,
            provider_id,
            since,
            end,
            view="kpi_experience_daily",
            dimension="experience_id",
            kpis=CHATBOT_KPIS,
        ),
        "modules": optional_rows(
            warehouse,
            "chat_module_visits",
            f"SELECT day, experience_id, module_id, module_name, visits, sessions FROM chat_module_visits "
            f"WHERE {provider} AND {period}",
            present,
        ),
        "relationships": [
            {
                **r,
                "last_interaction_ts": str(r["last_interaction_ts"] or ""),
                "next_interaction_ts": str(r["next_interaction_ts"] or ""),
            }
            for r in snapshot
        ]
        if snapshot is not None
        else None,
        "activity": optional_rows(
            warehouse,
            "relationship_daily_activity",
            "SELECT day, activity_type, initiated_by, SUM(activities) AS activities FROM relationship_daily_activity "
            f"WHERE {provider} AND {period} GROUP BY day, activity_type, initiated_by",
            present,
        ),
        "units": _units(daily),
        "labels": {name: label(name) for name in {*by_name(), *(r["kpi"] for r in daily)}},
        "tiles": [[family, list(kpis)] for family, kpis in TILES],
        "rollup": {
            k.name: ("sum" if k.denominator is None else "score" if k.kind == "score" else "ratio")
            for k in by_name().values()
        },
    }


def _specs(data: dict[str, Any]) -> dict[str, Any]:
    present = sorted({r["kpi"] for r in data["daily"]}) or ["incoming_conversations"]
    counts = [k for k in present if data["units"].get(k) == "count"] or present
    labels = data["labels"]
    daily = alt.NamedData("daily")
    return {
        "over_time": charts.over_time(daily, present, labels).to_dict(),
        "cumulated": charts.over_time(daily, counts, labels, cumulated=True).to_dict(),
        "funnel": charts.funnel(daily).to_dict(),
        "nps_segments": charts.nps_segments(daily).to_dict(),
        "nps_distribution": charts.nps_distribution(daily).to_dict(),
        "platforms": charts.platforms(daily).to_dict(),
        "modules": charts.module_heatmap(alt.NamedData("modules")).to_dict(),
        "health": charts.health_bands(alt.NamedData("relationships")).to_dict(),
        "activity": charts.activity(alt.NamedData("activity")).to_dict(),
    }


def render_dashboard(data: dict[str, Any]) -> str:
    """The page for ``dashboard_data``'s result: one HTML string, nothing to fetch."""
    payload = json.dumps({"data": data, "specs": _specs(data)}, default=str, separators=(",", ":"))
    # Inside <script>: "</" must not close the element.
    payload = payload.replace("</", "<\\/")
    bundle = charts.script_bundle().replace("</script", "<\\/script")
    title = f"Channel Analytics — {html.escape(data['providerId'])}"
    return PAGE.format(title=title, bundle=bundle, payload=payload, no_data=NO_DATA)


def build_dashboard(warehouse: Warehouse, provider_id: str, start: date, end: date) -> str:
    return render_dashboard(dashboard_data(warehouse, provider_id, start, end))


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data: blob:">
<title>{title}</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1f2933; background: #f5f7fa; }}
header {{ background: #1f2933; color: #fff; padding: 14px 24px; display: flex; gap: 24px; align-items: center; flex-wrap: wrap; }}
header h1 {{ font-size: 18px; margin: 0; }} header .meta {{ opacity: .8; font-size: 13px; }}
header select {{ font-size: 14px; padding: 3px 6px; }}
main {{ padding: 16px 24px; display: grid; gap: 16px; }}
section {{ background: #fff; border-radius: 8px; padding: 12px 16px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }}
h2 {{ font-size: 15px; margin: 0 0 10px; }} h3 {{ font-size: 13px; margin: 12px 0 6px; color: #52606d; }}
.tiles {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; }}
.tile {{ border: 1px solid #e4e7eb; border-radius: 6px; padding: 8px 10px; }}
.tile .name {{ font-size: 12px; color: #52606d; }} .tile .value {{ font-size: 22px; font-weight: 600; }}
.tile .change {{ font-size: 12px; }} .up {{ color: #1a7f37; }} .down {{ color: #b42318; }} .flat {{ color: #7b8794; }}
.grid {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 16px; }}
.nodata {{ color: #7b8794; font-style: italic; padding: 8px 0; }}
#queues, #agents {{ max-height: 440px; overflow: auto; }}
table {{ border-collapse: collapse; font-size: 13px; width: 100%; }}
th, td {{ padding: 4px 8px; border-bottom: 1px solid #e4e7eb; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
</style></head><body>
<header><h1 id="title"></h1><span class="meta" id="meta"></span>
<label>Period <select id="period"></select></label><span class="meta" id="compare"></span></header>
<main>
<section><h2>KPIs</h2><div id="tiles"></div></section>
<div class="grid">
<section><h2>KPIs over time</h2><div class="panel" data-chart="over_time" data-source="daily"></div></section>
<section><h2>KPIs over time (cumulated)</h2><div class="panel" data-chart="cumulated" data-source="daily"></div></section>
</div>
<div class="grid">
<section><h2>Queues</h2><div id="queues"></div></section>
<section><h2>Agents</h2><div id="agents"></div></section>
</div>
<div class="grid">
<section><h2>Chatbot funnel</h2><div class="panel" data-chart="funnel" data-source="daily" data-kpis="chat_sessions"></div></section>
<section><h2>Platforms</h2><div class="panel" data-chart="platforms" data-source="daily" data-kpis="chat_sessions_mobile,chat_sessions_desktop"></div></section>
</div>
<div class="grid">
<section><h2>NPS segments</h2><div class="panel" data-chart="nps_segments" data-source="daily" data-kpis="chat_nps_detractors,chat_nps_passives,chat_nps_promoters"></div>
<h3>NPS distribution</h3><div class="panel" data-chart="nps_distribution" data-source="daily" data-prefix="chat_nps_score_"></div></section>
<section><h2>Module heatmap</h2><div class="panel" data-chart="modules" data-source="modules"></div></section>
</div>
<div class="grid">
<section><h2>Relationship health</h2><div class="panel" data-chart="health" data-source="relationships"></div><div id="relationships"></div></section>
<section><h2>Relationship activities per day</h2><div class="panel" data-chart="activity" data-source="activity"></div></section>
</div>
</main>
<script>{bundle}</script>
<script>
(() => {{
"use strict";
const PAYLOAD = {payload};
const NO_DATA = "{no_data}";
const D = PAYLOAD.data, SPECS = PAYLOAD.specs;
const DAY = 86400000;
const iso = (t) => new Date(t).toISOString().slice(0, 10);
const parse = (s) => Date.parse(s + "T00:00:00Z");
const views = {{}};

function periods() {{
  const end = parse(D.end), start = parse(D.start);
  const n = Math.round((end - start) / DAY) + 1;
  const out = [[`Whole range (${{n}} days)`, start, end]];
  if (n > 7) out.push(["Last 7 days", end - 6 * DAY, end]);
  if (n > 1) out.push(["Last day", end, end]);
  return out;
}}
function within(rows, s, e) {{ return (rows || []).filter((r) => {{ const t = parse(String(r.day || r.snapshot_day).slice(0, 10)); return t >= s && t <= e; }}); }}
function rollup(rows, kpi) {{
  const mine = rows.filter((r) => r.kpi === kpi);
  if (!mine.length) return null;
  const num = mine.reduce((a, r) => a + (r.numerator || 0), 0);
  const how = D.rollup[kpi] || (D.units[kpi] === "count" ? "sum" : D.units[kpi] === "score" ? "score" : "ratio");
  if (how === "sum") return num;
  const den = mine.reduce((a, r) => a + (r.denominator || 0), 0);
  if (!den) return null;
  return (how === "score" ? 100 : 1) * num / den;
}}
function fmt(v, unit) {{
  if (v === null || v === undefined) return "–";
  if (unit === "ratio") return (100 * v).toFixed(1) + " %";
  if (unit === "seconds") return v >= 600 ? (v / 60).toFixed(1) + " min" : v.toFixed(1) + " s";
  if (unit === "score") return v.toFixed(1);
  return Math.round(v).toLocaleString("en-US");
}}
function change(now, before, unit) {{
  if (now === null || before === null) return ["no previous value", "flat"];
  const diff = now - before;
  if (unit === "ratio") return [(diff >= 0 ? "+" : "") + (100 * diff).toFixed(1) + " pts", diff > 0 ? "up" : diff < 0 ? "down" : "flat"];
  if (unit === "score") return [(diff >= 0 ? "+" : "") + diff.toFixed(1) + " pts", diff > 0 ? "up" : diff < 0 ? "down" : "flat"];
  if (before === 0) return [now === 0 ? "±0" : "new", now === 0 ? "flat" : "up"];
  const pct = 100 * diff / Math.abs(before);
  return [(pct >= 0 ? "+" : "") + pct.toFixed(1) + " %", pct > 0 ? "up" : pct < 0 ? "down" : "flat"];
}}
function el(tag, attrs, text) {{ const e = document.createElement(tag); Object.assign(e, attrs || {{}}); if (text !== undefined) e.textContent = text; return e; }}
function noData(target) {{ target.replaceChildren(el("div", {{ className: "nodata" }}, NO_DATA)); }}

function tiles(cur, prev) {{
  const box = document.getElementById("tiles"); box.replaceChildren();
  let shown = 0;
  for (const [family, kpis] of D.tiles) {{
    const have = kpis.filter((k) => cur.some((r) => r.kpi === k));
    const h = el("h3", {{}}, family); box.append(h);
    const grid = el("div", {{ className: "tiles" }}); box.append(grid);
    if (!have.length) {{ noData(grid); continue; }}
    for (const k of have) {{
      const unit = D.units[k], now = rollup(cur, k), before = rollup(prev, k);
      const [text, dir] = change(now, before, unit);
      const t = el("div", {{ className: "tile" }}); t.dataset.kpi = k;
      t.append(el("div", {{ className: "name", title: k }}, D.labels[k] || k), el("div", {{ className: "value" }}, fmt(now, unit)), el("div", {{ className: "change " + dir }}, text));
      grid.append(t); shown++;
    }}
  }}
  return shown;
}}
function table(targetId, rows, dim, kpis) {{
  const box = document.getElementById(targetId);
  const keys = [...new Set(rows.map((r) => r[dim]))].sort();
  const cols = kpis.filter((k) => rows.some((r) => r.kpi === k));
  if (!keys.length || !cols.length) return noData(box);
  const t = el("table"), head = el("tr");
  head.append(el("th", {{}}, dim.replace("_id", "")), ...cols.map((k) => el("th", {{ title: k }}, D.labels[k] || k)));
  t.append(head);
  for (const key of keys) {{
    const mine = rows.filter((r) => r[dim] === key), tr = el("tr");
    tr.append(el("td", {{}}, key), ...cols.map((k) => el("td", {{}}, fmt(rollup(mine, k), D.units[k]))));
    t.append(tr);
  }}
  box.replaceChildren(t);
}}
function relationships(rows) {{
  const box = document.getElementById("relationships");
  if (!rows || !rows.length) return box.replaceChildren();
  const t = el("table"), head = el("tr");
  head.append(...["record", "health", "band", "trend", "last interaction"].map((h) => el("th", {{}}, h)));
  t.append(head);
  for (const r of rows.slice(0, 15)) {{
    const tr = el("tr");
    tr.append(el("td", {{}}, r.regarding_type + " " + r.regarding_id), el("td", {{}}, fmt(r.health_score, "score")), el("td", {{}}, r.health_band), el("td", {{}}, r.health_trend), el("td", {{}}, String(r.last_interaction_ts).slice(0, 16)));
    t.append(tr);
  }}
  box.replaceChildren(el("h3", {{}}, "Lowest health first"), t);
}}
async function chart(panel, rows) {{
  const name = panel.dataset.chart, source = panel.dataset.source;
  const kpis = panel.dataset.kpis ? panel.dataset.kpis.split(",") : null, prefix = panel.dataset.prefix;
  let mine = rows;
  if (kpis) mine = rows.filter((r) => kpis.includes(r.kpi));
  if (prefix) mine = rows.filter((r) => String(r.kpi).startsWith(prefix));
  if (!mine || !mine.length) {{ if (views[name]) {{ views[name].finalize(); delete views[name]; }} return noData(panel); }}
  const all = structuredClone(source === "daily" ? rows : mine);
  if (!views[name]) {{
    panel.replaceChildren();
    // The spec reads a named dataset: the first period's rows come with it, later ones replace them.
    const spec = {{ ...SPECS[name], datasets: {{ [source]: all }} }};
    views[name] = (await vegaEmbed(panel, spec, {{ actions: false, renderer: "svg" }})).view;
    return;
  }}
  await views[name].data(source, all).runAsync();
}}
async function show(index) {{
  const [, s, e] = periods()[index];
  const n = Math.round((e - s) / DAY) + 1;
  const cur = within(D.daily, s, e), prev = within(D.daily, s - n * DAY, s - DAY);
  document.getElementById("compare").textContent = `${{iso(s)}} – ${{iso(e)}}, change against ${{iso(s - n * DAY)}} – ${{iso(s - DAY)}}`;
  tiles(cur, prev);
  table("queues", within(D.queues, s, e), "queue_id", ["incoming_conversations", "conversations_handled", "abandon_rate", "avg_speed_to_answer_s", "service_level_20s_rate", "avg_handle_time_s"]);
  table("agents", within(D.agents, s, e), "agent_id", ["incoming_sessions", "sessions_engaged", "session_rejection_rate", "avg_session_time_to_accept_s", "avg_session_handle_time_s"]);
  relationships(D.relationships);
  const sources = {{ daily: cur, modules: within(D.modules, s, e), relationships: D.relationships || [], activity: within(D.activity, s, e) }};
  for (const panel of document.querySelectorAll(".panel")) await chart(panel, sources[panel.dataset.source]);
  document.body.dataset.ready = "true";
}}
document.getElementById("title").textContent = "Channel Analytics — " + D.providerId;
document.getElementById("meta").textContent = `${{D.start}} to ${{D.end}} · generated ${{D.generatedAt}}`;
const select = document.getElementById("period");
periods().forEach(([name], i) => select.append(el("option", {{ value: String(i) }}, name)));
select.addEventListener("change", () => show(Number(select.value)));
show(0).catch((err) => {{ console.error(err); document.body.dataset.ready = "error"; }});
}})();
</script></body></html>
"""
