"""The runner-facing commands on a real warehouse: log, alerts --json, plan, status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pytest

from tendon_pipeline.app.ingest import ingest_paths
from tendon_pipeline.config.settings import load_settings
from tendon_pipeline.examples import generate as g
from tendon_pipeline.warehouse.store import open_warehouse

REQUIRED_ALERT_FIELDS = {"athlete", "rule", "severity", "date", "message", "evidence", "source"}


def tendon(db, *args):
    env = {**os.environ, "TENDON_DB": str(db)}
    return subprocess.run([sys.executable, "-m", "tendon_pipeline.cli", *args], capture_output=True,
                          text=True, env=env, timeout=120)


@pytest.fixture
def db(tmp_path):
    """Four weeks of runs for 'ana' ending last Sunday, ingested (library call, no Prefect)."""
    today = date.today()
    start = today - timedelta(days=today.weekday() + 28)
    profile = g.AthleteProfile(athlete_id="ana", body_mass_kg=60.0, height_m=1.68, utc_offset_s=0,
                               serial_number=3_900_200_000, easy_pace_s_per_km=340, cadence_spm=170,
                               running_dynamics=False)
    for i, spec in enumerate(g.steady_block(profile, start, weeks=4)):
        g.write_activity(tmp_path / "inbox" / "ana" / f"{i:02d}.fit", spec)
    settings = load_settings(db=tmp_path / "w.duckdb")
    with open_warehouse(settings.db) as wh:
        ingest_paths(wh, settings, [tmp_path / "inbox"])
    return settings.db


def test_pain_above_the_line_raises_an_alert_and_swaps_in_cross_training(db):
    assert tendon(db, "evaluate").returncode == 0
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    logged = tendon(db, "log", "pain", "--athlete", "ana", "--during", "7", "--next-morning", "6", "--date", yesterday)
    assert logged.returncode == 0, logged.stderr
    assert "pain_monitoring" in logged.stdout  # the new alert is shown at once
    result = tendon(db, "alerts", "--athlete", "ana", "--json")
    assert result.returncode == 0, result.stderr
    alerts = json.loads(result.stdout)
    pain = [a for a in alerts if a["rule"].startswith("pain_monitoring")]
    assert pain and all(set(a) >= REQUIRED_ALERT_FIELDS for a in alerts)
    assert pain[0]["evidence"]["pain_during"] == 7 and "Silbernagel" in pain[0]["source"]
    plan = json.loads(tendon(db, "plan", "--athlete", "ana", "--json").stdout)
    assert plan["status"] == "pain" and plan["cross_training_sessions"] >= 1
    assert not any(s["exercise"] == "pogo_hops" for s in plan["tendon_sessions"])


def test_log_strength_needs_reps_or_seconds_and_counts_toward_the_program(db):
    bad = tendon(db, "log", "strength", "--athlete", "ana", "--exercise", "eccentric heel drop", "--sets", "3")
    assert bad.returncode == 2 and "--reps or --seconds" in bad.stderr
    ok = tendon(db, "log", "strength", "--athlete", "ana", "--exercise", "isometric calf-raise hold",
                "--sets", "4", "--seconds", "45", "--load-kg", "20")
    assert ok.returncode == 0, ok.stderr
    assert "isometric_calf_raise_hold" in ok.stdout
    with open_warehouse(db, read_only=True) as wh:
        row = wh.query("SELECT exercise, kind, sets, seconds, load_kg FROM strength_log").iloc[0]
    assert (row.exercise, row.kind, row.sets, row.seconds, row.load_kg) == \
        ("isometric_calf_raise_hold", "isometric", 4, 45.0, 20.0)


def test_status_and_plan_read_well_in_a_terminal(db):
    assert tendon(db, "evaluate").returncode == 0  # status shows what the evaluation stored
    status = tendon(db, "status", "--athlete", "ana")
    assert status.returncode == 0, status.stderr
    assert "this week so far" in status.stdout and "acute:chronic" in status.stdout
    assert "Plan for ana" in status.stdout and "why:" in status.stdout


def _stored(db) -> dict[str, int]:
    with open_warehouse(db, read_only=True) as wh:
        return {t: int(wh.query(f"SELECT count(*) AS n FROM {t}").n[0]) for t in ("run_loads", "alerts", "plans")}


def test_status_reads_only_and_says_when_the_stored_evaluation_is_stale(db, tmp_path):
    before = _stored(db)
    never = tendon(db, "status", "--athlete", "ana")
    assert never.returncode == 0, never.stderr
    assert "never evaluated" in never.stdout and "tendon evaluate --athlete ana" in never.stdout
    assert _stored(db) == before == {"run_loads": 0, "alerts": 0, "plans": 0}  # status wrote nothing

    assert tendon(db, "evaluate", "--athlete", "ana").returncode == 0
    current = tendon(db, "status", "--athlete", "ana")
    assert "as stored by the last evaluation" in current.stdout and "STALE" not in current.stdout
    evaluated = _stored(db)

    later = g.ActivitySpec(start_utc=datetime.now(UTC) - timedelta(hours=3), distance_m=5000.0,
                           duration_s=1700, serial_number=3_900_200_000)
    g.write_activity(tmp_path / "more" / "ana" / "late.fit", later)
    settings = load_settings(db=db)
    with open_warehouse(db) as wh:
        ingest_paths(wh, settings, [tmp_path / "more"])
    stale = tendon(db, "status", "--athlete", "ana")
    assert stale.returncode == 0, stale.stderr
    assert "STALE: 1 activity(ies) stored since" in stale.stdout
    assert _stored(db) == evaluated


def test_a_race_entered_since_the_last_evaluation_makes_the_status_stale(db):
    from tendon_pipeline.domain.models import RaceEntry
    from tendon_pipeline.warehouse.history import log_race

    assert tendon(db, "evaluate", "--athlete", "ana").returncode == 0
    with open_warehouse(db) as wh:  # as an import or another writer would: no evaluation after it
        log_race(wh, RaceEntry(athlete_id="ana", local_date=date.today() + timedelta(days=20), distance_km=42.2))
    stale = tendon(db, "status", "--athlete", "ana")
    assert stale.returncode == 0, stale.stderr
    assert "STALE: 1 log entry(ies) stored since" in stale.stdout


def test_visa_a_range_is_checked(db):
    result = tendon(db, "log", "visa-a", "--athlete", "ana", "--score", "140")
    assert result.returncode == 2 and "140" in result.stderr


def test_plan_for_an_unknown_athlete_is_a_clear_error(db):
    result = tendon(db, "plan", "--athlete", "nobody")
    assert result.returncode == 2 and "no plan for athlete 'nobody'" in result.stderr


def test_log_race_is_stored_and_the_plan_tapers_for_it(db):
    race_day = date.today() + timedelta(days=7 - date.today().weekday() + 6)  # Sunday of next week
    bad = tendon(db, "log", "race", "--athlete", "ana", "--date", race_day.isoformat(), "--distance-km", "0")
    assert bad.returncode == 2 and "distance-km" in bad.stderr
    ok = tendon(db, "log", "race", "--athlete", "ana", "--date", race_day.isoformat(), "--distance-km", "21.1",
                "--priority", "b", "--name", "city half")
    assert ok.returncode == 0, ok.stderr
    assert "B race" in ok.stdout
    with open_warehouse(db, read_only=True) as wh:
        row = wh.query("SELECT local_date, distance_km, priority, name FROM race_log").iloc[0]
    assert (row.local_date.date(), row.distance_km, row.priority, row["name"]) == (race_day, 21.1, "B", "city half")
    plan = json.loads(tendon(db, "plan", "--athlete", "ana", "--json").stdout)
    assert plan["status"] == "taper" and plan["long_run_cap_km"] == 21.1
    assert any("Taper for your B race" in reason for reason in plan["reasons"])


def test_status_as_of_lists_no_alert_dated_after_it(db):
    assert tendon(db, "evaluate").returncode == 0
    logged = tendon(db, "log", "pain", "--athlete", "ana", "--during", "7",
                    "--date", (date.today() - timedelta(days=1)).isoformat())
    assert logged.returncode == 0, logged.stderr
    as_of = date.today() - timedelta(days=5)
    status = tendon(db, "status", "--athlete", "ana", "--as-of", as_of.isoformat())
    assert status.returncode == 0, status.stderr
    alerts_part = status.stdout.split("\n\n")[0]  # the stored plan (latest) follows a blank line
    assert "alerts in the last" in alerts_part
    listed = [line for line in alerts_part.splitlines() if "pain during activity" in line.lower()]
    assert listed == []
    assert "(estimated steps)" in status.stdout or "cadence only" in status.stdout


def test_program_week_past_the_program_is_not_week_41_of_12():
    from tendon_pipeline.cli.render import program_week_text

    assert program_week_text(41, 12) == "week 41, the 12-week program done (maintenance)"
    assert program_week_text(5, 12) == "week 5 of 12"
    assert program_week_text(None, 12) == "not started"
