"""Issue 16 on a real warehouse: what the watch cannot record, by command.

Which exercise a FIT set was and on how many legs (from its category_subtype, corrected by
`tendon strength correct` without re-ingesting), `tendon log strength --variant
--reps-in-reserve`, `tendon log max`, and pain dated in the athlete's time zone.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

import pytest

from tendon_pipeline.app.ingest import ingest_paths
from tendon_pipeline.cli.main import main
from tendon_pipeline.config.settings import load_settings
from tendon_pipeline.examples import generate as g
from tendon_pipeline.warehouse.history import load_history
from tendon_pipeline.warehouse.store import open_warehouse


def _far_zone() -> str:
    """A zone whose date differs from UTC's right now (UTC+14 after 10:00 UTC, UTC-12 before 12:00)."""
    return "Pacific/Kiritimati" if datetime.now(UTC).hour >= 11 else "Etc/GMT+12"


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    """Two weeks of runs and watch-recorded calf sessions for 'ana', ingested once."""
    root = tmp_path_factory.mktemp("tendon_records")
    today = date.today()
    start = today - timedelta(days=today.weekday() + 14)
    profile = g.AthleteProfile(athlete_id="ana", body_mass_kg=60.0, height_m=1.68, utc_offset_s=0,
                               serial_number=3_900_200_001, easy_pace_s_per_km=340, cadence_spm=170,
                               running_dynamics=False)
    for i, spec in enumerate(g.steady_block(profile, start, weeks=2)):
        g.write_activity(root / "inbox" / "ana" / f"{i:02d}.fit", spec)
    settings = load_settings(None, db=root / "w.duckdb")
    with open_warehouse(settings.db) as wh:
        ingest_paths(wh, settings, [root / "inbox"])
    return settings.db


@pytest.fixture
def setup(ingested, tmp_path):
    """A copy of the ingested warehouse, with 'ana' configured in a zone far from UTC."""
    db = tmp_path / "w.duckdb"
    shutil.copy(ingested, db)
    zone = _far_zone()
    config = tmp_path / "config.toml"
    config.write_text(f'[[athletes]]\nid = "ana"\nbody_mass_kg = 60.0\ntimezone = "{zone}"\n')
    return db, config, zone


class Result(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


def tendon(setup, *args) -> Result:
    """`tendon --config ... --db ... ARGS` in this process (as the console entry point runs it)."""
    db, config, _ = setup
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--config", str(config), "--db", str(db), *args])
    return Result(code, out.getvalue(), err.getvalue())


def _history(setup):
    db, _, zone = setup
    with open_warehouse(db, read_only=True) as wh:
        return load_history(wh, "ana", tz_name=zone)


def test_fit_subtypes_give_the_variant_and_corrections_say_what_sets_were(setup):
    fit = [s for s in _history(setup).strength if s.source == "fit"]
    raises = [s for s in fit if s.exercise == "calf_raise"]
    holds = [s for s in fit if s.exercise == "isometric_calf_raise_hold"]
    assert raises and all(s.variant == "two_leg" for s in raises)  # subtype 19, weighted standing
    assert holds and all(s.variant == "single_leg" for s in holds)  # subtype 15, single-leg standing

    listed = tendon(setup, "strength", "list", "--athlete", "ana")
    assert listed.returncode == 0, listed.stderr
    first = next(line for line in listed.stdout.splitlines() if "calf_raise (two_leg)" in line)
    activity = first.split()[0]
    raise_sets = [line.split(" set ")[1].split(":")[0] for line in listed.stdout.splitlines()
                  if line.startswith(activity) and "calf_raise (two_leg)" in line]
    assert len(raise_sets) == 3
    fixed = tendon(setup, "strength", "correct", "--athlete", "ana", "--activity", activity,
                   *[arg for index in raise_sets for arg in ("--set", index)],
                   "--exercise", "eccentric heel drop", "--variant", "single-leg", "--reps-in-reserve", "3")
    assert fixed.returncode == 0, fixed.stderr
    assert f"corrected 3 set(s) of activity {activity}" in fixed.stdout

    after = [s for s in _history(setup).strength if s.source == "fit"]
    drops = [s for s in after if s.exercise == "eccentric_heel_drop"]
    assert drops and all(s.variant == "single_leg" and s.reps_in_reserve == 3 for s in drops)
    assert len([s for s in after if s.exercise == "calf_raise"]) == len(raises) - 1
    relisted = tendon(setup, "strength", "list", "--athlete", "ana")
    assert "corrected: eccentric_heel_drop, single_leg, RIR 3" in relisted.stdout

    unknown = tendon(setup, "strength", "correct", "--athlete", "ana", "--activity", "nope", "--variant", "two-leg")
    assert unknown.returncode == 2 and "'nope'" in unknown.stderr and "tendon strength list" in unknown.stderr


def test_log_strength_variant_rir_and_a_tested_max_reach_the_rules(setup):
    logged = tendon(setup, "log", "strength", "--athlete", "ana", "--exercise", "heel-drop", "--sets", "3",
                    "--reps", "12", "--load-kg", "10", "--variant", "two-leg", "--reps-in-reserve", "2")
    assert logged.returncode == 0, logged.stderr
    tested = tendon(setup, "log", "max", "--athlete", "ana", "--variant", "single-leg", "--load-kg", "40")
    assert tested.returncode == 0, tested.stderr
    h = _history(setup)
    manual = [s for s in h.strength if s.source == "manual"]
    assert [(s.exercise, s.variant, s.reps_in_reserve) for s in manual] == [("heel_drop", "two_leg", 2)]
    assert [(m.exercise, m.variant, m.load_kg, m.reps) for m in h.max_tests] == [("calf_raise", "single_leg", 40.0, 1)]
    bad = tendon(setup, "log", "strength", "--athlete", "ana", "--exercise", "heel drop", "--sets", "3",
                 "--seconds", "30", "--reps-in-reserve", "2")
    assert bad.returncode == 2 and "--reps-in-reserve needs --reps" in bad.stderr


def test_pain_without_a_date_is_dated_in_the_athletes_zone(setup):
    _, _, zone = setup
    logged = tendon(setup, "log", "pain", "--athlete", "ana", "--during", "3", "--next-morning", "2")
    assert logged.returncode == 0, logged.stderr
    athlete_today = datetime.now(ZoneInfo(zone)).date()
    assert athlete_today != datetime.now(UTC).date()  # the zone was chosen for this
    assert [p.local_date for p in _history(setup).pain] == [athlete_today]
    assert athlete_today.isoformat() in logged.stdout


def test_plan_json_carries_variants_and_per_leg_loads(setup):
    assert tendon(setup, "evaluate").returncode == 0
    plan = json.loads(tendon(setup, "plan", "--athlete", "ana", "--json").stdout)
    holds = next(s for s in plan["tendon_sessions"] if s["exercise"] == "isometric_calf_raise_hold")
    assert holds["variant"] in ("single_leg", "two_leg")
    assert any("recorded" in reason or "nothing recorded" in reason for reason in plan["reasons"])
