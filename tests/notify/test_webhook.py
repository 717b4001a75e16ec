"""JSON webhooks through Apprise to a real HTTP server on loopback: payload, exactly once,
recovery after downtime, permanent failures."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tendon_pipeline.app.delivery import deliver_pending, notify_command, plan_deliveries
from tendon_pipeline.warehouse import outbox
from tendon_pipeline.warehouse.store import open_warehouse

from notify_helpers import NOW, WebhookReceiver, add_alert, add_plan, make_settings


def coach(url: str, athletes=("ana",), **extra):
    return {"name": "Maria", "athletes": list(athletes), "notify": [url], **extra}


def test_payload_carries_key_alert_fields_numbers_advice_and_source(tmp_path, wh, webhook):
    settings = make_settings(tmp_path, coaches=[coach(webhook.url())],
                             athletes=[{"id": "ana", "name": "Ana Lopez"}], notify={"outbox": False})
    key = add_alert(wh, period="2026-W47")
    add_plan(wh)
    assert plan_deliveries(wh, settings, NOW) == 1  # the coach gets the alert, not the plan
    report = deliver_pending(wh, settings, NOW)
    assert report.delivered == 1 and report.failed == 0

    [got] = webhook.received
    body = got.body
    row = outbox.deliveries(wh)[0]
    assert body["idempotency_key"] == row.delivery_id == got.headers["Idempotency-Key"]
    assert body["idempotency_key"] == outbox.delivery_key(key, "coach:Maria", row.channel)
    assert body["title"] == "Ana Lopez: weekly volume increase (warning)"
    for text in ("42.0 km", "38 %", "24-28 km", "long run at most 9 km", "Source: Nielsen et al. 2014"):
        assert text in body["message"]
    assert body["type"] == "warning"
    tendon = body["tendon"]
    assert tendon["schema"] == "tendon-pipeline.notification/1"
    assert (tendon["kind"], tendon["digest"], tendon["recipient"]) == ("alert", "none", "coach:Maria")
    [alert] = tendon["alerts"]
    assert alert == {
        "alert_key": key, "athlete_id": "ana", "athlete_name": "Ana Lopez", "rule": "weekly_volume_increase",
        "severity": "warning", "date": "2026-11-16", "period": "2026-W47",
        "message": "ana ran 42.0 km in the week, 38 % more than the 30.4 km before.",
        "evidence": {"week_km": 42.0, "previous_week_km": 30.4, "increase_pct": 38},
        "source": "Nielsen et al. 2014", "evaluation_id": "eval-1",
        "advice": "Week of 2026-11-30: 24-28 km, long run at most 9 km (plan: cut)",
    }
    assert tendon["plans"] == []


def test_exactly_once_across_reruns_and_a_restart(tmp_path, webhook):
    settings = make_settings(tmp_path, coaches=[coach(webhook.url(), athletes=["ana", "ben"])])
    with open_warehouse(settings.db) as wh:
        for athlete in ("ana", "ben"):
            add_alert(wh, athlete=athlete)
    first = notify_command(settings, NOW)
    assert first.delivered == 2 + 2  # two alerts to the coach, two to the local outbox file
    for later in (NOW, NOW + timedelta(minutes=5), NOW + timedelta(days=1)):  # re-runs, new processes
        again = notify_command(settings, later)
        assert again.routed == 0 and again.results == []
    with open_warehouse(settings.db) as wh:  # a new alert goes out, the old ones do not
        add_alert(wh, athlete="ana", rule="session_spike", day=NOW.date(), severity="caution")
    assert notify_command(settings, NOW + timedelta(days=1)).delivered == 2
    keys = webhook.keys()
    assert len(keys) == len(set(keys)) == 3
    assert sorted(webhook.alert_keys()) == sorted([
        "ana:weekly_volume_increase:2026-11-16", "ben:weekly_volume_increase:2026-11-16",
        f"ana:session_spike:{NOW.date().isoformat()}"])
    from tendon_pipeline.connectors.notifiers.outbox_file import read_outbox

    lines = read_outbox(tmp_path / "outbox.jsonl")
    assert len(lines) == len({line["idempotency_key"] for line in lines}) == 3


def test_recovery_after_the_receiver_was_down_loses_nothing_and_doubles_nothing(tmp_path, wh):
    receiver = WebhookReceiver()  # not started: connection refused
    settings = make_settings(tmp_path, coaches=[coach(receiver.url(), athletes=["ana", "ben"])],
                             notify={"outbox": False, "retry_initial_s": 60, "retry_max_s": 600})
    for athlete in ("ana", "ben"):
        add_alert(wh, athlete=athlete)
    plan_deliveries(wh, settings, NOW)

    down = deliver_pending(wh, settings, NOW)
    # the first failure opens the circuit for this run: the second message is not even tried
    assert [r.outcome for r in down.results] == ["transient", "skipped"]
    assert "cannot connect" in down.results[0].error
    # 30 s later: the failed message waits for its backoff (60 s); the skipped one was never
    # tried, so it is due and tried now
    assert [r.outcome for r in deliver_pending(wh, settings, NOW + timedelta(seconds=30)).results] == ["transient"]

    try:
        receiver.start()
        receiver.script.extend([503, 502])  # back, but still failing for a while
        t = NOW + timedelta(minutes=1)
        outcomes = []
        for step in range(12):
            report = deliver_pending(wh, settings, t)
            outcomes += [r.outcome for r in report.results]
            if not outbox.deliveries(wh, status="pending"):
                break
            t += timedelta(minutes=10)
        assert outbox.status_counts(wh) == {"delivered": 2}
        assert sorted(receiver.alert_keys()) == ["ana:weekly_volume_increase:2026-11-16",
                                                 "ben:weekly_volume_increase:2026-11-16"]
        assert len(receiver.keys()) == len(set(receiver.keys())) == 2
        attempts = wh.query("SELECT outcome, status_code, error FROM delivery_attempts ORDER BY finished_at, attempt")
        assert list(attempts.outcome).count("delivered") == 2
        assert {503, 502} <= set(attempts.status_code.dropna().astype(int))
        assert deliver_pending(wh, settings, t + timedelta(days=3)).results == []
    finally:
        receiver.stop()


def test_backoff_is_exponential_and_capped(tmp_path, wh, webhook):
    settings = make_settings(tmp_path, coaches=[coach(webhook.url())],
                             notify={"outbox": False, "retry_initial_s": 10, "retry_max_s": 35})
    add_alert(wh)
    plan_deliveries(wh, settings, NOW)
    webhook.status_by_path["/hook"] = 503
    t, waits = NOW, []
    for _ in range(4):
        [result] = deliver_pending(wh, settings, t).results
        assert result.outcome == "transient" and "HTTP 503" in result.error
        row = outbox.deliveries(wh)[0]
        waits.append((row.next_attempt_at - t).total_seconds())
        assert deliver_pending(wh, settings, row.next_attempt_at - timedelta(seconds=1)).results == []
        t = row.next_attempt_at
    assert waits == [10, 20, 35, 35]


def test_a_permanent_failure_is_marked_reported_and_not_retried(tmp_path, wh, webhook):
    settings = make_settings(tmp_path, coaches=[coach(webhook.url("/gone"))], notify={"outbox": False})
    add_alert(wh)
    plan_deliveries(wh, settings, NOW)
    webhook.status_by_path["/gone"] = 404
    report = deliver_pending(wh, settings, NOW)
    assert [r.outcome for r in report.results] == ["permanent"]
    assert report.failed == 1 and "HTTP 404" in report.results[0].error
    [row] = outbox.deliveries(wh)
    assert row.status == "failed_permanent" and row.attempts == 1 and "HTTP 404" in row.last_error
    for later in (timedelta(hours=1), timedelta(days=5)):
        plan_deliveries(wh, settings, NOW + later)
        assert deliver_pending(wh, settings, NOW + later).results == []
    assert wh.query("SELECT count(*) AS n FROM delivery_attempts").n[0] == 1


def test_transient_failures_are_given_up_after_the_retry_window(tmp_path, wh, webhook):
    settings = make_settings(tmp_path, coaches=[coach(webhook.url())],
                             notify={"outbox": False, "retry_for_hours": 1, "retry_initial_s": 1200})
    add_alert(wh)
    plan_deliveries(wh, settings, NOW)
    webhook.status_by_path["/hook"] = 500
    outcomes = [deliver_pending(wh, settings, NOW + timedelta(minutes=m)).results[0].outcome
                for m in (0, 20, 60)]
    assert outcomes == ["transient", "transient", "gave_up"]
    [row] = outbox.deliveries(wh)
    assert row.status == "failed_permanent" and row.last_error.startswith("gave up after 3 attempts")


@pytest.mark.parametrize("status, transient", [(400, False), (401, False), (403, False), (410, False),
                                               (408, True), (429, True), (500, True), (503, True)])
def test_http_status_classification(tmp_path, wh, webhook, status, transient):
    settings = make_settings(tmp_path, coaches=[coach(webhook.url())], notify={"outbox": False})
    add_alert(wh)
    plan_deliveries(wh, settings, NOW)
    webhook.status_by_path["/hook"] = status
    [result] = deliver_pending(wh, settings, NOW).results
    assert result.outcome == ("transient" if transient else "permanent")
    assert f"HTTP {status}" in result.error


def test_the_crash_window_resends_with_the_same_key(tmp_path, wh, webhook, monkeypatch):
    """Sent, then the process dies before recording it: the next run sends the same message with
    the same idempotency key, so a receiver that dedupes on it sees one delivery."""
    settings = make_settings(tmp_path, coaches=[coach(webhook.url())], notify={"outbox": False})
    add_alert(wh)
    plan_deliveries(wh, settings, NOW)
    real = outbox.record_attempt

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(outbox, "record_attempt", crash)
    with pytest.raises(KeyboardInterrupt):
        deliver_pending(wh, settings, NOW)
    monkeypatch.setattr(outbox, "record_attempt", real)
    assert outbox.deliveries(wh)[0].status == "pending"
    # the crashed run still holds the row until its claim expires: nobody sends it meanwhile
    assert deliver_pending(wh, settings, NOW + timedelta(minutes=1)).results == []
    report = deliver_pending(wh, settings, NOW + timedelta(seconds=settings.notify.claim_s))
    assert report.delivered == 1
    keys = webhook.keys()
    assert len(keys) == 2 and len(set(keys)) == 1  # two posts, one message for a deduping receiver
    assert deliver_pending(wh, settings, NOW + timedelta(days=1)).results == []


def test_a_hanging_receiver_times_out_as_transient_and_the_retry_carries_the_same_key(tmp_path, wh, webhook):
    import time

    hanging = {"on": True}
    webhook.on_post = lambda: time.sleep(2.5) if hanging["on"] else None
    settings = make_settings(tmp_path, coaches=[coach(webhook.url() + "?cto=1&rto=1")],
                             notify={"outbox": False, "retry_initial_s": 10})
    add_alert(wh)
    plan_deliveries(wh, settings, NOW)
    started = time.monotonic()
    first = deliver_pending(wh, settings, NOW)
    assert time.monotonic() - started < 10  # bounded by the channel's timeouts, not by the receiver
    assert [r.outcome for r in first.results] == ["transient"]
    hanging["on"] = False
    second = deliver_pending(wh, settings, NOW + timedelta(seconds=30))
    assert [r.outcome for r in second.results] == ["delivered"]
    assert outbox.status_counts(wh) == {"delivered": 1}
    time.sleep(2.6)  # let the hung request finish on the receiver's side
    # the receiver may have seen the message twice (the first answer came too late); both
    # carry one idempotency key, which is what it deduplicates on
    assert set(webhook.keys()) == {outbox.deliveries(wh)[0].delivery_id}
