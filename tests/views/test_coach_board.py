"""tendon coach: a coach's athletes on one screen, worst first."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from tendon_pipeline.report.coach import CoachRow


def test_board_lists_the_coachs_athletes_worst_first(run_cli, built):
    result = run_cli("coach", "--coach", "Kim", "--as-of", built.as_of.isoformat(), "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    # ben: a high spike alert and pain; cleo: configured but never synced; ana: quiet
    assert [r["athlete"] for r in rows] == ["ben", "cleo", "ana"]
    ben, cleo, ana = rows
    assert ben["worst_severity"] == "high" and ben["alert_counts"]["high"] == 1
    assert [a["severity"] for a in ben["alerts"]] == sorted(
        (a["severity"] for a in ben["alerts"]), key=["high", "warning", "caution", "info"].index)
    assert ben["pain"]["trend"] == "rising" and ben["pain"]["latest"] == 6
    assert ben["days_since_sync"] == 5 and ana["days_since_sync"] == 0
    assert cleo["known"] is False and cleo["days_since_sync"] is None
    assert ana["name"] == "Ana Example" and ana["alerts"] == [] and ana["pain"]["trend"] == "no reports"


def test_this_week_against_plan_comes_from_the_stored_plans(run_cli, built):
    # on the Sunday that ends the data, the week is complete and last week's evaluation
    # would have planned it; the fixture evaluated once, so only next week has a plan
    sunday = built.last_sunday
    result = run_cli("coach", "--coach", "Lee", "--as-of", sunday.isoformat(), "--json")
    ana = json.loads(result.output)[0]
    assert ana["week"]["runs"] >= 3 and ana["week"]["km"] > 20
    assert ana["plan"] is None and ana["week_vs_plan"] == "no plan for this week"
    next_monday = built.as_of + timedelta(days=7 - built.as_of.weekday())
    result = run_cli("coach", "--coach", "Lee", "--as-of", next_monday.isoformat(), "--json")
    ana = json.loads(result.output)[0]
    assert ana["plan"]["week_start"] == next_monday.isoformat()
    assert ana["week"]["km"] == 0 and ana["week_vs_plan"].endswith("km to go (progress)")


def test_text_board_reads_on_a_terminal(run_cli, built):
    result = run_cli("coach", "--coach", "Kim", "--as-of", built.as_of.isoformat())
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Coach Kim: 3 athlete(s), worst first")
    table = [line for line in lines if line[:3].strip().isdigit()]
    assert [line.split()[1] for line in table] == ["ben", "cleo", "ana"]
    assert "never synced" in table[1] and "5 d ago" in table[0] and "rising" in table[0]
    assert "Open alerts:" in result.output and "session_spike" in result.output


def test_unknown_coach_names_the_configured_ones(run_cli):
    result = run_cli("coach", "--coach", "Nobody")
    assert result.exit_code == 2
    assert "no coach named 'Nobody' (coaches: Kim, Lee)" in str(result.exception)


def _row(athlete, severities=(), pain="no reports", latest=None, silent=0):
    return CoachRow(athlete_id=athlete, name=None, known=True, as_of=date(2026, 6, 1),
                    alerts=[{"severity": s, "alert_date": date(2026, 6, 1), "rule": "r", "message": "m"}
                            for s in severities],
                    pain_trend=pain, pain_latest=latest, days_since_sync=silent)


def test_worst_first_ordering():
    rows = [
        _row("quiet"),
        _row("silent", silent=9),
        _row("caution-pain", ("caution",), pain="rising", latest=4),
        _row("caution", ("caution",)),
        _row("warning", ("warning", "caution")),
        _row("high", ("high",)),
        _row("two-warnings", ("warning", "warning")),
    ]
    ordered = [r.athlete_id for r in sorted(rows, key=CoachRow.sort_key)]
    assert ordered == ["high", "two-warnings", "warning", "caution-pain", "caution", "silent", "quiet"]


def test_days_since_sync_counts_whole_days():
    from tendon_pipeline.report.coach import _row as build
    from tendon_pipeline.warehouse.views import CoachFacts

    now = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
    facts = CoachFacts(athlete_id="x", known=True, last_sync_at=datetime(2026, 6, 7, 13, 0))
    assert build(facts, date(2026, 6, 10), now, None, 1.0).days_since_sync == 2
