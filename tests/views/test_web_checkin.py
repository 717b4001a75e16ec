"""The runner's check-in validates as `tendon log` does and stores what `tendon log` stores;
coaches' feedback becomes the precision of each rule and severity."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from click.testing import CliRunner

from tendon_pipeline.domain.models import Alert
from tendon_pipeline.warehouse.feedback import (
    FeedbackOutcome,
    UnknownAlertError,
    alert_precision,
    latest_feedback,
    log_unwell,
    record_feedback,
)
from tendon_pipeline.warehouse.history import store_alerts
from tendon_pipeline.warehouse.store import open_warehouse
from tendon_pipeline.web.checkin import CheckInError, parse_checkin, record_checkin

DAY = "2026-06-03"


def _cli(db, *args: str):
    from tendon_pipeline.cli.main import cli

    return CliRunner().invoke(cli, ["--db", str(db), "log", *args])


STRENGTH_REFUSED = [  # form, the field named, the same values given to tendon log strength
    ({"exercise": "calf_raise", "sets": "0", "reps": "12"}, "sets", ["--sets", "0", "--reps", "12"]),
    ({"exercise": "calf_raise", "sets": "51", "reps": "12"}, "sets", ["--sets", "51", "--reps", "12"]),
    ({"exercise": "calf_raise", "sets": "3", "reps": "501"}, "reps", ["--sets", "3", "--reps", "501"]),
    ({"exercise": "calf_raise", "sets": "3", "seconds": "0.5"}, "seconds", ["--sets", "3", "--seconds", "0.5"]),
    ({"exercise": "calf_raise", "sets": "3", "reps": "12", "load_kg": "-1"}, "load_kg",
     ["--sets", "3", "--reps", "12", "--load-kg", "-1"]),
    ({"exercise": "calf_raise", "sets": "three", "reps": "12"}, "sets", ["--sets", "three", "--reps", "12"]),
    ({"exercise": "calf_raise", "sets": "3", "reps": "12", "seconds": "30"}, "reps",
     ["--sets", "3", "--reps", "12", "--seconds", "30"]),
    ({"exercise": "calf_raise", "sets": "3"}, "reps", ["--sets", "3"]),
    ({"exercise": "  ", "sets": "3", "reps": "12"}, "exercise", ["--sets", "3", "--reps", "12"]),
    ({"exercise": "calf_raise", "sets": "3", "reps": "12", "variant": "one_leg"}, "variant",
     ["--sets", "3", "--reps", "12", "--variant", "one-leg"]),
]


@pytest.mark.parametrize(("form", "field", "cli_args"), STRENGTH_REFUSED)
def test_a_tendon_session_the_cli_refuses_is_refused_by_the_form(settings, form, field, cli_args):
    with pytest.raises(CheckInError) as caught:
        parse_checkin(form, "ana", settings)
    assert field in caught.value.errors, caught.value.errors
    exercise = form["exercise"]
    cli = _cli(settings.db, "strength", "--athlete", "ana", "--exercise", exercise, *cli_args)
    assert cli.exit_code == 2, cli.output
    assert not settings.db.exists() or _count(settings.db, "strength_log") == 0  # nothing stored by either


@pytest.mark.parametrize(("form", "field", "cli_args"), [
    ({"during": "11"}, "during", ["--during", "11"]),
    ({"during": "-1"}, "during", ["--during", "-1"]),
    ({"during": "3", "next_morning": "12"}, "next_morning", ["--during", "3", "--next-morning", "12"]),
    ({"during": "3", "day": "2026-13-01"}, "day", ["--during", "3", "--date", "2026-13-01"]),
    ({"next_morning": "3"}, "during", ["--next-morning", "3"]),  # tendon log pain needs --during
])
def test_a_pain_report_the_cli_refuses_is_refused_by_the_form(settings, form, field, cli_args):
    with pytest.raises(CheckInError) as caught:
        parse_checkin(form, "ana", settings)
    assert field in caught.value.errors, caught.value.errors
    cli = _cli(settings.db, "pain", "--athlete", "ana", *cli_args)
    assert cli.exit_code == 2, cli.output


def test_the_limits_are_declared_once_for_the_cli_and_the_form(settings):
    from tendon_pipeline.cli.rules import log_pain, log_strength
    from tendon_pipeline.domain import logbook

    options = {p.name: p.type for p in (*log_strength.params, *log_pain.params)}
    for name, limits in (("sets", logbook.SETS), ("reps", logbook.REPS), ("seconds", logbook.SECONDS),
                         ("load_kg", logbook.LOAD_KG), ("during", logbook.PAIN), ("next_morning", logbook.PAIN)):
        assert (options[name].min, options[name].max) == limits, name
        with pytest.raises(CheckInError) as caught:  # one above the top: the form refuses it too
            pain = name in ("during", "next_morning")
            form = {"during": "1"} if pain else {"exercise": "x", "sets": "3", "reps": "3"}
            form = {**form, name: str(limits[1] + 1)}
            if name == "seconds":
                form.pop("reps")
            parse_checkin(form, "ana", settings)
        assert name in caught.value.errors, (name, caught.value.errors)
    with pytest.raises(CheckInError, match="nothing to save"):
        parse_checkin({}, "ana", settings)


RACE_REFUSED = [  # form, the field named, the same values given to tendon log race
    ({"race_day": "2026-07-01", "distance_km": "0"}, "distance_km", ["--date", "2026-07-01", "--distance-km", "0"]),
    ({"race_day": "2026-07-01", "distance_km": "401"}, "distance_km",
     ["--date", "2026-07-01", "--distance-km", "401"]),
    ({"race_day": "2026-07-01", "distance_km": "ten"}, "distance_km",
     ["--date", "2026-07-01", "--distance-km", "ten"]),
    ({"race_day": "2026-07-01", "distance_km": "10", "priority": "D"}, "priority",
     ["--date", "2026-07-01", "--distance-km", "10", "--priority", "D"]),
    ({"race_day": "2026-13-01", "distance_km": "10"}, "race_day", ["--date", "2026-13-01", "--distance-km", "10"]),
    ({"distance_km": "10"}, "race_day", ["--distance-km", "10"]),  # tendon log race needs --date
    ({"race_day": "2026-07-01"}, "distance_km", ["--date", "2026-07-01"]),  # and --distance-km
    ({"race_day": "2026-07-01", "distance_km": "10", "race_name": "x" * 101}, "race_name",
     ["--date", "2026-07-01", "--distance-km", "10", "--name", "x" * 101]),
]


@pytest.mark.parametrize(("form", "field", "cli_args"), RACE_REFUSED)
def test_a_race_the_cli_refuses_is_refused_by_the_form(tmp_path, settings, form, field, cli_args):
    with pytest.raises(CheckInError) as caught:
        parse_checkin(form, "ana", settings)
    assert field in caught.value.errors, caught.value.errors
    cli_db = tmp_path / "cli.duckdb"
    with open_warehouse(cli_db) as wh:
        wh.ensure_athlete("ana")
    cli = _cli(cli_db, "race", "--athlete", "ana", *cli_args)
    assert cli.exit_code == 2, cli.output
    assert _count(cli_db, "race_log") == 0  # nothing stored


def test_the_race_limits_are_declared_once_for_the_cli_and_the_form():
    from tendon_pipeline.cli.rules import log_race
    from tendon_pipeline.domain import logbook

    options = {p.name: p.type for p in log_race.params}
    assert (options["distance_km"].min, options["distance_km"].max) == logbook.RACE_KM
    assert options["distance_km"].min_open and not options["distance_km"].max_open
    assert tuple(options["priority"].choices) == logbook.RACE_PRIORITIES


def test_a_race_from_the_check_in_stores_what_tendon_log_race_stores(tmp_path, settings):
    race_day = (date.fromisoformat(DAY) + timedelta(days=25)).isoformat()  # ahead: allowed for a race
    cli_db = tmp_path / "cli.duckdb"
    for db in (cli_db, settings.db):
        with open_warehouse(db) as wh:
            wh.ensure_athlete("ana")
    cli = _cli(cli_db, "race", "--athlete", "ana", "--date", race_day, "--distance-km", "21.1", "--priority", "b",
               "--name", "  Oslo half ")
    assert cli.exit_code == 0, cli.output
    checkin = parse_checkin({"day": DAY, "race_day": race_day, "distance_km": "21.1", "priority": "b",
                             "race_name": "  Oslo half "}, "ana", settings)
    with open_warehouse(settings.db) as wh:
        result = record_checkin(wh, settings, checkin)
        web_rows = _races(wh)
    with open_warehouse(cli_db) as wh:
        cli_rows = _races(wh)
    assert web_rows == cli_rows == [("ana", date.fromisoformat(race_day), 21.1, "B", "Oslo half")]
    assert result.evaluation.plan.athlete_id == "ana"  # evaluated at once, as the CLI does
    assert checkin.summary() == [f"B race on {race_day}: 21.1 km (Oslo half)"]


def test_the_priority_select_alone_is_no_race(settings):
    with pytest.raises(CheckInError, match="nothing to save"):
        parse_checkin({"priority": "A"}, "ana", settings)  # the select always posts a value


def _races(wh):
    return wh.con.execute("SELECT athlete_id, local_date, distance_km, priority, name FROM race_log").fetchall()


def _count(db, table: str) -> int:
    with open_warehouse(db) as wh:
        return wh.con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_a_check_in_stores_what_tendon_log_stores(tmp_path, settings):
    """The same entry through the CLI and through the form: the same rows."""
    cli_db = tmp_path / "cli.duckdb"
    for db in (cli_db, settings.db):  # `tendon log` refuses a warehouse or an athlete it does not know
        with open_warehouse(db) as wh:
            wh.ensure_athlete("ana")
    assert _cli(cli_db, "strength", "--athlete", "ana", "--exercise", "Eccentric heel-drop", "--sets", "3",
                "--reps", "12", "--load-kg", "10", "--variant", "two-leg", "--date", DAY).exit_code == 0
    assert _cli(cli_db, "pain", "--athlete", "ana", "--during", "4", "--next-morning", "2",
                "--date", DAY).exit_code == 0
    checkin = parse_checkin({"day": DAY, "exercise": "Eccentric heel-drop", "sets": "3", "reps": "12", "load_kg": "10",
                             "variant": "two_leg", "during": "4", "next_morning": "2", "unwell": "on"}, "ana", settings)
    with open_warehouse(settings.db) as wh:
        result = record_checkin(wh, settings, checkin)
        web_rows = _logged(wh)
        unwell = wh.con.execute("SELECT athlete_id, local_date FROM unwell_log").fetchall()
    with open_warehouse(cli_db) as wh:
        cli_rows = _logged(wh)
    assert web_rows == cli_rows and web_rows[0][0][2] == "eccentric_heel_drop"
    assert unwell == [("ana", date.fromisoformat(DAY))]
    assert result.evaluation.plan.athlete_id == "ana" and result.plan_before is None  # evaluated at once
    assert web_rows[0][0][-1] == "two_leg"
    assert checkin.summary() == ["pain during 4/10, next morning 2/10",
                                 "eccentric heel drop: 3 x 12 + 10 kg (two leg)", "feeling unwell"]


def _logged(wh):
    strength = wh.con.execute("SELECT athlete_id, local_date, exercise, kind, sets, reps, seconds, load_kg, variant"
                              " FROM strength_log ORDER BY exercise").fetchall()
    pain = wh.con.execute("SELECT athlete_id, local_date, during, next_morning FROM pain_log").fetchall()
    return strength, pain


def _alert(athlete: str, rule: str, severity: str, period: str) -> Alert:
    return Alert(athlete_id=athlete, rule=rule, severity=severity, date=date(2026, 6, 1), period=period,
                 message="m", evidence={"x": 1}, source="s")


def test_precision_counts_each_coachs_latest_answer_per_rule_and_severity(warehouse):
    alerts = [_alert("ana", "session_spike", "high", "a1"), _alert("ben", "session_spike", "high", "b1"),
              _alert("ana", "session_spike", "warning", "a2"), _alert("ana", "monotony", "caution", "2026-W22")]
    store_alerts(warehouse, alerts, "e1")
    spike_ana, spike_ben, spike_warning, monotony = (a.key for a in alerts)
    record_feedback(warehouse, "ana", spike_ana, FeedbackOutcome.FALSE_ALARM, "kim")
    record_feedback(warehouse, "ana", spike_ana, FeedbackOutcome.ACTED_ON, "kim", note="  cut the long run ")
    record_feedback(warehouse, "ana", spike_ana, FeedbackOutcome.NOT_NEEDED, "lee")
    record_feedback(warehouse, "ben", spike_ben, FeedbackOutcome.FALSE_ALARM, "kim")
    record_feedback(warehouse, "ana", spike_warning, FeedbackOutcome.ACTED_ON, "kim")
    with pytest.raises(UnknownAlertError):
        record_feedback(warehouse, "ben", spike_ana, FeedbackOutcome.ACTED_ON, "kim")  # not ben's alert
    rows = {(r["rule"], r["severity"]): r for r in alert_precision(warehouse)}
    high = rows[("session_spike", "high")]
    assert (high["answers"], high["alerts_answered"], high["acted_on"], high["not_needed"], high["false_alarm"]) \
        == (3, 2, 1, 1, 1)
    assert high["precision"] == pytest.approx(1 / 3) and high["false_alarm_share"] == pytest.approx(1 / 3)
    assert rows[("session_spike", "warning")]["precision"] == 1.0
    assert ("monotony", "caution") not in rows  # nobody answered it
    assert list(rows) == [("session_spike", "high"), ("session_spike", "warning")]  # worst first
    shown = latest_feedback(warehouse, "ana")[spike_ana]
    assert {(f.given_by, f.outcome) for f in shown} == {("kim", FeedbackOutcome.ACTED_ON),
                                                        ("lee", FeedbackOutcome.NOT_NEEDED)}
    assert next(f for f in shown if f.given_by == "kim").note == "cut the long run"
    assert warehouse.con.execute("SELECT count(*) FROM alert_feedback").fetchone()[0] == 5  # every answer kept


def test_a_runner_who_feels_unwell_shows_on_the_coach_page(built, writable_db):
    from tendon_pipeline.web.pages import coach_entries

    settings = built.settings(writable_db)
    with open_warehouse(writable_db) as wh:
        log_unwell(wh, "ben", built.as_of - timedelta(days=1))
        log_unwell(wh, "ben", built.as_of - timedelta(days=1))  # once per day
        entries = {e.row.athlete_id: e for e in coach_entries(wh, settings, "Kim")}
    assert entries["ben"].unwell == [built.as_of - timedelta(days=1)] and entries["ana"].unwell == []
    assert [a.rule for a in entries["ben"].alerts][0] == "session_spike"  # with the numbers, worst first
    assert entries["ben"].alerts[0].evidence["increase_pct"] > 100


def test_feeling_unwell_from_the_check_in_holds_next_weeks_plan(built, writable_db):
    """The check-in's unwell day reaches the plan (status unwell, below the usual level, the reason
    citing RULES.md) and raises no alert."""
    settings = built.settings(writable_db)
    with open_warehouse(writable_db) as wh:
        before = record_checkin(wh, settings, parse_checkin({"during": "1"}, "ana", settings)).evaluation
        assert before.plan.status not in ("unwell", "pain", "restart")
        after = record_checkin(wh, settings, parse_checkin({"unwell": "on"}, "ana", settings)).evaluation
        stored = wh.con.execute("SELECT status FROM plans WHERE athlete_id = 'ana' AND week_start = ?",
                                [after.plan.week_start]).fetchone()
    assert after.plan.status == "unwell" and stored == ("unwell",)
    assert after.new_alerts == [] and after.alerts == before.alerts
    assert after.plan.target_km_low == 0.0
    assert after.plan.target_km_high < max(before.plan.target_km_low, 0.1)
    assert "feeling unwell" in after.plan.reasons[0] and "RULES.md" in after.plan.reasons[0]


def test_a_day_after_today_is_refused_by_the_form_as_by_tendon_log(settings):
    """Pain, a tendon session or feeling unwell happened up to today (`tendon log` refuses a later
    --date through the same domain.logbook.logged_day); a race may be ahead."""
    from tendon_pipeline.app.evaluate import today_for

    today = today_for(settings, "ana")
    tomorrow = (today + timedelta(days=1)).isoformat()
    for form in ({"during": "3", "day": tomorrow},
                 {"exercise": "calf_raise", "sets": "3", "reps": "12", "day": tomorrow},
                 {"unwell": "on", "day": tomorrow}):
        with pytest.raises(CheckInError) as caught:
            parse_checkin(form, "ana", settings)
        assert "in the future" in caught.value.errors.get("day", ""), (form, caught.value.errors)
    assert parse_checkin({"during": "3", "day": today.isoformat()}, "ana", settings).pain is not None
    race = parse_checkin({"race_day": tomorrow, "distance_km": "10"}, "ana", settings).race
    assert race is not None and race.local_date.isoformat() == tomorrow


def test_a_misspelt_exercise_is_stored_with_a_note_by_the_cli_and_the_form(tmp_path, settings):
    """A name the catalogue does not know counts only as general strength work (its doses are not
    followed): both ways in store it, say so and suggest the closest known name."""
    with open_warehouse(settings.db) as wh:
        wh.ensure_athlete("ana")
    cli = _cli(settings.db, "strength", "--athlete", "ana", "--exercise", "eccentric_heel_dorp", "--sets", "3",
               "--reps", "12", "--date", DAY)
    assert cli.exit_code == 0, cli.output
    assert "not an exercise the program knows" in cli.output and "Did you mean eccentric_heel_drop?" in cli.output
    form = parse_checkin({"day": DAY, "exercise": "eccentric heel dorp", "sets": "3", "reps": "12"}, "ana", settings)
    assert any("Did you mean eccentric_heel_drop?" in line for line in form.summary())
    known = parse_checkin({"day": DAY, "exercise": "eccentric heel drop", "sets": "3", "reps": "12"}, "ana", settings)
    assert not any("not an exercise" in line for line in known.summary())
    assert _count(settings.db, "strength_log") == 1
