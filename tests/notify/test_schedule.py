"""Quiet hours defer (never drop) and digests group alerts into one message per period."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from notify_helpers import NOW, add_alert, add_plan, make_settings

from tendon_pipeline.connectors.notifiers.config import Coach, next_digest_at, quiet_until
from tendon_pipeline.app.delivery import deliver_pending, plan_deliveries
from tendon_pipeline.warehouse import outbox


def maria(webhook, **extra):
    return {"name": "Maria", "athletes": ["ana", "ben"], "notify": [webhook.url()], **extra}


def test_quiet_hours_defer_until_morning_in_the_coach_time_zone(tmp_path, wh, webhook):
    settings = make_settings(tmp_path, coaches=[maria(webhook, quiet_hours="22:00-07:00", timezone="Europe/Oslo")],
                             notify={"outbox": False})
    night = datetime(2026, 11, 25, 22, 30)  # 23:30 in Oslo
    add_alert(wh)
    plan_deliveries(wh, settings, night)
    [result] = deliver_pending(wh, settings, night).results
    assert (result.outcome, result.error, result.next_attempt_at) == ("deferred", "quiet hours", "2026-11-26T06:00:00")
    assert deliver_pending(wh, settings, datetime(2026, 11, 26, 5, 59)).results == []
    assert webhook.received == []
    assert deliver_pending(wh, settings, datetime(2026, 11, 26, 6, 0)).delivered == 1
    assert len(webhook.received) == 1 and outbox.deliveries(wh)[0].attempts == 1  # a deferral is no attempt


def test_daily_digest_sends_one_message_with_all_alerts_at_digest_time(tmp_path, wh, webhook):
    settings = make_settings(tmp_path, coaches=[maria(webhook, digest="daily", digest_time="07:00")],
                             notify={"outbox": False})
    keys = [add_alert(wh, athlete="ana"), add_alert(wh, athlete="ana", rule="acwr", severity="high"),
            add_alert(wh, athlete="ben", severity="caution")]
    plan_deliveries(wh, settings, NOW)  # Wednesday 12:00
    assert deliver_pending(wh, settings, NOW).results == []
    assert deliver_pending(wh, settings, datetime(2026, 11, 26, 6, 59)).results == []

    webhook.script.append(503)  # the first try fails: the retry carries the same digest
    thursday = datetime(2026, 11, 26, 7, 0)
    assert [r.outcome for r in deliver_pending(wh, settings, thursday).results] == ["transient"]
    add_alert(wh, athlete="ben", rule="monotony", severity="caution", day=thursday.date())
    plan_deliveries(wh, settings, thursday + timedelta(minutes=1))  # joins Friday's digest, not this one
    [result] = deliver_pending(wh, settings, thursday + timedelta(hours=1)).results
    assert (result.outcome, result.items) == ("delivered", 3)

    [digest] = webhook.received
    body = digest.body
    assert body["title"] == "Tendon daily digest for Maria: 3 alerts"
    assert (body["tendon"]["kind"], body["tendon"]["digest"]) == ("digest", "daily")
    assert sorted(a["alert_key"] for a in body["tendon"]["alerts"]) == sorted(keys)
    assert body["type"] == "failure"  # the highest severity in it is "high"
    assert body["message"].splitlines()[0].startswith("- ana, high:")  # worst first
    assert body["idempotency_key"] == outbox.digest_key("coach:Maria", outbox.deliveries(wh)[0].channel, thursday)

    friday = datetime(2026, 11, 27, 7, 0)
    [later] = deliver_pending(wh, settings, friday).results
    assert later.items == 1 and len(webhook.received) == 2


def test_weekly_digest_for_a_runner_includes_the_plan(tmp_path, wh, webhook):
    settings = make_settings(tmp_path, runners=[{"athlete": "ana", "notify": [webhook.url()], "digest": "weekly",
                                                 "digest_day": "sunday", "digest_time": "18:00"}],
                             notify={"outbox": False})
    add_alert(wh)
    add_plan(wh)
    plan_deliveries(wh, settings, NOW)
    assert deliver_pending(wh, settings, datetime(2026, 11, 29, 17, 59)).results == []
    [result] = deliver_pending(wh, settings, datetime(2026, 11, 29, 18, 0)).results
    assert result.items == 2
    tendon = webhook.received[0].body["tendon"]
    assert len(tendon["alerts"]) == 1 and tendon["plans"][0]["week_start"] == "2026-11-30"
    assert webhook.received[0].body["title"] == "Tendon weekly digest for ana: 1 alert, 1 plan"


def test_a_digest_due_in_quiet_hours_waits_for_their_end(tmp_path, wh, webhook):
    settings = make_settings(tmp_path, coaches=[maria(webhook, digest="daily", digest_time="06:00",
                                                      quiet_hours="21:00-07:30")], notify={"outbox": False})
    add_alert(wh)
    plan_deliveries(wh, settings, NOW)
    [deferred] = deliver_pending(wh, settings, datetime(2026, 11, 26, 6, 0)).results
    assert deferred.outcome == "deferred" and deferred.next_attempt_at == "2026-11-26T07:30:00"
    assert deliver_pending(wh, settings, datetime(2026, 11, 26, 7, 30)).delivered == 1


def test_time_window_helpers():
    oslo = ZoneInfo("Europe/Oslo")
    assert quiet_until("22:00-07:00", oslo, datetime(2026, 11, 25, 12, 0)) is None
    assert quiet_until("22:00-07:00", oslo, datetime(2026, 11, 26, 3, 0)) == datetime(2026, 11, 26, 6, 0)
    assert quiet_until("12:00-14:00", ZoneInfo("UTC"), datetime(2026, 11, 26, 13, 0)) == datetime(2026, 11, 26, 14, 0)
    assert quiet_until("12:00-14:00", ZoneInfo("UTC"), datetime(2026, 11, 26, 14, 0)) is None
    # across the spring DST change in Berlin (29 March 2026): 07:00 local is 05:00 UTC
    berlin = ZoneInfo("Europe/Berlin")
    assert quiet_until("22:00-07:00", berlin, datetime(2026, 3, 28, 23, 0)) == datetime(2026, 3, 29, 5, 0)
    coach = Coach(name="M", athletes=["a"], digest="weekly", digest_day="monday", digest_time="07:00")
    assert next_digest_at(coach, ZoneInfo("UTC"), datetime(2026, 11, 30, 7, 0)) == datetime(2026, 12, 7, 7, 0)
    assert next_digest_at(coach, ZoneInfo("UTC"), datetime(2026, 11, 30, 6, 59)) == datetime(2026, 11, 30, 7, 0)
