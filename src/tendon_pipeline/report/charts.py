"""The report's charts as Plotly figures (drawn by plotly.js in the page, offline)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import plotly.graph_objects as go

from tendon_pipeline.domain.load import iso_week_label
from tendon_pipeline.domain.models import Severity
from tendon_pipeline.domain.rules import load_method_text
from tendon_pipeline.report.data import ReportData

BLUE, LIGHT_BLUE, ORANGE, GREEN, RED, AMBER, GREY, PURPLE = (
    "#1f5fa8", "#9bbce0", "#e07b00", "#2e9d4f", "#c62828", "#f2a900", "#777777", "#7b4fa8")
SEVERITY_COLOUR = {Severity.INFO: GREY, Severity.CAUTION: AMBER, Severity.WARNING: ORANGE, Severity.HIGH: RED}
CONFIG = {"displaylogo": False, "responsive": True,
          "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"]}


@dataclass
class Chart:
    div_id: str
    title: str
    caption: str
    figure: go.Figure


def _layout(fig: go.Figure, *, y_title: str, height: int = 340, **extra) -> go.Figure:
    fig.update_layout(
        template="plotly_white", height=height, margin=dict(l=64, r=24, t=16, b=48),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0), font=dict(size=12),
        yaxis_title=y_title, **extra)
    return fig


def _empty(fig: go.Figure, text: str) -> go.Figure:
    fig.add_annotation(text=text, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5,
                       font=dict(size=14, color=GREY))
    return fig


def _week_label(day: date) -> str:
    return f"{iso_week_label(day)[5:]} ({day.day} {day.strftime('%b')})"


def weekly_distance(data: ReportData) -> Chart:
    th = data.thresholds
    fig = go.Figure()
    labels = [_week_label(w.metrics.start) for w in data.weeks]
    plans = [(w.metrics.start, w.plan) for w in data.weeks if w.plan is not None]
    if data.plan is not None and all(p.week_start != data.plan.week_start for _, p in plans) \
            and data.plan.week_start > data.as_of:
        plans.append((data.plan.week_start, data.plan))
    if plans:
        fig.add_trace(go.Bar(
            name="plan (target range)", x=[_week_label(d) for d, _ in plans],
            y=[p.target_km_high - p.target_km_low for _, p in plans], base=[p.target_km_low for _, p in plans],
            width=0.8, marker=dict(color="rgba(46,157,79,0.18)", line=dict(color=GREEN, width=1.5)),
            customdata=[[p.target_km_low, p.target_km_high, p.status] for _, p in plans],
            hovertemplate="plan %{customdata[0]:.1f}-%{customdata[1]:.1f} km (%{customdata[2]})<extra></extra>"))
    fig.add_trace(go.Bar(
        name="running km", x=labels, y=[round(w.metrics.distance_km, 2) for w in data.weeks], width=0.5,
        marker=dict(color=[LIGHT_BLUE if w.partial else BLUE for w in data.weeks]),
        customdata=[[w.metrics.running_sessions, "so far" if w.partial else ""] for w in data.weeks],
        hovertemplate="%{y:.1f} km in %{customdata[0]} run(s) %{customdata[1]}<extra></extra>"))
    fig.add_trace(go.Scatter(
        name=f"guide: usual level + {th.volume_increase_caution * 100:.0f} %", x=labels,
        y=[None if w.guide_km is None else round(w.guide_km, 2) for w in data.weeks],
        mode="lines+markers", line=dict(color=ORANGE, dash="dash", width=2),
        marker=dict(symbol="line-ew-open", size=14), hovertemplate="guide %{y:.1f} km<extra></extra>"))
    order = [_week_label(d) for d in sorted({*(w.metrics.start for w in data.weeks), *(d for d, _ in plans)})]
    _layout(fig, y_title="km", barmode="overlay",
            xaxis=dict(type="category", categoryorder="array", categoryarray=order))
    if not data.weeks:
        _empty(fig, "no runs yet")
    return Chart("chart-distance", "Weekly running distance",
                 f"Bars: km run each ISO week (light: this week so far). Dashed line: the week before plus "
                 f"{th.volume_increase_caution * 100:.0f} %, the caution line of the weekly-volume rule "
                 f"(warning above +{th.volume_increase_warning * 100:.0f} %). Green boxes: the planned range.", fig)


def weekly_load(data: ReportData) -> Chart:
    th = data.thresholds
    fig = go.Figure()
    labels = [_week_label(w.metrics.start) for w in data.weeks]
    fig.add_trace(go.Bar(
        name="tendon load", x=labels, y=[round(w.metrics.tendon_load_bw / 1000, 1) for w in data.weeks],
        marker=dict(color=[LIGHT_BLUE if w.partial else PURPLE for w in data.weeks]),
        hovertemplate="%{y:.0f}k x body weight<extra></extra>"))
    fig.add_trace(go.Scatter(
        name=f"guide: usual level + {th.tendon_load_increase_caution * 100:.0f} %", x=labels,
        y=[None if w.guide_load_bw is None else round(w.guide_load_bw / 1000, 1) for w in data.weeks],
        mode="lines+markers", line=dict(color=ORANGE, dash="dash", width=2),
        marker=dict(symbol="line-ew-open", size=14), hovertemplate="guide %{y:.0f}k<extra></extra>"))
    _layout(fig, y_title="k x body weight", xaxis=dict(type="category"))
    if not data.weeks:
        _empty(fig, "no runs yet")
    return Chart("chart-load", "Weekly Achilles-tendon load",
                 "Sum over every step of the modelled Achilles force as a multiple of body weight (thousands): an "
                 f"estimate ({_methods(data)}). Per km it falls slightly with speed in this model (fewer, "
                 "harder steps), so it follows distance and steps per km, not pace. Dashed line: your usual "
                 f"level plus {th.tendon_load_increase_caution * 100:.0f} %.", fig)


def _methods(data: ReportData) -> str:
    """How this page's load figures were obtained, from the runs it shows."""
    runs = [p.run for p in data.runs]
    return f"from {load_method_text(runs)}" if runs else "no runs yet"


def acwr(data: ReportData) -> Chart:
    th = data.thresholds
    method = th.acwr_method
    # before ratio_from the chronic window is mostly empty and the ratio meaningless (the rule waits too)
    judged = [d for d in data.days if data.ratio_from is not None and d.start >= data.ratio_from]
    days = [d.start.isoformat() for d in judged]
    main = [getattr(d, f"acwr_{method}") for d in judged]
    ewma = [d.acwr_ewma for d in judged]
    known = [v for v in main + ewma if v is not None]
    top = max(2.0, (max(known) + 0.2) if known else 0)
    fig = go.Figure()
    for low, high, colour, name in ((0.8, th.acwr_caution, "rgba(46,157,79,0.15)", "0.8-1.3: usual"),
                                    (th.acwr_caution, th.acwr_warning, "rgba(242,169,0,0.18)", "caution"),
                                    (th.acwr_warning, top, "rgba(198,40,40,0.12)", "warning")):
        fig.add_hrect(y0=low, y1=high, fillcolor=colour, line_width=0, layer="below",
                      annotation_text=name, annotation_position="top left",
                      annotation=dict(font=dict(size=10, color=GREY)))
    fig.add_trace(go.Scatter(name=f"acute:chronic ({method}, drives the rule)", x=days,
                             y=[None if v is None else round(v, 3) for v in main], mode="lines",
                             line=dict(color=BLUE, width=2.5), connectgaps=False,
                             hovertemplate="%{y:.2f}<extra></extra>"))
    if method != "ewma":
        fig.add_trace(go.Scatter(name="EWMA", x=days, y=[None if v is None else round(v, 3) for v in ewma],
                                 mode="lines", line=dict(color=GREY, width=1.5, dash="dot"),
                                 hovertemplate="EWMA %{y:.2f}<extra></extra>"))
    x_range = [data.start.isoformat(), data.as_of.isoformat()]
    _layout(fig, y_title="ratio", yaxis=dict(range=[0, top]), xaxis=dict(type="date", range=x_range),
            hovermode="x unified")
    if not known:
        _empty(fig, f"needs about {th.chronic_days // 7} weeks of running")
    return Chart("chart-acwr", "Acute:chronic tendon-load ratio",
                 f"Last {th.acute_days} days of estimated tendon load against {th.chronic_window('the')}. "
                 f"Above {th.acwr_caution:.1f} caution, above {th.acwr_warning:.1f} warning only with pain the same "
                 "week: context, a weak predictor on its own (Impellizzeri 2020-21).", fig)


def runs(data: ReportData) -> Chart:
    th = data.thresholds
    fig = go.Figure()
    plain = [p for p in data.runs if p.spike is None]
    fig.add_trace(go.Scatter(
        name="spike line", x=[p.run.local_date.isoformat() for p in data.runs],
        y=[None if p.spike_line_km is None else round(p.spike_line_km, 2) for p in data.runs],
        mode="lines", line=dict(color=GREY, dash="dash", shape="hv", width=1.5),
        hovertemplate="30-day longest + " f"{th.spike_caution * 100:.0f} %" ": %{y:.1f} km<extra></extra>"))
    fig.add_trace(go.Scatter(
        name="run", x=[p.run.local_date.isoformat() for p in plain], y=[round(p.run.distance_km, 2) for p in plain],
        mode="markers", marker=dict(color=BLUE, size=9),
        customdata=[[p.run.activity_id, round(p.run.duration_s / 60)] for p in plain],
        hovertemplate="%{x}: %{y:.1f} km, %{customdata[1]} min<extra></extra>"))
    spikes = data.spikes
    fig.add_trace(go.Scatter(
        name="spike rule fired", x=[p.run.local_date.isoformat() for p in spikes],
        y=[round(p.run.distance_km, 2) for p in spikes], mode="markers+text",
        text=[p.spike.severity for p in spikes], textposition="top center",
        marker=dict(color=[SEVERITY_COLOUR[p.spike.severity] for p in spikes], size=16, symbol="triangle-up",
                    line=dict(color="black", width=1)),
        hovertext=[p.spike.message for p in spikes], hovertemplate="%{hovertext}<extra></extra>"))
    _layout(fig, y_title="km", xaxis=dict(type="date"))
    if not data.runs:
        _empty(fig, "no runs yet")
    return Chart("chart-runs", "Runs, and where a spike rule fired",
                 f"Each run's distance. Dashed: the longest run of the previous {th.spike_window_days} days plus "
                 f"{th.spike_caution * 100:.0f} %; a run above it may raise the single-run spike alert (triangles).",
                 fig)


def pain_and_strength(data: ReportData) -> Chart:
    th = data.thresholds
    fig = go.Figure()
    tendon_sets, other_sets = defaultdict(int), defaultdict(int)
    tendon_ids = {id(s) for s in data.tendon_work()}
    for s in data.strength:
        (tendon_sets if id(s) in tendon_ids else other_sets)[s.local_date.isoformat()] += s.sets
    for name, sets, colour in (("tendon-loading sets", tendon_sets, "rgba(123,79,168,0.55)"),
                               ("other strength sets", other_sets, "rgba(119,119,119,0.35)")):
        if sets:
            fig.add_trace(go.Bar(name=name, x=list(sets), y=list(sets.values()), yaxis="y2",
                                 marker=dict(color=colour), hovertemplate="%{y} sets<extra></extra>"))
    pain = sorted(data.pain, key=lambda p: p.local_date)
    if pain:
        fig.add_trace(go.Scatter(name="pain during", x=[p.local_date.isoformat() for p in pain],
                                 y=[p.during for p in pain], mode="lines+markers", line=dict(color=RED),
                                 hovertemplate="during %{y}/10<extra></extra>"))
        mornings = [p for p in pain if p.next_morning is not None]
        fig.add_trace(go.Scatter(name="next morning", x=[p.local_date.isoformat() for p in mornings],
                                 y=[p.next_morning for p in mornings], mode="lines+markers",
                                 line=dict(color=ORANGE, dash="dot"),
                                 hovertemplate="next morning %{y}/10<extra></extra>"))
    fig.add_hline(y=th.pain_during_max, line=dict(color=RED, dash="dash", width=1),
                  annotation_text=f"during: at most {th.pain_during_max}", annotation_position="top left")
    fig.add_hline(y=th.pain_settled_max, line=dict(color=ORANGE, dash="dash", width=1),
                  annotation_text=f"next morning: at most {th.pain_settled_max}", annotation_position="bottom left")
    most_sets = max((tendon_sets.get(d, 0) + other_sets.get(d, 0) for d in {*tendon_sets, *other_sets}), default=0)
    _layout(fig, y_title="pain 0-10", barmode="stack", xaxis=dict(type="date"), yaxis=dict(range=[0, 10.5]),
            yaxis2=dict(title="sets", overlaying="y", side="right", range=[0, max(most_sets, 4) * 1.6],
                        dtick=1 if most_sets <= 5 else 2, showgrid=False))
    if not pain and not data.strength:
        _empty(fig, "no pain reports or strength work logged")
    return Chart("chart-pain", "Pain and strength work",
                 "Achilles pain you logged (tendon log pain), with the pain-monitoring lines, and strength sets per"
                 " day "
                 "from the watch or tendon log strength.", fig)


def report_charts(data: ReportData) -> list[Chart]:
    return [weekly_distance(data), weekly_load(data), acwr(data), runs(data), pain_and_strength(data)]
