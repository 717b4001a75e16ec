"""Next week's plan as FIT workouts and an iCalendar: decoded by fitparse and Garmin's own decoder,
compared with real workout files of the shared corpus, parsed by icalendar; and the command that
writes them (`tendon plan --export`)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import fitparse
import pytest
from fitparse.utils import FitCRCError
from garmin_fit_sdk import Decoder, Stream
from icalendar import Calendar

from tendon_pipeline.app.plan_files import (
    ICS_MEDIA_TYPE,
    fit_text,
    long_run_workout,
    plan_calendar,
    plan_files,
    tendon_workout,
)
from tendon_pipeline.domain.models import TendonSession, WeekPlan
from tendon_pipeline.errors import NotAnActivity
from tendon_pipeline.fit.decode import decode_bytes

MONDAY = date(2026, 12, 7)  # ISO week 2026-W50
STAMP = datetime(2026, 12, 2, 5, 30, tzinfo=UTC)
LONG_RUN_REASON = ("Long run at most 14.2 km: 110 % of your longest in the last 30 days (12.9 km), "
                   "within the week's range.")
TENDON_REASON = "Tendon work at program week 6: holds with 20 kg, heel drops with 7.5 kg added; pogo hops 3 x 30 s."
SWAP_REASON = "Swap 2 of your ~4 weekly runs for cross-training (cycling, swimming) until pain settles."


def week_plan(**changes) -> WeekPlan:
    plan = WeekPlan(
        athlete_id="ana", week_start=MONDAY, status="progress", target_km_low=38.0, target_km_high=41.8,
        long_run_cap_km=14.2, cross_training_sessions=0, tendon_sessions_per_week=3,
        tendon_sessions=[
            TendonSession(exercise="isometric_calf_raise_hold", sets=4, hold_s=45, load_kg=20.0,
                          note="Single leg, 4 sets a leg, with added weight."),
            TendonSession(exercise="eccentric_heel_drop", sets=3, reps=12, load_kg=7.5,
                          note="Up on two, lower on one over 3-5 s; 3 x 12 a leg."),
            TendonSession(exercise="pogo_hops", sets=3, hold_s=30, note="Two legs, quick quiet contacts."),
        ],
        program_week=6,
        reasons=["No caution-or-worse load or pain alerts: progress up to 10 % on last week (38.0 km): 38.0-41.8 km.",
                 LONG_RUN_REASON, TENDON_REASON],
    )
    return plan.model_copy(update=changes)


def pain_plan() -> WeekPlan:
    return week_plan(
        status="pain", target_km_low=0.0, target_km_high=19.0, long_run_cap_km=8.0, cross_training_sessions=2,
        tendon_sessions_per_week=2,
        tendon_sessions=[TendonSession(exercise="isometric_calf_raise_hold", sets=4, hold_s=45,
                                       note="Both legs, bodyweight; eases pain.")],
        reasons=["Pain above the line: running at most 19.0 km.", "Long run at most 8.0 km: 80 % of ...",
                 SWAP_REASON, "Tendon work regressed for pain: calf holds on both legs, no pogo hops."])


# --------------------------------------------------------------------------- decoding


def garmin_decode(data: bytes) -> dict[str, list[dict]]:
    assert Decoder(Stream.from_byte_array(bytearray(data))).is_fit()
    assert Decoder(Stream.from_byte_array(bytearray(data))).check_integrity()  # header and file CRC
    messages, errors = Decoder(Stream.from_byte_array(bytearray(data))).read()
    assert errors == []
    return messages


def fitparse_decode(data: bytes) -> dict[str, list[dict]]:
    """fitparse checks the file CRC while reading (FitCRCError otherwise)."""
    found: dict[str, list[dict]] = {}
    for message in fitparse.FitFile(data, check_crc=True).get_messages():
        found.setdefault(message.name, []).append({f.name: f.value for f in message.fields if f.value is not None})
    return found


def both(data: bytes) -> tuple[dict, dict]:
    return garmin_decode(data), fitparse_decode(data)


def test_long_run_is_a_distance_limited_running_workout():
    plan = week_plan()
    garmin, parsed = both(long_run_workout(plan))
    assert garmin["file_id_mesgs"][0]["type"] == "workout" and parsed["file_id"][0]["type"] == "workout"
    workout = garmin["workout_mesgs"][0]
    assert workout["sport"] == "running" and workout["num_valid_steps"] == 1
    assert parsed["workout"][0]["sport"] == "running"
    [step] = garmin["workout_step_mesgs"]
    assert step["duration_type"] == "distance" and step["duration_distance"] == pytest.approx(14_200.0)
    assert step["intensity"] == "active" and step["target_type"] == "open"
    [fp_step] = parsed["workout_step"]
    assert fp_step["duration_distance"] == pytest.approx(14_200.0)
    assert LONG_RUN_REASON in step["notes"] and LONG_RUN_REASON in workout["wkt_description"]


def test_tendon_session_is_a_strength_workout_with_the_planned_sets_reps_holds_and_load():
    plan = week_plan()
    garmin, parsed = both(tendon_workout(plan, 2))
    assert garmin["file_id_mesgs"][0]["type"] == "workout"
    workout = garmin["workout_mesgs"][0]
    assert (workout["sport"], workout["sub_sport"]) == ("training", "strength_training")
    assert "2/3" in workout["wkt_name"] and TENDON_REASON in workout["wkt_description"]
    steps = garmin["workout_step_mesgs"]
    assert workout["num_valid_steps"] == len(steps) == 9
    assert [s["message_index"] for s in steps] == list(range(9))
    hold, rest, repeat = steps[0:3]
    assert (hold["exercise_category"], hold["duration_type"], hold["duration_time"]) == ("calf_raise", "time", 45.0)
    assert hold["exercise_weight"] == 20.0 and hold["weight_display_unit"] == "kilogram"
    assert hold["notes"].startswith("Single leg")
    assert (rest["intensity"], rest["duration_type"]) == ("rest", "open")
    assert repeat["duration_type"] == "repeat_until_steps_cmplt"
    assert (repeat["duration_step"], repeat["repeat_steps"]) == (0, 4)
    drop = steps[3]
    assert (drop["duration_type"], drop["duration_reps"], drop["exercise_weight"]) == ("reps", 12, 7.5)
    assert (steps[5]["duration_step"], steps[5]["repeat_steps"]) == (3, 3)
    hops = steps[6]
    assert (hops["exercise_category"], hops["duration_time"]) == ("plyo", 30.0)
    assert "exercise_weight" not in hops  # no added load planned: no weight on the step
    assert (steps[8]["duration_step"], steps[8]["repeat_steps"]) == (6, 3)
    # fitparse reads the same steps
    fp_steps = parsed["workout_step"]
    assert [s.get("duration_reps") or s.get("duration_time") for s in fp_steps[::3]] == [45.0, 12, 30.0]
    assert [s["repeat_steps"] for s in fp_steps[2::3]] == [4, 3, 3]
    assert fp_steps[0]["exercise_weight"] == 20.0 and fp_steps[0]["exercise_category"] == "calf_raise"


def test_a_single_set_needs_no_rest_or_repeat_step():
    plan = week_plan(tendon_sessions=[TendonSession(exercise="eccentric_heel_drop", sets=1, reps=15)])
    steps = garmin_decode(tendon_workout(plan, 1))["workout_step_mesgs"]
    assert [(s["duration_type"], s.get("duration_reps")) for s in steps] == [("reps", 15)]


def test_a_damaged_workout_fails_both_crc_checks():
    data = bytearray(long_run_workout(week_plan()))
    data[-5] ^= 0xFF  # one byte of the step, the file CRC left as it was
    assert not Decoder(Stream.from_byte_array(data)).check_integrity()
    with pytest.raises(FitCRCError):
        fitparse_decode(bytes(data))


def test_workouts_are_not_ingested_as_activities():
    """The pipeline's own decoder recognises them as workout files (skipped, not quarantined)."""
    for data in (long_run_workout(week_plan()), tendon_workout(week_plan(), 1)):
        with pytest.raises(NotAnActivity) as caught:
            decode_bytes(data)
        assert caught.value.file_type == "workout"


def test_same_plan_same_bytes_and_a_serial_number_per_file():
    plan = week_plan()
    assert long_run_workout(plan) == long_run_workout(week_plan())
    serials = {garmin_decode(data)["file_id_mesgs"][0]["serial_number"]
               for data in (long_run_workout(plan), tendon_workout(plan, 1), tendon_workout(plan, 2))}
    assert len(serials) == 3


def test_long_reasons_are_cut_to_a_fit_string_and_still_decode():
    long_reason = "Long run at most 14.2 km: " + "très prudent, " * 40
    data = long_run_workout(week_plan(reasons=[long_reason]))
    notes = garmin_decode(data)["workout_step_mesgs"][0]["notes"]
    assert notes.endswith("...") and len(notes.encode()) <= 254
    assert fitparse_decode(data)["workout_step"][0]["notes"] == notes
    assert fit_text("é" * 200, 11) == "éééé..."  # never half a character


def test_no_long_run_or_tendon_session_beyond_the_plan_is_made():
    plan = week_plan(long_run_cap_km=0.0)
    with pytest.raises(ValueError, match="no long run"):
        long_run_workout(plan)
    with pytest.raises(ValueError, match="3 tendon session"):
        tendon_workout(plan, 4)
    names = [f.name for f in plan_files(plan, None, stamp=STAMP)]
    assert names == ["2026-W50-tendon-1.fit", "2026-W50-tendon-2.fit", "2026-W50-tendon-3.fit", "2026-W50.ics"]


# --------------------------------------------------------------------------- the corpus


CORPUS_WORKOUTS = ["WorkoutRepeatSteps.fit", "WorkoutIndividualSteps.fit"]


@pytest.mark.corpus
@pytest.mark.parametrize("name", CORPUS_WORKOUTS)
def test_message_shape_matches_real_workout_files(corpus_dir, name):
    real = garmin_decode((corpus_dir / name).read_bytes())
    ours = garmin_decode(tendon_workout(week_plan(), 1))
    assert list(ours) == list(real) == ["file_id_mesgs", "workout_mesgs", "workout_step_mesgs"]
    assert set(real["file_id_mesgs"][0]) <= set(ours["file_id_mesgs"][0]) | {"garmin_product"}
    assert len(ours["workout_mesgs"]) == len(real["workout_mesgs"]) == 1
    for steps in (real["workout_step_mesgs"], ours["workout_step_mesgs"]):
        assert [s["message_index"] for s in steps] == list(range(len(steps)))
        assert all({"duration_type", "target_type", "intensity"} <= set(s) for s in steps)
    real_repeats = [s for s in real["workout_step_mesgs"] if s["duration_type"] == "repeat_until_steps_cmplt"]
    our_repeats = [s for s in ours["workout_step_mesgs"] if s["duration_type"] == "repeat_until_steps_cmplt"]
    for repeat in real_repeats + our_repeats:  # each goes back to an earlier step, with a count
        assert repeat["duration_step"] < repeat["message_index"] and repeat["repeat_steps"] >= 1
    real_steps_keys = {key for step in real["workout_step_mesgs"] for key in step
                       if step["duration_type"] != "repeat_until_steps_cmplt"}
    assert {"wkt_step_name", "duration_value"} <= real_steps_keys
    assert all({"wkt_step_name", "message_index"} <= set(s) for s in ours["workout_step_mesgs"])
    # the project's decoder treats the real workout file and ours the same way
    for data in ((corpus_dir / name).read_bytes(), tendon_workout(week_plan(), 1)):
        with pytest.raises(NotAnActivity):
            decode_bytes(data)


# --------------------------------------------------------------------------- calendar


def events_of(data: bytes) -> tuple[Calendar, list]:
    calendar = Calendar.from_ical(data)
    return calendar, sorted(calendar.walk("VEVENT"), key=lambda e: (e.decoded("dtstart"), str(e["uid"])))


def test_calendar_has_one_all_day_event_per_session_in_the_athletes_zone():
    calendar, events = events_of(plan_calendar(week_plan(), "Europe/Oslo", stamp=STAMP))
    assert str(calendar["x-wr-timezone"]) == "Europe/Oslo"
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Oslo"]
    assert len(events) == 4  # the long run and three tendon sessions
    for event in events:
        start, end = event.decoded("dtstart"), event.decoded("dtend")
        assert type(start) is date and end == start + timedelta(days=1)  # all-day
        assert MONDAY <= start <= MONDAY + timedelta(days=6)
        assert "suggestion" in str(event["description"])
        assert event.decoded("dtstamp") == STAMP
    summaries = {str(e["summary"]): e for e in events}
    long_run = summaries["Long run: at most 14.2 km"]
    assert long_run.decoded("dtstart") == MONDAY + timedelta(days=6)  # Sunday
    assert LONG_RUN_REASON in str(long_run["description"]) and "2026-W50-long-run.fit" in str(long_run["description"])
    tendon = [e for e in events if str(e["summary"]).startswith("Tendon session")]
    days = [e.decoded("dtstart") for e in tendon]
    assert len(set(days)) == 3 and all((b - a).days >= 2 for a, b in zip(days, days[1:]))  # a day between
    assert all(TENDON_REASON in str(e["description"]) and "Calf-raise hold: 4 x 45 s + 20 kg" in str(e["description"])
               for e in tendon)
    assert len({str(e["uid"]) for e in events}) == 4


def test_reimporting_a_changed_plan_updates_the_same_events():
    first = events_of(plan_calendar(week_plan(), "Europe/Oslo", stamp=STAMP))[1]
    changed = week_plan(long_run_cap_km=12.0)
    again = events_of(plan_calendar(changed, "Europe/Oslo", stamp=STAMP + timedelta(seconds=20)))[1]
    assert [str(e["uid"]) for e in again] == [str(e["uid"]) for e in first]
    assert all(int(b["sequence"]) > int(a["sequence"]) for a, b in zip(first, again))
    next_week = events_of(plan_calendar(week_plan(week_start=MONDAY + timedelta(days=7)), "Europe/Oslo",
                                        stamp=STAMP))[1]
    other_athlete = events_of(plan_calendar(week_plan(athlete_id="ben"), "Europe/Oslo", stamp=STAMP))[1]
    uids = {str(e["uid"]) for e in first}
    assert uids.isdisjoint(str(e["uid"]) for e in next_week)
    assert uids.isdisjoint(str(e["uid"]) for e in other_athlete)


def test_pain_week_has_cross_training_on_days_without_tendon_work():
    _, events = events_of(plan_calendar(pain_plan(), None, stamp=STAMP))
    kinds = {}
    for event in events:
        kinds.setdefault(str(event["summary"]).split(" ")[0], []).append(event.decoded("dtstart"))
    assert len(kinds["Cross-training"]) == 2 and len(kinds["Tendon"]) == 2 and len(kinds["Long"]) == 1
    assert set(kinds["Cross-training"]).isdisjoint(kinds["Tendon"])
    swap = [e for e in events if str(e["summary"]).startswith("Cross-training")]
    assert all(SWAP_REASON in str(e["description"]) for e in swap)


def test_no_zone_configured_means_utc_and_an_unknown_zone_is_refused():
    calendar, _ = events_of(plan_calendar(week_plan(), None, stamp=STAMP))
    assert str(calendar["x-wr-timezone"]) == "UTC"
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        plan_calendar(week_plan(), "Mars/Olympus", stamp=STAMP)


def test_plan_files_are_named_by_iso_week():
    files = plan_files(week_plan(), "Europe/Oslo", stamp=STAMP)
    assert [f.name for f in files] == ["2026-W50-long-run.fit", "2026-W50-tendon-1.fit", "2026-W50-tendon-2.fit",
                                       "2026-W50-tendon-3.fit", "2026-W50.ics"]
    assert files[-1].media_type == ICS_MEDIA_TYPE and files[-1].content.startswith(b"BEGIN:VCALENDAR")


# --------------------------------------------------------------------------- the command


def tendon(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tendon_pipeline.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=180)


def configured(tmp_path) -> dict:
    """An environment whose configuration knows 'ana' (zone America/New_York) and an empty warehouse."""
    from tendon_pipeline.config.settings import load_settings
    from tendon_pipeline.warehouse.store import open_warehouse

    config = tmp_path / "config.toml"
    config.write_text('[[athletes]]\nid = "ana"\ntimezone = "America/New_York"\n')
    with open_warehouse(load_settings(str(config), db=tmp_path / "w.duckdb").db):
        pass
    return {"TENDON_DB": str(tmp_path / "w.duckdb"), "TENDON_CONFIG": str(config),
            "TENDON_HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}


@pytest.fixture
def warehouse_env(tmp_path) -> dict:
    """Four weeks of runs and strength for 'ana' ending last Sunday, ingested (library call, no
    Prefect), and evaluated."""
    from tendon_pipeline.app.evaluate import evaluate_athletes
    from tendon_pipeline.app.ingest import ingest_paths
    from tendon_pipeline.config.settings import load_settings
    from tendon_pipeline.examples import generate as g
    from tendon_pipeline.warehouse.store import open_warehouse

    env = configured(tmp_path)
    today = date.today()
    start = today - timedelta(days=today.weekday() + 28)
    profile = g.AthleteProfile(athlete_id="ana", body_mass_kg=60.0, serial_number=3_900_200_001, cadence_spm=170)
    for i, spec in enumerate(g.steady_block(profile, start, weeks=4)):
        g.write_activity(tmp_path / "inbox" / "ana" / f"{i:02d}.fit", spec)
    settings = load_settings(env["TENDON_CONFIG"], db=env["TENDON_DB"])
    with open_warehouse(settings.db) as wh:
        ingest_paths(wh, settings, [tmp_path / "inbox"])
        evaluate_athletes(wh, settings, ["ana"])
    return env


def test_plan_export_writes_the_workouts_and_the_calendar(tmp_path, warehouse_env):
    out = tmp_path / "out"
    result = tendon("plan", "--athlete", "ana", "--export", str(out), env=warehouse_env)
    assert result.returncode == 0, result.stderr
    plan = WeekPlan.model_validate_json(tendon("plan", "--athlete", "ana", "--json", env=warehouse_env).stdout)
    week = f"{plan.week_start.isocalendar().year}-W{plan.week_start.isocalendar().week:02d}"
    tendon_files = [f"{week}-tendon-{n}.fit" for n in range(1, plan.tendon_sessions_per_week + 1)]
    expected = [f"{week}-long-run.fit", *tendon_files, f"{week}.ics"]
    assert sorted(p.name for p in out.iterdir()) == sorted(expected)
    assert all(str(out / name) in result.stdout for name in expected)
    steps = garmin_decode((out / f"{week}-long-run.fit").read_bytes())["workout_step_mesgs"]
    assert steps[0]["duration_distance"] == pytest.approx(plan.long_run_cap_km * 1000)
    first = garmin_decode((out / f"{week}-tendon-1.fit").read_bytes())["workout_step_mesgs"][0]
    assert first["exercise_category"] == "calf_raise"
    assert first["duration_time"] == plan.tendon_sessions[0].hold_s
    calendar, events = events_of((out / f"{week}.ics").read_bytes())
    assert str(calendar["x-wr-timezone"]) == "America/New_York"
    assert len(events) == 1 + plan.tendon_sessions_per_week + plan.cross_training_sessions
    assert all(plan.week_start <= e.decoded("dtstart") < plan.week_start + timedelta(days=7) for e in events)


def test_plan_export_errors_name_the_problem_and_write_nothing(tmp_path):
    env, out = configured(tmp_path), tmp_path / "out"
    unknown = tendon("plan", "--athlete", "nobody", "--export", str(out), env=env)
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr
    assert "no plan for athlete 'nobody': the athlete is unknown" in unknown.stderr
    assert "tendon summary" in unknown.stderr and "ana" not in unknown.stderr  # names no other athlete
    no_plan = tendon("plan", "--athlete", "ana", "--export", str(out), env=env)
    assert no_plan.returncode == 2 and "no plan for athlete 'ana' yet" in no_plan.stderr
    assert "tendon evaluate --athlete ana" in no_plan.stderr and "Traceback" not in no_plan.stderr
    both_flags = tendon("plan", "--athlete", "ana", "--export", str(out), "--json", env=env)
    assert both_flags.returncode != 0 and "--json and --export" in both_flags.stderr
    assert not out.exists()
