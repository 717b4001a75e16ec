"""tendon report: one self-contained HTML page whose charts draw in a real browser, offline."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
from views_helpers import invoke

from tendon_pipeline.report.data import collect_report
from tendon_pipeline.warehouse.store import open_warehouse

CHARTS = ("chart-distance", "chart-load", "chart-acwr", "chart-runs", "chart-pain")
CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser")) if p), None)


class _Refs(HTMLParser):
    """External resources a page would fetch: script src, link href, img src, iframes."""

    def __init__(self) -> None:
        super().__init__()
        self.external: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self.scripts += 1
        for key in ("src", "href"):
            value = attrs.get(key) or ""
            if tag in ("script", "link", "img", "iframe", "embed", "object", "source") and value \
                    and not value.startswith(("#", "data:")):
                self.external.append(f"<{tag} {key}={value}>")


@pytest.fixture(scope="module")
def ben_page(built, tmp_path_factory):
    """ben's report, read-only (--stored), and what went into it."""
    out = tmp_path_factory.mktemp("report") / "ben.html"
    result = invoke(built.config, built.db, "report", "--athlete", "ben", "--out", str(out), "--stored",
                    "--as-of", built.as_of.isoformat())
    assert result.exit_code == 0, result.output + repr(result.exception)
    with open_warehouse(built.db, read_only=True) as wh:
        data = collect_report(wh, built.settings(), "ben", as_of=built.as_of)
    return out, data, result.output


def test_the_page_is_self_contained_with_one_copy_of_plotly(ben_page):
    out, data, output = ben_page
    html = out.read_text(encoding="utf-8")
    refs = _Refs()
    refs.feed(html)
    assert refs.external == [], f"the page would fetch {refs.external}"
    assert len(re.findall(r"\* plotly\.js v\d+\.\d+\.\d+", html)) == 1  # the library's banner, once
    assert re.findall(r'Plotly\.newPlot\(\s*"([a-z-]+)"', html) == list(CHARTS)
    assert 3_000_000 < out.stat().st_size < 8_000_000
    assert f"wrote {out}" in output


def test_the_page_shows_plan_reasons_alerts_and_logs(ben_page):
    out, data, _ = ben_page
    html = out.read_text(encoding="utf-8")
    assert data.plan is not None and data.plan.reasons
    for reason in data.plan.reasons:
        assert _escaped(reason) in html
    spike = next(a for a in data.alerts if a.rule == "session_spike")
    assert _escaped(spike.message) in html and "sev-high" in html
    assert "Pain log" in html and "6/10" in html  # ben's worst day
    assert "VISA-A: 78" in html
    assert "program week" in html.lower()


def test_report_data_marks_the_spike_run_and_draws_the_guide(ben_page):
    _, data, _ = ben_page
    assert [p.spike.severity for p in data.spikes] == ["high"]
    spike = data.spikes[0]
    assert spike.run.distance_km > 2 * spike.longest_previous_km  # the 2.2 x long run
    weeks = data.weeks
    assert len(weeks) == 6 and weeks[-1].partial  # five weeks of data and this week so far
    kms = [w.metrics.distance_km for w in weeks]
    for i, week in enumerate(weeks):
        if i < 3:  # too little history: the usual level is provisional (nothing declared)
            assert week.guide_km is None
            continue
        earlier = [km for km in kms[max(0, i - 5):i - 1] if km > 0]
        usual = max(kms[i - 1], sum(earlier) / len(earlier)) if earlier else kms[i - 1]
        assert week.guide_km == pytest.approx(usual * 1.10)  # the rule's usual level + 10 %
    assert data.ratio_from is not None and any(d.acwr_uncoupled for d in data.days if d.start >= data.ratio_from)


def test_report_for_an_unknown_athlete_is_a_clear_error(run_cli, tmp_path):
    result = run_cli("report", "--athlete", "nobody", "--out", str(tmp_path / "x.html"), "--stored")
    assert result.exit_code == 2 and "not in the warehouse" in str(result.exception)
    assert not (tmp_path / "x.html").exists()


def test_report_evaluates_first_by_default(run_cli, writable_db, built, tmp_path):
    with open_warehouse(writable_db) as wh:
        wh.con.execute("DELETE FROM plans WHERE athlete_id = 'ana'")
    result = run_cli("report", "--athlete", "ana", "--out", str(tmp_path / "ana.html"),
                     "--as-of", built.as_of.isoformat(), db=writable_db)
    assert result.exit_code == 0, result.output
    html = (tmp_path / "ana.html").read_text(encoding="utf-8")
    assert "Ana Example (ana)" in html and "No plan yet" not in html  # the plan was made again


def _escaped(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


def _chart_segments(dom: str) -> dict[str, tuple[str, str]]:
    """chart id -> (its opening div tag, the DOM up to the next section)."""
    out = {}
    for chart in CHARTS:
        start = dom.index(f'id="{chart}"')
        tag = dom[dom.rindex("<", 0, start):dom.index(">", start) + 1]
        end = dom.find("<section", start)
        out[chart] = (tag, dom[start:end if end > 0 else len(dom)])
    return out


def test_the_charts_draw_in_headless_chromium_without_network(ben_page, tmp_path):
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("CI must draw the report: install Chromium (apt-get install -y chromium)")
        pytest.skip("Chromium is not installed (apt-get install -y chromium): the report was not drawn in a browser")
    out, data, _ = ben_page
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}",
        "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",  # no network: the page must not need it
        "--window-size=1200,2400", "--virtual-time-budget=5000", "--dump-dom", out.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    dom = done.stdout
    assert done.returncode == 0 and dom, done.stderr[-2000:]
    assert 'data-charts="5"' in dom  # the script after the charts ran
    segments = _chart_segments(dom)
    for chart, (tag, segment) in segments.items():
        assert "js-plotly-plot" in tag and 'data-drawn="true"' in tag, f"{chart} was not drawn: {tag}"
        assert segment.count('class="main-svg"') >= 2, f"{chart} has no plot SVG"
    # the runs chart: one marker per run, and the spike run labelled with its severity
    runs = segments["chart-runs"][1]
    assert len(re.findall(r'<path class="point', runs)) == len(data.runs)
    assert re.findall(r'<g class="textpoint"[^>]*><text[^>]*>([^<]+)</text>', runs) == ["high"]
    # the distance chart: one bar per week plus the plan box of next week
    distance = segments["chart-distance"][1]
    plan_weeks = len([w for w in data.weeks if w.plan]) + (1 if data.plan and data.plan.week_start > data.as_of else 0)
    assert len(re.findall(r'<g class="point"', distance)) == len(data.weeks) + plan_weeks
    # the ratio chart drew a line
    assert re.search(r'class="js-line" d="M[0-9.,]+L', segments["chart-acwr"][1])


def test_an_athlete_without_runs_gets_a_page_that_says_so(run_cli, writable_db, tmp_path):
    with open_warehouse(writable_db) as wh:
        wh.ensure_athlete("dana")
    result = run_cli("report", "--athlete", "dana", "--out", str(tmp_path / "dana.html"), "--stored", db=writable_db)
    assert result.exit_code == 0, result.output + repr(result.exception)
    html = (tmp_path / "dana.html").read_text(encoding="utf-8")
    assert html.count("no runs yet") >= 3 and "No plan yet" in html and "not started" in html
    assert re.findall(r'Plotly\.newPlot\(\s*"([a-z-]+)"', html) == list(CHARTS)


def test_chart_captions_say_what_the_model_and_the_rule_do(ben_page):
    out, data, _ = ben_page
    html = out.read_text(encoding="utf-8")
    assert "rises with speed" not in html and "falls slightly with speed" in html
    assert "estimate (from " in html  # the load says how it was obtained
    th = data.thresholds
    assert f"the daily mean of the {th.chronic_days - th.acute_days} days before" in html  # uncoupled: 21, not 28
    assert '"text":"high"' not in html.replace(" ", "")  # the ratio's top band is the rule's warning
