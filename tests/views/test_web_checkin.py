"""The runner's check-in validates as `tendon log` does and stores what `tendon log` stores;
coaches' feedback becomes the precision of each rule and severity."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from click.testing import CliRunner

from tendon_pipeline.domain.models import Alert
from tendon_pipeline.warehouse.feedback import (FeedbackOutcome, UnknownAlertError, alert_precision, latest_feedback,
                                                log_unwell, record_feedback)
from tendon_pipeline.warehouse.history import store_alerts
from tendon_pipeline.warehouse.store import open_warehouse
from tendon_pipeline.web.checkin import CheckInError, parse_checkin, record_checkin

DAY = "2026-06-03"


def _cli(db, *args: str):  # noqa: ANN001
    from tendon_pipeline.cli.main import cli

    return CliRunner().invoke(cli, ["--db", str(db), "log", *args])


@pytest.mark.parametrize(("form", "field", "cli_args"), [
    ({"exercise": "calf_raise", "sets": "0", "reps": "12"}, "sets", ["--sets", "0", "--reps", "12"]),
    ({"exercise": "calf_raise", "sets": "51", "reps": "12"}, "sets", ["--sets", "51", "--reps", "12"]),
    ({"exercise": "calf_raise", "sets": "3", "reps": "501"}, "reps", ["--sets", "3", "--reps", "501"]),
    ({"exercise": "calf_raise", "sets": "3", "seconds": "0.5"}, "seconds", ["--sets", "3", "--seconds", "0.5"]),
    ({"exercise": "calf_raise", "sets": "3", "reps": "12", "load_kg": "-1"}, "load_kg",
     ["--sets", "3", "--reps", "12", "--load-kg", "-1"]),
    ({"exercise": "calf_raise", "sets": "three", "reps": "12"}, "sets", ["--sets", "three", "--reps", "12"]),
])
def test_a_strength_value_the_cli_refuses_is_refused_with_the_same_words(settings, form, field, cli_args):
    with pytest.raises(CheckInError) as caught:
        parse_checkin(form, "ana", settings)
    cli = _cli(settings.db, "strength", "--athlete", "ana", "--exercise", "calf_raise", *cli_args)
    assert cli.exit_code == 2 and caught.value.errors[field] in cli.output, (caught.value.errors, cli.output)


@pytest.mark.parametrize(("form", "field", "cli_args"), [
    ({"during": "11"}, "during", ["--during", "11"]),
    ({"during": "-1"}, "during", ["--during", "-1"]),
    ({"during": "3", "next_morning": "12"}, "next_morning", ["--during", "3", "--next-morning", "12"]),
    ({"during": "3", "day": "2026-13-01"}, "day", ["--during", "3", "--date", "2026-13-01"]),
])
def test_a_pain_value_the_cli_refuses_is_refused_with_the_same_words(settings, form, field, cli_args):
    with pytest.raises(CheckInError) as caught:
        parse_checkin(form, "ana", settings)
    cli = _cli(settings.db, "pain", "--athlete", "ana", *cli_args)
    assert cli.exit_code == 2 and caught.value.errors[field] in cli.output, (caught.value.errors, cli.output)


def test_the_rules_the_cli_checks_in_its_body_hold_in_the_form_too(settings):
    cases = [({"exercise": "calf_raise", "sets": "3", "reps": "12", "seconds": "30"}, "reps"),  # both
             ({"exercise": "calf_raise", "sets": "3"}, "reps"),  # neither
             ({"sets": "3", "reps": "12"}, "exercise"),
             ({"next_morning": "3"}, "during"),  # tendon log pain needs --during
             ({}, "form")]  # nothing to save
    for form, field in cases:
        with pytest.raises(CheckInError) as caught:
            parse_checkin(form, "ana", settings)
        assert field in caught.value.errors, (form, caught.value.errors)
    both = _cli(settings.db, "strength", "--athlete", "ana", "--exercise", "x", "--sets", "3", "--reps", "1",
                "--seconds", "30")
    assert both.exit_code == 2 and "exactly one of --reps or --seconds" in both.output


def test_a_check_in_stores_what_tendon_log_stores(tmp_path, settings):
    """The same entry through the CLI and through the form: the same rows."""
    cli_db = tmp_path / "cli.duckdb"
    assert _cli(cli_db, "strength", "--athlete", "ana", "--exercise", "Eccentric heel-drop", "--sets", "3",
                "--reps", "12", "--load-kg", "10", "--date", DAY).exit_code == 0
    assert _cli(cli_db, "pain", "--athlete", "ana", "--during", "4", "--next-morning", "2", "--date", DAY).exit_code == 0
    checkin = parse_checkin({"day": DAY, "exercise": "Eccentric heel-drop", "sets": "3", "reps": "12", "load_kg": "10",
                             "during": "4", "next_morning": "2", "unwell": "on"}, "ana", settings)
    with open_warehouse(settings.db) as wh:
        result = record_checkin(wh, settings, checkin)
        web_rows = _logged(wh)
        unwell = wh.con.execute("SELECT athlete_id, local_date FROM unwell_log").fetchall()
    with open_warehouse(cli_db) as wh:
        cli_rows = _logged(wh)
    assert web_rows == cli_rows and web_rows[0][0][2] == "eccentric_heel_drop"
    assert unwell == [("ana", date.fromisoformat(DAY))]
    assert result.plan_after.athlete_id == "ana" and result.plan_before is None  # evaluated at once
    assert result.checkin.summary() == ["pain during 4/10, next morning 2/10", "eccentric heel drop: 3 x 12 + 10 kg",
                                        "feeling unwell"]


def _logged(wh):  # noqa: ANN001, ANN202
    strength = wh.con.execute("SELECT athlete_id, local_date, exercise, kind, sets, reps, seconds, load_kg"
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
    assert {(f.given_by, f.outcome) for f in shown} == {("kim", FeedbackOutcome.ACTED_ON), ("lee", FeedbackOutcome.NOT_NEEDED)}
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
