"""The runner's report as one self-contained HTML page (plotly.js embedded once, no CDN)."""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import plotly.io as pio
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from tendon_pipeline.domain.models import SEVERITY_RANK
from tendon_pipeline.fileio import write_atomic
from tendon_pipeline.report.charts import CONFIG, report_charts
from tendon_pipeline.report.data import ReportData

# Marks each chart's div once plotly.js has drawn it (a headless-browser test reads this).
DRAWN_SCRIPT = "document.getElementById('{plot_id}').setAttribute('data-drawn', 'true');"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=PackageLoader("tendon_pipeline.report", "templates"),
                       autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)


def _version() -> str:
    try:
        return version("tendon-pipeline")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "dev"


def chart_fragments(data: ReportData) -> list[dict]:
    """The report's charts as HTML fragments (plotly.js itself not included): the static
    report and the web pages show the same charts."""
    charts = []
    for chart in report_charts(data):
        html = pio.to_html(chart.figure, full_html=False, include_plotlyjs=False, include_mathjax=False,
                           div_id=chart.div_id, config=CONFIG, post_script=DRAWN_SCRIPT,
                           default_height="340px", validate=True)
        charts.append({"div_id": chart.div_id, "title": chart.title, "caption": chart.caption,
                       "html": Markup(html)})
    return charts


def render_report(data: ReportData) -> str:
    """The report page as a string."""
    charts = chart_fragments(data)
    counts = Counter(a.severity for a in data.alerts)
    name = data.display_name or data.athlete_id
    if data.display_name and data.display_name != data.athlete_id:
        name = f"{data.display_name} ({data.athlete_id})"
    return _environment().get_template("report.html.j2").render(
        data=data, charts=charts, name=name, title=f"{name}: tendon load as of {data.as_of.isoformat()}",
        week=data.this_week, version=_version(), plotly_js=Markup(get_plotlyjs()),
        alert_counts=sorted(counts.items(), key=lambda kv: -SEVERITY_RANK[kv[0]]),
        last_sync=data.last_sync_at.strftime("%Y-%m-%d %H:%M UTC") if data.last_sync_at else "never",
    )


def write_report(data: ReportData, out: str | Path) -> Path:
    """Render and write the page atomically (a temporary file renamed into place)."""
    out = Path(out).expanduser()
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(out, render_report(data).encode("utf-8"))
    return out
