"""Prefect artifacts: the per-athlete markdown (pure), its key, and the publish call."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from tendon_pipeline.domain.models import Alert, TendonSession, WeekPlan
from tendon_pipeline.app.evaluate import AthleteEvaluation, EvaluationReport
from tendon_pipeline.report import artifacts
from tendon_pipeline.report.artifacts import artifact_key, athlete_summary_markdown

AS_OF = date(2026, 6, 14)
PREFECT_KEY = re.compile(r"^[a-z0-9-]+$")  # prefect.types.names: lowercase letters, numbers, dashes


def _alert(rule, severity, day, message="m", period=None):
    return Alert(athlete_id="ana", rule=rule, severity=severity, date=day, period=period or day.isoformat(),
                 message=message, evidence={"x": 1}, source="s")


def _evaluation(**changes) -> AthleteEvaluation:
    spike = _alert("session_spike", "high", AS_OF - timedelta(days=1), "Sunday's run | was long", "act1")
    pain = _alert("pain_monitoring.during", "warning", AS_OF - timedelta(days=3), "Pain 6/10")
    old = _alert("weekly_volume_increase", "caution", AS_OF - timedelta(days=40), "an old week", "2026-W18")
    plan = WeekPlan(athlete_id="ana", week_start=AS_OF + timedelta(days=1), status="cut", target_km_low=21.0,
                    target_km_high=24.0, long_run_cap_km=9.6, cross_training_sessions=1, tendon_sessions_per_week=3,
                    tendon_sessions=[TendonSession(exercise="isometric_calf_raise_hold", sets=4, hold_s=45,
                                                   load_kg=10, note="both legs")],
                    program_week=5, reasons=["Cut 20-30 % after a high spike.", "Long run at most 9.6 km."])
    fields = dict(athlete_id="ana", as_of=AS_OF, alerts=[old, pain, spike], new_alerts=[spike], plan=plan)
    fields.update(changes)
    return AthleteEvaluation(**fields)


def test_markdown_has_this_week_alerts_worst_first_and_the_plan_with_reasons():
    week = {"km": 12.34, "runs": 2, "longest_km": 8.0, "load_bw": 101_000.0}
    md = athlete_summary_markdown(_evaluation(), week)
    assert md.startswith("# ana: as of 2026-06-14\n")
    assert "| 12.3 km | 2 | 8.0 km | 101k x body weight |" in md
    assert "## Alerts of the last 14 days: 2 (1 new in this evaluation)" in md
    rows = [line for line in md.splitlines() if line.startswith("| **")]
    assert [r.split("|")[1].strip() for r in rows] == ["**high**", "**warning**"]  # worst first, old one left out
    assert rows[0].rstrip().endswith("| new |") and not rows[1].rstrip().endswith("| new |")
    assert "Sunday's run \\| was long" in rows[0]  # a pipe in a message cannot break the table
    assert "1 older alert(s) not shown" in md
    assert "## Next week's plan: week of 2026-06-15 (cut)" in md
    assert "| running | 21.0-24.0 km |" in md and "| long run | at most 9.6 km |" in md
    assert "| - isometric calf raise hold | 4 x 45 s + 10 kg (both legs) |" in md
    assert "- Cut 20-30 % after a high spike.\n- Long run at most 9.6 km." in md


def test_markdown_without_week_or_alerts():
    md = athlete_summary_markdown(_evaluation(alerts=[], new_alerts=[]))
    assert "This week so far" not in md and "No alerts." in md and "older" not in md


@pytest.mark.parametrize("athlete", ["ana", "Ana", "a.b", "a_b", "ANA-2", "x" * 64, "é"])
def test_artifact_keys_are_valid_and_distinct(athlete):
    key = artifact_key(athlete)
    assert PREFECT_KEY.match(key) and key.startswith("tendon-athlete-")


def test_keys_do_not_collide_and_plain_ids_stay_readable():
    from prefect.client.schemas.actions import ArtifactCreate

    assert artifact_key("ana") == "tendon-athlete-ana"
    for athlete in ("ana", "Ana", "a.b", "é"):
        ArtifactCreate(key=artifact_key(athlete), type="markdown", data="x")  # Prefect's own validation
    with pytest.raises(ValueError):
        ArtifactCreate(key="Ana.b", type="markdown", data="x")  # what a raw id would hit
    keys = {artifact_key(a) for a in ("ana", "Ana", "a.b", "a_b", "a-b")}
    assert len(keys) == 5


def test_publish_passes_markdown_and_key_to_prefect(monkeypatch):
    import prefect.artifacts

    calls = []
    monkeypatch.setattr(prefect.artifacts, "create_markdown_artifact", lambda **kw: calls.append(kw) or "id-1")
    assert artifacts.publish_athlete_artifact(_evaluation()) == "id-1"
    (call,) = calls
    assert call["key"] == "tendon-athlete-ana" and call["markdown"] == athlete_summary_markdown(_evaluation())
    assert "1 new alert(s)" in call["description"] and "worst new: high" in call["description"]


def test_publish_for_an_evaluation_adds_this_week_from_the_warehouse(built, monkeypatch):
    import prefect.artifacts

    from tendon_pipeline.warehouse.history import read_alerts, read_plan
    from tendon_pipeline.warehouse.store import open_warehouse

    calls = []
    monkeypatch.setattr(prefect.artifacts, "create_markdown_artifact", lambda **kw: calls.append(kw) or len(calls))
    sunday = built.last_sunday
    with open_warehouse(built.db, read_only=True) as wh:
        report = EvaluationReport("e1", [AthleteEvaluation(a, sunday, read_alerts(wh, a), [], read_plan(wh, a))
                                         for a in ("ana", "ben")])
        assert artifacts.publish_evaluation_artifacts(report, wh) == [1, 2]
        ana_week = wh.con.execute("SELECT running_km, running_sessions FROM weekly_load"
                                  " WHERE athlete_id = 'ana' AND week_start = ?",
                                  [sunday - timedelta(days=6)]).fetchone()
    assert [c["key"] for c in calls] == ["tendon-athlete-ana", "tendon-athlete-ben"]
    assert f"| {ana_week[0]:.1f} km | {ana_week[1]} |" in calls[0]["markdown"]
    assert "session_spike" in calls[1]["markdown"]
