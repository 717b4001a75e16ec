"""The analyst views agree with the domain core on FIT-built data, and are fully documented."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tendon_pipeline.domain.aggregate import load_metrics
from tendon_pipeline.warehouse.history import load_history, read_alerts
from tendon_pipeline.warehouse.store import open_warehouse
from tendon_pipeline.warehouse.views import VIEWS


@pytest.fixture
def wh(built):
    with open_warehouse(built.db, read_only=True) as warehouse:
        yield warehouse


def test_every_view_and_column_has_a_comment(wh):
    views = wh.query("SELECT view_name, comment FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal")
    assert set(VIEWS) <= set(views.view_name)
    assert views[views.view_name.isin(VIEWS) & views.comment.isna()].empty
    columns = wh.query("SELECT table_name, column_name FROM duckdb_columns()"
                       " WHERE schema_name = 'main' AND list_contains(?, table_name) AND comment IS NULL",
                       [list(VIEWS)])
    assert columns.empty, f"view columns without COMMENT: {columns.values.tolist()}"


@pytest.mark.parametrize("athlete", ["ana", "ben"])
def test_weekly_load_matches_the_rules_weekly_numbers(built, wh, athlete):
    history = load_history(wh, athlete)
    first = min(r.local_date for r in history.runs)
    expected = load_metrics(history, built.settings().rules, first, built.last_sunday, "week")
    rows = wh.query("SELECT * FROM weekly_load WHERE athlete_id = ? ORDER BY week_start", [athlete])
    assert len(rows) == len(expected) == 5
    for row, week in zip(rows.itertuples(), expected):
        assert row.week_start.date() == week.start and row.iso_week == week.period
        assert row.running_km == pytest.approx(week.distance_km, abs=1e-9)
        assert row.running_sessions == week.running_sessions
        assert row.tendon_load_bw == pytest.approx(week.tendon_load_bw, rel=1e-12)
    assert rows.previous_week_km.isna().iloc[0]
    assert rows.km_change_pct.iloc[1] == pytest.approx(100 * (rows.running_km.iloc[1] / rows.running_km.iloc[0] - 1))


def test_ben_volume_week_shows_in_weekly_load_as_the_rule_saw_it(wh):
    rises = wh.query("SELECT iso_week, km_change_pct FROM weekly_load WHERE athlete_id = 'ben' AND km_change_pct > 30")
    alerts = [a for a in read_alerts(wh, "ben") if a.rule == "weekly_volume_increase"]
    assert [a.period for a in alerts] == rises.iso_week.tolist()
    assert rises.km_change_pct.iloc[0] == pytest.approx(alerts[0].evidence["increase_pct"], abs=0.5)


def test_run_summary_marks_exactly_the_runs_the_spike_rule_flagged(wh):
    spikes = {a.period: a for a in read_alerts(wh) if a.rule == "session_spike"}
    assert spikes, "the example data has a long-run spike"
    marked = wh.query("SELECT activity_id, spike_severity, spike_increase_pct, distance_km FROM run_summary"
                      " WHERE spike_severity IS NOT NULL")
    assert set(marked.activity_id) == set(spikes)
    for row in marked.itertuples():
        assert row.spike_severity == spikes[row.activity_id].severity
        assert row.spike_increase_pct == spikes[row.activity_id].evidence["increase_pct"]
        assert row.distance_km == pytest.approx(spikes[row.activity_id].evidence["run_km"], abs=0.01)


@pytest.mark.parametrize("athlete", ["ana", "ben"])
def test_strength_work_is_what_the_rules_count(wh, athlete):
    history = load_history(wh, athlete)
    expected = sorted((s.local_date, s.exercise, s.kind, s.sets, s.reps, s.source) for s in history.strength)
    got = sorted(wh.con.execute("SELECT local_date, exercise, kind, sets, reps, source FROM strength_work"
                                " WHERE athlete_id = ?", [athlete]).fetchall())
    assert got == expected and got
    if athlete == "ana":
        assert ("manual", "eccentric_heel_drop") in {(g[5], g[1]) for g in got}
        assert {"isometric", "strength"} <= {g[2] for g in got}


@pytest.mark.parametrize("athlete", ["ana", "ben"])
def test_strength_work_variant_is_what_the_rules_read(wh, athlete):
    history = load_history(wh, athlete)
    expected = sorted((s.local_date, s.exercise, s.variant or "", s.sets, s.source) for s in history.strength)
    got = sorted(wh.con.execute("SELECT local_date, exercise, coalesce(variant, ''), sets, source FROM strength_work"
                                " WHERE athlete_id = ?", [athlete]).fetchall())
    assert got == expected and any(g[2] for g in got)


def test_strength_work_variant_follows_the_fit_subtypes_and_corrections(tmp_path):
    """The view's CASE on category_subtype is domain/exercises.FIT_CALF_SUBTYPES (declared in Python):
    every subtype the FIT profile numbers gives the same variant; a correction wins."""
    from tendon_pipeline.domain.exercises import fit_variant

    subtypes = list(range(25))
    with open_warehouse(tmp_path / "w.duckdb") as w:
        w.con.execute("INSERT INTO activities (activity_id, activity_key, athlete_id, file_hash, start_utc)"
                      " VALUES ('act1', 'k1', 'ana', 'h1', '2026-03-02 06:30:00')")
        for i in subtypes:  # one set per subtype, each on its own day so that each is its own row
            w.con.execute("INSERT INTO strength_sets (activity_id, set_index, start_utc, category, category_subtype,"
                          " repetitions, set_type) VALUES ('act1', ?, ?, 'calf_raise', ?, 12, 'active')",
                          [i, f"2026-03-{i + 2:02d} 07:00:00", i])
        w.con.execute("INSERT INTO strength_set_corrections (activity_id, set_index, athlete_id, variant, corrected_at)"
                      " VALUES ('act1', 18, 'ana', 'seated_single_leg', now())")
        got = dict(w.con.execute("SELECT day(local_date) - 2, variant FROM strength_work").fetchall())
    expected = {i: fit_variant("calf_raise", i) for i in subtypes} | {18: "seated_single_leg"}
    assert got == expected and None in got.values()


def test_weekly_load_names_how_the_load_was_obtained(wh):
    per_run = wh.query("SELECT athlete_id, CAST(date_trunc('week', local_date) AS DATE) AS week_start,"
                       " list(DISTINCT load_method) AS methods FROM run_summary WHERE is_running GROUP BY ALL")
    weeks = {(r.athlete_id, r.week_start.date()): r.load_method
             for r in wh.query("SELECT athlete_id, week_start, load_method FROM weekly_load").itertuples()}
    assert len(per_run) > 0
    for row in per_run.itertuples():
        methods = list(row.methods)
        assert weeks[(row.athlete_id, row.week_start.date())] == (methods[0] if len(methods) == 1 else "mixed")
    assert set(weeks.values()) <= {"measured_dynamics", "cadence_only", "estimated", "mixed", None}


def test_pain_daily_levels_and_seven_day_mean(built, wh):
    rows = wh.query("SELECT local_date, pain_level, pain_level_7d_mean, visa_a_score FROM pain_daily"
                    " WHERE athlete_id = 'ben' ORDER BY local_date")
    sunday = built.last_sunday
    by_day = {r.local_date.date(): r for r in rows.itertuples()}
    last = by_day[sunday - timedelta(days=1)]
    assert last.pain_level == 6  # max(during 6, next morning 4)
    assert last.pain_level_7d_mean == pytest.approx((5 + 6) / 2)  # the levels of days -3 and -1
    assert by_day[sunday - timedelta(days=8)].pain_level_7d_mean == pytest.approx((2 + 3) / 2)
    assert last.visa_a_score == 78


def test_alert_history_periods_and_ranks(wh):
    rows = wh.query("SELECT rule, severity, severity_rank, period, period_kind, activity_id FROM alert_history")
    assert set(rows.period_kind) >= {"week", "day", "run"}
    runs = rows[rows.period_kind == "run"]
    assert (runs.activity_id == runs.period).all() and set(runs.rule) == {"session_spike"}
    rank = {"info": 0, "caution": 1, "warning": 2, "high": 3}
    assert all(rank[s] == r for s, r in zip(rows.severity, rows.severity_rank))


def test_weekly_plans_has_one_latest_plan_per_athlete_with_reasons(wh):
    rows = wh.query("SELECT athlete_id, status, reasons, is_latest, week_start FROM weekly_plans")
    latest = rows[rows.is_latest]
    assert sorted(latest.athlete_id) == ["ana", "ben"]
    assert all(len(r) >= 1 for r in latest.reasons)
    assert latest.set_index("athlete_id").status["ben"] in ("cut", "pain")


def test_athlete_sync_shows_the_older_sync(wh):
    rows = wh.query("SELECT athlete_id, date_diff('day', last_sync_at, now() AT TIME ZONE 'UTC') AS days, activities"
                    " FROM athlete_sync ORDER BY athlete_id")
    assert rows.days.tolist() == [0, 5] and (rows.activities > 0).all()
