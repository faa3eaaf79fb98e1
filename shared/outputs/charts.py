"""The charts of the dashboard and the report, declared once with Vega-Altair.

Each builder takes its data as an Altair data object: ``alt.NamedData(name)`` in the dashboard,
whose script fills the named dataset for the period the reader picks, or ``alt.Data(values=rows)``
for the report e-mail, where ``png`` renders the same chart with vl-convert (no browser, offline).
"""

from __future__ import annotations

from typing import Any

import altair as alt
import vl_convert

from shared.kpi.bi import FUNNEL

# Vega-Lite version of the bundled scripts: the one Altair writes its specs for.
VEGALITE = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
# The seed's heatmap: blue over green and yellow to red, from low to high.
HEAT = ["#2b83ba", "#1a9641", "#fee08b", "#d7191c"]
NPS_SEGMENTS = (
    ("Detractors", "chat_nps_detractors", "#d7191c"),
    ("Passives", "chat_nps_passives", "#fdae61"),
    ("Promoters", "chat_nps_promoters", "#1a9641"),
)
WIDTH = 470


def _kpi_case(pairs: list[tuple[str, str]], default: str = "null") -> str:
    """A Vega expression mapping ``datum.kpi`` to a label."""
    expr = default
    for kpi, label in reversed(pairs):
        expr = f"datum.kpi === '{kpi}' ? '{label}' : {expr}"
    return expr


def over_time(data: Any, kpis: list[str], labels: dict[str, str], cumulated: bool = False) -> alt.Chart:
    """One KPI per day, picked in a drop-down; ``cumulated`` sums counts from the period's start."""
    name = "cumulated_kpi" if cumulated else "kpi_over_time"
    pick = alt.param(
        name=name,
        value=kpis[0],
        bind=alt.binding_select(options=kpis, labels=[labels.get(k, k) for k in kpis], name="KPI "),
    )
    chart = alt.Chart(data).transform_filter(f"datum.kpi === {name}")
    y = "value:Q"
    if cumulated:
        chart = chart.transform_window(cumulated="sum(numerator)", sort=[{"field": "day"}])
        y = "cumulated:Q"
    return (
        chart.mark_line(point=True)
        .encode(
            x=alt.X(
                "day:T", title=None, axis=alt.Axis(format="%b %d", tickCount={"interval": "day", "step": 1})
            ),
            y=alt.Y(y, title="cumulated" if cumulated else "value"),
            tooltip=["day:T", alt.Tooltip(y, format=",.3~f")],
        )
        .add_params(pick)
        .properties(width=WIDTH, height=220)
    )


def trends(data: Any, labels: dict[str, str]) -> alt.FacetChart:
    """Small multiples of a few KPIs over the last days (the report e-mail)."""
    return (
        alt.Chart(data)
        .transform_calculate(label=_kpi_case(list(labels.items()), "datum.kpi"))
        .mark_line(point=True)
        .encode(
            x=alt.X("day:T", title=None, axis=alt.Axis(format="%b %d", labelAngle=0, tickCount=4)),
            y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
        )
        .properties(width=240, height=110)
        .facet(facet=alt.Facet("label:N", title=None), columns=2)
        .resolve_scale(y="independent")
    )


def funnel(data: Any) -> alt.Chart:
    """Sessions → with conversation → new customers → opt-ins → participations, summed."""
    stages = [(kpi, label.capitalize()) for label, kpis in FUNNEL for kpi in kpis]
    order = [label.capitalize() for label, _ in FUNNEL]
    return (
        alt.Chart(data)
        .transform_calculate(stage=_kpi_case(stages))
        .transform_filter("datum.stage !== null")
        .transform_aggregate(total="sum(numerator)", groupby=["stage"])
        .mark_bar()
        .encode(
            y=alt.Y("stage:N", sort=order, title=None),
            x=alt.X("total:Q", title=None),
            tooltip=["stage:N", alt.Tooltip("total:Q", format=",")],
        )
        .properties(width=WIDTH, height=170)
    )


def nps_segments(data: Any) -> alt.Chart:
    pairs = [(kpi, label) for label, kpi, _ in NPS_SEGMENTS]
    return (
        alt.Chart(data)
        .transform_calculate(segment=_kpi_case(pairs))
        .transform_filter("datum.segment !== null")
        .transform_aggregate(answers="sum(numerator)", groupby=["segment"])
        .mark_bar()
        .encode(
            x=alt.X("answers:Q", stack="normalize", title="share of answers", axis=alt.Axis(format="%")),
            color=alt.Color(
                "segment:N",
                scale=alt.Scale(domain=[s[0] for s in NPS_SEGMENTS], range=[s[2] for s in NPS_SEGMENTS]),
                title=None,
            ),
            tooltip=["segment:N", alt.Tooltip("answers:Q", format=",")],
        )
        .properties(width=WIDTH, height=50)
    )


def nps_distribution(data: Any) -> alt.Chart:
    return (
        alt.Chart(data)
        .transform_filter("indexof(datum.kpi, 'chat_nps_score_') === 0")
        .transform_calculate(score="toNumber(replace(datum.kpi, 'chat_nps_score_', ''))")
        .transform_aggregate(answers="sum(numerator)", groupby=["score"])
        .mark_bar()
        .encode(
            x=alt.X("score:O", title="score", sort="ascending"),
            y=alt.Y("answers:Q", title=None),
            color=alt.Color(
                "score:Q",
                scale=alt.Scale(
                    domain=[0, 6, 7, 8, 9, 10], range=["#d7191c"] * 2 + ["#fdae61"] * 2 + ["#1a9641"] * 2
                ),
                legend=None,
            ),
            tooltip=["score:O", alt.Tooltip("answers:Q", format=",")],
        )
        .properties(width=WIDTH, height=160)
    )


def platforms(data: Any) -> alt.Chart:
    pairs = [("chat_sessions_mobile", "Mobile"), ("chat_sessions_desktop", "Desktop")]
    return (
        alt.Chart(data)
        .transform_calculate(platform=_kpi_case(pairs))
        .transform_filter("datum.platform !== null")
        .transform_aggregate(sessions="sum(numerator)", groupby=["platform"])
        .mark_arc(innerRadius=45)
        .encode(
            theta="sessions:Q",
            color=alt.Color("platform:N", title=None),
            tooltip=["platform:N", alt.Tooltip("sessions:Q", format=",")],
        )
        .properties(width=200, height=200)
    )


def module_heatmap(data: Any) -> alt.Chart:
    return (
        alt.Chart(data)
        .mark_rect()
        .encode(
            x=alt.X("day:O", title=None, timeUnit="monthdate"),
            y=alt.Y("module_name:N", title=None),
            color=alt.Color("sum(visits):Q", scale=alt.Scale(range=HEAT), title="visits"),
            tooltip=[
                "module_name:N",
                "experience_id:N",
                alt.Tooltip("sum(visits):Q", title="visits"),
                alt.Tooltip("sum(sessions):Q", title="sessions"),
            ],
        )
        .properties(width=WIDTH)
    )


def health_bands(data: Any) -> alt.Chart:
    bands = ["good", "fair", "poor"]
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("count():Q", title="records"),
            y=alt.Y("health_band:N", sort=bands, title=None),
            color=alt.Color(
                "health_band:N",
                scale=alt.Scale(domain=bands, range=["#1a9641", "#fdae61", "#d7191c"]),
                legend=None,
            ),
            tooltip=["health_band:N", alt.Tooltip("count():Q", title="records")],
        )
        .properties(width=WIDTH, height=110)
    )


def activity(data: Any) -> alt.Chart:
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("day:T", title=None, timeUnit="yearmonthdate", axis=alt.Axis(format="%b %d")),
            y=alt.Y("sum(activities):Q", title="activities"),
            color=alt.Color("activity_type:N", title=None),
            tooltip=[
                "day:T",
                "activity_type:N",
                "initiated_by:N",
                alt.Tooltip("sum(activities):Q", title="activities"),
            ],
        )
        .properties(width=WIDTH, height=180)
    )


def png(chart: alt.TopLevelMixin, scale: float = 2.0) -> bytes:
    """The chart as a PNG (vl-convert: no browser, no network)."""
    return vl_convert.vegalite_to_png(chart.to_dict(), scale=scale)


def script_bundle() -> str:
    """Vega, Vega-Lite and Vega-Embed as one script, inlined into the dashboard (works offline)."""
    return vl_convert.javascript_bundle(vl_version=VEGALITE)
