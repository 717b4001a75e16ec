"""Routing: the right coach only, runners get their own alerts and plans, severity, horizon,
and the configuration shape (one TOML file)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from notify_helpers import NOW, add_alert, add_plan, make_settings

from tendon_pipeline.app.delivery import deliver_pending, plan_deliveries, recipients
from tendon_pipeline.connectors.notifiers.outbox_file import read_outbox
from tendon_pipeline.errors import ConfigError
from tendon_pipeline.warehouse import outbox


def test_each_coach_gets_only_their_athletes_and_runners_their_own(tmp_path, wh, webhook):
    settings = make_settings(
        tmp_path,
        coaches=[{"name": "Maria", "athletes": ["ana", "ben"], "notify": [webhook.url("/maria")]},
                 {"name": "Jon", "athletes": ["cara"], "notify": [webhook.url("/jon")]}],
        runners=[{"athlete": "ana", "notify": [webhook.url("/ana")]}])
    for athlete in ("ana", "ben", "cara", "dan"):
        add_alert(wh, athlete=athlete)
    add_plan(wh, athlete="ana")
    add_plan(wh, athlete="ben")
    plan_deliveries(wh, settings, NOW)
    report = deliver_pending(wh, settings, NOW)
    assert report.failed == report.retrying == 0

    assert sorted(webhook.alert_keys("/maria")) == ["ana:weekly_volume_increase:2026-11-16",
                                                    "ben:weekly_volume_increase:2026-11-16"]
    assert webhook.alert_keys("/jon") == ["cara:weekly_volume_increase:2026-11-16"]
    assert all(r.body["tendon"]["plans"] == [] for r in webhook.received if r.path != "/ana")
    runner = [r.body["tendon"] for r in webhook.received if r.path == "/ana"]
    assert sorted(t["kind"] for t in runner) == ["alert", "plan"]
    assert [a["athlete_id"] for t in runner for a in t["alerts"]] == ["ana"]
    assert [p["athlete_id"] for t in runner for p in t["plans"]] == ["ana"]
    # the local outbox (built in) has everything: 4 alerts and 2 plans
    assert len(read_outbox(tmp_path / "outbox.jsonl")) == 6


def test_min_severity_and_the_routing_horizon(tmp_path, wh, webhook):
    settings = make_settings(tmp_path, coaches=[
        {"name": "Maria", "athletes": ["ana"], "notify": [webhook.url()], "min_severity": "warning"}],
        notify={"outbox": False, "max_age_days": 14})
    add_alert(wh, rule="monotony", severity="caution")
    high = add_alert(wh, rule="acwr", severity="high")
    add_alert(wh, rule="pain_monitoring.during", severity="warning", day=NOW.date() - timedelta(days=15))
    plan_deliveries(wh, settings, NOW)
    deliver_pending(wh, settings, NOW)
    assert webhook.alert_keys() == [high]


def test_a_changed_plan_is_sent_again_an_unchanged_one_is_not(tmp_path, wh, webhook):
    settings = make_settings(tmp_path, runners=[{"athlete": "ana", "notify": [webhook.url()]}],
                             notify={"outbox": False})
    add_plan(wh, low=30, high=34)
    plan_deliveries(wh, settings, NOW)
    deliver_pending(wh, settings, NOW)
    add_plan(wh, low=30, high=34)  # re-evaluated, same plan
    assert plan_deliveries(wh, settings, NOW) == 0
    add_plan(wh, low=24, high=28)  # changed twice before the next send: only the latest goes out
    plan_deliveries(wh, settings, NOW)
    add_plan(wh, low=20, high=22, status="pain")
    plan_deliveries(wh, settings, NOW)
    deliver_pending(wh, settings, NOW)
    assert [r.body["tendon"]["plans"][0]["target_km_high"] for r in webhook.received] == [34, 22]
    assert "Run 20-22 km, long run at most 9 km." in webhook.received[-1].body["message"]
    assert outbox.status_counts(wh) == {"delivered": 2, "superseded": 1}
    add_plan(wh, low=30, high=34)  # back to the first version: a change for the runner, sent
    plan_deliveries(wh, settings, NOW)
    deliver_pending(wh, settings, NOW)
    assert [r.body["tendon"]["plans"][0]["target_km_high"] for r in webhook.received] == [34, 22, 34]


def test_pending_deliveries_of_a_removed_recipient_are_cancelled(tmp_path, wh, webhook):
    settings = make_settings(tmp_path, coaches=[{"name": "Maria", "athletes": ["ana"], "notify": [webhook.url()]}],
                             notify={"outbox": False})
    add_alert(wh)
    plan_deliveries(wh, settings, NOW)
    report = deliver_pending(wh, make_settings(tmp_path, notify={"outbox": False}), NOW)
    assert [(r.outcome, r.error) for r in report.results] == [("cancelled", "recipient no longer configured")]
    assert webhook.received == []


def test_the_embedded_default_shows_alerts_on_the_console_and_in_the_outbox(tmp_path, wh, capsys):
    from tendon_pipeline.config.settings import Settings

    settings = Settings(db=tmp_path / "wh.duckdb")  # nothing configured
    add_alert(wh, severity="info", rule="acwr")
    plan_deliveries(wh, settings, NOW)
    assert deliver_pending(wh, settings, NOW).delivered == 2
    out = capsys.readouterr().out
    assert "[INFO] ana: acwr (info)  (to local)" in out and "42.0 km" in out and "Nielsen" in out
    [line] = read_outbox(tmp_path / "notifications.jsonl")
    assert line["tendon"]["alerts"][0]["alert_key"] == "ana:acwr:2026-11-16"


def test_the_config_file_shape(tmp_path, monkeypatch):
    from tendon_pipeline.config.settings import load_settings

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    config = tmp_path / "config.toml"
    config.write_text('''
[[athletes]]
id = "ana"
timezone = "Europe/Madrid"

[[coaches]]
name = "Maria"
athletes = ["ana", "ben"]
notify = ["env:MARIA_SLACK", "mailtos://coach:pw@mail.example.org?to=maria@example.org"]
min_severity = "warning"
quiet_hours = "22:00-07:00"
timezone = "Europe/Oslo"
digest = "daily"

[[runners]]
athlete = "ana"
notify = ["ntfys://ntfy.sh/ana-tendon-7f3k"]

[notify]
console = false
retry_for_hours = 24
''')
    settings = load_settings(config)
    [coach] = settings.coaches
    assert coach.athletes == ["ana", "ben"] and coach.digest == "daily" and coach.quiet_hours == "22:00-07:00"
    assert "pw@" not in repr(settings) and "ana-tendon-7f3k" not in repr(settings)
    found = {r.id: r for r in recipients(settings)}
    assert set(found) == {"local", "coach:Maria", "runner:ana"}
    assert found["runner:ana"].timezone == "Europe/Madrid"  # the athlete's zone
    assert list(found["coach:Maria"].channels)[0] == "env:MARIA_SLACK"
    assert list(found["coach:Maria"].channels)[1].startswith("mailtos://mail.example.org#")
    assert list(found["local"].channels) == ["outbox"]


@pytest.mark.parametrize("snippet, where", [
    ('[[coaches]]\nname = "M"\nathletes = ["a"]\nquiet_hours = "22-7"\n', "coaches.0.quiet_hours"),
    ('[[coaches]]\nname = "M"\nathletes = ["a"]\nmin_severity = "urgent"\n', "coaches.0.min_severity"),
    ('[[coaches]]\nname = "M"\nathletes = ["a"]\ntimezone = "Mars/Base"\n', "coaches.0.timezone"),
    ('[[coaches]]\nname = "M"\nathletes = ["a"]\nnotify = ["xoxb-S3CRETTOKEN"]\n', "coaches.0.notify"),
    ('[[coaches]]\nname = "M"\nathletes = ["a"]\nnotify = ["env:not a name"]\n', "coaches.0.notify"),
    ('[[coaches]]\nname = "M"\nathletes = ["a"]\n[[coaches]]\nname = "M"\nathletes = ["b"]\n', "coaches"),
    ('[[coaches]]\nname = "M"\nathlete = ["a"]\n', "coaches.0"),
    ('[notify]\nretry_for_hours = 0\n', "notify.retry_for_hours"),
])
def test_config_errors_name_the_key_and_the_file_and_never_the_secret(tmp_path, monkeypatch, snippet, where):
    from tendon_pipeline.config.settings import load_settings

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    config = tmp_path / "config.toml"
    config.write_text(snippet)
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    text = str(caught.value)
    assert where in text and str(config) in text
    assert "S3CRETTOKEN" not in text


def test_runner_timezone_defaults_to_utc_without_athlete_config(tmp_path):
    settings = make_settings(tmp_path, runners=[{"athlete": "zoe", "notify": ["console"]}])
    runner = {r.id: r for r in recipients(settings)}["runner:zoe"]
    assert runner.timezone is None and runner.display == "zoe" and list(runner.channels) == ["console"]


def test_a_coach_gets_one_message_per_athlete_per_evaluation(tmp_path, wh, webhook):
    settings = make_settings(tmp_path, coaches=[{"name": "M", "athletes": ["ana", "ben"], "notify": [webhook.url()]}],
                             notify={"outbox": False})
    ana = [add_alert(wh, rule="weekly_volume_increase"), add_alert(wh, rule="session_spike", severity="caution"),
           add_alert(wh, rule="pain_monitoring.during", severity="warning")]
    ben = add_alert(wh, athlete="ben", rule="session_spike", severity="caution")
    plan_deliveries(wh, settings, NOW)
    deliver_pending(wh, settings, NOW)
    assert len(webhook.received) == 2  # ana's three incidents in one message, ben's in another
    by_athlete = {r.body["tendon"]["alerts"][0]["athlete_id"]: r.body for r in webhook.received}
    assert sorted(a["alert_key"] for a in by_athlete["ana"]["tendon"]["alerts"]) == sorted(ana)
    assert [a["alert_key"] for a in by_athlete["ben"]["tendon"]["alerts"]] == [ben]
    assert "3 alerts" in by_athlete["ana"]["title"]
    assert by_athlete["ana"]["message"].count("\n- ") >= 2  # one line per incident
    add_alert(wh, rule="monotony", severity="caution", evaluation="eval-2")  # the next evaluation
    plan_deliveries(wh, settings, NOW)
    deliver_pending(wh, settings, NOW)
    assert len(webhook.received) == 3
